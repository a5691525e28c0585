"""Running a rule set over the event table."""
from __future__ import annotations

import pandas as pd

from logcorr.events import schema

from .engine import run_block
from .findings import make_finding
from .model import Finding, RuleSet
from .predicates import View

KINDS = {c.name: c.kind for c in schema.COLUMNS}
_ORDER = {"error": 0, "warning": 1, "info": 2}


def evaluate(ruleset: RuleSet, events: pd.DataFrame, calls: list[dict] | None = None) -> list[Finding]:
    """Findings of every rule, ordered by time (then severity, rule id)."""
    if any(name not in events.columns for name in schema.NAMES):
        events = schema.coerce(events)  # a partial table: add the missing columns, typed
    view = View(events.reset_index(drop=True), KINDS)
    findings: list[Finding] = []
    for rule in ruleset.rules:
        if rule.requires is not None and not rule.requires.mask(view).any():
            continue
        for block in rule.blocks:
            for hit in run_block(block, view, calls):
                findings.append(make_finding(rule, hit, view))
    far = pd.Timestamp.max.tz_localize("UTC")
    findings.sort(key=lambda f: (f.ts if f.ts is not None else far, _ORDER[f.severity], f.rule))
    return findings
