"""The Excel workbook, readable and printable without logcorr.

Sheets: Summary (the verdict banner), Findings, Calls, Ladder, TURN, Timeline, Sources. Written in
openpyxl's write-only (streaming) mode, the rows by `sheetxml`; every sheet prints landscape, one
page wide, with its header rows repeated and the case name and page numbers in its header and
footer. Large bundles give bounded sheets that say what they left out. Every value is made a cell
by `cells` (`cell`, `Sheet.row`), which never makes a formula of the bundle's texts.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

from ...model import Diagnosis
from . import calls, findings, ladder_sheet, sources, summary, timeline, turn
from .cells import finish, plain

SHEETS = ("Summary", "Findings", "Calls", "Ladder", "TURN", "Timeline", "Sources")


def case_name(d: Diagnosis) -> str:
    """The bundle's own name (`case123.zip`), which titles the workbook and its pages."""
    return Path(str(d.read.input)).name or str(d.read.input)


def write(d: Diagnosis, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as target:  # fails here, before any sheet is begun, if it cannot be written
        workbook(d).save(target)
    return path


def workbook(d: Diagnosis) -> Workbook:
    wb = Workbook(write_only=True)
    case = case_name(d)
    wb.properties.title = plain(f"logcorr diagnosis: {case}")
    wb.properties.subject = plain(d.verdict.summary[:250])
    wb.properties.creator = f"logcorr {d.version}"
    wb.properties.created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.keywords = f"logcorr {d.version}"
    line = timeline.Timeline(d, drawn=ladder_sheet.chosen_calls(d)[: ladder_sheet.LADDER_CALLS])
    summary.write(wb, d, case)
    findings.write(wb, d, line, case)
    calls.write(wb, d, case)
    ladder_sheet.write(wb, d, line, case)
    turn.write(wb, d, line, case)
    timeline.write(wb, d, line, case)
    sources.write(wb, d, case)
    finish(wb)
    return wb
