"""The Summary sheet: the verdict banner first, then counts, time span, clocks, hosts and roles.

Meant to print on one landscape page for a normal case: four columns, the long texts merged over
the three right ones.
"""
from __future__ import annotations

from openpyxl.styles import Font

from ...model import Diagnosis, Severity
from .calls import call_verdict
from .cells import BOLD, SEVERITY_BANNER, SEVERITY_FILL, STATE_FILL, TITLE, TIME_FORMAT, Sheet, lines_needed
from .findings import ordered

WIDTHS = [22, 26, 44, 60]
WHITE = Font(bold=True, color="FFFFFF", size=12)
SUMMARY_CALLS = 10


def write(wb, d: Diagnosis, case: str) -> None:
    s = Sheet(wb, "Summary", WIDTHS, case, header_rows=0, freeze=None)
    s.row([s.cell("logcorr diagnosis", font=TITLE), s.cell(case, font=TITLE)], height=22)
    s.merge(2, 4)
    _banner(s, d)
    _calls(s, d)
    s.row([None])
    _counts(s, d)
    _span(s, d)
    _section(s, "Clocks", [(c.source, c.summary()) for c in d.clocks] or [("", "no clock")])
    _section(s, "Hosts and roles", [(h.role, ", ".join(h.addresses) + (f" ({h.name})" if h.name else ""))
                                    for h in d.hosts] or [("", "no host recognised")])
    s.row([s.cell(f"logcorr {d.version}; {len(d.rules) if d.rules is not None else 0} rules; "
                  "details in the Findings, Calls, Ladder, TURN, Timeline and Sources sheets",
                  font=Font(italic=True, size=9, color="595959"))])
    s.merge(1, 4)


def _wide(s: Sheet, label, text, label_style: dict, text_style: dict) -> None:
    """A row whose text spans columns B..D."""
    height = lines_needed(text, sum(WIDTHS[1:]) * 0.95) * 16
    s.row([s.cell(label, **label_style), s.cell(text, **text_style), s.cell(None, **text_style),
           s.cell(None, **text_style)], height=max(height, 18))
    s.merge(2, 4)


def _banner(s: Sheet, d: Diagnosis) -> None:
    sev = str(d.verdict.severity) if d.verdict.severity is not None else None
    tone = SEVERITY_BANNER.get(sev, SEVERITY_BANNER[None])
    word = sev.upper() if sev else "NO ERROR FOUND"
    _wide(s, f"VERDICT: {word}", d.verdict.summary, {"font": WHITE, "fill_": tone},
          {"font": WHITE, "fill_": tone})


def _calls(s: Sheet, d: Diagnosis) -> None:
    shares = [c for c in d.calls if c.presentation]
    if not shares:
        return
    s.row([s.cell(h, font=BOLD) for h in ("presentation call", "step reached", "cause", "fix")])
    fixes = {f.rule: f for f in d.findings}
    by_call = {}
    for f, _ in ordered(d.findings):
        by_call.setdefault(f.call_id, f)
    for c in shares[:SUMMARY_CALLS]:
        state, text = call_verdict(c)
        cause = fixes.get(c.verdict.cause) if c.verdict is not None and c.verdict.cause else by_call.get(c.call_id)
        tone = STATE_FILL["missing"] if state == "failed" else STATE_FILL["seen"] if state == "ok" else None
        reached = c.stage or "none"
        if c.verdict is not None and c.verdict.step:
            reached = c.verdict.step
        s.row([s.cell(c.call_id, fill_=tone), s.cell(f"{reached}\n{text}", fill_=tone),
               s.cell(f"{cause.rule}: {cause.title}" if cause else "no finding for this call", fill_=tone),
               s.cell(_one_line(cause.fix) if cause else "", fill_=tone)])
    if len(shares) > SUMMARY_CALLS:
        s.row([f"{len(shares) - SUMMARY_CALLS} more presentation calls: see the Calls sheet"])


def _one_line(text: str) -> str:
    first = " ".join(text.split()).split(". ")[0]
    return first if first.endswith(".") else first + "."


def _counts(s: Sheet, d: Diagnosis) -> None:
    s.row([s.cell("Findings", font=BOLD)] + [s.cell(x, font=BOLD) for x in ("count", "rules")])
    for sev in sorted(Severity, reverse=True):
        mine = [f for f in d.findings if f.severity == sev]
        rules = ", ".join(dict.fromkeys(f.rule for f in mine))
        s.row([s.cell(sev.upper(), fill_=SEVERITY_FILL[str(sev)]), len(mine), rules])
        s.merge(3, 4)
    s.row(["calls", len(d.calls), f"{sum(c.presentation for c in d.calls)} presentation"])
    s.row(["events", len(d.events), f"from {len(d.read.sources)} files, {len(d.read.skipped)} not read"])


def _span(s: Sheet, d: Diagnosis) -> None:
    ev = d.events
    col = "ts_aligned" if "ts_aligned" in ev else "ts"
    if not len(ev) or ev[col].isna().all():
        s.row(["time span", "no timed event"])
        return
    first, last = ev[col].min(), ev[col].max()
    s.row([s.cell("time span (UTC)", font=BOLD), s.cell(first, number_format=TIME_FORMAT),
           s.cell(last, number_format=TIME_FORMAT), f"{(last - first).total_seconds():.3f} s"])


def _section(s: Sheet, title: str, rows: list[tuple[str, str]]) -> None:
    s.row([None])
    s.row([s.cell(title, font=BOLD)])
    for label, text in rows:
        _wide(s, label, text, {}, {})
