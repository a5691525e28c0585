"""`rules check`: validate rule files and run every embedded example."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from logcorr.events import schema

from ..model import Call, Evidence, Step
from .evaluate import evaluate
from .loader import EXAMPLE_BASE, load_rules
from .model import Example, Rule, RuleError, RuleSet


def example_frame(example: Example) -> pd.DataFrame:
    """An example's events as the event table; `t` (seconds) is a shorthand for ts."""
    records = []
    for i, ev in enumerate(example.events):
        rec = {k: v for k, v in ev.items() if k != "t"}
        if "t" in ev and "ts" not in ev:
            rec["ts"] = EXAMPLE_BASE + pd.Timedelta(seconds=float(ev["t"]))
        rec.setdefault("file", "example")
        rec.setdefault("pos", i + 1)
        records.append(rec)
    return schema.to_frame(records)


def example_calls(example: Example) -> list[Call] | None:
    """An example's calls, written as `diagnose --json` shows them, as Call objects."""
    if example.calls is None:
        return None
    return [_call(c) for c in example.calls]


def _call(mapping: dict) -> Call:
    steps = [Step(name=str(s.get("step", "")), state=s.get("state", "missing"), ts=_time(s.get("ts")),
                  evidence=[Evidence(file=str(e.get("file", "")), pos=e.get("pos"),
                                     summary=str(e.get("summary", ""))) for e in s.get("evidence") or []],
                  note=str(s.get("note") or ""))
             for s in mapping.get("steps") or []]
    return Call(call_id=str(mapping.get("call_id") or ""), media=str(mapping.get("media") or ""),
                start=_time(mapping.get("start")), stage=str(mapping.get("stage") or ""),
                summary=str(mapping.get("summary") or ""), steps=steps)


def _time(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def run_example(rule: Rule, example: Example) -> str | None:
    """None when the example gives the expected number of findings, else what went wrong."""
    try:
        events = example_frame(example)
        findings = evaluate(RuleSet(rules=[rule]), events, example_calls(example))
    except Exception as exc:  # a broken example is a failure to report, not a crash
        return f"{rule.file}:{example.line}: example '{example.name}' raised {type(exc).__name__}: {exc}"
    if len(findings) != example.expect:
        got = "; ".join(f.detail or (f.evidence[0].summary if f.evidence else "") for f in findings)
        return (f"{rule.file}:{example.line}: example '{example.name}' expected {example.expect} "
                f"finding(s), got {len(findings)}" + (f" ({got})" if got else ""))
    return None


def check_rules(dirs: Sequence[Path]) -> list[str]:
    """Every problem: load errors of all files, then rules without a `fact` and every example that
    does not hold."""
    try:
        ruleset = load_rules([Path(d) for d in dirs])
    except RuleError as err:
        return list(err.errors)
    failures = []
    for rule in ruleset.rules:
        if not rule.fact:
            failures.append(f"{rule.file}:{rule.line}: no 'fact': when this rule's finding is a consequence "
                            "of another's cause, only its explanation's first sentence could be shown")
        for example in rule.examples:
            problem = run_example(rule, example)
            if problem:
                failures.append(problem)
    return failures
