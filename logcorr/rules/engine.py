"""Evaluating blocks on whole columns: masks, as-of joins and group-bys, never event by event.

Every block yields *hits*: a list of (cited step name -> row position) mappings plus, for call
blocks, ready-made evidence. findings.py turns hits into Finding objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model import Call
from ..model import Step as FlowStep
from .frames import ROW, TS, first_per, key_text, step_frame
from .model import CALL_FIELDS, AbsentBlock, CallBlock, CountBlock, MatchBlock, SequenceBlock, Step
from .predicates import View

MAX_CITED = 10  # events cited per count finding


@dataclass
class Hit:
    rows: list[tuple[str, int]]  # (step name, row position) in citation order
    keys: dict = field(default_factory=dict)  # join key values of the match
    call: Call | None = None  # call blocks: the call it is about
    call_steps: list[FlowStep] = field(default_factory=list)  # ... and its steps it cites


def _r(name: str) -> str:
    return f"r:{name}"


def _t(name: str) -> str:
    return f"t:{name}"


def _dedupe(view: View, table: pd.DataFrame, once_per: list[str], first_step: str) -> pd.DataFrame:
    """Keep one row per once_per value set (keys of the table, or columns of the first event)."""
    if not once_per or table.empty:
        return table
    cols = []
    table = table.copy()
    for name in once_per:
        if name in table.columns:
            cols.append(name)
        else:
            col = f"_once_{name}"
            vals = view.take(name, table[_r(first_step)].to_numpy(dtype=np.int64))
            table[col] = [str(v) for v in vals]
            cols.append(col)
    table = table.sort_values(_t(first_step), kind="stable")
    empty = np.zeros(len(table), dtype=bool)
    for c in cols:
        vals = table[c].to_numpy()
        empty |= (vals == -1) if vals.dtype.kind == "i" else np.isin(vals.astype(object), ["", "nan", "<NA>", "None"])
    keep = ~table.duplicated(subset=cols, keep="first").to_numpy() | empty
    return table[keep]


# ----------------------------------------------------------------------------------- match
def run_match(block: MatchBlock, view: View) -> list[Hit]:
    idx = np.flatnonzero(block.where.mask(view))
    if block.first_per:
        idx = first_per(view, idx, block.first_per)
        if block.having is not None and len(idx):
            idx = idx[block.having.evaluate(view, idx)]
    if len(idx) == 0:
        return []
    table = pd.DataFrame({_r("event"): idx, _t("event"): view.array("ts")[idx]})
    table = _dedupe(view, table, block.once_per, "event")
    return [Hit(rows=[("event", int(r))]) for r in table[_r("event")].to_numpy()]


# --------------------------------------------------------------------- sequence and absent
def _first(view: View, step: Step) -> pd.DataFrame:
    f = step_frame(view, step)
    return f.rename(columns={ROW: _r(step.name), TS: _t(step.name)}).assign(_t=lambda d: d[_t(step.name)])


def _follow(view: View, table: pd.DataFrame, step: Step) -> pd.DataFrame:
    """For each row of table, the first event of `step` after it (joined on shared keys)."""
    right = step_frame(view, step)
    common = [k for k in step.keys if k in table.columns]
    right = right.rename(columns={ROW: _r(step.name), TS: _t(step.name)})
    offset = step.after if step.after is not None else pd.Timedelta(0)
    left = table.assign(_search=table["_t"] + offset).sort_values("_search", kind="stable")
    right = right.sort_values(_t(step.name), kind="stable")
    right["_rt"] = right[_t(step.name)]
    tolerance = None
    if step.within is not None:
        tolerance = step.within - offset
    # keys are interned integers (frames.py): merge_asof joins them without hashing texts
    right = right.drop(columns=[c for c in right.columns if c in left.columns and c not in common])
    merged = pd.merge_asof(
        left, right, left_on="_search", right_on="_rt", by=common or None, direction="forward",
        tolerance=tolerance, allow_exact_matches=step.after is not None,
    )
    return merged.drop(columns=["_search"])


def _chain(view: View, steps: list[Step]) -> pd.DataFrame:
    table = _first(view, steps[0])
    for step in steps[1:]:
        if table.empty:
            break
        table = _follow(view, table, step)
        table = table[table[_r(step.name)].notna()].copy()
        table[_r(step.name)] = table[_r(step.name)].astype(np.int64)
        table["_t"] = table["_rt"]
        table = table.drop(columns=["_rt"])
    return table


def run_sequence(block: SequenceBlock, view: View) -> list[Hit]:
    table = _chain(view, block.steps)
    if table.empty or _r(block.steps[-1].name) not in table.columns:
        return []
    table = _dedupe(view, table, block.once_per, block.steps[0].name)
    return _hits(view, table, [s.name for s in block.steps], block.steps)


def _hits(view: View, table: pd.DataFrame, names: list[str], steps: list[Step]) -> list[Hit]:
    cols = [table[_r(n)].to_numpy(dtype=np.int64) for n in names]
    specs = {}
    for s in steps:
        for k, spec in s.keys.items():
            specs.setdefault(k, spec)
    keys = [k for k in specs if k in table.columns]
    kvals = [table[k].to_numpy() for k in keys]
    return [Hit(rows=[(n, int(c[i])) for n, c in zip(names, cols)],
                keys={k: key_text(view, specs[k], v[i]) for k, v in zip(keys, kvals)})
            for i in range(len(table))]


def run_absent(block: AbsentBlock, view: View) -> list[Hit]:
    table = _chain(view, block.steps)
    if table.empty or _r(block.steps[-1].name) not in table.columns:
        return []
    table = _follow(view, table, block.missing)
    table = table[table[_r(block.missing.name)].isna()]
    table = _dedupe(view, table, block.once_per, block.steps[0].name)
    return _hits(view, table, [s.name for s in block.steps], block.steps)


# ------------------------------------------------------------------------------------ count
def run_count(block: CountBlock, view: View) -> list[Hit]:
    if block.for_each is None:
        return _count_at_least(block, view)
    return _count_at_most(block, view)


def _count_at_least(block: CountBlock, view: View) -> list[Hit]:
    counted = step_frame(view, block.counted)
    n = block.at_least
    keys = list(block.counted.keys)
    if len(counted) < n:
        return []
    c = counted.sort_values(keys + [TS], kind="stable").reset_index(drop=True)
    # a window of n events starting at row i: row i+n-1 has the same keys and is within the span
    same = np.ones(len(c) - n + 1, dtype=bool)
    for k in keys:
        v = c[k].to_numpy()
        same &= v[: len(v) - n + 1] == v[n - 1:]
    ts = c[TS].to_numpy()
    if block.within is not None:
        same &= (ts[n - 1:] - ts[: len(ts) - n + 1]) <= block.within.to_timedelta64()
    starts = np.flatnonzero(same)
    if len(starts) == 0:
        return []
    win = c.loc[starts, keys + [ROW, TS]].rename(columns={ROW: _r("counted"), TS: _t("counted")})
    win["_start"] = starts
    win = win[~win.duplicated(subset=keys, keep="first")]  # once per key set
    win = _dedupe(view, win, block.once_per, "counted")
    rows = c[ROW].to_numpy()
    hits = []
    for start in win["_start"].to_numpy():
        kv = {k: key_text(view, block.counted.keys[k], c.at[start, k]) for k in keys}
        end = start + n
        while end < len(c) and all(c.at[end, k] == c.at[start, k] for k in keys) and (
            block.within is None or c.at[end, TS] - c.at[start, TS] <= block.within
        ) and end - start < MAX_CITED:
            end += 1
        hits.append(Hit(rows=[("counted", int(r)) for r in rows[start:end]], keys=kv))
    return hits


def _count_at_most(block: CountBlock, view: View) -> list[Hit]:
    fe = block.for_each
    table = step_frame(view, fe).rename(columns={ROW: _r(fe.name), TS: _t(fe.name)})
    if table.empty:
        return []
    common = [k for k in block.counted.keys if k in fe.keys]
    if block.at_most == 0:
        # existence is enough: the first counted event after each for_each event, as-of joined
        step = Step(name="counted", where=block.counted.where, keys=block.counted.keys,
                    within=block.within)
        merged = _follow(view, table.assign(_t=table[_t(fe.name)]), step)
        found = merged[merged[_r("counted")].isna()].drop(columns=["_rt"])
    else:
        counted = step_frame(view, block.counted)
        c = counted.rename(columns={ROW: "_crow", TS: "_cts"})[common + ["_crow", "_cts"]]
        table = table.reset_index(drop=True)
        table["_i"] = np.arange(len(table))
        m = table[common + ["_i", _t(fe.name)]].merge(c, on=common, how="inner")
        ok = m["_cts"] > m[_t(fe.name)]  # strictly after, as in sequences
        if block.within is not None:
            ok &= m["_cts"] - m[_t(fe.name)] <= block.within
        counts = m[ok].groupby("_i").size()
        n = table["_i"].map(counts).fillna(0).to_numpy()
        found = table[n <= block.at_most]
    once = block.once_per or common
    found = _dedupe(view, found, once, fe.name)
    return _hits(view, found, [fe.name], [fe])


# ------------------------------------------------------------------------------------- call
def run_call(block: CallBlock, calls: list[Call] | None) -> list[Hit]:
    if not calls:
        return []
    frame = pd.DataFrame({k: [str(getattr(c, k) or "") for c in calls] for k in CALL_FIELDS})
    if block.where is not None:
        ok = block.where.mask(View(frame, CALL_FIELDS))
    else:
        ok = np.ones(len(calls), dtype=bool)
    hits = []
    for call, good in zip(calls, ok):
        if not good:
            continue
        states = {s.name: s for s in call.steps}

        def state(name):
            return states[name].state if name in states else "missing"

        if all(state(n) == "seen" for n in block.seen) and all(
            state(n) == "missing" for n in block.missing
        ) and all(state(n) == "not observable" for n in block.not_observable):
            cited = [states[n] for n in block.seen if n in states]
            hits.append(Hit(rows=[], call=call, call_steps=cited))
    return hits


def run_block(block, view: View, calls: list[Call] | None) -> list[Hit]:
    if isinstance(block, MatchBlock):
        return run_match(block, view)
    if isinstance(block, SequenceBlock):
        return run_sequence(block, view)
    if isinstance(block, AbsentBlock):
        return run_absent(block, view)
    if isinstance(block, CountBlock):
        return run_count(block, view)
    if isinstance(block, CallBlock):
        return run_call(block, calls)
    raise TypeError(type(block))
