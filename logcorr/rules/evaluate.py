"""Running a rule set over the event table and the calls."""
from __future__ import annotations

import pandas as pd

from logcorr.events import schema

from ..model import Call, Finding
from .engine import run_block
from .findings import make_finding
from .model import RuleSet
from .predicates import View

KINDS = {c.name: c.kind for c in schema.COLUMNS}


def evaluate(ruleset: RuleSet, events: pd.DataFrame, calls: list[Call] | None = None) -> list[Finding]:
    """Findings of every rule, ordered by time (then severity, worst first, and rule id)."""
    if schema.missing(events):
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
    findings.sort(key=lambda f: (f.ts if f.ts is not None else far, -f.severity.rank, f.rule))
    return findings


def apply(ruleset: RuleSet, events: pd.DataFrame, calls: list[Call]) -> list[Finding]:
    """The findings of a bundle, worst first: rules compare times across sources, so they read
    the aligned clock (`ts_aligned`) as `ts`."""
    if "ts_aligned" in events:
        events = events.assign(ts=events["ts_aligned"])
    return worst_first(evaluate(ruleset, events, calls))


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then infos; each in time order (to the millisecond)."""
    def key(f: Finding):
        return -f.severity.rank, f.ts is not None, f.ts.floor("ms") if f.ts is not None else 0

    return sorted(findings, key=key)
