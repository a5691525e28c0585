"""Step frames: the events one step matches, with their join keys, as a small DataFrame."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import KeySpec, Step
from .predicates import View

ROW = "_row"
TS = "_ts"


def _key_values(view: View, spec: KeySpec, idx: np.ndarray) -> np.ndarray:
    """Key values of the rows idx, as text; a list cell (split) becomes a list to explode."""
    if spec.pair is not None:
        a = _as_text(view, spec.pair[0], idx)
        b = _as_text(view, spec.pair[1], idx)
        swap = a > b
        lo = np.where(swap, b, a)
        hi = np.where(swap, a, b)
        out = lo + "|" + hi
        out[(a == "") | (b == "")] = ""
        return out.astype(object)
    vals = _as_text(view, spec.column, idx)
    if spec.split is None and spec.regex is None:
        return vals
    # work on distinct cell values only, then spread back
    codes, uniques = pd.factorize(vals)
    rx = spec.regex
    if spec.split is not None:
        done = [[_group(rx, x.strip()) if rx is not None else x.strip() for x in u.split(spec.split)]
                for u in uniques]
    else:
        done = [_group(rx, u) for u in uniques]
    table = np.empty(len(done), dtype=object)
    table[:] = done
    return table[codes] if len(codes) else np.array([], dtype=object)


def _group(rx, text: str) -> str:
    m = rx.search(text)
    if not m:
        return ""
    return m.group(1) if m.groups() else m.group(0)


def _as_text(view: View, col: str, idx: np.ndarray) -> np.ndarray:
    arr = view.array(col)[idx]
    if view.kinds.get(col) == "int":
        out = np.full(len(arr), "", dtype=object)
        ok = ~np.isnan(arr)
        out[ok] = [str(int(v)) for v in arr[ok]]
        return out
    if view.kinds.get(col) == "datetime":
        return np.array([str(v) for v in arr], dtype=object)
    return arr


def step_frame(view: View, step: Step, mask: np.ndarray | None = None) -> pd.DataFrame:
    """Rows matching the step: _row (position), _ts, one text column per key (empty keys dropped)."""
    if mask is None:
        mask = step.where.mask(view)
    idx = np.flatnonzero(mask)
    ts = view.array("ts")[idx]
    good = ~np.isnat(ts)
    idx, ts = idx[good], ts[good]
    if step.first_per:
        idx = first_per(view, idx, step.first_per)
        ts = view.array("ts")[idx]
    df = pd.DataFrame({ROW: idx, TS: ts})
    exploded = []
    for name, spec in step.keys.items():
        df[name] = _key_values(view, spec, idx)
        if spec.split is not None:
            exploded.append(name)
    for name in exploded:
        df = df.explode(name)
    for name in step.keys:
        if len(df):
            df = df[df[name].notna() & (df[name] != "")]
        df[name] = df[name].astype(object)
    return df.reset_index(drop=True)


def first_per(view: View, idx: np.ndarray, columns: list[str]) -> np.ndarray:
    """Of the rows idx, the earliest per value set of columns (rows with empty values all kept)."""
    if len(idx) == 0:
        return idx
    df = pd.DataFrame({c: _as_text(view, c, idx) for c in columns})
    df["_i"] = idx
    df["_ts"] = view.array("ts")[idx]
    df = df.sort_values(["_ts", "_i"], kind="stable")
    empty = (df[columns] == "").any(axis=1).to_numpy()
    keep = ~df.duplicated(subset=columns, keep="first").to_numpy() | empty
    return np.sort(df["_i"].to_numpy()[keep])
