"""Skype for Business / Lync client log (``Lync-UccApi-0.UccApilog``).

Lines: ``MM/DD/YYYY|HH:MM:SS.mmm <PID hex>:<TID hex> <LEVEL>  :: <text>``. A SIP message sits on
the unprefixed lines between an opening line and its closing line::

    04/16/2013|03:17:30.160 1F68:C14 INFO  :: Sending Packet - 192.168.100.100:5061 (From Local Address: 192.168.103.35:20323) 1503 bytes:
    <SIP message>
    04/16/2013|03:17:30.168 1F68:C14 INFO  :: End of Sending Packet - 192.168.100.100:5061 (...) 1503 bytes

(``Data Received - <remote> (To Local Address: <local>) <n> bytes:`` for incoming ones). Some copies
put an empty stamped line (``... INFO  ::``) between the opening line and the message; a packet
without its closing line ends at the next stamped line.

Stamps are the client's local time: read in ``ctx.tz`` (``--tz``), with a note when nobody said.

The log names no machine; its messages name the client's user: ``host`` is that user's address
(``user@domain``), taken from each message (the From of the requests it sends and the responses it
gets, the To of the others); a message without that header keeps the last one named (empty before
the first).

Events (``source`` = ``sfb``): ``proto=sip``, one per SIP message of a packet (a
packet may hold several; they are framed by the shared SIP grammar), ``direction`` ``out`` for
Sending Packet (``src`` = local, ``dst`` = remote) and ``in`` for Data Received; ICEWarn flags of
``ms-client-diagnostics`` are added to ``summary`` in words. Other log lines give no events.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

from logcorr.events import sip
from logcorr.events.scrape import unjoin_sip
from logcorr.events.parsers.base import ParseContext, utc
from logcorr.events.parsers.text import LineReader, TextParser

NAME = "sfb"
MAX_PACKET_LINES = 20000

# 04/16/2013|03:17:30.168 1F68:C14 INFO  :: text
LINE = re.compile(
    r"^(\d\d)/(\d\d)/(\d{4})\|(\d\d):(\d\d):(\d\d)\.(\d{1,6}) ([0-9A-Fa-f]+):([0-9A-Fa-f]+) "
    r"(\w+)\s*::\s?(.*)$"
)
# Sending Packet - 1.2.3.4:5061 (From Local Address: 10.0.0.1:20323) 1503 bytes:
PACKET_OPEN = re.compile(
    r"^(Sending Packet|Data Received)\s*-\s*(\S+)\s*\((?:From|To) Local Address:\s*(\S+?)\)"
    r"\s*(\d+) bytes:?\s*$"
)
PACKET_CLOSE = re.compile(r"^End of (Sending Packet|Data Received)")
# the address in a From or To header: `"Dana Reyes" <sip:dana.r@relecloud.example>;tag=...`
HEADER_USER = re.compile(r"\bsips?:([^>;\s]+)", re.I)
# a stamp inside a physical line, where a web copy joined two log lines
EMBEDDED_STAMP = re.compile(r" (?=\d\d/\d\d/\d{4}\|\d\d:\d\d:\d\d\.\d{1,6} [0-9A-Fa-f]+:[0-9A-Fa-f]+ \w+\s*::)")


def sniff(head: bytes) -> bool:
    """UccApi lines, in a file that is not a Snooper trace (the Snooper parser reads UccApi lines
    pasted into a trace too)."""
    if b"|" not in head or b"::" not in head or (b"$$begin_record" in head and b"TL_" in head):
        return False
    for line in head.decode("utf-8", "replace").splitlines()[:200]:
        if LINE.match(line):
            return True
    return False


class _Packet:
    __slots__ = ("pos", "ts", "direction", "remote", "local", "lines")

    def __init__(self, pos, ts, direction, remote, local):
        self.pos, self.ts, self.direction = pos, ts, direction
        self.remote, self.local = remote, local
        self.lines: list[str] = []


class Reader(LineReader):
    """The line machine of a UccApi log, usable on its own or inside another SfB text."""

    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.packet: _Packet | None = None
        self.noted = False
        self.user = ""  # the client's user, as the last message that named it said

    def carry(self) -> tuple | None:
        return packet_state(self.packet)

    def wants(self, line: str) -> bool:
        """True for a UccApi line, and for any line while a packet is open."""
        return self.packet is not None or LINE.match(line) is not None

    def line(self, pos: int, text: str) -> Iterator[dict]:
        if self.wants(text):
            yield from self.feed(pos, text)
        elif text.strip() and not text.startswith("#"):
            self.stray("not a UccApi log line")

    def feed(self, lineno: int, line: str) -> Iterator[dict]:
        if "|" in line[1:] and EMBEDDED_STAMP.search(line):
            for piece in EMBEDDED_STAMP.split(line):
                yield from self._feed(lineno, piece)
        else:
            yield from self._feed(lineno, line)

    def _feed(self, lineno: int, line: str) -> Iterator[dict]:
        ctx = self.ctx
        if not self.noted and ctx.tz_assumed:
            ctx.note(f"UccApi log times are the client's local time; read as {ctx.tz} (use --tz)")
        self.noted = True
        m = LINE.match(line)
        packet = self.packet
        if m is None:
            if packet is not None:
                packet.lines.append(line)
                if len(packet.lines) > MAX_PACKET_LINES:
                    ctx.skip(packet.pos, "packet without its end line")
                    self.packet = None
            return
        text = m.group(11).strip()
        if packet is not None and not packet.lines:
            if not text:
                return  # the empty stamped line some copies show before the message
            if sip.START_LINE.match(text):  # ... or the message itself, on that stamped line
                packet.lines.append(text)
                return
        if packet is not None:
            self.packet = None
            yield from self._finish(packet, ctx)
            if PACKET_CLOSE.match(text):
                return
        elif PACKET_CLOSE.match(text):
            ctx.skip(lineno, "end of a packet whose beginning is not in the file")
            return
        o = PACKET_OPEN.match(text)
        if o:
            ts = self._time(m, ctx)
            if ts is None:
                ctx.skip(lineno, "bad time stamp")
                return
            direction = "out" if o.group(1) == "Sending Packet" else "in"
            self.packet = _Packet(lineno, ts, direction, o.group(2), o.group(3))

    def end(self) -> Iterator[dict]:
        if self.packet is not None:
            packet, self.packet = self.packet, None
            yield from self._finish(packet, self.ctx)

    @staticmethod
    def _time(m: re.Match, ctx: ParseContext) -> dt.datetime | None:
        mo, d, y, hh, mi, ss, frac = m.groups()[:7]
        try:
            local = dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss),
                                int(frac[:6].ljust(6, "0")))
        except ValueError:
            return None
        return utc(local, ctx.tz)

    def _finish(self, p: _Packet, ctx: ParseContext) -> Iterator[dict]:
        data = "\r\n".join(p.lines).encode("utf-8", "replace")
        messages, rest = sip.split_messages(data + b"\r\n")
        if rest.strip():
            messages.append(rest)
        if not messages:
            ctx.skip(p.pos, "packet without a SIP message")
            return
        src, dst = (p.local, p.remote) if p.direction == "out" else (p.remote, p.local)
        for raw in messages:
            text = raw.decode("utf-8", "replace")
            msg = sip.parse_message(unjoin_sip(text))
            if "start line is not SIP" in msg.defects or not msg.start_line:
                ctx.skip(p.pos, "packet text is not SIP")
                continue
            ev = sip.event_fields(msg, raw=text)
            self.user = own_user(msg, p.direction) or self.user
            yield dict(ev, ts=p.ts, source=NAME, host=self.user, file=ctx.file, pos=p.pos,
                       direction=p.direction, src=src, dst=dst)


def own_user(msg: sip.SipMessage, direction: str) -> str:
    """The client's own user (``user@domain``) as a message it sent or received names it: the
    From of its requests and of the answers to them, the To of the requests it receives and of its
    answers."""
    found = HEADER_USER.search(msg.header("From" if (direction == "out") == msg.is_request else "To"))
    return found.group(1) if found else ""


def packet_state(p: _Packet | None) -> tuple | None:
    return None if p is None else (p.pos, p.ts, p.direction, p.remote, p.local, tuple(p.lines))


def cut_here(line: bytes) -> bool:
    """A line that opens a packet (`Sending Packet - ...`, `Data Received - ...`)."""
    m = LINE.match(line.decode("utf-8", "replace")) if b"|" in line else None
    return m is not None and PACKET_OPEN.match(m.group(11).strip()) is not None


class UccApiParser(TextParser):
    name = NAME
    what = "a UccApi log"
    reader = Reader
    sniff = staticmethod(sniff)
    cut_here = staticmethod(cut_here)


PARSER = UccApiParser()
