"""The event table: one row per event, the same columns for every source.

This module is the only place that names the columns. Parsers produce plain dicts keyed by
these names; :func:`to_frame` turns them into a DataFrame with the declared types, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import pandas as pd

RAW_LIMIT = 64 * 1024  # `raw` is cut at 64 KiB


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "datetime" | "str" | "int"
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("ts", "datetime", "when it happened, converted to UTC (the source's own clock)"),
    Column("source", "str", "cms, expressway, sfb, sip (any other SIP text log), pcap"),
    Column("host", "str", "the host that logged it, or the capture file's name"),
    Column("file", "str", "path of the file inside the bundle (outer.zip!inner.tar.gz!log/file)"),
    Column("pos", "int", "1-based line of the record's first line; for captures, the frame number"),
    Column("proto", "str", "sip, stun (STUN, TURN, ICE checks), tcp (connection open/close), log"),
    Column("event", "str", "SIP method / '<status> <method>'; STUN '<Method> <Class>'; log key"),
    Column("direction", "str", "in / out as seen by the logging host; empty for captures"),
    Column("src", "str", "source ip:port ([v6]:port); empty when unknown"),
    Column("dst", "str", "destination ip:port ([v6]:port); empty when unknown"),
    Column("transport", "str", "UDP, TCP, TLS"),
    Column("call_id", "str", "SIP Call-ID"),
    Column("cseq", "str", "SIP CSeq"),
    Column("method", "str", "SIP method (of the request, or of the CSeq for responses)"),
    Column("reason", "str", "SIP reason phrase; the reason phrase of a STUN ERROR-CODE"),
    Column("status", "int", "SIP response code"),
    Column("sdp_media", "str", "comma-joined media types of the SDP body"),
    Column("relay_candidates", "str", ";-joined ip:port/transport of the SDP's typ relay candidates"),
    Column("ms_diagnostics", "str", "ms-diagnostics(-public) header values, ;-joined as sent"),
    Column("txn_id", "str", "STUN transaction id, 24 lowercase hex digits"),
    Column("error_code", "int", "STUN ERROR-CODE"),
    Column("mapped", "str", "XOR-MAPPED-ADDRESS as ip:port"),
    Column("relayed", "str", "XOR-RELAYED-ADDRESS as ip:port"),
    Column("peer", "str", "XOR-PEER-ADDRESS as ip:port"),
    Column("connection_id", "int", "RFC 6062 CONNECTION-ID"),
    Column("username", "str", "STUN USERNAME"),
    Column("realm", "str", "STUN REALM"),
    Column("lifetime", "int", "STUN LIFETIME seconds"),
    Column("summary", "str", "one human line"),
    Column("raw", "str", "the record as read (SIP message text; STUN as hex), cut at 64 KiB"),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
STR_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "str")
INT_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "int")

SOURCES = ("cms", "expressway", "sfb", "sip", "pcap")
PROTOS = ("sip", "stun", "tcp", "log")


def empty_frame() -> pd.DataFrame:
    return to_frame([])


def to_frame(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Build the event table from dicts; unknown keys are an error, missing ones become empty."""
    records = list(records)
    for rec in records:
        extra = set(rec) - BY_NAME.keys()
        if extra:
            raise ValueError(f"event has columns outside the schema: {sorted(extra)}")
    data = {name: [rec.get(name) for rec in records] for name in NAMES}
    return coerce(pd.DataFrame(data, columns=list(NAMES)))


def coerce(df: pd.DataFrame) -> pd.DataFrame:
    """Give every column its declared type; add the missing ones; keep the declared order."""
    out = pd.DataFrame(index=df.index)
    n = len(df)
    for col in COLUMNS:
        series = df[col.name] if col.name in df.columns else pd.Series([None] * n, index=df.index)
        if col.kind == "datetime":
            out[col.name] = pd.to_datetime(series, utc=True, errors="coerce").astype(
                "datetime64[ns, UTC]"
            )
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(series, errors="coerce").astype("Int64")
        else:
            s = series.astype(object).where(series.notna(), "")
            s = s.map(str)
            if col.name == "raw":
                s = s.str.slice(0, RAW_LIMIT)
            out[col.name] = s.astype(object)
    return out
