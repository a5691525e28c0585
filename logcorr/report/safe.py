"""Texts that a spreadsheet would run as a formula.

A bundle's texts (SIP display names, User-Agent, ms-diagnostics reasons, user names, Call-IDs,
file names) are written into reports that are opened in Excel or LibreOffice, where a cell that
begins with `=`, `+`, `-` or `@` (or their full-width forms, or a tab or carriage return before
them) is taken for a formula: `=HYPERLINK("http://evil.example/c","call")` becomes a live link,
`=cmd|...` a command. Every writer of such a report asks `is_formula_like` and stores the text as
text: the workbook by its cell type, the CSV export by a leading `'` (`as_text`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# What a spreadsheet may read as the start of a formula, after any leading blanks.
_TRIGGER = re.compile(r"[\t\r]|[ \t\r\n\x0b\x0c]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
GUARD = "'"


def is_formula_like(value) -> bool:
    """True when `value` is a text that a spreadsheet would take for a formula."""
    return isinstance(value, str) and _TRIGGER.match(value) is not None


def as_text(value):
    """`value` with a leading `'` when a spreadsheet would take it for a formula, else unchanged."""
    return GUARD + value if is_formula_like(value) else value


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells can no longer be formulas (see `as_text`); each
    distinct text of a column is looked at once."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = out[column] = series.astype(object)
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        try:
            codes, uniques = pd.factorize(series)
        except TypeError:  # cells that are no texts (lists): ask each one
            mask = series.map(is_formula_like).to_numpy(dtype=bool)
        else:
            risky = np.fromiter((is_formula_like(u) for u in uniques), dtype=bool, count=len(uniques))
            if not risky.any():
                continue
            mask = (codes >= 0) & risky[np.maximum(codes, 0)]
        if mask.any():
            out.loc[mask, column] = GUARD + series[mask].astype(str)
    return out
