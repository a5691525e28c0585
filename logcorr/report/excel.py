"""The Excel workbook: readable without logcorr (Summary, Findings, Calls, Events)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from .. import schema
from ..api import Diagnosis, iso

EXCEL_CELL_LIMIT = 32767
EXCEL_ROW_LIMIT = 1_048_576
BOLD = Font(bold=True)


def _clean(value):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("?", value)
        return value[:EXCEL_CELL_LIMIT]
    return value


def write(d: Diagnosis, path: str | Path) -> Path:
    path = Path(path)
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary(summary, d)
    _table(wb.create_sheet("Findings"),
           ["severity", "rule", "title", "call_id", "time (UTC)", "detail", "explanation", "fix", "evidence"],
           [[f.severity, f.rule, f.title, f.call_id, iso(f.ts), getattr(f, "detail", ""), f.explanation,
             f.fix, "\n".join(f"{e.file}:{e.pos}  {e.summary}" for e in f.evidence)]
            for f in d.findings],
           widths=[9, 28, 40, 36, 26, 40, 60, 60, 90])
    _table(wb.create_sheet("Calls"), ["call_id", "media", "start (UTC)", "stage", "summary", "steps"],
           [[c["call_id"], c.get("media", ""), iso(c.get("start")), c.get("stage", ""), c.get("summary", ""),
             "\n".join(f"{i}. {s['step']}: {s['state']}" + (f" ({s['note']})" if s.get("note") else "")
                       for i, s in enumerate(c.get("steps", []), 1))]
            for c in d.calls], widths=[40, 22, 26, 24, 80, 70])
    _ladders(wb.create_sheet("Ladder"), d)
    _events(wb.create_sheet("Events"), d.events)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _ladders(ws, d: Diagnosis) -> None:
    """Each presentation call as rows of messages between hosts, as `logcorr ladder` draws it."""
    from . import ladder

    header = ["call_id", "time (aligned, UTC)", "from", "to", "message", "detail", "finding", "where"]
    ws.append(header)
    for cell in ws[1]:
        cell.font = BOLD
    shown = [c for c in d.calls if "applicationsharing" in c.get("media", "")] or d.calls
    for call in shown:
        for r in ladder.rows(d.events, call, d.roles, d.findings):
            ws.append([_clean(v) for v in (call["call_id"], iso(r["ts"]), r["from"], r["to"], r["what"],
                                           r["detail"], r["mark"], r["where"])])
    for i, w in enumerate([36, 26, 24, 24, 34, 50, 34, 80]):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A2"


def _summary(ws, d: Diagnosis) -> None:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    rows = [("logcorr diagnosis", d.read.input), ("events", len(d.events)),
            ("findings", len(d.findings)), ("worst severity", d.worst() or "none"), ("", "")]
    for f in d.findings:
        rows.append((f.severity.upper(), f"{f.rule}: {f.title}" + (f" (call {f.call_id})" if f.call_id else "")))
    rows.append(("", ""))
    rows.append(("files read", ""))
    rows += [(s.kind, f"{s.file}: {s.events} events, {s.skipped} skipped") for s in d.read.sources]
    rows += [("not read", f"{s.name}: {s.reason}") for s in d.read.skipped]
    rows += [("note", n) for n in d.read.notes]
    rows += [("clock", c.get("summary", "")) for c in d.clocks]
    rows += [("host", f"{addr}: {label}") for addr, label in d.roles.items() if addr[:1].isdigit()]
    for r in rows:
        ws.append([_clean(v) for v in r])
    ws["A1"].font = Font(bold=True, size=14)


def _table(ws, header, rows, widths) -> None:
    ws.append(header)
    for cell in ws[1]:
        cell.font = BOLD
    for r in rows:
        ws.append([_clean(v) for v in r])
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def _events(ws, events: pd.DataFrame) -> None:
    """Every event, in aligned time; times as Excel datetimes in UTC (Excel knows no zones)."""
    cols = ["ts_aligned"] * ("ts_aligned" in events) + list(schema.NAMES)
    ws.append(["time (aligned, UTC)" if c == "ts_aligned" else c for c in cols])
    for cell in ws[1]:
        cell.font = BOLD
    limit = EXCEL_ROW_LIMIT - 2
    frame = events.head(limit)[cols].copy()
    for c in ("ts_aligned", "ts"):
        if c in frame:
            naive = frame[c].dt.tz_convert("UTC").dt.tz_localize(None)
            frame[c] = naive.astype(object).where(naive.notna(), None)
    data = frame.astype(object).where(frame.notna(), None)
    for row in data.itertuples(index=False, name=None):
        ws.append([_clean(v) for v in row])
    for column in ("A", "B") if "ts_aligned" in cols else ("A",):
        ws.column_dimensions[column].width = 24
        for cell in ws[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm:ss.000"
    ws.freeze_panes = "B2"
    if len(events) > limit:
        ws.append([f"... {len(events) - limit} more events: use `logcorr events` for the full table"])
