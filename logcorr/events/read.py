"""bytes -> events: open the bundle, recognise each file by content, parse it, build one table."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import pieces, rawtext, schema
from ..intake.archive import Bundle, Limits, Member, Skipped
from ..model import ReadResult, SourceReport
from .parsers import REGISTRY, SNIFF_BYTES, Entry, ParseContext, identify
from .parsers.base import zone


TS = pd.DatetimeTZDtype("ns", "UTC")  # the time column's type (schema.COLUMNS)
PARALLEL_BYTES = 32 * 1024 * 1024  # files adding up to less are read in this process

# told (files read, files, bytes read, bytes) before the first file and after each one
Progress = Callable[[int, int, int, int], None]


def parse_file(job: tuple) -> tuple[pd.DataFrame, dict]:
    """Parse one file with the registry's parser number `index`: its event table and what it said.
    The table is built where the file is parsed: a worker sends back typed columns, not dicts, and
    the records' text goes to the store `store` of the folder `folder` (see rawtext)."""
    index, path, name, tzinfo, tz_assumed, ref, (folder, name_in) = job
    store = rawtext.Folder.at(folder).store(name_in)
    ctx = ParseContext(file=name, tz=tzinfo, tz_assumed=tz_assumed, mtime=ref)
    with open(path, "rb") as fh:
        table = schema.to_frame(REGISTRY[index].parse(fh, ctx), store)
    table["parser"] = REGISTRY[index].key  # which parser read it: what box wrote the file
    return table, {"skipped": ctx.skipped, "skip_reasons": dict(ctx.skip_reasons), "warnings": ctx.warnings,
                     "warning_count": ctx.warning_count, "notes": ctx.notes}


def _run(jobs: list[tuple], sizes: list[int], progress: Progress | None = None) -> list:
    """The files of a bundle are independent: large bundles are read by one process a core."""
    workers = os.cpu_count() or 1  # a large text file is cut for all of them (events/pieces.py)
    if workers < 2 or sum(sizes) < PARALLEL_BYTES:
        return _told(enumerate(map(parse_file, jobs)), sizes, progress)
    return _told(pieces.run(jobs, parse_file, workers), sizes, progress)


def _told(results, sizes: list[int], progress: Progress | None) -> list:
    """The results, (job number, result) as they come, in job order; `progress` told how many
    files and bytes are read as each comes."""
    total = sum(sizes)
    if progress is not None:
        progress(0, len(sizes), 0, total)
    out: list = [None] * len(sizes)
    done = 0
    for n, (i, result) in enumerate(results, 1):
        out[i] = result
        done += sizes[i]
        if progress is not None:
            progress(n, len(sizes), done, total)
    return out


def read_bundle(path: str | Path, tz: str | None = None, limits: Limits | None = None,
                progress: Progress | None = None) -> ReadResult:
    """Read everything under `path` into the event table. Raises IntakeError for unusable input."""
    tzinfo, tz_assumed = zone(tz)
    with Bundle(Path(path), limits or Limits()) as bundle:
        return read_members(str(path), bundle.members, bundle.skipped, tzinfo, tz_assumed, progress)


def read_members(label: str, members: list[Member], skipped: list[Skipped],
                 tzinfo: dt.tzinfo, tz_assumed: bool, progress: Progress | None = None) -> ReadResult:
    skipped = list(skipped)
    chosen = _known(members, skipped)
    # All files are read at once. A yearless kind (CMS syslog) takes its year from the file's
    # time; when the other sources say another year or month, it is read again with theirs.
    folder = rawtext.Folder()  # the records' text, one store a file; held by the table's rows
    jobs = [(REGISTRY.index(p), str(m.path), m.name, tzinfo, tz_assumed, m.mtime, (folder.path, str(i)))
            for i, (m, p) in enumerate(chosen)]
    results = _run(jobs, [m.size for m, _ in chosen], progress)
    _yearless_again(chosen, jobs, results, folder)
    tables: list[pd.DataFrame] = []
    sources: list[SourceReport] = []
    notes: list[str] = []
    for i, ((member, parser), (table, facts)) in enumerate(zip(chosen, results)):
        if "raw" in table.columns:  # read in pieces: its text joins the others beside the table
            table = rawtext.spill(table, folder.store(f"{i}-pieces"))
        tables.append(table)
        sources.append(SourceReport(file=member.name, kind=parser.name, events=len(table),
                                    skipped=facts["skipped"], skip_reasons=facts["skip_reasons"],
                                    warnings=facts["warnings"],
                                    warning_count=facts["warning_count"]))
        notes.extend(n for n in facts["notes"] if n not in notes)
    table = None
    results.clear()  # the files' tables are held by `tables` only, let go column by column
    events = in_time_order(tables)
    return ReadResult(input=label, events=events, sources=sources, skipped=skipped, notes=notes)


def _known(members: list[Member], skipped: list[Skipped]) -> list[tuple[Member, Entry]]:
    """The members a parser recognises, with it; the others added to `skipped`."""
    chosen: list[tuple[Member, Entry]] = []
    for member in members:
        with open(member.path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        parser = identify(head)
        if parser is None:
            skipped.append(Skipped(member.name, "not a log or capture logcorr knows"))
        else:
            chosen.append((member, parser))
    return chosen


def _yearless_again(chosen: list[tuple[Member, Entry]], jobs: list[tuple], results: list, folder) -> None:
    """A yearless file whose own date disagrees with the other sources' latest time read again
    with that time's year (its store, and its pieces' stores if cut, written again)."""
    stamps = [t["ts"].max() for (m, p), (t, _) in zip(chosen, results) if not p.yearless]
    stamps = [s for s in stamps if not pd.isna(s)]
    latest = max(stamps).to_pydatetime(warn=False) if stamps else None  # ns dropped: a year is wanted
    for i, ((member, parser), job) in enumerate(zip(chosen, jobs)):
        mtime = member.mtime
        if parser.yearless and latest is not None and \
                (mtime is None or (mtime.year, mtime.month) != (latest.year, latest.month)):
            results[i] = None
            name = job[-1][1]
            for stale in [name] + [f for f in os.listdir(folder.path) if f.startswith(f"{name}-")]:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(folder.path, stale))
            results[i] = parse_file(job[:5] + (latest,) + job[6:])


def in_time_order(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The files' tables as one, in time order (stable; rows without a time last), as
    ``schema.concat(tables).sort_values("ts", kind="stable", na_position="last")`` gives it with
    a new index, but holding one copy of the table at a time: the order is worked out from the
    time columns alone, then each column is gathered in that order and the files' copies of it
    let go. `tables` is emptied."""
    names = list(tables[0].columns) if tables else []
    if not tables or any(list(t.columns) != names or t["ts"].dtype != TS for t in tables):
        events = schema.concat(tables)
        tables.clear()
        return events.sort_values("ts", kind="stable", na_position="last").reset_index(drop=True)
    stamps = np.concatenate([t["ts"].array.asi8 for t in tables])  # NaT is the least int64
    order = np.argsort(stamps, kind="stable")
    untimed = int(np.count_nonzero(stamps == np.iinfo(np.int64).min))
    order = np.concatenate([order[untimed:], order[:untimed]])
    del stamps
    events = pd.DataFrame(index=pd.RangeIndex(len(order)))
    for name in names:
        parts = [t.pop(name) for t in tables]
        if name in schema.FEW_VALUED and all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            events[name] = _categories_joined(parts, order)
        else:
            column = pd.concat(parts, ignore_index=True).take(order)
            column.index = events.index  # a Series keeps its type (an array of text would be `str`)
            events[name] = column
        del parts
    tables.clear()
    return events


def _categories_joined(parts: list[pd.Series], order: np.ndarray) -> pd.Categorical:
    """Categorical parts as one, their categories joined in order of first appearance (as
    ``schema.concat`` joins them), rows taken in `order`."""
    union = pd.Index(list(dict.fromkeys(str(v) for p in parts for v in p.cat.categories)), dtype=object)
    codes = []
    for p in parts:
        recode = union.get_indexer(p.cat.categories.astype(str))
        c = p.cat.codes.to_numpy()
        codes.append(np.where(c >= 0, recode[c], -1) if len(recode) else c)
    return pd.Categorical.from_codes(np.concatenate(codes).take(order),
                                     dtype=pd.CategoricalDtype(union, ordered=False))
