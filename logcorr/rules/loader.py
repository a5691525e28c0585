"""Loading rule files: validate everything, collect every problem with file:line, compile once."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from .blocks import BLOCKS, KINDS, NAME_RE, _Ctx, _ln, _str_list, load_block
from .model import (
    FLOW_STEPS, SEVERITIES, AbsentBlock, CountBlock, Example, Extract, Rule, RuleError, RuleSet, SequenceBlock,
    Step,
)
from .predicates import compile_predicate, compile_regex
from .yamlio import load_yaml

EXAMPLE_ONLY_FIELDS = ("t",)  # seconds after 2000-01-01T00:00:00Z, a shorthand for ts
EXAMPLE_BASE = pd.Timestamp("2000-01-01T00:00:00Z")

# Every key the format knows, per level (the blocks' own in blocks.py). rules/schema.json must say
# the same (tested).
RULE_KEYS = {
    "id": True, "title": True, "severity": True, "description": True, "explanation": True,
    "fix": True, "references": True, "tags": True, "examples": True,
    "detail": False, "extract": False, "requires": False, "evidence": False,
    "match": False, "sequence": False, "absent": False, "count": False, "call": False,
    "explains": False, "outranks": False, "fact": False,
}  # name -> required
BLOCK_TYPES = tuple(BLOCKS)
EXTRACT_KEYS = {"from": True, "regex": False, "step": False, "bits": False}
EXAMPLE_KEYS = {"name": True, "expect": True, "events": True, "calls": False}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")
FACT_SENTENCES = re.compile(r"[.!?;]\s+\S")  # a second sentence (or clause) after the first


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


def _example_events(ctx: _Ctx, events, eline: int) -> bool:
    """True when `events` is a list of mappings of event columns."""
    if not isinstance(events, list):
        ctx.add(eline, "'events' must be a list of event mappings")
        return False
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
    return good


def _example(ctx: _Ctx, ex, i: int, eline: int) -> Example | None:
    if not ctx.keys(ex, EXAMPLE_KEYS, f"example {i + 1}", eline):
        return None
    expect = ex["expect"]
    if isinstance(expect, bool) or not isinstance(expect, int) or expect < 0:
        ctx.add(_ln(ex, "expect", eline), "'expect' is the number of findings (0, 1, ...)")
        return None
    events = ex["events"]
    if not _example_events(ctx, events, _ln(ex, "events", eline)):
        return None
    calls = ex.get("calls")
    if calls is not None and not isinstance(calls, list):
        ctx.add(_ln(ex, "calls", eline), "'calls' must be a list of call mappings")
        return None
    return Example(name=str(ex["name"]), events=[dict(e) for e in events],
                   calls=[_plain(c) for c in calls] if calls is not None else None,
                   expect=expect, line=eline)


def _examples(ctx: _Ctx, raw, line: int) -> list[Example]:
    if not isinstance(raw, list) or not raw:
        ctx.add(line, "'examples' must be a non-empty list")
        return []
    out = [_example(ctx, ex, i, _ln(ex, default=_ln(raw, default=line))) for i, ex in enumerate(raw)]
    out = [e for e in out if e is not None]
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


def _texts(ctx: _Ctx, data) -> dict[str, str]:
    texts = {}
    for k in ("title", "description", "explanation", "fix", "detail", "fact"):
        if k in data:
            v = data[k]
            if not isinstance(v, str) or not v.strip():
                ctx.add(_ln(data, k, 1), f"'{k}' must be a non-empty text")
                v = ""
            texts[k] = v.strip()
    return texts


def _header(ctx: _Ctx, data, path: Path) -> None:
    """id, severity and references (what the rule object takes as is)."""
    rid = data.get("id")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        ctx.add(_ln(data, "id", 1), f"id {rid!r} must be lowercase words joined by '-'")
    elif rid != path.stem:
        ctx.add(_ln(data, "id", 1), f"id '{rid}' differs from the file name '{path.stem}'")
    sev = data.get("severity")
    if sev not in SEVERITIES:
        ctx.add(_ln(data, "severity", 1), f"severity {sev!r} must be one of {', '.join(SEVERITIES)}")
    if "references" in data and not _str_list(ctx, data, "references", 1):
        ctx.add(_ln(data, "references", 1), "a rule needs at least one reference")


def _ranking(ctx: _Ctx, data) -> tuple[list[str], list[str]]:
    """`explains`: the flow steps whose absence the rule explains; `outranks`: other rules' ids it goes
    before when both explain the same step of a call (a rule not loaded is simply never met)."""
    explains = _str_list(ctx, data, "explains", 1) if "explains" in data else []
    unknown = [s for s in explains if s not in FLOW_STEPS]
    if unknown:
        ctx.add(_ln(data, "explains", 1), f"explains: {unknown} not flow steps ({', '.join(FLOW_STEPS)})")
    outranks = _str_list(ctx, data, "outranks", 1) if "outranks" in data else []
    bad = [r for r in outranks if not ID_RE.match(r) or r == data.get("id")]
    if bad:
        ctx.add(_ln(data, "outranks", 1), f"outranks: {bad} are not other rules' ids")
    if outranks and not explains:
        ctx.add(_ln(data, "outranks", 1), "outranks needs explains: a rule outranks others on a step it explains")
    return explains, outranks


def _blocks(ctx: _Ctx, data) -> list:
    present = [k for k in BLOCK_TYPES if k in data]
    if not present:
        ctx.add(1, f"a rule needs at least one of {', '.join(BLOCK_TYPES)}")
    blocks = [load_block(ctx, kind, data[kind], _ln(data, kind, 1)) for kind in present]
    return [b for b in blocks if b is not None]


def _names(blocks: list) -> tuple[set[str], set[str]]:
    """(step names, key names) the blocks define; `event` names the matched event."""
    step_names: set[str] = {"event"}
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
    return step_names, key_names


def _references_to_steps(ctx: _Ctx, data, texts, extract, step_names, key_names) -> list[str]:
    """Templates, extracts and evidence name only steps, keys, extracts and columns; the evidence."""
    for ex in extract.values():
        if ex.step is not None and ex.step not in step_names:
            ctx.add(_ln(data, "extract", 1), f"extract '{ex.name}': no step named '{ex.step}'")
    if FACT_SENTENCES.search(texts.get("fact", "")):
        ctx.add(_ln(data, "fact", 1), "fact: one sentence (what was seen), no second one")
    for k in ("explanation", "fix", "detail", "fact"):
        if texts.get(k):
            _check_template(ctx, texts[k], _ln(data, k, 1), set(extract) | key_names, step_names, k)
    evidence = _str_list(ctx, data, "evidence", 1) if "evidence" in data else []
    for n in evidence:
        if n not in step_names:
            ctx.add(_ln(data, "evidence", 1), f"evidence: no step named '{n}'")
    return evidence


def _build(ctx: _Ctx, data, path: Path) -> Rule | None:
    if not ctx.keys(data, RULE_KEYS, "rule", 1) and not isinstance(data, dict):
        return None
    _header(ctx, data, path)
    texts = _texts(ctx, data)
    tags = _str_list(ctx, data, "tags", 1) if "tags" in data else []
    blocks = _blocks(ctx, data)
    step_names, key_names = _names(blocks)
    extract = _extracts(ctx, data["extract"], _ln(data, "extract", 1)) if "extract" in data else {}
    evidence = _references_to_steps(ctx, data, texts, extract, step_names, key_names)
    requires = None
    if "requires" in data:
        requires = compile_predicate(data["requires"], KINDS, ctx.p, _ln(data, "requires", 1))
    examples = _examples(ctx, data.get("examples"), _ln(data, "examples", 1)) if "examples" in data else []
    explains, outranks = _ranking(ctx, data)
    if ctx.p.items:
        return None
    return Rule(
        id=data["id"], title=texts["title"], severity=data["severity"], description=texts["description"],
        explanation=texts["explanation"], fix=texts["fix"], references=list(data["references"]),
        tags=tags, blocks=blocks, detail=texts.get("detail", ""), extract=extract,
        requires=requires, evidence=evidence, examples=examples, file=str(path), line=1,
        explains=explains, outranks=outranks, fact=texts.get("fact", ""),
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
