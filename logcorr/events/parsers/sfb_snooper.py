"""Skype for Business / Lync server traces as Snooper prints them (CLS / OCSLogger, SIPStack).

A record::

    TL_INFO(TF_PROTOCOL) [sfbedge01\\sfbedge01]0A1C.0B24::11/24/2026-14:52:54.102.0006139A (SIPStack,...)$$begin_record
    Name: value
    ...
    $$end_record

Stamps are UTC. ``host`` is the machine of ``[machine\\instance]`` (empty for ``[0]``).

Events (``source`` = ``sfb``):

* ``proto=sip`` from protocol records (``TF_PROTOCOL``): ``Start-Line`` and the header lines that
  follow it, with ``Message-Body`` (``-`` = none), read by the shared SIP grammar. ``direction``
  from ``Direction: incoming|outgoing``; ``Peer`` (``host:port`` as the server names it) is ``src``
  for incoming and ``dst`` for outgoing messages. ICEWarn flags of ``ms-client-diagnostics`` are
  added to ``summary`` in words.
* ``proto=log``, ``event=diagnostic`` from diagnostic records (``TF_DIAG``, or any record with
  ``LogType: diagnostic``): ``reason`` = the ``Result-Code`` name (else its number, else ``Text``),
  ``call_id`` / ``cseq`` / ``method`` from ``SIP-Call-ID`` / ``SIP-CSeq``, ``summary`` =
  severity, text, result code and SIP start line.

UccApi client lines pasted into the same text (as support notes do) are read as
:mod:`logcorr.events.parsers.sfb_uccapi` reads them. Other records (component traces) are read past. Web copies that joined a record's lines are cut
again at the record's own field names.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import BinaryIO, Iterable, Iterator

from logcorr.events import sip
from logcorr.events.scrape import unjoin_sip
from logcorr.events.parsers import sfb_uccapi
from logcorr.events.parsers.base import ParseContext, utc
from logcorr.events.parsers.text import LineReader, TextLoop, TextParser

NAME = "sfb"
BEGIN, END = "$$begin_record", "$$end_record"
MAX_RECORD_LINES = 20000  # a record without $$end_record stops here
BLOCK_BYTES = 1 << 20  # lines are decoded this much at a time

# TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::01/18/2012-05:00:43.101.00005386 (SIPStack,...)
RECORD_HEADER = re.compile(
    r"TL_(\w+)\((TF_\w+)\)\s*\[([^\]]*)\]\s*([0-9A-Fa-f]+)\.([0-9A-Fa-f]+)::"
    r"(\d\d)/(\d\d)/(\d{4})-(\d\d):(\d\d):(\d\d)\.(\d{1,6})(?:\.([0-9A-Fa-f]+))?\s*\(([^,()]*)"
)
RECORD_FIELDS = (
    "Trace-Correlation-Id", "Instance-Id", "Direction", "Peer", "Message-Type", "Start-Line",
    "Message-Body", "LogType", "Severity", "Text", "Result-Code", "SIP-Start-Line", "SIP-Call-ID",
    "SIP-CSeq", "Data",
)
# a field name of the record glued to the previous one by a web copy: "... Severity: warning Text: ..."
JOINED_FIELD = re.compile(r" (?=(?:" + "|".join(re.escape(f) for f in RECORD_FIELDS) + r"): )")


def sniff(head: bytes) -> bool:
    if b"$$begin_record" not in head or b"TL_" not in head:
        return False
    return RECORD_HEADER.search(head.decode("utf-8", "replace")) is not None


def _host(instance: str) -> str:
    machine = instance.split("\\", 1)[0].strip()
    return "" if machine.isdigit() else machine


class _Record:
    __slots__ = ("pos", "ts", "level", "flag", "host", "component", "lines")

    def __init__(self, pos, ts, level, flag, host, component):
        self.pos, self.ts, self.level, self.flag = pos, ts, level, flag
        self.host, self.component = host, component
        self.lines: list[str] = []


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.record: _Record | None = None
        self.client = sfb_uccapi.Reader(ctx)  # UccApi lines pasted into the same text

    def take(self, line: str) -> bool:
        """Most lines: one more line of the open record (neither ending it nor starting another);
        True when taken."""
        record = self.record
        if record is None or END in line or line.startswith("TL_") or len(record.lines) >= MAX_RECORD_LINES:
            return False
        record.lines.append(line)
        return True

    def line(self, pos: int, line: str) -> Iterable[dict]:
        if self.take(line):
            return ()
        if self.record is not None:
            return list(self._inside(pos, line))
        m = RECORD_HEADER.match(line.lstrip()) if "TL_" in line else None
        if m is None:
            return list(self._outside(pos, line))
        # `$$begin_record` ends the line, or is missing (diagnostic records)
        out = list(self.client.end())
        self.record = _start(m, pos)
        line = line.split(BEGIN, 1)[1].strip() if BEGIN in line else ""
        if line:  # a web copy joined the first field line on
            out.extend(self._inside(pos, line))
        return out

    def carry(self) -> tuple:
        r = self.record
        mine = None if r is None else (r.pos, r.ts, r.level, r.flag, r.host, r.component, tuple(r.lines))
        return mine, self.client.carry()

    def _outside(self, pos: int, line: str) -> Iterator[dict]:
        if self.client.wants(line):
            yield from self.client.feed(pos, line)
        elif line.strip() and not line.startswith("#"):
            self.stray("lines outside any record")

    def _inside(self, pos: int, line: str) -> Iterator[dict]:
        record = self.record
        if END in line:
            before = line.split(END, 1)[0]
            if before.strip():
                record.lines.append(before.rstrip())
            self.record = None
            yield from _finish(record, self.ctx)
        elif line.startswith("TL_") and RECORD_HEADER.match(line):  # the previous one never ended
            self.ctx.warn(record.pos, "record without $$end_record")
            yield from _finish(record, self.ctx)
            self.record = _start(RECORD_HEADER.match(line), pos)
        else:
            record.lines.append(line)
            if len(record.lines) > MAX_RECORD_LINES:
                self.ctx.skip(record.pos, "record without $$end_record")
                self.record = None

    def end(self) -> Iterator[dict]:
        if self.record is not None:
            self.ctx.warn(self.record.pos, "record without $$end_record")
            yield from _finish(self.record, self.ctx)
            self.record = None
        yield from self.client.end()


def cut_here(line: bytes) -> bool:
    """A line that starts a record (`TL_INFO(TF_PROTOCOL) [...]...`)."""
    return line.startswith(b"TL_") and RECORD_HEADER.match(line.decode("utf-8", "replace")) is not None


class SnooperParser(TextParser):
    name = NAME
    what = "a Snooper trace"
    reader = _Reader
    sniff = staticmethod(sniff)
    cut_here = staticmethod(cut_here)

    def lines(self, stream: BinaryIO) -> Iterator[str]:
        """The lines as the base reads them (each decoded, its CR and LF ends dropped), decoded a
        block of whole lines at a time: LF is never part of a UTF-8 sequence, so a line decodes
        alike alone or in its block."""
        rest = b""
        while block := stream.read(BLOCK_BYTES):
            block = rest + block if rest else block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                text = block[:cut].decode("utf-8", "replace")
                for line in text.split("\n")[:-1]:
                    yield line.rstrip("\r\n")
        if rest:
            yield rest.decode("utf-8", "replace").rstrip("\r\n")

    def absorb(self, loop: TextLoop, text: str) -> bool:
        """A line inside a record (neither ending it nor starting another) is never stray and
        completes nothing: the loop's step would only append it."""
        return loop.reader.take(text)


def _start(m: re.Match, lineno: int) -> _Record:
    level, flag, instance, _pid, _tid, mo, d, y, hh, mi, ss, frac, _seq, comp = m.groups()
    try:
        ts = utc(dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss),
                             int(frac[:6].ljust(6, "0")), tzinfo=dt.timezone.utc))
    except ValueError:
        ts = None
    return _Record(lineno, ts, level, flag, _host(instance), comp.strip())


def _finish(rec: _Record, ctx: ParseContext) -> Iterator[dict]:
    if rec.ts is None:
        ctx.skip(rec.pos, "bad time stamp")
        return
    base = {"ts": rec.ts, "source": NAME, "host": rec.host, "file": ctx.file, "pos": rec.pos}
    record = _unjoin(rec.lines)
    fields = _fields(record)
    if rec.flag == "TF_PROTOCOL" and "Start-Line" in fields:
        event = _protocol(record, fields, base, ctx, rec.pos)
        if event:
            yield event
    elif rec.flag == "TF_DIAG" or fields.get("LogType", "").lower() == "diagnostic":
        yield _diagnostic(fields, base, rec)


def _protocol(record, fields, base, ctx, pos) -> dict | None:
    text = protocol_sip_text(record)
    if text is None:
        ctx.skip(pos, "protocol record without Start-Line")
        return None
    msg = sip.parse_message(unjoin_sip(text))
    if not msg.start_line or "start line is not SIP" in msg.defects:
        ctx.warn(pos, "protocol record whose Start-Line is not SIP")
    ev = sip.event_fields(msg, raw=text)
    direction_field = fields.get("Direction", "").split(";", 1)[0].strip().lower()
    direction = {"incoming": "in", "outgoing": "out"}.get(direction_field, "")
    peer = fields.get("Peer", "").strip()
    src, dst = (peer, "") if direction == "in" else ("", peer) if direction == "out" else ("", "")
    return dict(base, direction=direction, src=src, dst=dst, **ev)


def _diagnostic(fields, base, rec) -> dict:
    code = fields.get("Result-Code", "").split()
    reason = code[1] if len(code) > 1 else (code[0] if code else fields.get("Text", ""))
    cseq = fields.get("SIP-CSeq", "").split()
    parts = [fields.get("Severity", rec.level.lower()) + ":", fields.get("Text", "")]
    if code:
        parts.append(f"({' '.join(code)})")
    if fields.get("SIP-Start-Line"):
        parts.append(f"[{fields['SIP-Start-Line']}]")
    raw = "\n".join(rec.lines)
    return dict(base, proto="log", event="diagnostic", direction="",
                call_id=fields.get("SIP-Call-ID", ""),
                cseq=cseq[0] if cseq else "", method=cseq[1] if len(cseq) > 1 else "",
                reason=reason, summary=" ".join(p for p in parts if p), raw=raw)


def _unjoin(lines: list[str]) -> str:
    """The record's lines as written, joined by LF: a web copy's joined field lines are cut at
    the field names. Lines of the SIP message (headers, body) are left alone."""
    text = "\n".join(lines)
    body = _line_start(text, "Message-Body:")
    end = -1 if body < 0 else text.find("\n", body)
    if not JOINED_FIELD.search(text, 0, len(text) if end < 0 else end):
        return text  # no field name after a space up to the body: nothing was joined
    out: list[str] = []
    in_body = False
    for line in lines:
        if in_body:
            out.append(line)
            continue
        for piece in JOINED_FIELD.split(line) if JOINED_FIELD.search(line) else [line]:
            out.append(piece)
            if piece.startswith("Message-Body:"):
                in_body = True
    return "\n".join(out)


# a line of one of the record's own fields, after its LF (a literal first: tried at line ends only)
FIELD_LINE = re.compile(r"\n(" + "|".join(re.escape(f) for f in RECORD_FIELDS) + r"):([^\n]*)")


def _line_start(text: str, prefix: str, start: int = 0, end: int | None = None) -> int:
    """Where the first line of `text[start:end]` that starts with `prefix` starts, else -1."""
    if text.startswith(prefix, start, end):
        return start
    at = text.find("\n" + prefix, start, end)
    return at + 1 if at >= 0 else -1


def _fields(record: str) -> dict[str, str]:
    """The record's own fields (first occurrence), up to the message body (`record`: its lines
    joined by LF; the body starts after the first line named Message-Body, colon or not)."""
    end = len(record)
    at = record.find("Message-Body")
    while at >= 0:
        if (at == 0 or record[at - 1] == "\n") and record[at + 12:at + 13] in (":", "\n", ""):
            stop = record.find("\n", at)
            end = end if stop < 0 else stop
            break
        at = record.find("Message-Body", at + 1)
    out: dict[str, str] = {}
    for name, value in FIELD_LINE.findall("\n" + record[:end]):
        if name not in out:
            out[name] = value.strip()
    return out


def protocol_sip_text(record: str) -> str | None:
    """The SIP message of a protocol record (its lines joined by LF): Start-Line, the header lines
    after it, the body; CRLF line ends."""
    start = _line_start(record, "Start-Line:")
    if start < 0:
        return None
    end = record.find("\n", start)
    first = record[start:len(record) if end < 0 else end].partition(":")[2].strip()
    if end < 0:
        return first + "\r\n\r\n"
    body = record.find("\nMessage-Body:", end)  # the first such line after the Start-Line
    if body == end:  # no header lines
        text = first + "\r\n\r\n"
    else:
        text = first + "\r\n" + record[end + 1:len(record) if body < 0 else body].replace("\n", "\r\n") + "\r\n\r\n"
    if body < 0:
        return text
    body_end = record.find("\n", body + 1)
    value = record[body + 1:len(record) if body_end < 0 else body_end].partition(":")[2].strip()
    lines = [] if value in ("-", "") else [value]  # "-": no body
    if body_end >= 0:
        lines.append(record[body_end + 1:].replace("\n", "\r\n"))
    return text + "\r\n".join(lines)


PARSER = SnooperParser()
