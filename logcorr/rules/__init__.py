"""Rules as data: YAML files in rules/, loaded, checked against their examples, evaluated.

Public API: default_rules_dir, checked_rules_dir, load_rules, RuleSet, Rule, RuleError, evaluate, apply,
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


def _checkout(folder: Path) -> Path | None:
    """The logcorr checkout holding `folder` (its pyproject names logcorr and it has rules/)."""
    for top in (folder, *folder.parents):
        project = top / "pyproject.toml"
        try:
            named = project.is_file() and 'name = "logcorr"' in project.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            named = False
        if named and (top / "rules").is_dir():
            return top
    return None


def checked_rules_dir(cwd: Path | None = None) -> Path:
    """What `rules check` checks without a folder: the rules/ of the checkout the working directory
    is in, else of the checkout logcorr runs from (an editable install), else the shipped ones."""
    for start in (Path.cwd() if cwd is None else cwd, Path(__file__).resolve().parent):
        top = _checkout(start.resolve())
        if top is not None:
            return top / "rules"
    return default_rules_dir()


__all__ = [
    "checked_rules_dir", "default_rules_dir", "load_rules", "RuleSet", "Rule", "RuleError", "evaluate", "apply",
    "worst_first", "Finding", "Evidence", "check_rules",
]
