"""The Sources sheet: every file of the bundle, what it gave, and what ran over it."""
from __future__ import annotations

from ...model import Diagnosis
from .cells import BOLD, SEVERITY_FILL, Sheet

HEADER = ["file", "kind", "events", "skipped", "skipped by reason", "warnings"]
WIDTHS = [70, 12, 9, 9, 36, 60]
WARNINGS_SHOWN = 5


def write(wb, d: Diagnosis, case: str) -> None:
    s = Sheet(wb, "Sources", WIDTHS, case)
    s.header(HEADER)
    for src in d.read.sources:
        reasons = "\n".join(f"{n} {why}" for why, n in src.skip_reasons.items())
        shown = src.warnings[:WARNINGS_SHOWN]
        more = max(src.warning_count, len(src.warnings)) - len(shown)
        warnings = "\n".join(shown + ([f"... {more} more"] if more > 0 else []))
        s.row([src.file, src.kind, src.events, src.skipped, reasons, warnings])
    for sk in d.read.skipped:
        s.row([sk.name, s.cell("not read", fill_=SEVERITY_FILL["warning"]), 0, None, sk.reason])
    s.autofilter()
    s.row([None])
    s.row([s.cell("What ran", font=BOLD)])
    s.row(["logcorr version", d.version])
    for note in d.read.notes:
        s.row(["note", None, None, None, note])
        s.merge(5, 6)
    rules = list(d.rules) if d.rules is not None else []
    s.row([f"rules ({len(rules)})", None, None, None, "rule files: " + ", ".join(str(p) for p in d.rules.sources)
           if d.rules is not None else ""])
    s.merge(5, 6)
    for r in rules:
        s.row([r.id, r.severity, None, None, r.title])
        s.merge(5, 6)
