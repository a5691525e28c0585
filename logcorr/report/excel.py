"""The Excel workbook: readable without logcorr (Summary, Findings, Calls, Ladder, Events).

Written in openpyxl's streaming (write-only) mode. The Events sheet holds at most EVENTS_MAX rows:
when there are more, it keeps every event of the calls and of the findings' evidence and fills
up with the others in time order, and says how many were left out (`logcorr events` has them all).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..events import schema
from ..model import Diagnosis, iso
from . import ladder

EXCEL_CELL_LIMIT = 32767
EVENTS_MAX = 100_000
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"


def _clean(value):
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("?", value)[:EXCEL_CELL_LIMIT]
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def write(d: Diagnosis, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as target:  # fails here, before any sheet is begun, if it cannot be written
        _workbook(d).save(target)
    return path


def _workbook(d: Diagnosis) -> Workbook:
    wb = Workbook(write_only=True)
    _summary(wb, d)
    _sheet(wb, "Findings",
           ["severity", "rule", "title", "call_id", "time (UTC)", "detail", "explanation", "fix", "evidence"],
           ([str(f.severity), f.rule, f.title, f.call_id, iso(f.ts), getattr(f, "detail", ""), f.explanation,
             f.fix, "\n".join(f"{e.file}:{e.pos}  {e.summary}" for e in f.evidence)] for f in d.findings),
           widths=[9, 28, 40, 36, 26, 40, 60, 60, 90], wrap=True)
    _sheet(wb, "Calls", ["call_id", "media", "start (UTC)", "stage", "summary", "steps"],
           ([c.call_id, c.media, iso(c.start), c.stage, c.summary,
             "\n".join(f"{i}. {s.name}: {s.state}" + (f" ({s.note})" if s.note else "")
                       for i, s in enumerate(c.steps, 1))] for c in d.calls),
           widths=[40, 22, 26, 24, 80, 70], wrap=True)
    shown = [c for c in d.calls if "applicationsharing" in c.media] or d.calls
    drawing = ladder.Ladder(d.events, d.roles, d.findings)
    _sheet(wb, "Ladder", ["call_id", "time (aligned, UTC)", "from", "to", "message", "detail", "finding", "where"],
           ([c.call_id, iso(r["ts"]), r["from"], r["to"], r["what"], r["detail"], r["mark"], r["where"]]
            for c in shown for r in drawing.rows(c)),
           widths=[36, 26, 24, 24, 34, 50, 34, 80])
    _events(wb, d)
    return wb


def _sheet(wb, title: str, header: list[str], rows, widths: list[int], wrap: bool = False,
           time_columns: tuple[int, ...] = ()) -> None:
    ws = wb.create_sheet(title)
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = w
    ws.freeze_panes = "A2"
    ws.append([_styled(ws, h, font=BOLD) for h in header])
    for row in rows:
        values = [_clean(v) for v in row]
        if wrap:
            values = [_styled(ws, v, alignment=WRAP) for v in values]
        for i in time_columns:
            if i < len(values):  # a note row has one cell
                values[i] = _styled(ws, values[i], number_format=TIME_FORMAT)
        ws.append(values)


def _styled(ws, value, font=None, alignment=None, number_format=None):
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _summary(wb, d: Diagnosis) -> None:
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    ws.append([_styled(ws, "logcorr diagnosis", font=TITLE), _clean(d.read.input)])
    rows = [("events", len(d.events)), ("findings", len(d.findings)),
            ("worst severity", str(d.worst() or "none")), ("", "")]
    for f in d.findings:
        rows.append((f.severity.upper(), f"{f.rule}: {f.title}" + (f" (call {f.call_id})" if f.call_id else "")))
    for c in d.calls:
        if c.steps:
            rows.append(("presentation call", f"{c.call_id}: {c.summary}"))
    rows.append(("", ""))
    rows += [(s.kind, f"{s.file}: {s.events} events, {s.skipped} skipped") for s in d.read.sources]
    rows += [("not read", f"{s.name}: {s.reason}") for s in d.read.skipped]
    rows += [("note", n) for n in d.read.notes]
    rows += [("clock", c.summary()) for c in d.clocks]
    rows += [("host", f"{addr}: {label}") for addr, label in d.roles.items() if addr[:1].isdigit()]
    for r in rows:
        ws.append([_clean(v) for v in r])


def _events(wb, d: Diagnosis) -> None:
    """Every event (up to EVENTS_MAX), in aligned time; times as Excel datetimes in UTC."""
    events = d.events
    omitted = 0
    if len(events) > EVENTS_MAX:
        keep = set().union(*(c.event_keys for c in d.calls)) if d.calls else set()
        keep |= {(e.file, e.pos) for f in d.findings for e in f.evidence}
        wanted = pd.Series([(f, p) in keep for f, p in zip(events["file"], events["pos"])], index=events.index)
        room = max(EVENTS_MAX - int(wanted.sum()), 0)
        others = events.index[~wanted][:room]
        chosen = events.loc[events.index[wanted].union(others)]
        omitted = len(events) - len(chosen)
        events = chosen.sort_values("ts_aligned" if "ts_aligned" in chosen else "ts", kind="stable")
    cols = ["ts_aligned"] * ("ts_aligned" in events) + list(schema.NAMES)
    frame = events[cols].copy()
    for c in ("ts_aligned", "ts"):
        if c in frame:
            naive = frame[c].dt.tz_convert("UTC").dt.tz_localize(None)
            frame[c] = naive.astype(object).where(naive.notna(), None)
    data = frame.astype(object).where(frame.notna(), None)
    header = ["time (aligned, UTC)" if c == "ts_aligned" else c for c in cols]
    times = tuple(i for i, c in enumerate(cols) if c in ("ts", "ts_aligned"))
    rows = data.itertuples(index=False, name=None)
    if omitted:
        note = [f"... {omitted} more events left out of this sheet: `logcorr events` writes them all"]
        rows = (r for part in (rows, [note]) for r in part)
    _sheet(wb, "Events", header, rows, widths=[24, 24] + [14] * (len(cols) - 2), time_columns=times)
