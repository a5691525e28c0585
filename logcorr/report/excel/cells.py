"""Cells and sheets of the workbook: the one writer of cell values, the styles, the print setup.

Every value reaches a sheet through `cell()`: numbers stay numbers, times become date cells (UTC,
no time zone, as Excel wants), and every text is stored as text. A text that a spreadsheet would
take for a formula (`safe.is_formula_like`: `=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`) is written
with the string cell type and a quote prefix, never as a formula: the bundle's texts (display
names, User-Agent, ms-diagnostics reasons, file names) are not trusted.
"""
from __future__ import annotations

import datetime as dt
import math
from numbers import Integral, Real

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from ..safe import is_formula_like

CELL_LIMIT = 32767  # characters Excel keeps in a cell
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
CLOCK_FORMAT = "hh:mm:ss.000"
LINE_PT = 15.0  # row height of one line of 11 pt text
MAX_ROW_PT = 409.0

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FONT = Font(bold=True, color="FFFFFF")
LINK_FONT = Font(color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)


def fill(rgb: str) -> PatternFill:
    return PatternFill("solid", start_color=rgb, end_color=rgb)


HEAD_FILL = fill("1F4E78")
SEVERITY_FILL = {"error": fill("F8CBAD"), "warning": fill("FFE699"), "info": fill("DDEBF7"), None: fill("C6EFCE")}
SEVERITY_BANNER = {"error": fill("C00000"), "warning": fill("BF8F00"), "info": fill("2F75B5"), None: fill("548235")}
STATE_FILL = {"seen": fill("C6EFCE"), "missing": fill("FFC7CE"), "not observable": fill("EDEDED")}
STATE_MARK = {"seen": "✓", "missing": "✗", "not observable": "–"}
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def plain(value):
    """`value` as something a cell can hold: text cleaned and cut, times naive UTC, NA as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("?", value)[:CELL_LIMIT]
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        return ts.to_pydatetime()
    if isinstance(value, bool):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return None if math.isnan(value) else float(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return plain(str(value))


def cell(ws, value, *, font=None, fill_=None, align=WRAP, number_format=None, border=None,
         link: str | None = None, comment: str | None = None) -> Cell:
    """The one way a value becomes a cell: typed, never a formula (see the module's text)."""
    value = plain(value)
    c = WriteOnlyCell(ws, value)
    if isinstance(value, dt.datetime):
        number_format = number_format or TIME_FORMAT
    if link:
        font = font or LINK_FONT
    c._style = _style(ws, font, fill_, align, number_format, border)
    if isinstance(value, str) and (c.data_type != "s" or is_formula_like(value)):
        c.data_type = "s"  # text, even when it starts with `=`
        c.quotePrefix = True
    if link:
        c.hyperlink = Hyperlink(ref="", location=link)
    if comment:
        c.comment = Comment(plain(comment), "logcorr", width=220, height=60)
    return c


def _style(ws, font, fill_, align, number_format, border) -> StyleArray:
    """A cell's style ids, worked out once per workbook for each set of style objects (registering a
    style object with the workbook hashes it, which costs more than the rest of a cell)."""
    styles = ws.parent.__dict__.setdefault("_logcorr_styles", {})
    key = (id(font), id(fill_), id(align), number_format, id(border))
    known = styles.get(key)
    if known is None:
        probe = WriteOnlyCell(ws)
        if number_format:
            probe.number_format = number_format
        for name, obj in (("font", font), ("fill", fill_), ("alignment", align), ("border", border)):
            if obj is not None:
                setattr(probe, name, obj)
        # the style objects are kept beside their ids, so that no id is reused for another object
        known = styles[key] = (probe._style or StyleArray(), (font, fill_, align, border))
    return StyleArray(known[0])


def wraps(c: Cell) -> bool:
    """Whether a cell's text wraps (read from its style ids, without making a style proxy)."""
    return c._style is not None and bool(c.parent.parent._alignments[c._style.alignmentId].wrap_text)


def lines_needed(value, width: float) -> int:
    """How many lines a wrapped text takes in a column `width` characters wide."""
    if not isinstance(value, str) or not value:
        return 1
    per = max(int(width * 1.15) - 1, 1)
    return sum(max(math.ceil(len(part) / per), 1) for part in value.split("\n"))


def header_text(text: str) -> str:
    """A text for a page header or footer: `&` is the codes' escape there."""
    return plain(text).replace("&", "&&")[:200]


class Sheet:
    """A write-only sheet with its print setup, column widths and a row counter.

    Landscape A4, fit to one page wide, header rows repeated on every page, the case name in the
    page header, page numbers in the footer; row heights grown to fit their wrapped texts.
    """

    def __init__(self, wb, title: str, widths: list[float], case: str, header_rows: int = 1,
                 freeze: str | None = "A2"):
        self.ws = ws = wb.create_sheet(title)
        self.widths = widths
        self.rows = 0
        for i, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        if freeze:
            ws.freeze_panes = freeze
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.75
        ws.page_margins.header = ws.page_margins.footer = 0.3
        ws.print_options.horizontalCentered = True
        if header_rows:
            ws.print_title_rows = f"1:{header_rows}"
        ws.oddHeader.left.text = header_text(f"logcorr · {case}")
        ws.oddHeader.right.text = header_text(title)
        ws.oddFooter.center.text = "Page &P of &N"
        ws.oddFooter.right.text = "&D"

    @property
    def last_column(self) -> str:
        return get_column_letter(len(self.widths))

    def cell(self, value, **style) -> Cell:
        return cell(self.ws, value, **style)

    def header(self, names: list[str]) -> int:
        return self.row([self.cell(n, font=HEAD_FONT, fill_=HEAD_FILL, border=BOX) for n in names])

    def row(self, values, height: float | None = None, **style) -> int:
        """Append one row (values or ready cells); its height fits its longest wrapped text."""
        blank = None if style.get("fill_") or style.get("border") else ""  # an empty cell that shows nothing
        cells = [v if isinstance(v, Cell) else None if v is None or (isinstance(v, str) and v == blank) else self.cell(v, **style)
                 for v in values]
        lines = max((lines_needed(c.value, self.widths[i] if i < len(self.widths) else 10)
                     for i, c in enumerate(cells) if c is not None and wraps(c)), default=1)
        self.rows += 1
        if height or lines > 1:
            self.ws.row_dimensions[self.rows].height = min(height or lines * LINE_PT, MAX_ROW_PT)
        self.ws.append(cells)
        return self.rows

    def merge(self, first: int, last: int, row: int | None = None) -> None:
        """Merge columns `first`..`last` (1-based) of `row` (default: the last row written)."""
        row = row or self.rows
        self.ws.merged_cells.add(f"{get_column_letter(first)}{row}:{get_column_letter(last)}{row}")

    def autofilter(self) -> None:
        if self.rows > 1:
            self.ws.auto_filter.ref = f"A1:{self.last_column}{self.rows}"
