"""Step frames: the events one step matches, with their join keys, as a small DataFrame."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import KeySpec, Step
from .predicates import View

ROW = "_row"
TS = "_ts"


PAIR = np.int64(1) << 32  # an unordered pair of key ids packs into one int64: lo * PAIR + hi


def _key_values(view: View, spec: KeySpec, idx: np.ndarray):
    """Interned key ids of the rows idx (-1 = none); a split list gives a list of ids per row."""
    if spec.pair is not None:
        a = view.key_codes(spec.pair[0])[idx]
        b = view.key_codes(spec.pair[1])[idx]
        out = np.minimum(a, b) * PAIR + np.maximum(a, b)
        out[(a < 0) | (b < 0)] = -1
        return out
    if spec.split is None and spec.regex is None:
        return view.key_codes(spec.column)[idx]
    # work on distinct cell values only, then spread back
    vals = _as_text(view, spec.column, idx)
    codes, uniques = pd.factorize(vals)
    rx = spec.regex

    def ids(texts):
        return [view.intern(t) if t else -1 for t in texts]

    if spec.split is not None:
        done = [ids(_group(rx, x.strip()) if rx is not None else x.strip() for x in u.split(spec.split))
                for u in uniques]
        table = np.empty(len(done), dtype=object)
        table[:] = done
        return table[codes] if len(codes) else np.array([], dtype=object)
    table = np.array(ids(_group(rx, u) for u in uniques), dtype=np.int64)
    return table[codes] if len(codes) else np.array([], dtype=np.int64)


def key_text(view: View, spec: KeySpec, value) -> str:
    """A key id back as text, for templates ('a|b' for pairs)."""
    value = int(value)
    if spec.pair is not None:
        return f"{view.text(value // int(PAIR))}|{view.text(value % int(PAIR))}"
    return view.text(value)


def _group(rx, text: str) -> str:
    m = rx.search(text)
    if not m:
        return ""
    return m.group(1) if m.groups() else m.group(0)


def _as_text(view: View, col: str, idx: np.ndarray) -> np.ndarray:
    arr = view.take(col, idx)
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
            df = df[df[name].notna()]
        df[name] = df[name].astype(np.int64)
        df = df[df[name].to_numpy() >= 0]
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
