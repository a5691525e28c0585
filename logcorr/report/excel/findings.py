"""The Findings sheet: what fired, worst and causes first, each consequence under its cause.

One row per finding, then one row per further evidence item; every evidence item links to its row
in the Timeline sheet.
"""
from __future__ import annotations

from openpyxl.styles import Alignment

from ...model import Diagnosis, Finding
from .cells import SEVERITY_FILL, WRAP, Sheet
from .timeline import Timeline

HEADER = ["severity", "rule", "title", "call", "time (UTC)", "explanation", "fix", "references", "evidence"]
WIDTHS = [10, 24, 30, 18, 21, 52, 42, 24, 44]
INDENTED = Alignment(wrap_text=True, vertical="top", indent=2)


def ordered(findings: list[Finding]) -> list[tuple[Finding, int]]:
    """(finding, depth): causes and unexplained findings by severity (worst first) then time, each
    followed by the consequences it explains (depth 1)."""
    def key(f: Finding):
        return (-f.severity.rank, f.ts is None, f.ts if f.ts is not None else 0, f.rule)

    tops = [f for f in findings if f.role != "consequence" or not f.explained_by]
    under = [f for f in findings if f not in tops]
    out: list[tuple[Finding, int]] = []
    for top in sorted(tops, key=key):
        out.append((top, 0))
        mine = [f for f in under if f.explained_by == top.rule and f.call_id in ("", top.call_id)]
        out += [(f, 1) for f in sorted(mine, key=key)]
        under = [f for f in under if f not in mine]
    out += [(f, 1) for f in sorted(under, key=key)]  # a consequence whose cause did not fire here
    return out


def write(wb, d: Diagnosis, timeline: Timeline, case: str) -> None:
    s = Sheet(wb, "Findings", WIDTHS, case, freeze="C2")
    s.header(HEADER)
    if not d.findings:
        s.row(["none", "no rule fired"])
    for f, depth in ordered(d.findings):
        rule = d.rules.get(f.rule) if d.rules is not None else None
        refs = "\n".join(rule.references) if rule is not None else ""
        tone = SEVERITY_FILL.get(str(f.severity))
        title = f.title + (f" ({f.detail})" if f.detail else "")
        role = {"cause": "cause", "consequence": f"consequence of {f.explained_by}" if f.explained_by else "consequence"}
        label = f"↳ {title}" if depth else title
        if f.role in role:
            label += f"\n[{role[f.role]}]"
        first, *rest = f.evidence or [None]
        s.row([s.cell(f.severity.upper(), fill_=tone), s.cell(f.rule, align=INDENTED if depth else WRAP),
               s.cell(label, align=INDENTED if depth else WRAP), f.call_id, f.ts, f.explanation, f.fix, refs,
               _evidence(s, first, timeline)])
        for e in rest:
            s.row([s.cell(None, fill_=tone)] + [None] * 7 + [_evidence(s, e, timeline)])
    s.autofilter()


def _evidence(s: Sheet, e, timeline: Timeline):
    if e is None:
        return None
    text = f"{e.file}:{e.pos}  {e.summary}"
    return s.cell(text, link=timeline.link(e.file, e.pos))
