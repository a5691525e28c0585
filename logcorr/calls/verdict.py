"""calls + findings -> the verdict: one root cause per presentation call, its consequences under it.

A call's failing step is its first missing flow step (a keep-alive Refresh not yet due excepted:
model.stop_index). Its cause is the call's finding whose rule
`explains` that step (or a step before it that the bundle cannot show); `outranks` in the rules
decides between several. Every other finding of the call is a consequence of that cause; findings
of no failed call are context. One finding per fact: findings of one rule on one call are merged,
their evidence kept.
"""
from __future__ import annotations

from dataclasses import replace

from ..model import FLOW_STEPS, Call, CallVerdict, Finding, Severity, Verdict, stop_index
from ..rules.model import RuleSet

_ORDER = {name: i for i, name in enumerate(FLOW_STEPS)}


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and call: the first, with the others' evidence and detail added."""
    out: list[Finding] = []
    by_key: dict[tuple[str, str], Finding] = {}
    for f in findings:
        if not f.call_id:
            out.append(f)
            continue
        key = (f.rule, f.call_id)
        first = by_key.get(key)
        if first is None:
            by_key[key] = replace(f, evidence=list(f.evidence))
            out.append(by_key[key])
            continue
        cited = {(e.file, e.pos) for e in first.evidence}
        first.evidence += [e for e in f.evidence if (e.file, e.pos) not in cited]
        if f.detail and f.detail not in first.detail:
            first.detail = f"{first.detail}; {f.detail}" if first.detail else f.detail
    return out


def _window(call: Call) -> tuple[int, int] | None:
    """(first step the cause may explain, failing step) by flow index; None for a call that went well."""
    failing = stop_index(call.steps)
    if failing is None:
        return None
    states = [s.state for s in call.steps]
    start = failing
    while start > 0 and states[start - 1] == "not observable":
        start -= 1
    return start, failing


def _explained(rules: RuleSet, f: Finding, lo: int, hi: int) -> int | None:
    """The earliest step in [lo, hi] the finding's rule explains, by flow index."""
    rule = rules.get(f.rule)
    steps = [_ORDER[s] for s in (rule.explains if rule else []) if lo <= _ORDER[s] <= hi]
    return min(steps, default=None)


def _cause(rules: RuleSet, candidates: list[tuple[int, Finding]]) -> tuple[int, Finding] | None:
    """The candidate no other candidate outranks; then the earliest step, the worse severity."""
    if not candidates:
        return None
    ids = {f.rule for _, f in candidates}
    beaten = {o for r in ids if rules.get(r) for o in rules.get(r).outranks if o != r}
    best = [c for c in candidates if c[1].rule not in beaten] or candidates
    return min(best, key=lambda c: (c[0], -Severity(c[1].severity).rank))


def _call_verdict(rules: RuleSet, call: Call, mine: list[Finding]) -> tuple[CallVerdict, Finding | None]:
    window = _window(call)
    if window is None:
        hidden = [s for s in call.steps if s.state == "not observable"]
        tail = f" ({len(hidden)} step(s) not observable: {hidden[0].note})" if hidden else ""
        return CallVerdict("ok", summary=f"the share went through every step{tail}"), None
    lo, failing = window
    found = [(i, f) for f in mine if (i := _explained(rules, f, lo, failing)) is not None]
    if not found:  # nothing explains the failing step: a later step's explanation is still the best lead
        found = [(i, f) for f in mine if (i := _explained(rules, f, failing, len(FLOW_STEPS) - 1)) is not None]
    chosen = _cause(rules, found)
    missing = call.steps[failing]
    if chosen is not None:
        cause = chosen[1]
        return CallVerdict("failed", step=missing.name, cause=cause.rule, summary=(
            f"{cause.title}, so step {failing + 1} ({missing.name}) never happened")), cause
    if lo < failing:
        hidden = call.steps[lo]
        return CallVerdict("incomplete", step=hidden.name, summary=(
            f"cannot tell why: steps {lo + 1}-{failing} ({hidden.name} ... {call.steps[failing - 1].name}) "
            f"are not observable ({hidden.note}); then step {failing + 1} ({missing.name}) is missing")), None
    return CallVerdict("failed", step=missing.name, summary=call.summary), None


def _consequence(f: Finding, cause: Finding) -> None:
    """A consequence states its fact (its rule's `fact`, else its explanation's first sentence) and
    what it follows from, no cause of its own."""
    fact = (f.fact or f.explanation.split(". ", 1)[0]).rstrip(".")
    f.role, f.explained_by = "consequence", cause.rule
    f.explanation = f"{fact}. This follows from {cause.rule}: {cause.title}."


def decide(calls: list[Call], findings: list[Finding], rules: RuleSet) -> tuple[list[Finding], Verdict]:
    """Set each presentation call's verdict and each finding's role; the findings (merged) and the
    diagnosis' one-line verdict."""
    findings = merge(findings)
    by_call: dict[str, list[Finding]] = {}
    for f in findings:
        by_call.setdefault(f.call_id, []).append(f)
    for call in calls:
        if not call.presentation or not call.steps:
            continue
        mine = by_call.get(call.call_id, [])
        call.verdict, cause = _call_verdict(rules, call, mine)
        if cause is None:
            continue
        for f in mine:
            if f is cause:
                f.role = "cause"
            else:
                _consequence(f, cause)
    for f in findings:
        if f.role is None:
            rule = rules.get(f.rule)
            alone = not f.call_id and f.severity == Severity.error and rule is not None and rule.explains
            f.role = "cause" if alone else "context"
    return findings, overall(calls, findings)


def overall(calls: list[Call], findings: list[Finding]) -> Verdict:
    """The line a person reads first: the first failed share and its cause, with how the others went."""
    judged = [c for c in calls if c.verdict is not None]
    causes = [f for f in findings if f.role == "cause"]
    severity = max((f.severity for f in causes), default=None) or max((f.severity for f in findings), default=None)
    if not judged:
        if causes:
            return Verdict(severity, f"{causes[0].rule}: {causes[0].title}")
        return Verdict.of(calls, findings)
    bad = [c for c in judged if c.verdict.state != "ok"]
    head = bad[0] if bad else judged[0]
    if any(c.verdict.state == "failed" for c in bad):
        severity = Severity.error  # a share that failed is an error, whatever its cause's own rank
    return Verdict(severity, _shares_line(judged, bad, head))


def _shares_line(judged: list[Call], bad: list[Call], head: Call) -> str:
    text = f"share call {head.call_id} {head.verdict.state}: {head.verdict.summary}"
    if len(judged) == 1:
        return text
    counts = {s: sum(c.verdict.state == s for c in judged) for s in ("failed", "incomplete", "ok")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{len(judged)} share calls ({tally}); first {'not ok' if bad else 'ok'}: {text}"
