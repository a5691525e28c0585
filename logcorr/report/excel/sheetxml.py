"""A sheet's rows as SpreadsheetML (`<sheetData>`), written here rather than cell by cell by openpyxl.

openpyxl writes the rest of each worksheet part (columns, frozen panes, filter, merged cells, links,
comments, print setup) and the stylesheet whose ids the cells carry; its own cell writer costs about
20 µs a cell, these rows about 1 µs. The XML is the one openpyxl writes for the same cells: texts as
inline strings (escaped, non-ASCII as character references, `xml:space="preserve"` when they begin
or end with blanks), numbers and times as numbers (times in Excel's day count), True/False as
booleans. A text is never a formula: there is no `<f>` here at all, and a text a spreadsheet would
take for one carries a quote-prefix style (see `cells.cell`).

The rows go to a temporary file while the sheet is filled; `splice` puts them into the part openpyxl
wrote for the sheet, between its `<sheetData>` tags.
"""
from __future__ import annotations

import datetime as dt
import math
import shutil
from typing import IO

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

FLUSH_ROWS = 500  # rows kept as text before they are encoded into the temporary file
LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A .. ZZ
_EMPTY = (b"<sheetData></sheetData>", b"<sheetData/>", b"<sheetData />")


def escape(text: str) -> str:
    """`text` as XML character data, as lxml writes it (a carriage return kept as `&#13;`)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def ref(column: int, row: str) -> str:
    """The reference of a cell: its 0-based column and its row number (`A1`)."""
    return (LETTERS[column] if column < len(LETTERS) else get_column_letter(column + 1)) + row


def number(value) -> str:
    """A number as openpyxl writes it (`safe_string`): 16 significant digits, nothing for inf."""
    return "" if value != value or value in (math.inf, -math.inf) else "%.16g" % value


def cell(ref: str, value, xf: int, epoch: dt.datetime) -> str:
    """One `<c>` element; `value` is what `cells.plain` gives (None, text, bool, number, datetime)."""
    s = f' s="{xf}"' if xf else ""
    if value.__class__ is str:
        if not value:
            return f'<c r="{ref}"{s} t="inlineStr"></c>'
        space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""  # as strip() sees it
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    if value is None:
        return f'<c r="{ref}"{s} t="n"></c>'
    if value.__class__ is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        value = to_excel(value, epoch)
    return f'<c r="{ref}"{s} t="n"><v>{number(value)}</v></c>'


def row_start(row: int, height: float | None) -> str:
    """A `<row>` start tag, with its height when it has one (as openpyxl's row dimensions write it)."""
    if height is None:
        return f'<row r="{row}">'
    return f'<row r="{row}" ht="{number(float(height))}" customHeight="1">'


class Rows:
    """The XML of a sheet's rows, gathered in a temporary file (the Timeline alone is tens of MB)."""

    def __init__(self, file: IO[bytes]):
        self.file = file
        self.pending: list[str] = []

    def add(self, xml: str) -> None:
        self.pending.append(xml)
        if len(self.pending) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.file.write("".join(self.pending).encode("ascii", "xmlcharrefreplace"))
            self.pending = []


def splice(part_path: str, rows: Rows) -> None:
    """Put the rows into the worksheet part openpyxl wrote at `part_path` with an empty sheetData."""
    rows.flush()
    with open(part_path, "rb") as f:
        part = f.read()
    for empty in _EMPTY:
        head, found, tail = part.partition(empty)
        if found:
            break
    else:
        raise RuntimeError(f"no empty sheetData in the worksheet part {part_path}")
    rows.file.seek(0)
    with open(part_path, "wb") as f:
        f.write(head + b"<sheetData>")
        shutil.copyfileobj(rows.file, f)
        f.write(b"</sheetData>" + tail)
    rows.file.close()
