"""What every parser is, and the context it reads a file in.

A parser is a module-level object with:

* ``name``: the kind of file it reads (``cms``, ``expressway``, ``sfb``, ``sip``, ``pcap``);
* ``sniff(head: bytes) -> bool``: a cheap look at the first bytes (up to :data:`SNIFF_BYTES`);
* ``parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]``: the events of the file, as
  dicts keyed by :mod:`logcorr.events.schema` column names. It reads only from ``stream``; it never
  opens files, and it records bad input with ``ctx.warn`` instead of raising.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Protocol
from zoneinfo import ZoneInfo

from ...errors import UsageError

SNIFF_BYTES = 64 * 1024
MAX_CONSECUTIVE_FAILURES = 200  # a text file that fails this often in a row is not its kind
MAX_WARNINGS_KEPT = 50  # per file, the first ones are kept verbatim; all are counted


# The event table keeps times in nanoseconds, which pandas can hold from 1677-09-21 to 2262-04-11:
# a stamp outside these bounds is damage, and its record is skipped.
EARLIEST = dt.datetime(1678, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2262, 1, 1, tzinfo=dt.timezone.utc)

# BSD syslog month names (RFC 3164), shared by the syslog-style parsers
MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
MONTH_PATTERN = "(?:" + "|".join(MONTHS) + ")"


class Parser(Protocol):
    name: str

    def sniff(self, head: bytes) -> bool: ...

    def parse(self, stream: BinaryIO, ctx: "ParseContext") -> Iterator[dict]: ...


@dataclass
class ParseContext:
    """Everything a parser may know beyond the bytes: names, clock assumptions, a warning sink."""

    file: str  # display path inside the bundle, e.g. case.zip!logbundle.tar.gz!syslog
    tz: dt.tzinfo = dt.timezone.utc  # zone for stamps that carry none
    tz_assumed: bool = True  # True when nobody said which zone (--tz absent)
    year: int | None = None  # for stamps without a year (BSD syslog)
    mtime: dt.datetime | None = None  # the file's own modification time, when the archive kept it
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    skipped: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)  # facts worth telling, e.g. an assumed zone
    pos_unit: str = "line"  # what `pos` counts in this file: "line", or "frame" in a capture

    def warn(self, pos: int | None, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS_KEPT:
            where = f"{self.pos_unit} {pos}: " if pos else ""
            self.warnings.append(f"{where}{message}")

    def skip(self, pos: int | None, reason: str, count: int = 1) -> None:
        """`count` records (or lines) from `pos` on that could not be read: counted by reason, and
        warned about once."""
        self.skipped += count
        self.skip_reasons[reason] += count
        self.warn(pos, reason if count == 1 else f"{reason} ({count} lines)")

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)


# How far after the reference time a yearless stamp's day may fall and still be taken in the
# reference's year (or the next): a file's lines are written before its time, give or take a zone
# and a clock that runs ahead.
YEAR_LEAD_DAYS = 31


def syslog_year(mon: int, day: int, near: dt.date) -> int | None:
    """The year of a yearless stamp's day (BSD syslog ``Mmm dd``), the box's own date of the
    reference time being `near` (the file's time, else the other sources'): the latest year that
    puts the day no more than YEAR_LEAD_DAYS after it. A box east of UTC logging ``Jan  1`` while
    the reference is still 31 December gets the next year; a log spanning New Year rolls over line
    by line. None when no year near has that day (29 February)."""
    for year in (near.year + 1, near.year, near.year - 1):
        try:
            if (dt.date(year, mon, day) - near).days <= YEAR_LEAD_DAYS:
                return year
        except ValueError:
            continue
    return None


def local_date(when: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The date `when` (naive = UTC) falls on in zone `tz`."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(tz).date()


def utc(stamp: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """``stamp`` in UTC: a naive stamp is read in ``tz``. None when the event table cannot hold it
    (see :data:`EARLIEST`), which includes years 1 and 9999 whose conversion overflows."""
    try:
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=tz or dt.timezone.utc)
        value = stamp if stamp.tzinfo is dt.timezone.utc else stamp.astimezone(dt.timezone.utc)
    except OverflowError:
        return None
    return value if EARLIEST <= value < LATEST else None


def zone(name: str | None) -> tuple[dt.tzinfo, bool]:
    """The zone named by --tz (an IANA name, 'UTC', or an offset like +01:00)."""
    if not name:
        return dt.timezone.utc, True
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return dt.timezone.utc, False
    if text[:1] in "+-" and ":" in text:
        sign = -1 if text[0] == "-" else 1
        hours, minutes = text[1:].split(":", 1)
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise UsageError(f"--tz {name!r}: an offset is written +HH:MM")
        return dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes))), False
    try:
        return ZoneInfo(text), False
    except (ValueError, OSError) as e:  # ZoneInfoNotFoundError is a KeyError; bad names ValueError
        raise UsageError(f"--tz {name!r}: not a time zone (use an IANA name such as Europe/Paris, or +01:00)") from e
    except KeyError as e:
        raise UsageError(f"--tz {name!r}: not a time zone (use an IANA name such as Europe/Paris, or +01:00)") from e
