"""The event table: one row per event, the same columns for every source.

This module is the only place that names the columns. Parsers produce plain dicts keyed by
these names; :func:`to_frame` turns them into a DataFrame with the declared types, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from . import rawtext

RAW_LIMIT = 64 * 1024  # `raw` is cut at 64 KiB


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "datetime" | "str" | "int"
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("ts", "datetime", "when it happened, converted to UTC (the source's own clock)"),
    Column("source", "str", "the kind of file it came from: the name of the parser registry's entry "
           "that read it (`cms`, `expressway`, `sfb`, `sip` for any other SIP text log, `pcap`)"),
    Column("host", "str", "the host that logged it (for an SfB client's UccApi log, which names no machine: its user, `user@domain`), or the capture file's name"),
    Column("file", "str", "path of the file inside the bundle (`outer.zip!inner.tar.gz!log/file` for nested)"),
    Column("pos", "int", "1-based line of the record's first line; for captures, the 1-based frame number"),
    Column("proto", "str", "`sip`, `stun` (STUN, TURN, ICE checks), `tcp` (connection open/close), `log` (other)"),
    Column("event", "str", "SIP: method for requests (`INVITE`), `<status> <method>` for responses "
           "(`200 INVITE`); STUN: `<Method> <Class>` as Wireshark names it (`Allocate Request`, "
           "`Allocate Error Response`, `Allocate Success Response`, `ConnectionAttempt Indication`, "
           "`ConnectionBind Request`, `Binding Request`, ...); log: a short stable key"),
    Column("direction", "str", "`in` / `out` as seen by the logging host; empty for captures"),
    Column("src", "str", "source `ip:port` (`[v6]:port`); empty when unknown"),
    Column("dst", "str", "destination `ip:port` (`[v6]:port`); empty when unknown"),
    Column("transport", "str", "`UDP`, `TCP`, `TLS`"),
    Column("call_id", "str", "SIP Call-ID"),
    Column("cseq", "str", "SIP CSeq number"),
    Column("method", "str", "SIP method (of the request, or of the CSeq for responses)"),
    Column("reason", "str", "SIP reason phrase; the reason phrase of a STUN ERROR-CODE"),
    Column("status", "int", "SIP response code"),
    Column("sdp_media", "str", "comma-joined media types of the SDP body (`audio,video,applicationsharing`)"),
    Column("relay_candidates", "str", "`;`-joined `ip:port/transport` of the SDP's `typ relay` candidates"),
    Column("ms_diagnostics", "str", "`ms-diagnostics`, `ms-diagnostics-public`, `ms-client-diagnostics` "
           "header values, `;`-joined as sent"),
    Column("ice_ufrag", "str", "comma-joined `ice-ufrag` of each m= line, in `sdp_media`'s order "
           "(empty entry for a medium without one; empty when the SDP has no ICE)"),
    Column("ice_pwd", "str", "comma-joined `yes`/`no` per m= line: whether it carries an `ice-pwd` "
           "(the password itself is not kept here)"),
    Column("candidates", "str", "`;`-joined ICE candidates of the SDP as `ip:port/transport typ` "
           "(` raddr ip` when given), first seen first"),
    Column("conversation_id", "str", "SIP `Ms-Conversation-ID` (SfB's id shared by a conversation's dialogs)"),
    Column("user_agent", "str", "SIP `User-Agent`, else `Server`"),
    Column("via", "str", "`;`-joined sent-by (`host:port`) of every SIP Via, top first"),
    Column("expressway_via", "str", "`;`-joined sent-by of the Via hops an Expressway added "
           "(`egress-zone` or `proxy-call-id` parameter)"),
    Column("txn_id", "str", "STUN transaction id, 24 lowercase hex digits"),
    Column("error_code", "int", "STUN ERROR-CODE (e.g. 401)"),
    Column("mapped", "str", "XOR-MAPPED-ADDRESS as `ip:port`"),
    Column("relayed", "str", "XOR-RELAYED-ADDRESS as `ip:port`"),
    Column("peer", "str", "XOR-PEER-ADDRESS as `ip:port`"),
    Column("connection_id", "int", "RFC 6062 CONNECTION-ID"),
    Column("username", "str", "STUN USERNAME"),
    Column("realm", "str", "STUN REALM"),
    Column("lifetime", "int", "STUN LIFETIME seconds"),
    Column("call_number", "int", "CMS call number `N` of a CMS log line `call N: ...`"),
    Column("parser", "str", "the parser that read it (`cms`, `expressway`, `xconfig`, `sfb_snooper`, "
           "`sfb_uccapi`, `siptext`, `pcap`): the registry entry whose `role` says what box wrote the file"),
    Column("summary", "str", "one human line"),
    Column("raw", "str", "the record as read (SIP message text; STUN as hex), cut at 64 KiB; a table "
           "read from a bundle keeps it in a file beside it and fetches it on demand "
           "(`logcorr.events.rawtext`)"),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
STR_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "str")
# few values over many rows: categorical (a small code per row, each value held once)
FEW_VALUED = ("source", "host", "file", "proto", "event", "direction", "transport", "method")


def empty_frame() -> pd.DataFrame:
    return to_frame([])


def to_frame(records: Iterable[Mapping[str, object]], store: rawtext.Store | None = None) -> pd.DataFrame:
    """Build the event table from dicts; unknown keys are an error, missing ones become empty.
    With a `store`, each record's text goes there and the table keeps where (`rawtext.REFS`)."""
    names = [n for n in NAMES if store is None or n != "raw"]
    data: dict[str, list] = {name: [] for name in names}
    spans: list[tuple[int, int]] = []
    n = 0
    appends = [(name, column.append) for name, column in data.items()]
    known = BY_NAME.keys()
    for rec in records:  # streamed into the columns: no list of dicts is kept
        if not rec.keys() <= known:
            raise ValueError(f"event has columns outside the schema: {sorted(set(rec) - known)}")
        get = rec.get
        for name, append in appends:
            append(get(name))
        if store is not None:
            raw = rec.get("raw")
            spans.append(store.put(str(raw)[:RAW_LIMIT]) if raw else (0, 0))
        n += 1
    df = pd.DataFrame(data, columns=names, index=pd.RangeIndex(n))
    if store is not None:
        store.close()
        refs = np.array(spans, dtype=np.int64).reshape(n, 2)
        df[rawtext.REFS[0]] = np.full(n, store, dtype=object)
        df[rawtext.REFS[1]], df[rawtext.REFS[2]] = refs[:, 0], refs[:, 1]
    return coerce(df)


def missing(df: pd.DataFrame) -> list[str]:
    """The schema's columns the table lacks (`raw` is not lacking when the table refers to it)."""
    return [n for n in NAMES if n not in df.columns and not (n == "raw" and rawtext.stored(df))]


def concat(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Tables of several files as one (the few-valued columns stay categorical)."""
    if not tables:
        return empty_frame()
    for name in FEW_VALUED:
        if all(name in t.columns and isinstance(t[name].dtype, pd.CategoricalDtype) for t in tables):
            union = pd.Index(list(dict.fromkeys(str(v) for t in tables for v in t[name].cat.categories)), dtype=object)
            for t in tables:
                t[name] = pd.Categorical(t[name].astype(object), categories=union)
    return pd.concat(tables, ignore_index=True)


def coerce(df: pd.DataFrame) -> pd.DataFrame:
    """Give every column its declared type; add the missing ones; keep the declared order."""
    out = pd.DataFrame(index=df.index)
    n = len(df)
    for col in COLUMNS:
        if col.name == "raw" and rawtext.stored(df):
            continue
        series = df[col.name] if col.name in df.columns else pd.Series([None] * n, index=df.index)
        if col.kind == "datetime":
            out[col.name] = pd.to_datetime(series, utc=True, errors="coerce").astype(
                "datetime64[ns, UTC]"
            )
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(series, errors="coerce").astype("Int64")
        elif col.name == "raw":
            s = series.astype(object).where(series.notna(), "").map(str)
            out[col.name] = s.str.slice(0, RAW_LIMIT).astype(object)
        else:
            s = pd.Series(_texts(series), index=df.index, dtype=object)
            if col.name in FEW_VALUED:  # a small code per row
                out[col.name] = pd.Categorical(s, categories=pd.Index(pd.unique(s), dtype=object))
            else:
                out[col.name] = s
    if rawtext.stored(df):
        for name in rawtext.REFS:
            out[name] = df[name]
    return out


def _texts(series: pd.Series) -> list[str]:
    """The column's values as text ("" where missing), repeated values (addresses, Call-IDs, Via)
    held once."""
    values = series.to_numpy(dtype=object)
    once: dict[str, str] = {}
    out = [""] * len(values)
    for i in np.flatnonzero(~pd.isna(values)).tolist():
        v = str(values[i])
        out[i] = once.setdefault(v, v)
    return out


# --- derived files ------------------------------------------------------------------------------
# docs/CONTRACT.md's event table and rules/schema.json's column lists are written from COLUMNS:
# `python -m logcorr.events.schema --write` (from a checkout); `--check` exits 1 when one is stale.
TYPE_NAMES = {"datetime": "datetime64[ns, UTC]", "int": "Int64", "str": "str"}
TABLE_BEGIN = "<!-- event columns: generated from logcorr/events/schema.py, do not edit -->"
TABLE_END = "<!-- end of event columns -->"


def contract_table() -> str:
    rows = ["| column | type | meaning |", "|---|---|---|"]
    rows += [f"| `{c.name}` | {TYPE_NAMES[c.kind]} | {c.doc} |" for c in COLUMNS]
    return "\n".join(rows)


def render_contract(text: str) -> str:
    """docs/CONTRACT.md with its event table (between the markers) written from COLUMNS."""
    head, sep, rest = text.partition(TABLE_BEGIN)
    if not sep or TABLE_END not in rest:
        raise ValueError("docs/CONTRACT.md: the event table markers are missing")
    tail = rest.split(TABLE_END, 1)[1]
    return f"{head}{TABLE_BEGIN}\n{contract_table()}\n{TABLE_END}{tail}"


def derived_files(root) -> dict:
    """path -> (current text, text it should have) of every file generated from COLUMNS."""
    from pathlib import Path
    from ..rules.schemafile import render as render_rules_schema

    out = {}
    for rel, render in (("docs/CONTRACT.md", render_contract), ("rules/schema.json", render_rules_schema)):
        path = Path(root) / rel
        text = path.read_text(encoding="utf-8")
        out[path] = (text, render(text))
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m logcorr.events.schema",
                                     description="Regenerate the files derived from the event columns.")
    parser.add_argument("--write", action="store_true", help="rewrite the stale files")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]),
                        help="the checkout (default: the one holding this module)")
    args = parser.parse_args(argv)
    stale = [p for p, (now, want) in derived_files(args.root).items() if now != want]
    for path, (now, want) in derived_files(args.root).items():
        if now != want and args.write:
            path.write_text(want, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'rewritten' if args.write else 'stale (run with --write)'}")
    return 0 if args.write or not stale else 1


if __name__ == "__main__":
    raise SystemExit(main())
