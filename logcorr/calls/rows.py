"""Rows of the event table as dicts, for the stages that follow a call event by event.

A call has tens of events and a stage looks at each of them many times: pandas per event is slow,
and so is pandas' own `to_dict("records")`, which boxes value by value. Here each column becomes a
plain list, missing values None, and the rows are zipped from the lists, a slice of rows at a time
(the lists of one slice, not of the whole table, exist beside the rows). A column that holds one
empty value ("" or missing) in every row asked for is left out of the rows and read as that value:
SIP events carry no STUN fields and STUN events no SIP fields, and a row of fewer keys is half the
memory.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SLICE = 8192


def records(frame: pd.DataFrame, columns: tuple[str, ...], rows: pd.Series | None = None,
            by: str | None = None) -> list[dict]:
    """The `rows` (a boolean mask; all when None) of `frame` as dicts of `columns` (missing values
    None), in the frame's order or, with `by`, stably sorted by that column (missing values last)."""
    where = np.arange(len(frame)) if rows is None else np.flatnonzero(rows.to_numpy(dtype=bool))
    if by:
        where = where[frame[by].take(where).reset_index(drop=True).sort_values(kind="stable").index.to_numpy()]
    empty = {name: value for name in columns if (value := _empty(frame[name].take(where))) is not _FULL}
    kept = tuple(name for name in columns if name not in empty)
    row = _row_type(empty)
    out: list[dict] = []
    for start in range(0, len(where), SLICE):
        part = where[start:start + SLICE]
        out += map(row, (zip(kept, values) for values in zip(*(_values(frame[name].take(part)) for name in kept))))
    return out


_FULL = object()  # a column with a value somewhere


def _empty(col: pd.Series):
    """The one empty value every row of the column holds: None (missing), "" or else _FULL."""
    if col.isna().all():
        return None
    if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(col.dtype):
        if (col == "").all():
            return ""
    return _FULL


def _row_type(empty: dict[str, object]) -> type:
    """A dict that reads a left-out column as its empty value."""
    if not empty:
        return dict
    return type("Row", (dict,), {"__slots__": (), "__missing__": lambda self, key, _e=empty: _e[key]})


def _values(col: pd.Series) -> list:
    values = col.tolist()
    if col.hasnans:
        values = [None if gap else v for v, gap in zip(values, col.isna().tolist())]
    return values
