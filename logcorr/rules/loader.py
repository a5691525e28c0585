"""Loading rule files: validate everything, collect every problem with file:line, compile once."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from logcorr.events import schema

from .model import (
    CALL_FIELDS, FLOW_STEPS, SEVERITIES, AbsentBlock, CallBlock, CountBlock, Example, Extract,
    KeySpec, MatchBlock, Rule, RuleError, RuleSet, SequenceBlock, Step,
)
from .predicates import Problems, compile_predicate, compile_regex
from .yamlio import load_yaml

KINDS = {c.name: c.kind for c in schema.COLUMNS}
EXAMPLE_ONLY_FIELDS = ("t",)  # seconds after 2000-01-01T00:00:00Z, a shorthand for ts
EXAMPLE_BASE = pd.Timestamp("2000-01-01T00:00:00Z")

# Every key the format knows, per level. rules/schema.json must say the same (tested).
RULE_KEYS = {
    "id": True, "title": True, "severity": True, "description": True, "explanation": True,
    "fix": True, "references": True, "tags": True, "examples": True,
    "detail": False, "extract": False, "requires": False, "evidence": False,
    "match": False, "sequence": False, "absent": False, "count": False, "call": False,
}  # name -> required
BLOCK_TYPES = ("match", "sequence", "absent", "count", "call")
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
EXTRACT_KEYS = {"from": True, "regex": False, "step": False, "bits": False}
EXAMPLE_KEYS = {"name": True, "expect": True, "events": True, "calls": False}

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


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


def _block(ctx: _Ctx, kind: str, block, line: int):
    if kind == "match":
        if not ctx.keys(block, MATCH_KEYS, "match", line):
            return None
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
    if kind == "sequence":
        if not ctx.keys(block, SEQUENCE_KEYS, "sequence", line):
            return None
        steps = _steps(ctx, block, _join(ctx, block, line), line)
        if steps is None:
            return None
        if len(steps) < 2:
            ctx.add(_ln(block, "steps", line), "a sequence needs at least two steps (or use match)")
            return None
        keys = set().union(*(s.keys for s in steps))
        return SequenceBlock(steps=steps, once_per=_once_per(ctx, block, line, keys))
    if kind == "absent":
        if not ctx.keys(block, ABSENT_KEYS, "absent", line):
            return None
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
    if kind == "count":
        if not ctx.keys(block, COUNT_KEYS, "count", line):
            return None
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
        if "at_most" in bounds and for_each is None:
            ctx.add(line, "count with at_most needs for_each (the events that should have company)")
            return None
        if "at_least" in bounds and for_each is not None:
            ctx.add(line, "count with at_least counts per key; for_each is only for at_most")
            return None
        if "at_least" in bounds and bounds["at_least"] < 1:
            ctx.add(line, "at_least must be 1 or more")
            return None
        if counted is None:
            return None
        if for_each is not None and not (set(for_each.keys) & set(counted.keys)):
            ctx.add(line, "for_each and the counted events share no key")
            return None
        if for_each is None and not counted.keys:
            ctx.add(line, "count needs keys to group by (join or keys)")
            return None
        known = set(counted.keys) | (set(for_each.keys) if for_each else set())
        return CountBlock(counted=counted, for_each=for_each, within=within,
                          at_least=bounds.get("at_least"), at_most=bounds.get("at_most"),
                          once_per=_once_per(ctx, block, line, known))
    if kind == "call":
        if not ctx.keys(block, CALL_KEYS, "call", line):
            return None
        where = None
        if "where" in block:
            where = compile_predicate(block["where"], CALL_FIELDS, ctx.p, _ln(block, "where", line))
            if where is None:
                return None
        lists = {k: _str_list(ctx, block, k, line) if k in block else []
                 for k in ("seen", "missing", "not_observable")}
        for k, names in lists.items():
            for n in names:
                if n not in FLOW_STEPS:
                    ctx.add(_ln(block, k, line), f"call.{k}: '{n}' is not a flow step name")
                    return None
        if not any(lists.values()):
            ctx.add(line, "call needs at least one of seen / missing / not_observable")
            return None
        return CallBlock(where=where, **lists)
    raise AssertionError(kind)


def _extracts(ctx: _Ctx, raw, line: int) -> dict[str, Extract]:
    out: dict[str, Extract] = {}
    if not isinstance(raw, dict):
        ctx.add(line, "'extract' must map names to {from, regex, step, bits}")
        return out
    for name, spec in raw.items():
        eline = _ln(raw, name, line)
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.add(eline, f"extract name {name!r} must be a short lowercase word")
            continue
        if name in KINDS:
            ctx.add(eline, f"extract name '{name}' hides a column; choose another")
            continue
        if not ctx.keys(spec, EXTRACT_KEYS, f"extract '{name}'", eline):
            continue
        col = spec["from"]
        if col not in KINDS:
            ctx.add(_ln(spec, "from", eline), f"extract '{name}': column {col!r} not in the schema")
            continue
        regex = None
        if "regex" in spec:
            regex = compile_regex(spec["regex"], ctx.p, _ln(spec, "regex", eline))
            if regex is None:
                continue
        bits = None
        if "bits" in spec:
            rb = spec["bits"]
            if not isinstance(rb, dict) or not rb:
                ctx.add(_ln(spec, "bits", eline), "'bits' maps bit values (0x200) to meanings")
                continue
            try:
                bits = {(int(k, 16) if isinstance(k, str) else int(k)): str(v) for k, v in rb.items()}
            except (TypeError, ValueError):
                ctx.add(_ln(spec, "bits", eline), "'bits' keys must be numbers like 0x200")
                continue
        step = spec.get("step")
        out[name] = Extract(name=name, column=col, regex=regex, step=step, bits=bits)
    return out


def _check_template(ctx: _Ctx, text: str, line: int, names: set[str], steps: set[str], what: str):
    for fld in _TEMPLATE_FIELD.findall(text):
        base = fld.split(".", 1)
        if len(base) == 2:
            ok = base[0] in steps and base[1] in KINDS
        else:
            ok = fld in KINDS or fld in names
        if not ok:
            ctx.add(line, f"{what}: '{{{fld}}}' is not a column, step.column or extract name")


def _examples(ctx: _Ctx, raw, line: int) -> list[Example]:
    out: list[Example] = []
    if not isinstance(raw, list) or not raw:
        ctx.add(line, "'examples' must be a non-empty list")
        return out
    for i, ex in enumerate(raw):
        eline = _ln(ex, default=_ln(raw, default=line))
        if not ctx.keys(ex, EXAMPLE_KEYS, f"example {i + 1}", eline):
            continue
        expect = ex["expect"]
        if isinstance(expect, bool) or not isinstance(expect, int) or expect < 0:
            ctx.add(_ln(ex, "expect", eline), "'expect' is the number of findings (0, 1, ...)")
            continue
        events = ex["events"]
        if not isinstance(events, list):
            ctx.add(_ln(ex, "events", eline), "'events' must be a list of event mappings")
            continue
        good = True
        for ev in events:
            evline = _ln(ev, default=eline)
            if not isinstance(ev, dict):
                ctx.add(evline, "an example event must be a mapping of column: value")
                good = False
                continue
            bad = [k for k in ev if k not in KINDS and k not in EXAMPLE_ONLY_FIELDS]
            if bad:
                ctx.add(evline, f"example event has columns outside the schema: {bad}")
                good = False
        calls = ex.get("calls")
        if calls is not None and not isinstance(calls, list):
            ctx.add(_ln(ex, "calls", eline), "'calls' must be a list of call mappings")
            good = False
        if good:
            out.append(Example(name=str(ex["name"]), events=[dict(e) for e in events],
                               calls=[_plain(c) for c in calls] if calls is not None else None,
                               expect=expect, line=eline))
    if out and not any(e.expect > 0 for e in out):
        ctx.add(line, "examples need at least one positive example (expect >= 1)")
    if out and not any(e.expect == 0 for e in out):
        ctx.add(line, "examples need at least one negative example (expect: 0)")
    return out


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def load_rule_file(path: Path) -> tuple[Rule | None, list[str]]:
    """One rule file -> (rule or None, ['file:line: message', ...])."""
    ctx = _Ctx(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}:1: cannot read: {exc}"]
    data, problems = load_yaml(text)
    for line, msg in problems:
        ctx.add(line, msg)
    if data is None and not problems:
        ctx.add(1, "empty rule file")
    rule = _build(ctx, data, path) if data is not None else None
    errors = [f"{path}:{line or 1}: {msg}" for line, msg in sorted(ctx.p.items, key=lambda x: x[0])]
    return (rule if not errors else None), errors


def _build(ctx: _Ctx, data, path: Path) -> Rule | None:
    if not ctx.keys(data, RULE_KEYS, "rule", 1):
        if not isinstance(data, dict):
            return None
    rid = data.get("id")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        ctx.add(_ln(data, "id", 1), f"id {rid!r} must be lowercase words joined by '-'")
    elif rid != path.stem:
        ctx.add(_ln(data, "id", 1), f"id '{rid}' differs from the file name '{path.stem}'")
    texts = {}
    for k in ("title", "description", "explanation", "fix", "detail"):
        if k in data:
            v = data[k]
            if not isinstance(v, str) or not v.strip():
                ctx.add(_ln(data, k, 1), f"'{k}' must be a non-empty text")
                v = ""
            texts[k] = v.strip()
    sev = data.get("severity")
    if sev not in SEVERITIES:
        ctx.add(_ln(data, "severity", 1), f"severity {sev!r} must be one of {', '.join(SEVERITIES)}")
    refs = _str_list(ctx, data, "references", 1) if "references" in data else []
    if "references" in data and not refs:
        ctx.add(_ln(data, "references", 1), "a rule needs at least one reference")
    tags = _str_list(ctx, data, "tags", 1) if "tags" in data else []
    blocks = []
    present = [k for k in BLOCK_TYPES if k in data]
    if not present:
        ctx.add(1, f"a rule needs at least one of {', '.join(BLOCK_TYPES)}")
    for kind in present:
        b = _block(ctx, kind, data[kind], _ln(data, kind, 1))
        if b is not None:
            blocks.append(b)
    step_names: set[str] = set()
    key_names: set[str] = set()
    for b in blocks:
        for st in getattr(b, "steps", []) + [getattr(b, x, None) for x in ("missing", "counted", "for_each")]:
            if isinstance(st, Step):
                key_names |= set(st.keys)
        if isinstance(b, (SequenceBlock, AbsentBlock)):
            step_names |= {s.name for s in b.steps}
        if isinstance(b, AbsentBlock):
            step_names.add(b.missing.name)
        if isinstance(b, CountBlock):
            step_names |= {"counted"} | ({b.for_each.name} if b.for_each else set())
    step_names.add("event")
    extract = _extracts(ctx, data["extract"], _ln(data, "extract", 1)) if "extract" in data else {}
    for ex in extract.values():
        if ex.step is not None and ex.step not in step_names:
            ctx.add(_ln(data, "extract", 1), f"extract '{ex.name}': no step named '{ex.step}'")
    for k in ("explanation", "fix", "detail"):
        if texts.get(k):
            _check_template(ctx, texts[k], _ln(data, k, 1), set(extract) | key_names, step_names, k)
    evidence = _str_list(ctx, data, "evidence", 1) if "evidence" in data else []
    for n in evidence:
        if n not in step_names:
            ctx.add(_ln(data, "evidence", 1), f"evidence: no step named '{n}'")
    requires = None
    if "requires" in data:
        requires = compile_predicate(data["requires"], KINDS, ctx.p, _ln(data, "requires", 1))
    examples = _examples(ctx, data.get("examples"), _ln(data, "examples", 1)) if "examples" in data else []
    if ctx.p.items:
        return None
    return Rule(
        id=rid, title=texts["title"], severity=sev, description=texts["description"],
        explanation=texts["explanation"], fix=texts["fix"], references=refs, tags=tags,
        blocks=blocks, detail=texts.get("detail", ""), extract=extract, requires=requires,
        evidence=evidence, examples=examples, file=str(path), line=1,
    )


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_rules(dirs: Sequence[Path]) -> RuleSet:
    """Load every rule file of every dir; later dirs add rules or replace them by id.

    Raises RuleError listing all problems of all files at once."""
    errors: list[str] = []
    by_id: dict[str, Rule] = {}
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            errors.append(f"{d}:1: not a directory")
            continue
        seen_here: dict[str, Path] = {}
        for path in rule_files(d):
            rule, errs = load_rule_file(path)
            errors.extend(errs)
            if rule is None:
                continue
            if rule.id in seen_here:
                errors.append(f"{path}:1: id '{rule.id}' also defined in {seen_here[rule.id]}")
                continue
            seen_here[rule.id] = path
            if rule.id in by_id:
                by_id[rule.id] = rule  # replaced in place: keeps the catalogue order
            else:
                by_id[rule.id] = rule
    if errors:
        raise RuleError(errors)
    return RuleSet(rules=list(by_id.values()), sources=[Path(d) for d in dirs])
