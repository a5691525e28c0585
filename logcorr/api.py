"""The library API behind the CLI: path in, diagnosis out (bytes -> events -> calls -> findings)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from . import rules as rules_stage
from .calls import clocks, flow, hosts, verdict
from .events.read import Progress, read_bundle
from .model import Diagnosis, ReadResult
from .rules import default_rules_dir, load_rules


def rule_dirs(extra: Sequence[Path | str] = ()) -> list[Path]:
    """The shipped rules, then each --rules folder (which adds rules or replaces them by id)."""
    return [default_rules_dir(), *(Path(d) for d in extra)]


def read(path: str | Path, tz: str | None = None, progress: Progress | None = None) -> ReadResult:
    """The events stage: every file under `path` read; `progress` is told the files and bytes read."""
    return read_bundle(path, tz=tz, progress=progress)


def events(path: str | Path, tz: str | None = None, progress: Progress | None = None) -> ReadResult:
    """The event table of a bundle, on one clock: with `ts_aligned`, ordered by it."""
    result = read(path, tz=tz, progress=progress)
    return replace(result, events=clocks.aligned(result.events)[1])


def diagnose(path: str | Path, tz: str | None = None, rules: Sequence[Path | str] = (),
             progress: Progress | None = None) -> Diagnosis:
    ruleset = load_rules(rule_dirs(rules))
    result = read(path, tz=tz, progress=progress)
    source_clocks, table = clocks.aligned(result.events)
    result = replace(result, events=table)  # the table as read let go: one table lives on, not two
    calls = flow.build(table)
    findings = rules_stage.apply(ruleset, table, calls)
    flow.attribute(findings, calls, table)
    findings, overall = verdict.decide(calls, findings, ruleset)
    return Diagnosis(read=result, clocks=source_clocks, hosts=hosts.survey(table),
                     calls=calls, findings=findings, rules=ruleset, verdict=overall)
