"""The rule model: what a loaded rule is (a finding is in logcorr.model)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import FLOW_STEPS, Severity  # noqa: F401 (FLOW_STEPS: the step names a call block may name)
from .predicates import Node

SEVERITIES = tuple(Severity)
CALL_FIELDS = {"call_id": "str", "media": "str", "stage": "str", "summary": "str"}


class RuleError(Exception):
    """Every problem found while loading rules, each as ``file:line: message``."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} problem(s) in rules:\n" + "\n".join(self.errors))


@dataclass(frozen=True)
class KeySpec:
    """Where a join key's value comes from in one step's events."""

    column: str = ""  # a column ...
    split: str | None = None  # ... optionally a list in one cell (one key value per item)
    regex: re.Pattern | None = None  # ... optionally narrowed to group 1 of a regex
    pair: tuple[str, str] | None = None  # or two columns as an unordered pair (either direction)


@dataclass
class Step:
    name: str
    where: Node
    keys: dict[str, KeySpec]
    within: pd.Timedelta | None = None  # at most this long after the previous step
    after: pd.Timedelta | None = None  # at least this long after the previous step
    line: int = 0
    first_per: list[str] = field(default_factory=list)  # only the first event per these columns


@dataclass
class MatchBlock:
    where: Node
    once_per: list[str] = field(default_factory=list)
    first_per: list[str] = field(default_factory=list)  # first event (of where) per these columns
    having: Node | None = None  # ... which must also satisfy this
    kind: str = "match"


@dataclass
class SequenceBlock:
    steps: list[Step]
    once_per: list[str] = field(default_factory=list)
    kind: str = "sequence"


@dataclass
class AbsentBlock:
    steps: list[Step]
    missing: Step  # the step that must not follow
    once_per: list[str] = field(default_factory=list)
    kind: str = "absent"


@dataclass
class CountBlock:
    counted: Step  # the events counted, with their keys
    for_each: Step | None  # the population (needed for at_most)
    within: pd.Timedelta | None
    at_least: int | None
    at_most: int | None
    once_per: list[str] = field(default_factory=list)
    kind: str = "count"


@dataclass
class CallBlock:
    where: Node | None
    seen: list[str]
    missing: list[str]
    not_observable: list[str]
    kind: str = "call"


@dataclass
class Extract:
    name: str
    column: str
    regex: re.Pattern | None
    step: str | None
    bits: dict[int, str] | None


@dataclass
class Example:
    name: str
    events: list[dict]
    calls: list[dict] | None
    expect: int
    line: int


@dataclass
class Rule:
    id: str
    title: str
    severity: str
    description: str
    explanation: str
    fix: str
    references: list[str]
    tags: list[str]
    blocks: list
    detail: str = ""
    extract: dict[str, Extract] = field(default_factory=dict)
    requires: Node | None = None
    evidence: list[str] = field(default_factory=list)  # step names to cite; empty = all
    examples: list[Example] = field(default_factory=list)
    file: str = ""
    line: int = 0
    explains: list[str] = field(default_factory=list)  # flow steps whose absence this rule explains
    outranks: list[str] = field(default_factory=list)  # rule ids this one goes before as a cause
    fact: str = ""  # what was seen, no cause: the text of a finding that is another's consequence


@dataclass
class RuleSet:
    rules: list[Rule]
    sources: list[Path] = field(default_factory=list)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]
