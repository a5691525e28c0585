"""Step frames: the events one step matches, with their join keys, as a small DataFrame."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import KeySpec, Step
from .predicates import View

ROW = "_row"
TS = "_ts"


def _key_values(view: View, spec: KeySpec, idx: np.ndarray) -> pd.Series:
    """Key values of the rows idx, as text; a list cell (split) becomes a list to explode."""
    if spec.pair is not None:
        a = pd.Series(_as_text(view, spec.pair[0], idx))
        b = pd.Series(_as_text(view, spec.pair[1], idx))
        lo = a.where(a <= b, b)
        hi = b.where(a <= b, a)
        out = lo + "|" + hi
        return out.where((a != "") & (b != ""), "")
    s = pd.Series(_as_text(view, spec.column, idx))
    if spec.split is not None:
        s = s.str.split(spec.split, regex=False)
        if spec.regex is not None:
            rx = spec.regex
            s = s.map(lambda items: [_group(rx, x.strip()) for x in items])
        else:
            s = s.map(lambda items: [x.strip() for x in items])
    elif spec.regex is not None:
        rx = spec.regex
        s = s.map(lambda x: _group(rx, x))
    return s


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
        vals = _key_values(view, spec, idx)
        df[name] = vals.to_numpy(dtype=object) if len(vals) else np.array([], dtype=object)
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
