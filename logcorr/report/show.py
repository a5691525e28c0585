"""`logcorr show`: the full record behind a piece of evidence, as text.

* :func:`show` - the records at positions written as evidence writes them (``syslog:184``,
  ``case.zip!...pcap:83``): the whole SIP message or log record; for a capture frame the frame, its
  TCP connection and each STUN/TURN message decoded like Wireshark's detail pane.
* :func:`call` - every message of one call, in aligned time, one after another.
* :func:`texts` - the text of each position, for reports that embed the full message of their
  evidence (:func:`render` is the same text for records already fetched).

The bundle is opened the way the diagnosis opens it (nested archives unpacked into a private
temporary folder, removed afterwards); records are fetched from the files on demand
(:mod:`logcorr.events.records`), so nothing is cut at the event table's 64 KiB.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from ..errors import UsageError
from ..events import records as rec_mod
from ..events.capture import detail, stun
from ..events.parsers.base import zone
from ..events.records import Position, PositionError, Record
from ..intake.archive import Bundle, Limits
from ..model import Call
from .redact import Redactor

Redact = Callable[[str], str]
INDENT = detail.INDENT


def redaction(enabled: bool, path: str | Path | None = None, tz: str | None = None,
              known: object = None) -> Redact | None:
    """The text filter of --redact (None when off); one Redactor per output, so the same value
    keeps one pseudonym throughout it. It first learns `known` (a diagnosis), else the events of
    the bundle at `path`: the hosts, their names and roles, the bundle's own name, so that a host
    named only in a member's file name (`tcpdump00_expe01...pcap`) is hidden too, and has the same
    pseudonym as in the diagnosis redacted for sharing. Each text is then learnt before it is
    replaced, so the values its grammar names (SIP headers, SDP, STUN attributes) are hidden."""
    if not enabled:
        return None
    redactor = Redactor()
    if known is None and path is not None:
        from ..events.read import read_bundle

        known = read_bundle(path, tz=tz)
    if known is not None:
        redactor.learn(known)

    def text(s: str) -> str:
        redactor.learn(s)
        return redactor.text(s)
    return text


@dataclass
class Shown:
    texts: list[str] = field(default_factory=list)  # one per position found, in the order asked
    errors: list[str] = field(default_factory=list)  # one line per position not shown


# -- rendering --------------------------------------------------------------------------------
def stamp(ts) -> str:
    if ts is None or pd.isna(ts):
        return "(no time)"
    ts = pd.Timestamp(ts)
    ts = ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _where(ev: dict) -> str:
    parts = []
    host = ev.get("host") or ""
    if host and ev.get("source") != "pcap":
        parts.append(f"{host} ({ev.get('source', '')})")
    if ev.get("direction"):
        parts.append(ev["direction"])
    if ev.get("src") or ev.get("dst"):
        parts.append(f"{ev.get('src') or '?'} -> {ev.get('dst') or '?'}")
    if ev.get("transport"):
        parts.append(str(ev["transport"]))
    return "  ".join(parts)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")


def _stun_lines(rec: Record, password: str | None) -> list[str]:
    ev = rec.event or {}
    msg = stun.decode(rec.message or b"")
    lines = [f"{ev.get('event', 'STUN')}  {_where(ev)}"]
    summary, base = str(ev.get("summary") or ""), stun.summary(msg) if msg is not None else ""
    if base and summary.startswith(base):  # what the capture added: framing, the connection, a peer
        note = summary[len(base):].strip()
        if note:
            lines.append(INDENT + note.strip("()"))
    if rec.frame is not None and rec.message and rec.message not in rec.frame.data:
        lines.append(INDENT + f"{len(rec.message)} bytes reassembled from TCP segments starting in this frame")
    return lines + [INDENT + line for line in detail.describe(rec.message or b"", password)]


def _record_lines(rec: Record, password: str | None, when: str | None) -> list[str]:
    ev = rec.event
    if ev is None:
        if rec.unit == "frame":
            return ["no STUN, TURN or SIP message starts in this frame (ChannelData is counted at the "
                    "first frame of its flow; RTP, relayed data and TCP segments continuing a message give no event)"]
        return [f"line {rec.pos} (no event was read from this line):", *_lines(rec.text)]
    if rec.message is not None:
        return _stun_lines(rec, password)
    head = f"{ev.get('event', '')}  {_where(ev)}".strip()
    if rec.unit == "line":
        head = f"{when or stamp(ev.get('ts'))}  {head}"
    return [head, *_lines(rec.text)]


def _frame_lines(frame: rec_mod.Frame, records: list[Record], when: str | None) -> list[str]:
    at = f"{when}; capture clock {stamp(frame.ts)}" if when else stamp(frame.ts)
    lines = [f"Frame {frame.number}: {at}, {len(frame.data)} bytes captured",
             INDENT + detail.frame_layers(frame.linktype, frame.data)]
    seen: list[str] = []
    for r in records:
        for line in r.connection:
            if line not in seen:
                seen.append(line)
    return lines + [INDENT + line for line in seen]


def _hex_lines(records: list[Record]) -> list[str]:
    first = records[0]
    if first.frame is not None:
        out = ["Frame bytes:", *detail.hexdump(first.frame.data, INDENT)]
        for r in records:
            if r.message and r.message not in first.frame.data:
                out += [f"{(r.event or {}).get('event', 'STUN')} bytes (reassembled):",
                        *detail.hexdump(r.message, INDENT)]
        return out
    out = []
    for r in records:
        out += ["Bytes:", *detail.hexdump(r.text.encode("utf-8", "replace"), INDENT)]
    return out


def render(records: list[Record], hex: bool = False, password: str | None = None,
           redact: Redact | None = None, when: str | None = None, title: str | None = None) -> str:
    """The text of one position (``records`` are the records at it, as fetched): a title line,
    the frame for a capture, then each record in full; ``when`` replaces the record's own time
    (e.g. the aligned time)."""
    if not records:
        return ""
    first = records[0]
    lines = [title or f"== {first.file}:{first.pos} =="]
    if first.frame is not None:
        lines += _frame_lines(first.frame, records, when)
    for r in records:
        lines += _record_lines(r, password, when)
    if hex:
        lines += ["(bytes not shown: --redact)"] if redact else _hex_lines(records)
    text = "\n".join(lines)
    return redact(text) if redact else text


# -- the library entry points ------------------------------------------------------------------
def texts(path: str | Path, positions: Iterable[Position], tz: str | None = None, hex: bool = False,
          redact: Redact | None = None, password: str | None = None) -> dict[Position, str]:
    """The full text of each position (full member names, as the event table's ``file`` and
    ``pos``); positions with nothing there are left out."""
    tzinfo, assumed = zone(tz)
    with Bundle(Path(path), Limits()) as bundle:
        fetched = rec_mod.fetch(bundle.members, positions, tzinfo, assumed)
    return {p: render(recs, hex=hex, password=password, redact=redact) for p, recs in fetched.records.items()}


def show(path: str | Path, specs: list[str], tz: str | None = None, hex: bool = False,
         redact: Redact | None = None, password: str | None = None) -> Shown:
    """The records at positions as a user types them (``syslog:184``, ``capture.pcap:83``)."""
    tzinfo, assumed = zone(tz)
    out = Shown()
    with Bundle(Path(path), Limits()) as bundle:
        names = [m.name for m in bundle.members]
        resolved: list[Position | None] = []
        for spec in specs:
            try:
                resolved.append(rec_mod.resolve(spec, names, bundle.skipped))
            except PositionError as e:
                out.errors.append(str(e))
                resolved.append(None)
        fetched = rec_mod.fetch(bundle.members, [p for p in resolved if p], tzinfo, assumed)
    for spec, p in zip(specs, resolved):
        if p is None:
            continue
        if p in fetched.missing:
            out.errors.append(f"{spec!r}: nothing there: {fetched.missing[p]}")
        else:
            out.texts.append(render(fetched.records[p], hex=hex, password=password, redact=redact))
    return out


def call(path: str | Path, call_id: str, tz: str | None = None, hex: bool = False,
         redact: Redact | None = None, password: str | None = None) -> str:
    """Every message of one call (a Call-ID or its start), in aligned time: the pipeline reads the
    bundle, aligns the clocks and builds the calls; each message is then fetched in full."""
    from ..calls import clocks, flow
    from ..events.read import read_members

    tzinfo, assumed = zone(tz)
    with Bundle(Path(path), Limits()) as bundle:
        result = read_members(str(path), bundle.members, bundle.skipped, tzinfo, assumed)
        if not result.sources:
            raise UsageError(f"nothing readable in {path}")
        events = clocks.aligned(result.events)[1]
        chosen = _choose(flow.build(events), call_id, path)
        keys = chosen.event_keys
        rows = events[[(f, p) in keys for f, p in zip(events["file"], events["pos"])]]
        fetched = rec_mod.fetch(bundle.members, keys, tzinfo, assumed)
    parts = [f"call {chosen.call_id} [{chosen.media or 'no SDP'}]: {chosen.summary}; "
             f"{len(rows)} messages in aligned time"]
    used: set[int] = set()
    for n, row in enumerate(rows.itertuples(index=False), 1):
        at = fetched.records.get((row.file, row.pos), [])
        pick = next((r for r in at if id(r) not in used and r.event and r.event.get("event") == row.event),
                    next((r for r in at if id(r) not in used), None))
        if pick is None:
            continue
        used.add(id(pick))
        when = stamp(row.ts_aligned) + " (aligned)"
        parts.append(render([pick], hex=hex and redact is None, password=password, when=when,
                            title=f"== [{n}] {row.file}:{row.pos} =="))
    text = "\n\n".join(parts)
    return redact(text) if redact else text


def _choose(calls: list[Call], call_id: str, path) -> Call:
    exact = [c for c in calls if c.call_id == call_id]
    chosen = exact or [c for c in calls if c.call_id.startswith(call_id)]
    if len(chosen) == 1:
        return chosen[0]
    listed = ", ".join(c.call_id for c in (chosen or calls)[:10])
    if chosen:
        raise UsageError(f"--call {call_id!r} is ambiguous: {len(chosen)} calls start so: {listed}")
    raise UsageError(f"no call {call_id!r} in {path}" + (f"; calls: {listed}" if calls else "; no SIP call in it"))
