"""Rule blocks (match, sequence, absent, count, call): one loader per block type, built from
small validators that record every problem with its line and give None for a part that is wrong."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from logcorr.events import schema

from .model import (
    CALL_FIELDS, FLOW_STEPS, AbsentBlock, CallBlock, CountBlock, KeySpec, MatchBlock,
    SequenceBlock, Step,
)
from .predicates import Problems, compile_predicate, compile_regex

KINDS = {c.name: c.kind for c in schema.COLUMNS}

# Every key a block knows. rules/schema.json must say the same (tested).
MATCH_KEYS = {"where": True, "first_per": False, "having": False, "once_per": False}
SEQUENCE_KEYS = {"join": False, "steps": True, "once_per": False}
ABSENT_KEYS = {"join": False, "steps": True, "not_followed_by": True, "once_per": False}
COUNT_KEYS = {"join": False, "where": True, "keys": False, "for_each": False, "within": False,
              "at_least": False, "at_most": False, "once_per": False}
CALL_KEYS = {"where": False, "seen": False, "missing": False, "not_observable": False}
STEP_KEYS = {"name": True, "where": True, "first_per": False, "keys": False, "within": False,
             "after": False}
FOR_EACH_KEYS = {"name": False, "where": True, "keys": False}
KEYSPEC_KEYS = {"column": False, "split": False, "regex": False, "pair": False}

NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(value) -> pd.Timedelta | None:
    """'30s', '500ms', '2m', '1h' or a number of seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return pd.Timedelta(seconds=value) if value >= 0 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            n = float(m.group(1))
            unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
            return pd.Timedelta(seconds=n * unit)
    return None


class _Ctx:
    """Problems of one file, as (line, message)."""

    def __init__(self, path: Path):
        self.path = path
        self.p = Problems()

    def add(self, line: int, msg: str) -> None:
        self.p.add(line, msg)

    def keys(self, obj, allowed: dict[str, bool], what: str, line: int) -> bool:
        if not isinstance(obj, dict):
            self.add(line, f"{what} must be a mapping")
            return False
        ok = True
        for k in obj:
            if k not in allowed:
                self.add(obj.line_of(k) if hasattr(obj, "line_of") else line,
                         f"unknown key '{k}' in {what} (allowed: {', '.join(allowed)})")
                ok = False
        for k, required in allowed.items():
            if required and k not in obj:
                self.add(getattr(obj, "line", line) or line, f"{what}: missing required key '{k}'")
                ok = False
        return ok


def _ln(obj, key=None, default=0) -> int:
    if key is not None and hasattr(obj, "line_of"):
        return obj.line_of(key)
    return getattr(obj, "line", 0) or default


def _str_list(ctx: _Ctx, obj, key: str, line: int) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        ctx.add(_ln(obj, key, line), f"'{key}' must be a list of texts")
        return []
    return list(value)


def _keyspec(ctx: _Ctx, spec, line: int) -> KeySpec | None:
    if isinstance(spec, str):
        if spec not in KINDS:
            ctx.add(line, f"key column '{spec}' is not in the event schema")
            return None
        return KeySpec(column=spec)
    if not ctx.keys(spec, KEYSPEC_KEYS, "key", line):
        return None
    line = _ln(spec, default=line)
    if "pair" in spec:
        pair = spec["pair"]
        if set(spec) != {"pair"} or not isinstance(pair, list) or len(pair) != 2:
            ctx.add(line, "'pair' takes two columns and nothing else")
            return None
        bad = [c for c in pair if c not in KINDS]
        if bad:
            ctx.add(line, f"key column(s) {bad} not in the event schema")
            return None
        return KeySpec(pair=(pair[0], pair[1]))
    col = spec.get("column")
    if col not in KINDS:
        ctx.add(_ln(spec, "column", line), f"key column {col!r} is not in the event schema")
        return None
    split = spec.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        ctx.add(_ln(spec, "split", line), "'split' takes a separator text")
        return None
    regex = None
    if "regex" in spec:
        regex = compile_regex(spec["regex"], ctx.p, _ln(spec, "regex", line))
        if regex is None:
            return None
    return KeySpec(column=col, split=split, regex=regex)


def _duration(ctx: _Ctx, obj, key: str, line: int) -> pd.Timedelta | None:
    if key not in obj:
        return None
    d = parse_duration(obj[key])
    if d is None:
        ctx.add(_ln(obj, key, line), f"'{key}': {obj[key]!r} is not a duration (30s, 500ms, 2m)")
    return d


def _step(ctx: _Ctx, spec, join: list[str], allowed: dict, what: str, line: int,
          default_name: str = "") -> Step | None:
    if not ctx.keys(spec, allowed, what, line):
        return None
    line = _ln(spec, default=line)
    name = spec.get("name", default_name)
    if not isinstance(name, str) or not NAME_RE.match(name):
        ctx.add(_ln(spec, "name", line), f"{what}: name {name!r} must be a short lowercase word")
        name = None
    where = compile_predicate(spec.get("where"), KINDS, ctx.p, _ln(spec, "where", line))
    keys: dict[str, KeySpec] = {k: KeySpec(column=k) for k in join}
    raw_keys = spec.get("keys", {})
    if not isinstance(raw_keys, dict):
        ctx.add(_ln(spec, "keys", line), "'keys' must map key names to columns")
        raw_keys = {}
    ok = True
    for kname, kspec in raw_keys.items():
        kline = _ln(raw_keys, kname, line)
        if not isinstance(kname, str) or not NAME_RE.match(kname):
            ctx.add(kline, f"key name {kname!r} must be a short lowercase word")
            ok = False
            continue
        ks = _keyspec(ctx, kspec, kline)
        if ks is None:
            ok = False
        else:
            keys[kname] = ks
    within = _duration(ctx, spec, "within", line)
    after = _duration(ctx, spec, "after", line)
    if within is not None and after is not None and after >= within:
        ctx.add(line, f"{what}: 'after' must be shorter than 'within'")
        ok = False
    first_per = _columns(ctx, spec, "first_per", line)
    if where is None or name is None or not ok or first_per is None:
        return None
    return Step(name=name, where=where, keys=keys, within=within, after=after, line=line,
                first_per=first_per)


def _columns(ctx: _Ctx, obj, key: str, line: int) -> list[str] | None:
    if key not in obj:
        return []
    cols = _str_list(ctx, obj, key, line)
    bad = [c for c in cols if c not in KINDS]
    if bad or not cols:
        ctx.add(_ln(obj, key, line), f"'{key}' takes event columns; not in the schema: {bad}")
        return None
    return cols


def _join(ctx: _Ctx, block, line: int) -> list[str]:
    join = _str_list(ctx, block, "join", line) if "join" in block else []
    for k in join:
        if k not in KINDS:
            ctx.add(_ln(block, "join", line), f"join column '{k}' is not in the event schema")
    return [k for k in join if k in KINDS]


def _steps(ctx: _Ctx, block, join, line) -> list[Step] | None:
    raw = block.get("steps")
    if not isinstance(raw, list) or not raw:
        ctx.add(_ln(block, "steps", line), "'steps' must be a non-empty list")
        return None
    steps = [_step(ctx, s, join, STEP_KEYS, f"step {i + 1}", _ln(raw, default=line))
             for i, s in enumerate(raw)]
    if any(s is None for s in steps):
        return None
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        ctx.add(_ln(block, "steps", line), f"step names must differ: {names}")
        return None
    seen: set[str] = set(steps[0].keys)
    for s in steps[1:]:
        if not (set(s.keys) & seen) and s.within is None:
            ctx.add(s.line, f"step '{s.name}' shares no key with the steps before it and has no "
                            "'within': it would pair every event with every other")
            return None
        seen |= set(s.keys)
    if steps[0].within is not None or steps[0].after is not None:
        ctx.add(steps[0].line, "the first step cannot have within/after (nothing precedes it)")
        return None
    return steps


def _once_per(ctx: _Ctx, block, line: int, known_keys: set[str]) -> list[str]:
    if "once_per" not in block:
        return []
    names = _str_list(ctx, block, "once_per", line)
    for n in names:
        if n not in known_keys and n not in KINDS:
            ctx.add(_ln(block, "once_per", line), f"once_per: '{n}' is neither a key nor a column")
    return names


def _match(ctx: _Ctx, block, line: int) -> MatchBlock | None:
    where = compile_predicate(block.get("where"), KINDS, ctx.p, _ln(block, "where", line))
    once = _once_per(ctx, block, line, set())
    first_per = _columns(ctx, block, "first_per", line)
    having = None
    if "having" in block:
        having = compile_predicate(block["having"], KINDS, ctx.p, _ln(block, "having", line))
        if having is None:
            return None
        if not first_per:
            ctx.add(_ln(block, "having", line), "'having' only makes sense with 'first_per' "
                    "(otherwise put the condition in 'where')")
            return None
    if where is None or first_per is None:
        return None
    return MatchBlock(where=where, once_per=once, first_per=first_per, having=having)


def _sequence(ctx: _Ctx, block, line: int) -> SequenceBlock | None:
    steps = _steps(ctx, block, _join(ctx, block, line), line)
    if steps is None:
        return None
    if len(steps) < 2:
        ctx.add(_ln(block, "steps", line), "a sequence needs at least two steps (or use match)")
        return None
    keys = set().union(*(s.keys for s in steps))
    return SequenceBlock(steps=steps, once_per=_once_per(ctx, block, line, keys))


def _absent(ctx: _Ctx, block, line: int) -> AbsentBlock | None:
    join = _join(ctx, block, line)
    steps = _steps(ctx, block, join, line)
    missing = _step(ctx, block.get("not_followed_by"), join, STEP_KEYS, "not_followed_by",
                    _ln(block, "not_followed_by", line))
    if steps is None or missing is None:
        return None
    known = set().union(*(s.keys for s in steps))
    if not (set(missing.keys) & known) and missing.within is None:
        ctx.add(missing.line, "not_followed_by shares no key with the steps and has no 'within'")
        return None
    if missing.name in {s.name for s in steps}:
        ctx.add(missing.line, f"step name '{missing.name}' used twice")
        return None
    return AbsentBlock(steps=steps, missing=missing, once_per=_once_per(ctx, block, line, known))


def _count_bounds(ctx: _Ctx, block, line: int) -> dict[str, int] | None:
    """{"at_least": n} or {"at_most": n}: exactly one, a whole number."""
    bounds = {}
    for k in ("at_least", "at_most"):
        if k in block:
            v = block[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                ctx.add(_ln(block, k, line), f"'{k}' must be a whole number >= 0")
                return None
            bounds[k] = v
    if len(bounds) != 1:
        ctx.add(line, "count needs exactly one of at_least / at_most")
        return None
    if bounds.get("at_least") == 0:
        ctx.add(line, "at_least must be 1 or more")
        return None
    return bounds


def _count_shape(bounds: dict[str, int], counted: Step, for_each: Step | None) -> str:
    """What is wrong with how the counted events, for_each and the bound fit together, or ''."""
    if "at_most" in bounds and for_each is None:
        return "count with at_most needs for_each (the events that should have company)"
    if "at_least" in bounds and for_each is not None:
        return "count with at_least counts per key; for_each is only for at_most"
    if for_each is not None and not (set(for_each.keys) & set(counted.keys)):
        return "for_each and the counted events share no key"
    if for_each is None and not counted.keys:
        return "count needs keys to group by (join or keys)"
    return ""


def _count(ctx: _Ctx, block, line: int) -> CountBlock | None:
    join = _join(ctx, block, line)
    counted = _step(ctx, {k: block[k] for k in ("where", "keys") if k in block}, join,
                    {"where": True, "keys": False}, "count", line, default_name="counted")
    for_each = None
    if "for_each" in block:
        for_each = _step(ctx, block["for_each"], join, FOR_EACH_KEYS, "for_each",
                         _ln(block, "for_each", line), default_name="for_each")
        if for_each is None:
            return None
    within = _duration(ctx, block, "within", line)
    bounds = _count_bounds(ctx, block, line)
    if bounds is None or counted is None:
        return None
    wrong = _count_shape(bounds, counted, for_each)
    if wrong:
        ctx.add(line, wrong)
        return None
    known = set(counted.keys) | (set(for_each.keys) if for_each else set())
    return CountBlock(counted=counted, for_each=for_each, within=within,
                      at_least=bounds.get("at_least"), at_most=bounds.get("at_most"),
                      once_per=_once_per(ctx, block, line, known))


def _call(ctx: _Ctx, block, line: int) -> CallBlock | None:
    where = None
    if "where" in block:
        where = compile_predicate(block["where"], CALL_FIELDS, ctx.p, _ln(block, "where", line))
        if where is None:
            return None
    lists = {k: _str_list(ctx, block, k, line) if k in block else []
             for k in ("seen", "missing", "not_observable")}
    for k, names in lists.items():
        unknown = [n for n in names if n not in FLOW_STEPS]
        if unknown:
            ctx.add(_ln(block, k, line), f"call.{k}: '{unknown[0]}' is not a flow step name")
            return None
    if not any(lists.values()):
        ctx.add(line, "call needs at least one of seen / missing / not_observable")
        return None
    return CallBlock(where=where, **lists)


# block type -> (its keys, its loader)
BLOCKS = {
    "match": (MATCH_KEYS, _match),
    "sequence": (SEQUENCE_KEYS, _sequence),
    "absent": (ABSENT_KEYS, _absent),
    "count": (COUNT_KEYS, _count),
    "call": (CALL_KEYS, _call),
}


def load_block(ctx: _Ctx, kind: str, block, line: int):
    """The block of type `kind`, or None (with its problems recorded in `ctx`)."""
    keys, loader = BLOCKS[kind]
    if not ctx.keys(block, keys, kind, line):
        return None
    return loader(ctx, block, line)
