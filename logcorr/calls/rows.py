"""Rows of the event table as plain dicts, for the stages that follow a call event by event.

A call has tens of events and a stage looks at each of them many times: pandas per event is slow,
and so is pandas' own `to_dict("records")`, which boxes value by value. Here each column becomes a
plain list once, missing values None, and the rows are zipped from the lists.
"""
from __future__ import annotations

import pandas as pd


def records(frame: pd.DataFrame, columns: tuple[str, ...], by: str | None = None) -> list[dict]:
    """The rows of `frame` as dicts of `columns` (missing values None), in the frame's order or,
    with `by`, stably sorted by that column (missing values last)."""
    order = frame[by].reset_index(drop=True).sort_values(kind="stable").index.to_numpy() if by else None
    lists = []
    for name in columns:
        col = frame[name] if order is None else frame[name].take(order)
        values = col.tolist()
        if col.hasnans:
            values = [None if gap else v for v, gap in zip(values, col.isna().tolist())]
        lists.append(values)
    return [dict(zip(columns, values)) for values in zip(*lists)]
