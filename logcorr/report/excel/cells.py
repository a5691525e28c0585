"""Cells and sheets of the workbook: the one writer of cell values, the styles, the print setup.

Every value reaches a sheet as a `Cell` (`cell()`, or `Sheet.row` for a row's bare values): made
`plain` (numbers stay numbers, times become date cells in UTC with no time zone, as Excel wants, and
every text is stored as text, cleaned of what XML cannot hold and cut to Excel's limit) and given
its `Style`'s look. A text that a spreadsheet would take for a formula (`safe.is_formula_like`:
`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`) or for an error value (`#N/A`) is written as an inline
string with a quote prefix, never as a formula: the bundle's texts (display names, User-Agent,
ms-diagnostics reasons, file names) are not trusted. `sheetxml` writes the rows.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
from numbers import Integral, Real

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.hyperlink import Hyperlink

from ..safe import is_formula_like
from . import sheetxml

CELL_LIMIT = 32767  # characters Excel keeps in a cell
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
CLOCK_FORMAT = "hh:mm:ss.000"
LINE_PT = 15.0  # row height of one line of 11 pt text
MAX_ROW_PT = 409.0
COMMENT_SIZE = (220, 60)  # width, height (pt) of a comment box

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
# What no cell may hold: XML's forbidden control characters, lone surrogates, U+FFFE and U+FFFF.
ILLEGAL = re.compile(ILLEGAL_CHARACTERS_RE.pattern + "|[\ud800-\udfff\ufffe\uffff]")
RISKY_START = frozenset("=+-@#\t\r\n\x0b\x0c \uff1d\uff0b\uff0d\uff20")  # a formula's or an error's first character


def plain(value):
    """`value` as something a cell can hold: text cleaned and cut, times naive UTC, NA as None."""
    kind = value.__class__
    if kind is str:
        if not value.isprintable():  # every character ILLEGAL looks for is unprintable
            value = ILLEGAL.sub("?", value)
        return value if len(value) <= CELL_LIMIT else value[:CELL_LIMIT]
    if value is None or kind is int or (kind is dt.datetime and value.tzinfo is None):
        return value
    if kind is float:
        return None if math.isnan(value) else value
    return _plain_other(value)


def _plain_other(value):
    """`plain` of what is not a str, an int, a float or a naive datetime."""
    if isinstance(value, str):
        return plain(str.__str__(value))
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


def plain_times(times: pd.Series) -> list:
    """A column of times as `plain` gives each (naive UTC datetimes, None for none), converted at once."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(times.dtype):
        times = times.dt.to_pydatetime()
    return [plain(t) for t in times]


class Cell:
    """A value ready for a sheet: `plain`, with its style (`Look`), in-workbook link and comment."""

    __slots__ = ("value", "look", "link", "comment")

    def __init__(self, value, look: "Look", link: str | None = None, comment: str | None = None):
        self.value, self.look, self.link, self.comment = value, look, link, comment


class Look:
    """A cell style as the workbook's stylesheet holds it: its id (0: none) and whether it wraps."""

    __slots__ = ("xf", "wraps")

    def __init__(self, xf: int, wraps: bool):
        self.xf, self.wraps = xf, wraps


class Style:
    """One set of style objects and the looks a value takes with it: a number or text as it is, a
    text a spreadsheet would take for a formula or an error value with Excel's quote prefix, a time
    with TIME_FORMAT unless a number format is given. Each look is registered with the workbook
    when first needed (registering a style object hashes it, which costs more than a cell)."""

    __slots__ = ("ws", "objects", "number_format", "looks", "base")

    def __init__(self, ws, font, fill_, align, number_format, border):
        self.ws, self.objects, self.number_format = ws, (font, fill_, align, border), number_format
        self.looks: dict[tuple[str | None, bool], Look] = {}
        self.base: Look | None = None  # the look of a number or an ordinary text

    def of(self, value) -> Look:
        """The look of `value` (as `plain` gives it)."""
        kind = value.__class__
        if kind is str:
            if value[:1] in RISKY_START and risky(value):
                return self._look(self.number_format, True)
        elif kind is dt.datetime:
            return self._look(self.number_format or TIME_FORMAT, False)
        if self.base is None:
            self.base = self._look(self.number_format, False)
        return self.base

    def _look(self, number_format: str | None, quote: bool) -> Look:
        look = self.looks.get((number_format, quote))
        if look is None:
            font, fill_, align, border = self.objects
            probe = WriteOnlyCell(self.ws)
            if number_format:
                probe.number_format = number_format
            for name, obj in (("font", font), ("fill", fill_), ("alignment", align), ("border", border)):
                if obj is not None:
                    setattr(probe, name, obj)
            if quote:
                probe.quotePrefix = True
            array = probe._style or StyleArray()
            xf = self.ws.parent._cell_styles.add(array) if any(array) else 0
            look = self.looks[(number_format, quote)] = Look(xf, bool(align is not None and align.wrap_text))
        return look


def style(ws, font=None, fill_=None, align=WRAP, number_format=None, border=None) -> Style:
    """The workbook's `Style` of these style objects (one per set, kept with the workbook together
    with the objects, so that no id is reused for another object)."""
    known = ws.parent.__dict__.setdefault("_logcorr_styles", {})
    key = (id(font), id(fill_), id(align), number_format, id(border))
    found = known.get(key)
    if found is None:
        found = known[key] = Style(ws, font, fill_, align, number_format, border)
    return found


def risky(text: str) -> bool:
    """Whether a spreadsheet would take `text` for a formula or an error value (`#N/A`)."""
    return is_formula_like(text) or text in ERROR_CODES or (len(text) > 1 and text[0] == "=")


def cell(ws, value, *, font=None, fill_=None, align=WRAP, number_format=None, border=None,
         link: str | None = None, comment: str | None = None) -> Cell:
    """The one way a value becomes a cell: typed, never a formula (see the module's text)."""
    value = plain(value)
    if link:
        font = font or LINK_FONT
    look = style(ws, font, fill_, align, number_format, border).of(value)
    return Cell(value, look, link, plain(comment) if comment else None)


def lines_needed(value, width: float) -> int:
    """How many lines a wrapped text takes in a column `width` characters wide."""
    if not isinstance(value, str) or not value:
        return 1
    per = max(int(width * 1.15) - 1, 1)
    if len(value) <= per and "\n" not in value:
        return 1
    return sum(max(math.ceil(len(part) / per), 1) for part in value.split("\n"))


def header_text(text: str) -> str:
    """A text for a page header or footer: `&` is the codes' escape there."""
    return plain(text).replace("&", "&&")[:200]


class Sheet:
    """A write-only sheet with its print setup, column widths and a row counter.

    Landscape A4, fit to one page wide, header rows repeated on every page, the case name in the
    page header, page numbers in the footer; row heights grown to fit their wrapped texts. Its rows
    are written by `sheetxml` as they come; `finish` puts them into the workbook before it is saved.
    """

    def __init__(self, wb, title: str, widths: list[float], case: str, header_rows: int = 1,
                 freeze: str | None = "A2"):
        self.ws = ws = wb.create_sheet(title)
        self.widths = widths
        self.rows = 0
        self.epoch = wb.epoch
        self.out = sheetxml.Rows(tempfile.TemporaryFile())
        self.links: list[Hyperlink] = []
        self.comments: list[CommentRecord] = []
        self.merged: list[CellRange] = []
        wb.__dict__.setdefault("_logcorr_sheets", []).append(self)
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

    def header(self, names: list[str], height: float | None = None) -> int:
        return self.row([self.cell(n, font=HEAD_FONT, fill_=HEAD_FILL, border=BOX) for n in names], height=height)

    def row(self, values, height: float | None = None, **style_) -> int:
        """Append one row of values or ready cells; the values take the row's style (`style_`, as
        `cell` takes it). Its height fits its longest wrapped text."""
        blank = None if style_.get("fill_") or style_.get("border") else ""  # an empty cell that shows nothing
        look_of = style(self.ws, **style_).of
        self.rows += 1
        number, epoch = str(self.rows), self.epoch
        parts, lines = [], 1
        for i, c in enumerate(values):
            if c.__class__ is not Cell:
                if c is None or (isinstance(c, str) and c == blank):
                    continue
                value = plain(c)
                c = Cell(value, look_of(value))
            value, look = c.value, c.look
            if value is None and not look.xf and not c.comment:
                continue
            ref = sheetxml.ref(i, number)
            parts.append(sheetxml.cell(ref, value, look.xf, epoch))
            if c.link or c.comment:
                self._extras(ref, c)
            if look.wraps and value.__class__ is str:
                lines = max(lines, lines_needed(value, self.widths[i] if i < len(self.widths) else 10))
        if height or lines > 1:
            height = min(height or lines * LINE_PT, MAX_ROW_PT)
        self.out.add(sheetxml.row_start(self.rows, height or None) + "".join(parts) + "</row>")
        return self.rows

    def _extras(self, ref: str, c: Cell) -> None:
        """The link and comment of the cell at `ref`, which openpyxl writes after the rows."""
        if c.link:
            self.links.append(Hyperlink(ref=ref, location=c.link))
        if c.comment:
            note = CommentRecord(ref=ref, author="logcorr", height=COMMENT_SIZE[1], width=COMMENT_SIZE[0])
            note.text.t = c.comment
            self.comments.append(note)

    def merge(self, first: int, last: int, row: int | None = None) -> None:
        """Merge columns `first`..`last` (1-based) of `row` (default: the last row written)."""
        row = row or self.rows
        self.merged.append(CellRange(min_col=first, min_row=row, max_col=last, max_row=row))

    def autofilter(self) -> None:
        if self.rows > 1:
            self.ws.auto_filter.ref = f"A1:{self.last_column}{self.rows}"

    def close(self) -> None:
        """Write the sheet's part: openpyxl writes all but the rows (with the sheet's links, comments
        and merged cells, which it takes from the worksheet as it writes), then the rows go in."""
        ws = self.ws
        ws._get_writer()  # openpyxl's part writer; making it empties the sheet's links and comments
        ws._hyperlinks = self.links
        ws._comments = self.comments
        ws.merged_cells = MultiCellRange(self.merged)
        ws.close()
        sheetxml.splice(ws._writer.out, self.out)


def finish(wb) -> None:
    """Close every sheet of `wb` made by `Sheet`, in the order they were made (before saving)."""
    for sheet in wb.__dict__.pop("_logcorr_sheets", []):
        sheet.close()
