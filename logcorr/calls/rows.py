"""Rows of the event table as Python objects, for the stages that follow a call event by event.

A call has tens of events and a stage looks at each of them many times: pandas per event is slow,
and so is pandas' own `to_dict("records")`, which boxes value by value. Here each column becomes a
plain list, missing values None, and the rows are zipped from the lists, a slice of rows at a time
(the lists of one slice, not of the whole table, exist beside the rows). `tuples` gives named
tuples (a third of a dict's memory, fields read as attributes), `records` dicts.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pandas as pd

SLICE = 8192


def tuples(frame: pd.DataFrame, row: type, rows: pd.Series | None = None, by: str | None = None) -> list:
    """The `rows` (a boolean mask; all when None) of `frame` as `row`, a named tuple whose fields
    are columns (missing values None), in the frame's order or, with `by`, stably sorted by that
    column (missing values last)."""
    return _build(frame, row._fields, rows, by, row._make)


def records(frame: pd.DataFrame, columns: tuple[str, ...], rows: pd.Series | None = None,
            by: str | None = None) -> list[dict]:
    """The same as dicts of `columns`."""
    return _build(frame, columns, rows, by, lambda values: dict(zip(columns, values)))


def _build(frame: pd.DataFrame, columns: tuple[str, ...], rows: pd.Series | None, by: str | None,
           make: Callable) -> list:
    where = np.arange(len(frame)) if rows is None else np.flatnonzero(rows.to_numpy(dtype=bool))
    if by:
        where = where[frame[by].take(where).reset_index(drop=True).sort_values(kind="stable").index.to_numpy()]
    out: list = []
    for values in _slices(frame, columns, where):
        out += map(make, values)
    return out


def _slices(frame: pd.DataFrame, columns: tuple[str, ...], where: np.ndarray) -> Iterator[Iterator[tuple]]:
    for start in range(0, len(where), SLICE):
        part = where[start:start + SLICE]
        yield zip(*(_values(frame[name].take(part)) for name in columns))


def _values(col: pd.Series) -> list:
    values = col.tolist()
    if col.hasnans:
        values = [None if gap else v for v, gap in zip(values, col.isna().tolist())]
    return values
