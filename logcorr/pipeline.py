"""bytes -> events: open the bundle, recognise each file by content, parse it, build one table."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import schema
from .bundle import Bundle, Limits, Member, Skipped
from .parsers import SNIFF_BYTES, ParseContext, Parser, identify
from .parsers.base import zone

# Kinds whose stamps carry no year: read after the others, so their year can come from them.
YEARLESS = ("cms",)


@dataclass
class SourceReport:
    file: str
    kind: str
    events: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0

    def to_dict(self) -> dict:
        return {"file": self.file, "kind": self.kind, "events": self.events,
                "skipped": self.skipped, "warnings": self.warnings}


@dataclass
class ReadResult:
    input: str
    events: pd.DataFrame
    sources: list[SourceReport]
    skipped: list[Skipped]
    notes: list[str]


def read_bundle(path: str | Path, tz: str | None = None, limits: Limits | None = None) -> ReadResult:
    """Read everything under `path` into the event table. Raises IntakeError for unusable input."""
    tzinfo, tz_assumed = zone(tz)
    with Bundle(Path(path), limits or Limits()) as bundle:
        return read_members(str(path), bundle.members, bundle.skipped, tzinfo, tz_assumed)


def read_members(label: str, members: list[Member], skipped: list[Skipped],
                 tzinfo: dt.tzinfo, tz_assumed: bool) -> ReadResult:
    skipped = list(skipped)
    chosen: list[tuple[Member, Parser]] = []
    for member in members:
        with open(member.path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        parser = identify(head)
        if parser is None:
            skipped.append(Skipped(member.name, "not a log or capture logcorr knows"))
        else:
            chosen.append((member, parser))
    chosen.sort(key=lambda mp: mp[1].name in YEARLESS)  # stable: yearless kinds last

    records: list[dict] = []
    sources: list[SourceReport] = []
    notes: list[str] = []
    latest: pd.Timestamp | None = None
    for member, parser in chosen:
        ref = member.mtime
        if parser.name in YEARLESS and latest is not None:
            ref = latest.to_pydatetime()
        ctx = ParseContext(file=member.name, tz=tzinfo, tz_assumed=tz_assumed, mtime=ref)
        report = SourceReport(file=member.name, kind=parser.name)
        before = len(records)
        with open(member.path, "rb") as fh:
            records.extend(parser.parse(fh, ctx))
        report.events = len(records) - before
        report.skipped, report.warnings, report.warning_count = ctx.skipped, ctx.warnings, ctx.warning_count
        sources.append(report)
        notes.extend(n for n in ctx.notes if n not in notes)
        if parser.name not in YEARLESS:
            stamps = [r["ts"] for r in records[before:] if r.get("ts") is not None]
            if stamps:
                newest = pd.Timestamp(max(stamps))
                latest = newest if latest is None or newest > latest else latest
    events = schema.to_frame(records)
    events = events.sort_values("ts", kind="stable", na_position="last").reset_index(drop=True)
    return ReadResult(input=label, events=events, sources=sources, skipped=skipped, notes=notes)
