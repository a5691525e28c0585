"""Cisco Meeting Server: the native syslog (`log`, `syslog` in logbundle.tar.gz), its copies from a
remote collector, and the WebAdmin event-log copy.

Syslog records ``Mmm dd HH:MM:SS[.mmm] facility.level host tag: body`` carry no year and no zone:
the zone comes from ``--tz`` (UTC when not given), the year, line by line, from the file's own time
in the bundle or the other sources' (:func:`~.base.syslog_year`), else from the context. ``SIP trace:`` records are reassembled into one ``sip`` event per message,
with direction, transport and both addresses taken from the ``connection N: incoming/outgoing ...
data`` record that opens it (where that record names only the remote side, CMS's own address comes
from the connection's ``is incoming/outgoing connection`` record). A remote collector's copy keeps
both directions: its own prefix (receive time, ``User.Info``, host) is taken off each record, also
where a web copy joined a message's records on one line. Every other record is a ``log`` event; its ``event`` key is one of:

==========================  ===============================================================
``call-incoming``           ``call N: incoming [encrypted] SIP call from ... to local URI ...``
``call-outgoing``           ``call N: outgoing SIP call ...``
``call-ending``             ``call N: ending; ...``
``call-configured``         ``call N: configured - API call leg ...``
``ice-failure``             ``... ICE failure N (reason)`` (the TURN/ICE failure CMS reports)
``call``                    any other ``call N: ...`` line (the summary keeps ``call N``)
``conference``              ``conference <guid> ...``
``participant-joined``      ``participant "..." joined space ...`` (``participant-left``)
``sip-connection-open``     ``SIP trace: connection N: is incoming/outgoing ... connection``
``sip-connection-failure``  ``SIP trace: connection N: read failure, code N``
``sip-connection-closed``   ``SIP trace: connection N: shutting down...``
``api-trace``               ``API trace N: ...``
``<tag>``                   records of other programs (``postgres``, ``client_backend``, ...)
``message``                 anything else of the Call Bridge
==========================  ===============================================================
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterator

from .. import sip
from .base import MONTH_PATTERN, MONTHS, ParseContext, local_date, syslog_year, utc
from .text import LineReader, TextLoop, TextParser

name = "cms"

_MON = MONTH_PATTERN

# `Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: ...`; the facility is
# missing in copies relayed by a remote collector; public copies carry `< http://user.info>;`.
SYSLOG_RECORD = re.compile(
    rf"(?P<stamp>(?P<mon>{_MON}) {{1,2}}(?P<day>\d{{1,2}}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<frac>\d{{1,6}}))?) "
    r"(?:(?P<fac>[A-Za-z0-9]+\.[A-Za-z]+)(?:< ?https?://[^>]*>;?)? )?"
    r"(?P<host>\S+) (?P<tag>host:server|(?:[0-9a-f]{12} )?[A-Za-z_][\w.-]*(?:\[\d+\])?):\s?(?P<body>.*)$"
)
# Where a scraped copy joined several records on one line: before each stamp + facility prefix.
# (the space first, then the look-behind: a pattern opening on a literal is searched for fast)
JOINED_RECORD = re.compile(rf" (?<=\S )(?={_MON} {{1,2}}\d{{1,2}} \d\d:\d\d:\d\d(?:\.\d+)? [A-Za-z0-9]+\.[A-Za-z]+ )")
# A remote collector's own prefix: `2016-06-07 03:18:14   User.Info  acanosrv03   Jun  7 ...`
COLLECTOR_PREFIX = re.compile(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\.\S+\s+\S+\s+(?={_MON} )")
# Where a scraped copy of a collector's file joined its records: before each collector prefix.
JOINED_COLLECTED = re.compile(
    rf" (?<=\S )(?=\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\.\S+\s+\S+\s+{_MON} {{1,2}}\d)")
# What both joins need: a stamp's `:MM:SS` at offset 10 or later (a joined syslog record's month is
# at 2 or later, its first colon 8 further; a collector's date at 2 or later, its colon 13 further).
MAYBE_JOINED = re.compile(r":\d\d:\d\d")
CALL_BRIDGE_BODY = re.compile(r"^\s*(?P<level>INFO|WARNING|ERROR|DEBUG)\s+:\s?(?P<msg>.*)$")
INFO_PREFIX = " INFO : "  # after `host:server:  ` the pattern's `:\s?` took the first space
INFO_TRACE = INFO_PREFIX + "SIP trace: "  # what a Call Bridge SIP trace record's body opens on
# WebAdmin event log: `2017-04-15<TAB>10:34:56.536<TAB>Warning<TAB>call 7: ICE failure 4 (...)`
EVENTLOG_RECORD = re.compile(
    r"^(?P<date>\d{4}-\d\d-\d\d)[\t ]+(?P<time>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,6}))?[\t ]+"
    r"(?:(?P<level>Info|Warning|Error)\b[\t ]*)?(?P<msg>.*)$"
)
JOINED_EVENTLOG = re.compile(r"(?<=\S) (?=\d{4}-\d\d-\d\d[\t ]+\d\d:\d\d:\d\d\.\d{3}[\t ])")

# incoming: `from <remote>[ to <local>]`; outgoing: `to <remote>[ from <local>]` (older builds, and
# the copies a remote collector keeps, write the outgoing form without its local address)
TRACE_DATA = re.compile(
    r"^connection (?P<cid>\d+): (?P<dir>incoming|outgoing) SIP (?P<tr>[A-Z]+) data "
    r"(?:from (?P<from>\S+?)(?: to (?P<at>\S+?))?|to (?P<to>\S+?)(?: from (?P<local>\S+?))?),"
    r" size (?P<size>\d+):?\s*$"
)
TRACE_CONN_OPEN = re.compile(
    r"^connection (?P<cid>\d+): is (?P<dir>incoming|outgoing) (?:secure )?connection "
    r"(?:from|to) (?P<a>\S+) (?:to|from) (?P<b>\S+?)\s*$"
)
TRACE_CONN = re.compile(r"^connection (?P<cid>\d+): (?P<text>.*)$")
CONNECTION_OPEN = re.compile(rb": is (?:incoming|outgoing) ")  # where a TRACE_CONN_OPEN may be
LINE_REST = re.compile(rb"[^\r\n]*")
CALL_N = re.compile(r"^call (?P<n>\d+) ?: ")
ICE_FAILURE = re.compile(r"\bICE failure (\d+)")

EVENTLOG_FAMILIES = ("participant ", "conference ", "web bridge ", "Web bridge ")
SIGNATURES = (b"host:server:", b"client_backend:", b"wb3_frontend:", b"h323_gateway:")


def sniff(head: bytes) -> bool:
    text = head.decode("utf-8", "replace")
    for line in text.splitlines()[:200]:
        line = COLLECTOR_PREFIX.sub("", line)
        m = SYSLOG_RECORD.match(line)
        if m and (m.group("tag") == "host:server" or any(s in line.encode() for s in SIGNATURES)):
            return True
        m = EVENTLOG_RECORD.match(line)
        if m and (CALL_N.match(m.group("msg")) or m.group("msg").startswith(EVENTLOG_FAMILIES)):
            return True
    return False


@dataclass
class _Trace:
    """A SIP message being gathered from consecutive `SIP trace:` records."""

    pos: int
    ts: dt.datetime
    host: str
    direction: str
    transport: str
    src: str
    dst: str
    lines: list[str] = field(default_factory=list)
    # what the lines say, worked out when asked (`complete`) over the lines not yet looked at
    in_body: bool = field(default=False, compare=False)
    body_bytes: int = field(default=0, compare=False)
    content_length: int | None = field(default=None, compare=False)
    seen: int = field(default=0, compare=False)

    def add(self, text: str) -> None:
        self.lines.append(text)

    @property
    def complete(self) -> bool:
        lines = self.lines
        for i in range(self.seen, len(lines)):
            text = lines[i]
            if self.in_body:
                self.body_bytes += (len(text) if text.isascii() else len(text.encode("utf-8", "replace"))) + 2
            elif not text.strip():
                self.in_body = i > 0
            elif text[0] in "cClL":
                low = text[:16].lower()
                if low.startswith("content-length:") or low.startswith("l:"):
                    value = sip.decimal(text.split(":", 1)[1])
                    if value is not None:
                        self.content_length = value
        self.seen = len(lines)
        return self.in_body and self.body_bytes >= (self.content_length or 0)


class _Clock:
    """Turns the syslog stamp into UTC: year from the reference time (the file's), zone from --tz."""

    def __init__(self, ctx: ParseContext):
        self.tz = ctx.tz
        self.near = local_date(ctx.mtime, ctx.tz) if ctx.mtime else None  # the box's date then
        self._years: dict[tuple[int, int], int | None] = {}
        self.year = ctx.year or (ctx.mtime.year if ctx.mtime else None)
        if self.year is None:
            self.year = dt.datetime.now(dt.timezone.utc).year
            ctx.note(f"{ctx.file}: syslog lines carry no year and the bundle gave none; {self.year} assumed")
        if ctx.tz_assumed:
            ctx.note("CMS syslog lines carry no time zone; UTC assumed (use --tz to say otherwise)")

        self._seen: dict[str, dt.datetime | None] = {}  # stamp text -> its time (lines share stamps)

    def stamp(self, text: str, m: re.Match) -> dt.datetime | None:
        """The time of a SYSLOG_RECORD match, whose stamp is `text`, in UTC, or None for an impossible
        date (30 Feb, hour 25): worked out once per stamp text."""
        value = self._seen.get(text, self)
        if value is self:
            if len(self._seen) >= 4096:
                self._seen.clear()
            mon, day, h, mi, sec, frac = m.group("mon", "day", "h", "m", "s", "frac")
            value = self._seen[text] = self._stamp(MONTHS[mon], int(day), int(h), int(mi), int(sec), frac)
        return value

    def _stamp(self, mon: int, day: int, h: int, m: int, s: int, frac: str | None) -> dt.datetime | None:
        year = self.year
        if self.near is not None:
            if (mon, day) not in self._years:
                self._years[(mon, day)] = syslog_year(mon, day, self.near)
            year = self._years[(mon, day)]
            if year is None:
                return None
        us = int(frac.ljust(6, "0")[:6]) if frac else 0
        try:
            local = dt.datetime(year, mon, day, h, m, s, us)
        except ValueError:
            return None
        return utc(local, self.tz)


def _split_records(line: str, pattern: re.Pattern) -> list[str]:
    if len(line) > 60 and pattern.search(line):
        return pattern.split(line)
    return [line]


def _records(physical: str) -> list[str]:
    """The syslog records of one physical line, a remote collector's prefixes taken off."""
    if len(physical) <= 60 or not MAYBE_JOINED.search(physical, 10):  # one record
        return [COLLECTOR_PREFIX.sub("", physical) if physical[:1].isdigit() else physical]
    out: list[str] = []
    for piece in _split_records(physical, JOINED_COLLECTED):
        out.extend(_split_records(COLLECTOR_PREFIX.sub("", piece), JOINED_RECORD))
    return out


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.clock = _Clock(ctx)
        self.pending: dict[str, _Trace] = {}  # per logging host, the SIP message being gathered
        self.local_of: dict[tuple[str, str], str] = {}  # (host, connection id) -> CMS's own address
        self.base = {"source": "cms", "file": ctx.file}
        # The start of the last Call Bridge `SIP trace: ` record read from a whole line (its stamp,
        # facility and host up to the trace text) and its host: a line that opens the same way is a
        # trace record of that time and host, read without the record pattern (see `line`).
        self.head, self.head_host = "", ""

    def line(self, pos: int, physical: str) -> list[dict]:
        """The events this line completes (most lines complete none: they add to a SIP message)."""
        if self.head and self.take(physical):
            return []
        out: list[dict] = []
        if not physical.strip():
            return out
        records = _records(physical)
        for line in records:
            m = SYSLOG_RECORD.match(line)
            if m:
                self._syslog_record(m, line, pos, out)
            elif EVENTLOG_RECORD.match(line):
                for rec in _split_records(line, JOINED_EVENTLOG):
                    e = EVENTLOG_RECORD.match(rec)
                    if e:
                        out.extend(_eventlog_record(e, rec, pos, self.ctx, self.base))
            else:
                self.stray("not a CMS log line")
        if self.head and records[0] is not physical:  # a joined or collected line: no short cut
            self.head = ""
        return out

    def take(self, physical: str) -> bool:
        """Add the line to the SIP message being gathered when it is that message's next line read
        as `line` would (most lines are): it opens as the last trace record did (`head`), is no
        connection record and holds no joined record."""
        if physical.startswith(self.head):
            text = physical[len(self.head):]
            trace = self.pending.get(self.head_host)
            if trace is not None and not text.startswith("connection ") and not MAYBE_JOINED.search(text):
                trace.lines.append(text)
                return True
        return False

    def end(self) -> list[dict]:
        out: list[dict] = []
        for host in list(self.pending):
            self.flush(host, out)
        return out

    def carry(self) -> tuple:
        return tuple(sorted(self.pending.items(), key=lambda kv: kv[0]))

    def prime(self, data, end: int) -> None:
        """The connection table as it stands at offset `end`: the `is incoming/outgoing
        connection` records before it, read as the file's own lines."""
        scratch = _Reader(ParseContext(file=self.ctx.file, tz=self.ctx.tz, tz_assumed=False,
                                       year=self.ctx.year, mtime=self.ctx.mtime))
        done = -1
        for m in CONNECTION_OPEN.finditer(data, 0, end):
            newline = data.rfind(b"\n", 0, m.start())  # a lone CR after it ends a line too
            start = max(newline, data.rfind(b"\r", newline + 1, m.start())) + 1
            if start <= done:
                continue
            done = stop = m.end() + len(LINE_REST.match(data[m.end():m.end() + 65536]).group())
            for _ in scratch.line(0, data[start:stop].decode("utf-8", "replace")):
                pass
        self.local_of = scratch.local_of

    def flush(self, host: str, out: list[dict]) -> None:
        """The SIP message being gathered for `host`, if any, as an event added to `out`."""
        trace = self.pending.pop(host, None)
        if trace is None:
            return
        raw = "\r\n".join(trace.lines)
        msg = sip.parse_message(raw)
        if not msg.start_line or "start line is not SIP" in msg.defects:
            self.ctx.skip(trace.pos, "SIP trace record that is not a SIP message")
            return
        fields = sip.event_fields(msg, raw=raw)
        fields["transport"] = trace.transport or fields["transport"]
        out.append({**self.base, **fields, "ts": trace.ts, "host": trace.host, "pos": trace.pos,
                    "direction": trace.direction, "src": trace.src, "dst": trace.dst})

    def _syslog_record(self, m: re.Match, line: str, lineno: int, out: list[dict]) -> None:
        stamp, host, tag, body = m.group("stamp", "host", "tag", "body")
        ts = self.clock.stamp(stamp, m)
        if ts is None:
            self.ctx.skip(lineno, "impossible date")
            return
        if body.startswith(INFO_TRACE) and tag == "host:server":  # the most common record, read at once
            self._trace_record(self._remember(line, body[len(INFO_TRACE):], host), ts, host, lineno, line, out)
            return
        level, message = "", body
        if tag == "host:server":
            if body.startswith(INFO_PREFIX):  # what CALL_BRIDGE_BODY reads, the most common way
                level, message = "INFO", body[len(INFO_PREFIX):]
            else:
                b = CALL_BRIDGE_BODY.match(body)
                if b:
                    level, message = b.group("level"), b.group("msg")
        if tag == "host:server" and message.startswith("SIP trace:"):
            trace_text = message[len("SIP trace:"):]
            trace_text = trace_text[1:] if trace_text.startswith(" ") else trace_text
            self._trace_record(self._remember(line, trace_text, host), ts, host, lineno, line, out)
            return
        current = self.pending.get(host)
        if current is not None and current.complete:
            self.flush(host, out)
        key = _log_key(tag, message)
        summary = f"{message}" if tag == "host:server" else f"{tag}: {message}"
        if level in ("WARNING", "ERROR"):
            summary = f"{level}: {summary}"
        out.append({**self.base, "ts": ts, "host": host, "pos": lineno, "proto": "log", "event": key,
                    "summary": summary, "raw": line, "call_number": _call_number(tag, message)})

    def _remember(self, line: str, text: str, host: str) -> str:
        """`text`, the trace text of the record `line`; what opens the record before it kept as
        `head` when a line opening so is read alike whatever follows: its trace text then is
        the rest of the line (the pattern's groups end before it, the body's `SIP trace: ` is
        whole) and no joined record hides in it (no `:MM:SS` before the text)."""
        head = line[:len(line) - len(text)]
        if head.endswith("SIP trace: ") and not MAYBE_JOINED.search(head, 10):
            self.head, self.head_host = head, host
        return text

    def _trace_record(self, text, ts, host, lineno, line, out: list[dict]) -> None:
        if text.startswith("connection "):
            self._connection_record(text, ts, host, lineno, line, out)
        else:
            self._message_line(text, ts, host, lineno)

    def _connection_record(self, text, ts, host, lineno, line, out: list[dict]) -> None:
        d = TRACE_DATA.match(text)
        if d:
            self.flush(host, out)
            cid = d.group("cid")
            local = self.local_of.get((host, cid), "")
            if d.group("dir") == "incoming":
                src, dst, direction = d.group("from"), d.group("at") or local, "in"
            else:
                src, dst, direction = d.group("local") or local, d.group("to"), "out"
            self.pending[host] = _Trace(pos=lineno, ts=ts, host=host, direction=direction,
                                        transport=d.group("tr"), src=src, dst=dst)
            return
        c = TRACE_CONN.match(text)
        if c:
            self.flush(host, out)
            out.append({**self.base, "ts": ts, "host": host, "pos": lineno, "proto": "log",
                        "event": self._connection_key(text, host),
                        "summary": f"SIP connection {c.group('cid')}: {c.group('text')}", "raw": line})
            return
        self._message_line(text, ts, host, lineno)

    def _message_line(self, text, ts, host, lineno) -> None:
        trace = self.pending.get(host)
        if trace is None:
            if not sip.looks_like_sip(text):
                if text.strip():
                    self.ctx.skip(lineno, "SIP trace line outside a message")
                return
            self.pending[host] = trace = _Trace(pos=lineno, ts=ts, host=host, direction="",
                                                transport="", src="", dst="")
            self.ctx.warn(lineno, "SIP message without its connection record: direction unknown")
        trace.add(text)

    def _connection_key(self, text: str, host: str) -> str:
        rest = TRACE_CONN.match(text).group("text")
        o = TRACE_CONN_OPEN.match(text)
        if o:
            # incoming: `from <remote> to <local>`; outgoing: `to <remote> from <local>`
            self.local_of[(host, o.group("cid"))] = o.group("b")
            return "sip-connection-open"
        if rest.startswith("read failure") or "failure" in rest:
            return "sip-connection-failure"
        if rest.startswith("shutting down"):
            return "sip-connection-closed"
        return "sip-connection"


def _call_number(tag: str, message: str) -> int | None:
    """N of a Call Bridge line `call N: ...`."""
    c = CALL_N.match(message) if tag == "host:server" else None
    return sip.decimal(c.group("n")) if c else None


def _log_key(tag: str, message: str) -> str:
    if tag != "host:server":
        return re.sub(r"\[\d+\]$", "", tag.split()[-1])
    if ICE_FAILURE.search(message):
        return "ice-failure"
    c = CALL_N.match(message)
    if c:
        rest = message[c.end():]
        for prefix, key in (("incoming", "call-incoming"), ("outgoing", "call-outgoing"),
                            ("ending", "call-ending"), ("configured", "call-configured")):
            if rest.startswith(prefix):
                return key
        return "call"
    if message.startswith("conference "):
        return "conference"
    if message.startswith("participant "):
        return "participant-left" if " left space " in message else "participant-joined"
    if message.startswith("API trace"):
        return "api-trace"
    return "message"


def _eventlog_record(e, line, lineno, ctx: ParseContext, base) -> Iterator[dict]:
    """The event of a WebAdmin event-log line (skipped when its date is impossible)."""
    y, mo, d = (int(x) for x in e.group("date").split("-"))
    h, mi, s = (int(x) for x in e.group("time").split(":"))
    frac = e.group("frac")
    us = int(frac.ljust(6, "0")[:6]) if frac else 0
    try:
        ts = utc(dt.datetime(y, mo, d, h, mi, s, us), ctx.tz)
    except ValueError:
        ts = None
    if ts is None:
        ctx.skip(lineno, "impossible date")
        return
    if ctx.tz_assumed:
        ctx.note("CMS event-log lines carry no time zone; UTC assumed (use --tz to say otherwise)")
    message = e.group("msg").strip()
    level = e.group("level") or ""
    summary = f"{level.upper()}: {message}" if level in ("Warning", "Error") else message
    yield {**base, "ts": ts, "host": "", "pos": lineno, "proto": "log",
           "event": _log_key("host:server", message), "summary": summary, "raw": line,
           "call_number": _call_number("host:server", message)}


def cut_here(line: bytes) -> bool:
    """A record that opens a SIP message (`connection N: incoming SIP TCP data ...`): where one
    logging host's traces are all complete (a large file is cut at such lines)."""
    if b"SIP trace: connection " not in line:
        return False
    text = line.decode("utf-8", "replace")
    records = _records(text)
    m = SYSLOG_RECORD.match(records[0]) if len(records) == 1 else None
    if m is None or m.group("tag") != "host:server":
        return False
    b = CALL_BRIDGE_BODY.match(m.group("body"))
    message = b.group("msg") if b else m.group("body")
    return message.startswith("SIP trace: ") and TRACE_DATA.match(message[len("SIP trace: "):]) is not None


class CmsParser(TextParser):
    name = name
    what = "a CMS log"
    reader = _Reader
    universal_newlines = True
    sniff = staticmethod(sniff)
    cut_here = staticmethod(cut_here)

    def absorb(self, loop: TextLoop, text: str) -> bool:
        """A SIP message's next line handed to the message at once (`_Reader.take`) while no
        stray line is being counted."""
        reader = loop.reader
        return bool(reader.head) and not loop.failures and loop.run.start is None and reader.take(text)


PARSER = CmsParser()
parse = PARSER.parse
