"""The workbook's own row writer (report/excel/sheetxml.py): the XML openpyxl would write for the
same cells, texts that stay texts, and the links, comments, merged cells and heights kept."""
import copy
import datetime as dt
import math
import re
import zipfile

import openpyxl
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from logcorr.report.excel import cells
from logcorr.report.excel.cells import BOLD, CELL_LIMIT, SEVERITY_FILL, TOP, Sheet, cell, finish

HOSTILE = ["=1+1", '=HYPERLINK("http://evil.example/","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1",
           "\r=1", " =1", "\uff1d1", "#N/A", "#DIV/0!", "=", "-"]
TEXTS = ["plain", "a & <b> > c", "line\r\nnext\nthird", "  padded ", "x\x01y\x1fz", "a\ud800b\uffff", "✓ ünïcode ·",
         "x" * (CELL_LIMIT + 10), "tab\tinside", ""]
OTHERS = [True, False, 0, 7, -3, 2.5, 1e-7, 12345678901234567, float("nan"), math.inf, None, pd.NA,
          dt.datetime(2026, 11, 24, 14, 53, 1, 250000), pd.Timestamp("2026-11-24 14:53:01.5", tz="UTC"),
          pd.Timestamp("2026-11-24 15:53:01.5", tz="Europe/Paris"), pd.NaT, dt.date(2026, 11, 24)]


def _sheet_data(xml: bytes) -> bytes:
    return re.search(rb"<sheetData>.*</sheetData>", xml, re.S).group(0)


def test_rows_are_the_xml_openpyxl_writes_for_the_same_cells(tmp_path):
    """Each value in two sheets: by the workbook's writer, and by openpyxl's own cells carrying the
    same style; the two sheetData parts are the same bytes."""
    wb = Workbook(write_only=True)
    s = Sheet(wb, "ours", [10, 30, 12], "case.zip")
    theirs = wb.create_sheet("theirs")
    values = HOSTILE + TEXTS + OTHERS
    styles = [{}, {"align": TOP}, {"font": BOLD, "fill_": SEVERITY_FILL["error"]}, {"number_format": "hh:mm:ss.000"}]
    for n, style in enumerate(styles):
        for i in range(0, len(values), 3):
            row = [cell(s.ws, v, **style) for v in values[i:i + 3]]
            height = 40 if n == 2 and i == 0 else None
            s.row(row, height=height)
            _same_height(s, theirs)
            theirs.append([_openpyxl_cell(theirs, c) for c in row])
    finish(wb)
    wb.save(tmp_path / "x.xlsx")
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:
        ours, other = (_sheet_data(z.read(f"xl/worksheets/sheet{i}.xml")) for i in (1, 2))
    assert ours == other
    assert b"<f>" not in ours and b"<f " not in ours


def _same_height(s: Sheet, ws) -> None:
    """The height the writer gave its last row (asked for, or grown for wrapped texts), to the other."""
    found = re.match(r'<row r="(\d+)" ht="([^"]+)"', s.out.pending[-1])
    if found:
        ws.row_dimensions[int(found.group(1))].height = float(found.group(2))


def _openpyxl_cell(ws, c: cells.Cell):
    if c is None:
        return None
    out = WriteOnlyCell(ws, c.value)
    if isinstance(c.value, str) and c.look.xf and ws.parent._cell_styles[c.look.xf].quotePrefix:
        out.data_type = "s"
    out._style = copy.copy(ws.parent._cell_styles[c.look.xf])
    return out


def test_texts_stay_texts_and_links_comments_merges_survive(tmp_path):
    wb = Workbook(write_only=True)
    s = Sheet(wb, "Sheet", [12, 12, 12], "case.zip")
    s.header(["a", "b", "c"])
    for text in HOSTILE:
        s.row([text, s.cell(text, link="'Sheet'!A1"), s.cell(text, comment=text)])
    s.row(["merged", None, None])
    s.merge(1, 3)
    s.row([s.cell("x\ud800\x02y"), "a & <b>", "line\r\nnext"])
    s.autofilter()
    finish(wb)
    wb.save(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Sheet"]
    rows = list(ws.iter_rows(min_row=2))
    for text, row in zip(HOSTILE, rows):
        for c in row:
            assert c.value == text and c.data_type == "s" and c.quotePrefix, (text, c.coordinate)
        assert row[1].hyperlink.location == "'Sheet'!A1" and row[1].font.u == "single"
        assert row[2].comment.text == text and row[2].comment.author == "logcorr"
    merged = rows[len(HOSTILE)][0].row
    assert f"A{merged}:C{merged}" in ws.merged_cells
    assert [c.value for c in rows[-1]] == ["x??y", "a & <b>", "line\r\nnext"]
    assert ws.row_dimensions[rows[-1][0].row].height == 30  # two lines
    assert ws.auto_filter.ref == f"A1:C{rows[-1][0].row}" and ws.freeze_panes == "A2"
    assert ws["A1"].fill.fgColor.rgb.endswith("1F4E78") and ws["A1"].border.left.style == "thin"
