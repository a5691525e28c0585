"""Records on demand: the full record at a position (``FILE:LINE`` or ``FILE:FRAME``), fetched from
the bundle's file when asked for.

The event table refers to at most 64 KiB of a record's text (``raw``, kept beside the table by
:mod:`logcorr.events.rawtext`); this module goes back to the bundle's file: it
re-runs the file's parser (the same registry that read it) and keeps the events at the positions
asked for, in one pass per file however many positions it is asked for; nothing else of the file
is held. A line that gave no event is read back as it is; a capture frame keeps its bytes, its
link and transport layers, and the facts the capture told about its TCP connection (when it was
opened, the TURN allocation it controls, the CONNECTION-ID it was bound to).

Positions are written the way evidence names them, ``case.zip!logbundle.tar.gz!syslog:184``, or
by a unique end of that name (``syslog:184``); :func:`resolve` says which file that is, or why
none.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import pandas as pd

from ..errors import UsageError
from ..intake.archive import Member, Skipped
from .capture import pcapfile
from .capture.decode import decode, timestamp
from .parsers import SNIFF_BYTES, ParseContext, identify

Position = tuple[str, int]  # (file as evidence names it, line or frame)
MAX_CANDIDATES = 10


class PositionError(UsageError):
    """A position names no file of the bundle, or several."""


@dataclass
class Frame:
    number: int
    ts: pd.Timestamp | None
    linktype: int
    data: bytes


@dataclass
class Record:
    """What is at one position: the parser's event (None when the position gave none), the record
    in full (``text``), and for capture frames the frame, the STUN message bytes and the TCP
    connection's story."""

    file: str
    pos: int
    unit: str  # "line" or "frame"
    event: dict | None = None
    text: str = ""
    message: bytes | None = None  # the STUN message as sent (also when TCP carried it in pieces)
    frame: Frame | None = None
    connection: list[str] = field(default_factory=list)


@dataclass
class Fetched:
    records: dict[Position, list[Record]] = field(default_factory=dict)
    missing: dict[Position, str] = field(default_factory=dict)  # position -> why nothing is there


# -- naming positions -------------------------------------------------------------------------
def split(spec: str) -> tuple[str, int]:
    """``"a.zip!syslog:184"`` -> ``("a.zip!syslog", 184)``; a file name may hold colons."""
    name, sep, pos = spec.strip().rpartition(":")
    if not sep or not pos.isdigit() or int(pos) < 1:
        raise PositionError(f"{spec!r}: a position is FILE:LINE or FILE:FRAME (e.g. syslog:184)")
    return name, int(pos)


def resolve(spec: str, names: list[str], skipped: Iterable[Skipped] = ()) -> Position:
    """The member a position names: its full name, or the one name ending in it."""
    want, pos = split(spec)
    if not want and len(names) == 1:
        return names[0], pos
    if want in names:
        return want, pos
    candidates = [n for n in names if _ends_in(n, want)] or [n for n in names if n.endswith(want)]
    if len(candidates) == 1:
        return candidates[0], pos
    if candidates:
        raise PositionError(f"{spec!r} is ambiguous: {len(candidates)} files end in {want!r}: {_listed(candidates)}")
    raise _not_found(spec, want, names, skipped)


def _not_found(spec: str, want: str, names: list[str], skipped: Iterable[Skipped]) -> PositionError:
    refused = [s for s in skipped if s.name == want or _ends_in(s.name, want)]
    if refused:
        return PositionError(f"{spec!r}: {refused[0].name} was not read ({refused[0].reason})")
    tail = want.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    alike = [n for n in names if tail and tail in n] or names
    return PositionError(f"{spec!r}: no file {want!r} in the bundle (files: {_listed(alike) or 'none'})")


def _ends_in(name: str, want: str) -> bool:
    """``want`` is the end of ``name`` from an archive level or a folder on."""
    return name.endswith(("!" + want, "/" + want))


def _listed(names: list[str]) -> str:
    return "; ".join(names[:MAX_CANDIDATES]) + ("; ..." if len(names) > MAX_CANDIDATES else "")


# -- fetching ---------------------------------------------------------------------------------
def fetch(members: list[Member], positions: Iterable[Position], tz: dt.tzinfo = dt.timezone.utc,
          tz_assumed: bool = True) -> Fetched:
    """The records at ``positions`` (full member names, as :func:`resolve` gives them)."""
    wanted: dict[str, set[int]] = {}
    for name, pos in positions:
        wanted.setdefault(name, set()).add(int(pos))
    by_name = {m.name: m for m in members}
    out = Fetched()
    for name, lines in wanted.items():
        member = by_name.get(name)
        if member is None:
            out.missing.update({(name, p): "no such file in the bundle" for p in lines})
            continue
        with open(member.path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        parser = identify(head)
        ctx = ParseContext(file=name, tz=tz, tz_assumed=tz_assumed, mtime=member.mtime)
        if parser is not None and parser.name == "pcap":
            found, missing = _capture(member, lines, ctx)
        else:
            found, missing = _text(member, lines, ctx, parser)
        out.records.update(found)
        out.missing.update(missing)
    return out


def _text(member: Member, lines: set[int], ctx: ParseContext, parser) -> tuple[dict, dict]:
    found: dict[Position, list[Record]] = {}
    if parser is not None:
        with open(member.path, "rb") as fh:
            for ev in parser.parse(fh, ctx):
                pos = ev.get("pos")
                if pos in lines:
                    found.setdefault((member.name, pos), []).append(
                        Record(member.name, pos, "line", ev, text=str(ev.get("raw") or ev.get("summary") or "")))
    rest = sorted(p for p in lines if (member.name, p) not in found)
    missing: dict[Position, str] = {}
    if rest:
        got = dict(_lines(member, set(rest)))
        for p in rest:
            if p in got:
                found[(member.name, p)] = [Record(member.name, p, "line", None, text=got[p])]
            else:
                missing[(member.name, p)] = f"{member.name} has fewer than {p} lines"
    return found, missing


def _lines(member: Member, wanted: set[int]) -> Iterator[tuple[int, str]]:
    last = max(wanted)
    with open(member.path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if n in wanted:
                yield n, line.rstrip(b"\r\n").decode("utf-8", "replace")
            if n >= last:
                return


class _Connections:
    """What a capture tells about each TCP connection that carried STUN or SIP: when it opened and
    ended, the TURN allocation it controls, the CONNECTION-ID it was bound to, and the peer
    connections the relay offered (RFC 6062)."""

    def __init__(self) -> None:
        self.facts: dict[tuple[str, str], dict] = {}
        self.relayed: dict[str, tuple[tuple[str, str], int]] = {}  # relayed address -> (control, frame)
        self.attempts: dict[int, tuple[tuple[str, str], int, str]] = {}  # cid -> (control, frame, peer)
        self.binds: dict[int, tuple[tuple[str, str], int]] = {}  # cid -> (data connection, frame)

    def see(self, ev: dict) -> None:
        if ev.get("transport") != "TCP" or not ev.get("src") or not ev.get("dst"):
            return
        pair = _pair(ev["src"], ev["dst"])
        event, pos = ev.get("event", ""), ev.get("pos")
        facts = self.facts.setdefault(pair, {})
        if event == "open":
            facts["open"] = (pos, ev["src"])
        elif event in ("close", "reset") and "end" not in facts:
            facts["end"] = (pos, "FIN" if event == "close" else "RST", ev["src"])
        elif event == "Allocate Request":
            facts.setdefault("allocate", pos)
        elif event == "Allocate Success Response" and ev.get("relayed"):
            self.relayed[ev["relayed"]] = (pair, pos)
        elif event == "ConnectionAttempt Indication" and ev.get("connection_id") is not None:
            self.attempts[ev["connection_id"]] = (pair, pos, ev.get("peer") or "")
        elif event == "ConnectionBind Request" and ev.get("connection_id") is not None:
            self.binds.setdefault(ev["connection_id"], (pair, pos))

    def story(self, src: str, dst: str) -> list[str]:
        pair = _pair(src, dst)
        facts = self.facts.get(pair, {})
        lines = [f"TCP connection {pair[0]} <-> {pair[1]}"]
        if "open" in facts:
            lines[0] += f", opened by {facts['open'][1]} (SYN in frame {facts['open'][0]})"
        if "allocate" in facts:
            relayed = [(a, f) for a, (c, f) in self.relayed.items() if c == pair]
            text = f"TURN control connection (Allocate Request in frame {facts['allocate']})"
            if relayed:
                text += "; relayed address " + ", ".join(f"{a} (frame {f})" for a, f in relayed)
            lines.append(text)
        lines.extend(self._bound(pair))
        lines.extend(self._peer_leg(pair))
        if "end" in facts:
            frame, how, by = facts["end"]
            lines.append(f"{'closed' if how == 'FIN' else 'reset'} by {by} ({how} in frame {frame})")
        return lines

    def _bound(self, pair: tuple[str, str]) -> list[str]:
        out = []
        for cid, (conn, frame) in self.binds.items():
            if conn != pair:
                continue
            text = f"TURN data connection bound to CONNECTION-ID 0x{cid:08x} (ConnectionBind Request in frame {frame})"
            if cid in self.attempts:
                control, at, peer = self.attempts[cid]
                text += (f"; offered by the ConnectionAttempt Indication in frame {at} on {control[0]} <-> "
                         f"{control[1]} for peer {peer or '?'}")
            out.append(text)
        return out

    def _peer_leg(self, pair: tuple[str, str]) -> list[str]:
        out = []
        for end, other in (pair, pair[::-1]):
            if end not in self.relayed:
                continue
            control, frame = self.relayed[end]
            text = f"peer {other} connected to the relayed address {end} of the allocation on {control[0]} <-> {control[1]}"
            for cid, (_, at, peer) in self.attempts.items():
                if peer == other:
                    text += f"; CONNECTION-ID 0x{cid:08x} (ConnectionAttempt Indication in frame {at})"
                    if cid in self.binds:
                        data, bound = self.binds[cid]
                        text += f", bound on {data[0]} <-> {data[1]} (frame {bound})"
            out.append(text)
        return out


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _capture(member: Member, frames: set[int], ctx: ParseContext) -> tuple[dict, dict]:
    """One pass over a capture: the frames asked for, their events, and every TCP connection's
    facts (a connection's SYN is told once it showed STUN or SIP, so after later frames)."""
    kept: dict[int, Frame] = {}
    last = [0]
    conns = _Connections()
    events: dict[int, list[dict]] = {}
    ctx.pos_unit = "frame"

    def tap(records):
        for rec in records:
            number = rec[0]
            last[0] = number
            if number in frames:
                kept[number] = Frame(number, timestamp(rec[1]), rec[2], bytes(rec[3]))
            yield rec

    with open(member.path, "rb") as fh:
        host = member.name.rsplit("!", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
        for ev in decode(tap(pcapfile.records(fh, ctx.warn)), host, member.name, ctx.warn):
            conns.see(ev)
            if ev.get("pos") in frames:
                events.setdefault(ev["pos"], []).append(ev)
    found: dict[Position, list[Record]] = {}
    missing: dict[Position, str] = {}
    for number in sorted(frames):
        frame = kept.get(number)
        if frame is None:
            missing[(member.name, number)] = f"{member.name} has {last[0]} frames"
            continue
        recs = [_frame_record(member.name, frame, ev, conns) for ev in events.get(number, [])]
        found[(member.name, number)] = recs or [Record(member.name, number, "frame", None, frame=frame)]
    return found, missing


def _frame_record(name: str, frame: Frame, ev: dict, conns: _Connections) -> Record:
    rec = Record(name, frame.number, "frame", ev, frame=frame)
    if ev.get("proto") == "stun" and ev.get("raw"):
        rec.message = bytes.fromhex(ev["raw"])
    elif ev.get("proto") == "sip":
        rec.text = str(ev.get("raw") or "")
    else:
        rec.text = str(ev.get("summary") or "")
    if ev.get("transport") == "TCP" and ev.get("src") and ev.get("dst"):
        rec.connection = conns.story(ev["src"], ev["dst"])
    return rec


__all__ = ["Fetched", "Frame", "Position", "PositionError", "Record", "fetch", "resolve", "split"]
