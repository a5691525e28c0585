"""The human diagnosis printed by `logcorr diagnose`."""
from __future__ import annotations

from typing import Callable

from ..model import Diagnosis, iso

BRIEF_CALLS = 10  # calls without steps or findings listed one line each, this many at most
SAME_RULE_IN_FULL = 3  # findings of one rule printed in full; the rest are counted
SEVERITY_COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


def render(d: Diagnosis, style: Callable[..., str] | None = None) -> str:
    """The whole diagnosis as text; `style(text, fg=..., bold=...)` colours it when given."""
    st = style or (lambda text, **_: text)
    out: list[str] = []
    add = out.append
    add(st(f"logcorr diagnosis of {d.read.input}", bold=True))
    add("")
    n_events = len(d.events)
    add(st(f"Read {len(d.read.sources)} file(s), {n_events} events:", bold=True))
    for s in d.read.sources:
        why = ", ".join(f"{reason}: {n}" for reason, n in sorted(s.skip_reasons.items(), key=lambda kv: -kv[1]))
        extra = f", {s.skipped} record(s) skipped ({why})" if s.skipped else f" ({why})" if why else ""
        warn = f", {s.warning_count} warning(s)" if s.warning_count else ""
        add(f"  {s.kind:<10} {s.file}: {s.events} events{extra}{warn}")
        for w in s.warnings[:3]:
            add(f"             ! {w}")
        if len(s.warnings) > 3 or s.warning_count > len(s.warnings):
            add(f"             ! ... {s.warning_count - 3} more")
    if d.read.skipped:
        add(st(f"Not read ({len(d.read.skipped)}):", bold=True))
        for sk in d.read.skipped:
            add(f"  {sk.name}: {sk.reason}")
    for note in d.read.notes:
        add(f"Note: {note}")
    if d.clocks:
        add("")
        add(st("Clocks:", bold=True))
        for c in d.clocks:
            add(f"  {c.summary()}")
    hosts = {a: label for a, label in d.roles.items() if a[:1].isdigit() or a.startswith("[")}
    if hosts:
        add("")
        add(st("Hosts:", bold=True))
        for address, label in sorted(hosts.items(), key=lambda kv: kv[1]):
            add(f"  {address:<16} {label}")
    add("")
    add(st(f"Calls ({len(d.calls)}):", bold=True))
    if not d.calls:
        add("  no SIP call found in the bundle")
    # presentation calls and calls with findings in full; the others in one line each, up to a few
    flagged = {f.call_id for f in d.findings if f.call_id}
    full = [c for c in d.calls if c.steps or c.call_id in flagged]
    brief = [c for c in d.calls if c not in full]
    for c in full:
        media = c.media or "no SDP"
        add(f"  {c.call_id}  [{media}]  from {iso(c.start)}")
        add(f"      {c.summary}")
        if c.related:
            add(f"      same conversation as: {', '.join(c.related)}")
        for i, step in enumerate(c.steps, 1):
            mark = {"seen": "ok ", "missing": st("-- ", fg="red", bold=True)}.get(step.state, " ? ")
            when = iso(step.ts) or ""
            add(f"      {mark}{i:>2} {step.name:<24} {step.state:<15} {when[11:23]:<12} {step.note}".rstrip())
    for c in brief[:BRIEF_CALLS]:
        add(f"  {c.call_id}  [{c.media or 'no SDP'}]  {c.summary}")
    if len(brief) > BRIEF_CALLS:
        add(f"  ... {len(brief) - BRIEF_CALLS} more calls (the Excel report's Calls sheet lists them all)")
    add("")
    if not d.findings:
        add(st("No known failure found.", fg="green", bold=True))
        add("  (the rules loaded: " + str(len(d.rules.rules)) + "; `logcorr rules list` shows them)")
        return "\n".join(out)
    add(st(f"Findings ({len(d.findings)}):", bold=True))
    shown: dict[str, int] = {}
    for f in d.findings:
        shown[f.rule] = shown.get(f.rule, 0) + 1
        if shown[f.rule] > SAME_RULE_IN_FULL:
            continue
        sev = st(f.severity.upper(), fg=SEVERITY_COLOUR.get(f.severity), bold=True)
        add("")
        add(f"  {sev} {f.rule}: {f.title}")
        where = []
        if f.call_id:
            where.append(f"call {f.call_id}")
        if f.ts is not None:
            where.append(f"at {iso(f.ts)}")
        if where:
            add(f"    {' '.join(where)}")
        detail = getattr(f, "detail", "")
        if detail:
            add(f"    {detail}")
        add(_wrap("what it means: ", f.explanation))
        add(_wrap("fix: ", f.fix))
        add("    evidence:")
        for e in f.evidence:
            add(f"      {e.file}:{e.pos}  {e.summary}")
    more = {rule: n - SAME_RULE_IN_FULL for rule, n in shown.items() if n > SAME_RULE_IN_FULL}
    if more:
        add("")
        for rule, n in more.items():
            add(f"  ... and {n} more {rule} finding(s) (`--json` or the Excel report's Findings sheet)")
    return "\n".join(out)


def _wrap(label: str, text: str, width: int = 100) -> str:
    import textwrap

    text = " ".join((text or "").split())
    return textwrap.fill(text, width=width, initial_indent="    " + label,
                         subsequent_indent="    " + " " * len(label))
