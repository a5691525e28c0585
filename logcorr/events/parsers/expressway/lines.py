"""Lines into records: where a record starts (an ISO or BSD stamp and host, optionally after a
"Find All" ``Line N:`` or a syslog priority), the stamp's time, the program tag, and physical lines
that a web copy joined cut apart again."""
from __future__ import annotations

import datetime as dt
import re

from logcorr.events.parsers.base import MONTHS, ParseContext, local_date, syslog_year, utc

# 2017-03-02T08:10:46.240+01:00 vcse tvcs: UTCTime="..."   (optional "Line 190: " and "<166>1 ")
RECORD_START = re.compile(
    r"^(?:Line \d+:\s*)?(?:<\d{1,3}>(?:1 )?)?"
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(Z|[+-]\d\d:?\d\d)?"
    r"[ \t]+(\S+)[ \t]+(.*)$"
)
# Nov 18 19:55:58 expe01 tvcs: UTCTime="..."   (a remote syslog server's BSD stamp, local time)
BSD_START = re.compile(
    r"^(?:<\d{1,3}>)?(" + "|".join(MONTHS) + r") {1,2}(\d{1,2}) "
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?[ \t]+(\S+)[ \t]+(.*)$"
)
BSD_FIRST = frozenset("<" + "".join(m[0] for m in MONTHS))  # the first character BSD_START needs
# The same stamp inside a physical line, where a web copy joined two records.
EMBEDDED_START = re.compile(
    r" (?=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,6})?(?:Z|[+-]\d\d:?\d\d) \S+ "
    r"(?:[A-Za-z][\w.-]*(?:\[\d+\])?: |UTCTime=|Event=))"
)
# what every embedded stamp holds, cheaper to look for first
EMBEDDED_HINT = re.compile(r"-\d\dT\d\d:")
# tvcs:   httpd[15060]:   (a program tag; a second one may follow: "tvcs: tvcs:", "httpd[1]: web:")
PROGRAM_TAG = re.compile(r"^([A-Za-z][\w.-]*)(?:\[\d+\])?:(?:[ \t]+|$)")


def _ms(frac: str | None) -> int:
    return int((frac or "0")[:6].ljust(6, "0"))


def _offset(text: str | None, ctx: ParseContext) -> dt.tzinfo:
    if not text:
        return ctx.tz
    if text == "Z":
        return dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def utc_time(value: str) -> dt.datetime | None:
    """`2017-03-02 07:10:46,240` (or without milliseconds) as an aware UTC datetime; None when
    it is not a time the event table can hold. Worked out once per stamp text (a message's INFO
    and DEBUG records mostly share theirs), the date and time of day once per second."""
    v = value.strip()[:26]  # all that decides the time (and the table's key stays short)
    found = _STAMPS.get(v, _UNSEEN)
    if found is not _UNSEEN:
        return found
    second = _SECONDS.get(v[:19], _UNSEEN)
    if second is _UNSEEN:
        second = _second(v[:19])
    found = None
    if second is not None:
        found = dt.datetime(*second, tzinfo=dt.timezone.utc)
        if len(v) > 20 and v[19] in ",.":
            frac = v[20:26]
            if frac.isascii() and frac.isdigit():
                found = dt.datetime(*second, _ms(frac), dt.timezone.utc)
    if len(_STAMPS) >= CACHED_STAMPS:
        _STAMPS.clear()
    _STAMPS[v] = found
    return found


CACHED_STAMPS = 20_000
_UNSEEN = object()
_STAMPS: dict[str, dt.datetime | None] = {}  # UTCTime text -> its time
_SECONDS: dict[str, tuple | None] = {}  # "YYYY-MM-DD HH:MM:SS" -> (year, ..., second), UTC


def _second(v: str) -> tuple | None:
    """The second a stamp's first 19 characters name; None when the event table cannot hold it
    (a fraction never moves a stamp across the table's bounds, which are whole seconds)."""
    try:
        fields = (int(v[0:4]), int(v[5:7]), int(v[8:10]), int(v[11:13]), int(v[14:16]), int(v[17:19]))
        second = fields if utc(dt.datetime(*fields, tzinfo=dt.timezone.utc)) is not None else None
    except (ValueError, IndexError):
        second = None
    if len(_SECONDS) >= CACHED_STAMPS:
        _SECONDS.clear()
    _SECONDS[v] = second
    return second


class _Record:
    """One record: where it starts, its prefix stamp (worked out only when the record has no
    usable `UTCTime`), host, program, the first line's body and the lines after it."""

    __slots__ = ("pos", "stamp", "host", "program", "body", "more")

    def __init__(self, pos, stamp, host, program, body):
        self.pos, self.stamp, self.host, self.program, self.body = pos, stamp, host, program, body
        self.more: list[str] = []

    @property
    def zone_assumed(self) -> bool:
        return not self.stamp[7]

    def time(self, ctx: ParseContext) -> dt.datetime | None:
        """The prefix stamp in UTC (its own offset, else `ctx.tz`; a BSD stamp's year from
        `ctx`), None when it is no time."""
        y, mo, d, hh, mi, ss, frac, off = self.stamp
        if y is None:  # BSD: no year, no zone
            year = ctx.year or (syslog_year(mo, int(d), local_date(ctx.mtime, ctx.tz)) if ctx.mtime else None)
            y = str(year or 1)
        try:
            return utc(dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), _ms(frac),
                                   tzinfo=_offset(off, ctx)))
        except ValueError:
            return None


def cut_here(line: bytes) -> bool:
    """A line that starts a record (an ISO stamp, host and body)."""
    return RECORD_START.match(line.decode("utf-8", "replace")) is not None


def _start(m: re.Match, lineno: int) -> _Record:
    if m.re is BSD_START:  # no year, no zone: UTCTime usually says it all
        mon, d, hh, mi, ss, frac, host, rest = m.groups()
        stamp = (None, MONTHS[mon], d, hh, mi, ss, frac, None)
    else:
        groups = m.groups()
        stamp, host, rest = groups[:8], groups[8], groups[9]
    program = ""
    body = rest
    while True:
        t = PROGRAM_TAG.match(body)
        if not t:
            break
        program = program or t.group(1)
        body = body[t.end():]
    record = _Record(lineno, stamp, host, program, body)
    cut = body.find(" SIPMSG:")
    if cut > 0:  # a web copy joined the SIPMSG block onto the record's first line
        record.body = body[:cut]
        record.more.append(body[cut:])
    return record
