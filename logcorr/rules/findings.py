"""Turning hits into findings: evidence, call attribution, templates, extracted details."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .engine import Hit
from ..model import Call, Evidence, Finding, Severity, iso
from .model import CALL_FIELDS, Extract, Rule
from .predicates import View

_FIELD = re.compile(r"\{([^{}]*)\}")
HEX_COLUMNS = {"connection_id"}  # shown as the RFC and Wireshark show them (0x5688b600)


def _value(view: View, col: str, row: int) -> str:
    v = view.take(col, row)
    kind = view.kinds.get(col)
    if kind == "int":
        if np.isnan(v):
            return ""
        return f"{int(v):#x}" if col in HEX_COLUMNS else str(int(v))
    if kind == "datetime":
        return "" if np.isnat(v) else iso(pd.Timestamp(v, tz="UTC"))
    return "" if v is None else str(v)


def _evidence(view: View, row: int) -> Evidence:
    pos = view.array("pos")[row]
    summary = _value(view, "summary", row) or _value(view, "event", row)
    return Evidence(file=_value(view, "file", row), pos=None if np.isnan(pos) else int(pos),
                    summary=summary)


def _decode_bits(text: str, bits: dict[int, str]) -> str:
    try:
        n = int(text, 16)
    except ValueError:
        return text
    parts, rest = [], n
    for bit in sorted(bits):
        if n & bit:
            parts.append(f"{bit:#x} {bits[bit]}")
            rest &= ~bit
    if rest:
        parts.append(f"{rest:#x} (not decoded)")
    return f"{n:#x}: " + "; ".join(parts) if parts else f"{n:#x}"


def _extract(view: View, ex: Extract, cited: list[tuple[str, int]]) -> str:
    rows = [r for name, r in cited if ex.step is None or name == ex.step]
    for row in reversed(rows):  # the latest step is usually the telling one
        text = _value(view, ex.column, row)
        if not text:
            continue
        if ex.regex is None:
            value = text
        else:
            m = ex.regex.search(text)
            if not m:
                continue
            value = m.group(1) if m.groups() else m.group(0)
        return _decode_bits(value, ex.bits) if ex.bits else value
    return ""


def _render(template: str, lookup) -> str:
    if not template:
        return ""
    return _FIELD.sub(lambda m: lookup(m.group(1)), template)


def _cited(rule: Rule, hit: Hit) -> list[tuple[str, int]]:
    if rule.evidence:
        chosen = [(n, r) for n, r in hit.rows if n in rule.evidence]
        if chosen:
            return chosen
    return hit.rows


def make_finding(rule: Rule, hit: Hit, view: View) -> Finding:
    if hit.call is not None:
        return _call_finding(rule, hit)
    cited = _cited(rule, hit)
    rows = [r for _, r in cited]
    call_id = next((v for v in (_value(view, "call_id", r) for r in rows) if v), "")
    stamps = [view.array("ts")[r] for r in rows]
    stamps = [s for s in stamps if not np.isnat(s)]
    ts = pd.Timestamp(max(stamps), tz="UTC") if stamps else None
    cache: dict[str, str] = {}

    def lookup(name: str) -> str:
        if name in cache:
            return cache[name]
        if name in rule.extract:
            val = _extract(view, rule.extract[name], hit.rows)
        elif name in hit.keys:
            key = hit.keys[name]
            val = f"{int(key):#x}" if name in HEX_COLUMNS and str(key).isdigit() else str(key)
        elif "." in name:
            step, col = name.split(".", 1)
            val = next((_value(view, col, r) for n, r in hit.rows if n == step), "")
        else:
            # latest cited event first: in a sequence the last step is the telling one
            val = next((v for v in (_value(view, name, r) for _, r in reversed(hit.rows)) if v), "")
        cache[name] = val
        return val

    return Finding(
        rule=rule.id, severity=Severity(rule.severity), title=rule.title, call_id=call_id, ts=ts,
        explanation=_render(rule.explanation, lookup), fix=_render(rule.fix, lookup),
        evidence=[_evidence(view, r) for r in rows], detail=_render(rule.detail, lookup).strip(),
        fact=_render(rule.fact, lookup).strip(),
    )


def _call_finding(rule: Rule, hit: Hit) -> Finding:
    call: Call = hit.call
    evidence = [e for step in hit.call_steps for e in step.evidence]
    stamps = [_utc(step.ts) for step in hit.call_steps if step.ts is not None]
    ts = max(stamps) if stamps else (_utc(call.start) if call.start is not None else None)

    def lookup(name: str) -> str:
        return str(getattr(call, name) or "") if name in CALL_FIELDS else ""

    return Finding(
        rule=rule.id, severity=Severity(rule.severity), title=rule.title, call_id=call.call_id,
        ts=ts, explanation=_render(rule.explanation, lookup), fix=_render(rule.fix, lookup),
        evidence=list(evidence), detail=_render(rule.detail, lookup).strip(),
        fact=_render(rule.fact, lookup).strip(),
    )


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
