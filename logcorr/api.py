"""The library API behind the CLI: path in, diagnosis out (bytes -> events -> calls -> findings)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from .calls import flow as calls_stage
from .calls import clocks as clock_stage
from .calls import hosts
from .events.read import ReadResult, read_bundle
from .rules import Finding, RuleSet, default_rules_dir, evaluate, load_rules

SEVERITIES = ("info", "warning", "error")


@dataclass
class Diagnosis:
    read: ReadResult
    calls: list[dict]
    clocks: list[dict]
    findings: list[Finding]
    rules: RuleSet
    roles: dict[str, str]

    @property
    def events(self) -> pd.DataFrame:
        return self.read.events

    def worst(self) -> str | None:
        levels = [SEVERITIES.index(f.severity) for f in self.findings if f.severity in SEVERITIES]
        return SEVERITIES[max(levels)] if levels else None

    def to_json(self) -> dict:
        return {
            "input": self.read.input,
            "sources": [s.to_dict() for s in self.read.sources],
            "clocks": self.clocks,
            "calls": [_call_json(calls_stage.public(c)) for c in self.calls],
            "findings": [f.to_dict() for f in self.findings],
        }


def iso(ts) -> str | None:
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and pd.isna(ts)):
        return None
    ts = pd.Timestamp(ts)
    if pd.isna(ts):
        return None
    ts = ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _call_json(call: dict) -> dict:
    out = dict(call)
    out["start"] = iso(call.get("start"))
    out["steps"] = [{**s, "ts": iso(s.get("ts"))} for s in call.get("steps", [])]
    return out


def rule_dirs(extra: Sequence[Path | str] = ()) -> list[Path]:
    """The shipped rules, then each --rules folder (which adds rules or replaces them by id)."""
    return [default_rules_dir(), *(Path(d) for d in extra)]


def read(path: str | Path, tz: str | None = None) -> ReadResult:
    return read_bundle(path, tz=tz)


def align(result: ReadResult) -> list[clock_stage.Clock]:
    """Estimate each source's clock offset; the table gains `ts_aligned` and is ordered by it."""
    clocks = clock_stage.estimate(result.events)
    events = result.events.assign(ts_aligned=clock_stage.align(result.events, clocks))
    result.events = events.sort_values("ts_aligned", kind="stable").reset_index(drop=True)
    return clocks


def diagnose(path: str | Path, tz: str | None = None, rules: Sequence[Path | str] = ()) -> Diagnosis:
    ruleset = load_rules(rule_dirs(rules))
    result = read(path, tz=tz)
    clocks = align(result)
    events = result.events
    calls = calls_stage.build(events)
    public_calls = [_call_json(calls_stage.public(c)) for c in calls]
    # rules compare times across sources: they see the aligned clock
    findings = evaluate(ruleset, events.assign(ts=events["ts_aligned"]), public_calls)
    calls_stage.attribute(findings, calls)
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), iso(f.ts) or ""))
    return Diagnosis(read=result, calls=calls, clocks=[c.to_dict() for c in clocks],
                     findings=findings, rules=ruleset, roles=hosts.roles(events))
