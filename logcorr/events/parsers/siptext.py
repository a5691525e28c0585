"""Plain SIP text: a file of raw SIP messages, as SIP tools export them.

Two layouts are read:

* messages one after another, each starting with its request or status line (blank lines or
  ``----`` separator lines between them are fine);
* sngrep's text export, where each message is preceded by a line
  ``YYYY/MM/DD HH:MM:SS.ffffff <src ip:port> -> <dst ip:port>``.

Events (``source`` = ``sip``, ``proto=sip``): one per message, fields from the shared SIP grammar.
``ts``, ``src`` and ``dst`` come from the sngrep line when there is one (its time read in
``ctx.tz``); a bare message has no time of its own and gets the file's modification time when the
archive kept it, else none (a note says so). ``direction`` is empty: the file does not say whose
view it is.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

from logcorr.events import sip
from logcorr.events.parsers.base import ParseContext, utc
from logcorr.events.parsers.text import LineReader, TextParser

NAME = "sip"
MAX_MESSAGE_LINES = 20000

# 2016/08/24 10:27:42.402593 192.168.1.1:5060 -> 192.168.1.2:5060
SNGREP_HEADER = re.compile(
    r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\S+) -> (\S+)\s*$"
)
SEPARATOR = re.compile(r"^\s*(?:-{3,}|={3,})\s*$")


def _start_line(line: str) -> bool:
    return bool(sip.REQUEST_LINE.match(line) or sip.STATUS_LINE.match(line))


def sniff(head: bytes) -> bool:
    """The first meaningful line is a SIP start line, or an sngrep line followed by one."""
    lines = [l.rstrip("\r") for l in head.decode("utf-8", "replace").split("\n")[:50]]
    meaningful = [l for l in lines if l.strip() and not SEPARATOR.match(l)]
    if not meaningful:
        return False
    if _start_line(meaningful[0]):
        return True
    return (len(meaningful) > 1 and SNGREP_HEADER.match(meaningful[0]) is not None
            and _start_line(meaningful[1]))


class _Reader(LineReader):
    """A new start line begins a new message once this one's header block is over (`ended`: a
    blank line was seen, kept as a flag so a message of many start-line-like lines is not scanned
    again at each of them)."""

    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.current: dict | None = None  # {"pos", "ts", "src", "dst", "lines", "ended"}
        self.header: dict | None = None  # the sngrep line before the next message

    def line(self, pos: int, line: str) -> Iterator[dict]:
        ctx, current = self.ctx, self.current
        h = SNGREP_HEADER.match(line)
        if h:
            yield from self.end()
            self.header = {"ts": _time(h, ctx), "src": h.group(8), "dst": h.group(9)}
        elif _start_line(line) and (current is None or current["ended"]):
            yield from self.end()
            meta = self.header or {"ts": ctx.mtime, "src": "", "dst": ""}
            self.header = None
            self.current = dict(meta, pos=pos, lines=[line], ended=False)
        elif current is None:
            if line.strip() and not SEPARATOR.match(line):
                self.stray("line outside any SIP message")
        elif SEPARATOR.match(line):
            yield from self.end()
        else:
            current["lines"].append(line)
            if not line.strip():  # the header block is over
                current["ended"] = True
            if len(current["lines"]) > MAX_MESSAGE_LINES:
                ctx.skip(current["pos"], "message too long")
                self.current = None

    def carry(self) -> tuple:
        return self.current, self.header

    def end(self) -> Iterator[dict]:
        if self.current is not None:
            current, self.current = self.current, None
            yield from _finish(current, self.ctx)


def cut_here(line: bytes) -> bool:
    """An sngrep line, or a SIP start line: where a message may start."""
    text = line.decode("utf-8", "replace")
    return SNGREP_HEADER.match(text) is not None or _start_line(text)


class SipTextParser(TextParser):
    name = NAME
    what = "SIP text"
    reader = _Reader
    sniff = staticmethod(sniff)
    cut_here = staticmethod(cut_here)


def _time(h: re.Match, ctx: ParseContext) -> dt.datetime | None:
    y, mo, d, hh, mi, ss, frac = h.groups()[:7]
    try:
        local = dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss),
                            int((frac or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    return utc(local, ctx.tz)


def _finish(cur: dict, ctx: ParseContext) -> Iterator[dict]:
    lines = cur["lines"]
    while lines and not lines[-1].strip():
        lines.pop()
    text = "\r\n".join(lines) + "\r\n"
    msg = sip.parse_message(text)
    for defect in msg.defects:  # read all the same; the reasons list says what RFC 3261 refuses
        ctx.skip_reasons[f"read although malformed: SIP {defect}"] += 1
    if cur["ts"] is None:
        ctx.note("plain SIP messages carry no time of their own")
    ev = sip.event_fields(msg, raw=text)
    yield dict(ev, ts=cur["ts"], source=NAME, host="", file=ctx.file, pos=cur["pos"],
               direction="", src=cur["src"], dst=cur["dst"])


PARSER = SipTextParser()
