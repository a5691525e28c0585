"""Rules as data: YAML files in rules/, loaded, checked against their examples, evaluated.

Public API: default_rules_dir, load_rules, RuleSet, Rule, RuleError, evaluate, apply,
worst_first, check_rules (findings are logcorr.model.Finding).
"""
from __future__ import annotations

from pathlib import Path

from .check import check_rules
from .evaluate import apply, evaluate, worst_first
from .loader import load_rules
from ..model import Evidence, Finding
from .model import Rule, RuleError, RuleSet


def default_rules_dir() -> Path:
    """The shipped catalogue: logcorr/_rules in a wheel, else the repository's rules/."""
    pkg = Path(__file__).resolve().parent.parent  # the logcorr package (namespace-safe)
    installed = pkg / "_rules"
    if installed.is_dir():
        return installed
    return pkg.parent / "rules"


__all__ = [
    "default_rules_dir", "load_rules", "RuleSet", "Rule", "RuleError", "evaluate", "apply",
    "worst_first", "Finding", "Evidence", "check_rules",
]
