"""The human diagnosis printed by `logcorr diagnose`, as lines of rich Text.

The verdict comes first and last. Each call in full shows its flow steps and, when the findings say
which is the cause, its cause card with the consequences folded under it; context findings follow.
When no finding carries a role, the findings are listed by severity after the calls. Findings of one
rule are counted, not repeated; evidence files are named by the shortest unique end of their path
(`…!syslog:184`), the full path being in the JSON and the workbook.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from ..model import Call, Diagnosis, Finding, iso

BRIEF_CALLS = 10  # calls without steps or findings listed one line each, this many at most
SAME_RULE_LISTED = 3  # the other findings of a counted rule named by call and time, this many at most
WIDTH = 100  # explanations and fixes are wrapped to this width
SHORT_PATH = 48  # a plain path longer than this is named by its file name when that is unique
SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}
STEP_MARK = {"seen": ("ok ", "green"), "missing": ("-- ", "bold red")}
BOLD = "bold"


@dataclass
class Card:
    """The findings of one rule (the first in full, the rest counted) and what they caused."""

    findings: list[Finding]
    consequences: list[Card] = field(default_factory=list)

    @property
    def first(self) -> Finding:
        return self.findings[0]


@dataclass
class Arrangement:
    """Where each finding is printed: under its call, after the calls, or as context."""

    by_call: dict[str, list[Card]]
    loose: list[Card]
    context: list[Card]


# ------------------------------------------------------------------------------ entry points
def render(d: Diagnosis, quiet: bool = False, call: str | None = None) -> str:
    """The diagnosis as plain text (what `lines` gives, without colour)."""
    return "\n".join(line.plain for line in lines(d, quiet=quiet, call=call))


def show(console: Console, d: Diagnosis, quiet: bool = False, call: str | None = None) -> None:
    """Print the diagnosis on `console`, which decides about colour."""
    for line in lines(d, quiet=quiet, call=call):
        console.print(line, soft_wrap=True)


def chosen_calls(d: Diagnosis, prefix: str) -> list[Call]:
    """The calls whose Call-ID starts with `prefix`."""
    return [c for c in d.calls if c.call_id.startswith(prefix)]


def lines(d: Diagnosis, quiet: bool = False, call: str | None = None) -> list[Text]:
    """The diagnosis line by line: everything, the verdicts only (`quiet`), or one call's."""
    calls = chosen_calls(d, call) if call else d.calls
    verdict = verdict_line(d)
    if quiet:
        return [verdict, *(call_verdict_line(c) for c in _full_calls(d, calls, bool(call)))]
    names = short_names(d)
    out = [verdict, Text(""), Text(f"logcorr diagnosis of {d.read.input}", style=BOLD)]
    if not call:
        out += _sources(d) + _clocks(d) + _hosts(d)
    arranged = arrange(d.findings, {c.call_id for c in calls} if call else None)
    out += _calls(d, calls, arranged, names, bool(call))
    out += _findings(d, arranged, names)
    return out + [Text(""), verdict]


# ---------------------------------------------------------------------------------- verdicts
def verdict_line(d: Diagnosis) -> Text:
    """The diagnosis in one line, coloured by its severity."""
    severity = d.verdict.severity
    label = f"Verdict ({severity}): " if severity else "Verdict: "
    return Text(label + d.verdict.summary, style=SEVERITY_STYLE.get(severity or "", "bold green"))


def call_verdict_line(c: Call) -> Text:
    state = c.verdict.state if c.verdict else ""
    summary = (c.verdict.summary if c.verdict and c.verdict.summary else c.summary) or "no verdict"
    style = {"failed": "red", "ok": "green"}.get(state, "")
    return Text(f"  call {c.call_id}: {summary}", style=style)


# ------------------------------------------------------------------------------ short names
def short_names(d: Diagnosis) -> dict[str, str]:
    """file -> the shortest end of its name (`…!syslog`) that no other file of the diagnosis shares."""
    files = {s.file for s in d.read.sources} | {e.file for f in d.findings for e in f.evidence}
    return {f: _shortest(f, files) for f in files}


def _shortest(name: str, files: set[str]) -> str:
    sep = "!" if "!" in name else "/"
    parts = name.split(sep)
    if sep == "/" and len(name) <= SHORT_PATH:
        return name
    for k in range(1, len(parts)):
        end = sep + sep.join(parts[-k:])
        if not any(other != name and (other.endswith(end) or other == end[1:]) for other in files):
            return "…" + end
    return name


# ---------------------------------------------------------------------------- arrangement
def arrange(findings: list[Finding], calls: set[str] | None = None) -> Arrangement:
    """Cause cards under their calls with consequences folded, then the rest; by severity when
    no finding says its role. `calls` keeps only those calls' findings."""
    kept = [f for f in findings if calls is None or f.call_id in calls]
    if not any(f.role for f in kept):
        return Arrangement({}, _cards(sorted(kept, key=lambda f: -f.severity.rank)), [])
    causes = _cards([f for f in kept if f.role == "cause"])
    folded: dict[int, list[Finding]] = {}
    unfolded: list[Finding] = []
    for f in (f for f in kept if f.role == "consequence"):
        card = _cause_of(f, causes)
        unfolded.append(f) if card is None else folded.setdefault(id(card), []).append(f)
    by_call: dict[str, list[Card]] = {}
    loose: list[Card] = []
    for card in causes:
        card.consequences = _cards(folded.get(id(card), []))
        if card.first.call_id:
            by_call.setdefault(card.first.call_id, []).append(card)
        else:
            loose.append(card)
    context = [f for f in kept if f.role not in ("cause", "consequence")]
    return Arrangement(by_call, loose + _cards(unfolded), _cards(context))


def _cause_of(f: Finding, causes: list[Card]) -> Card | None:
    """The card of consequence `f`'s cause: its rule, on the same call (or either has no call)."""
    for card in causes:
        cause = card.first
        if cause.rule == f.explained_by and (not f.call_id or not cause.call_id or f.call_id == cause.call_id):
            return card
    return None


def _cards(findings: list[Finding]) -> list[Card]:
    """One card per rule (per call for causes), in the order of their first finding."""
    cards: dict[tuple[str, str], Card] = {}
    for f in findings:
        key = (f.rule, f.call_id if f.role == "cause" else "")
        cards.setdefault(key, Card([])).findings.append(f)
    return list(cards.values())


# -------------------------------------------------------------------------------- sections
def _sources(d: Diagnosis) -> list[Text]:
    out = [Text(""), Text(f"Read {len(d.read.sources)} file(s), {len(d.events)} events:", style=BOLD)]
    for s in d.read.sources:
        why = ", ".join(f"{reason}: {n}" for reason, n in sorted(s.skip_reasons.items(), key=lambda kv: -kv[1]))
        extra = f", {s.skipped} record(s) skipped ({why})" if s.skipped else f" ({why})" if why else ""
        warn = f", {s.warning_count} warning(s)" if s.warning_count else ""
        out.append(Text(f"  {s.kind:<10} {s.file}: {s.events} events{extra}{warn}"))
        out += [Text(f"             ! {w}", style="yellow") for w in s.warnings[:3]]
        if s.warning_count > 3:
            out.append(Text(f"             ! ... {s.warning_count - 3} more", style="yellow"))
    if d.read.skipped:
        out.append(Text(f"Not read ({len(d.read.skipped)}):", style=BOLD))
        out += [Text(f"  {sk.name}: {sk.reason}") for sk in d.read.skipped]
    return out + [Text(f"Note: {note}") for note in d.read.notes]


def _clocks(d: Diagnosis) -> list[Text]:
    if not d.clocks:
        return []
    return [Text(""), Text("Clocks:", style=BOLD), *(Text(f"  {c.summary()}") for c in d.clocks)]


def _hosts(d: Diagnosis) -> list[Text]:
    """One line a box: its addresses (an Expressway with two interfaces has two), its label."""
    rows = sorted(((", ".join(h.addresses), h.label or h.role) for h in d.hosts), key=lambda r: (r[1], r[0]))
    if not rows:
        return []
    return [Text(""), Text("Hosts:", style=BOLD), *(Text(f"  {a:<16} {label}") for a, label in rows)]


def _full_calls(d: Diagnosis, calls: list[Call], all_of_them: bool) -> list[Call]:
    """Presentation calls and calls with findings (every chosen call when one was asked for)."""
    if all_of_them:
        return calls
    flagged = {f.call_id for f in d.findings if f.call_id}
    return [c for c in calls if c.steps or c.call_id in flagged]


def _calls(d: Diagnosis, calls: list[Call], arranged: Arrangement, names: dict[str, str],
           all_in_full: bool) -> list[Text]:
    out = [Text(""), Text(f"Calls ({len(calls)}):", style=BOLD)]
    if not calls:
        out.append(Text("  no SIP call found in the bundle"))
    full = _full_calls(d, calls, all_in_full)
    for c in full:
        out += _call_block(c, arranged.by_call.get(c.call_id, []), names)
    shown = {id(c) for c in full}
    brief = [c for c in calls if id(c) not in shown]
    out += [Text(f"  {c.call_id}  [{c.media or 'no SDP'}]  {c.summary}") for c in brief[:BRIEF_CALLS]]
    if len(brief) > BRIEF_CALLS:
        out.append(Text(f"  ... {len(brief) - BRIEF_CALLS} more calls (the Excel report's Calls sheet lists them all)"))
    return out


def _call_block(c: Call, cards: list[Card], names: dict[str, str]) -> list[Text]:
    out = [Text(f"  {c.call_id}  [{c.media or 'no SDP'}]  from {iso(c.start)}", style=BOLD),
           Text(f"      {c.summary}")]
    if c.related:
        out.append(Text(f"      same conversation as: {', '.join(c.related)}"))
    out += [_step_line(i, step) for i, step in enumerate(c.steps, 1)]
    for card in cards:
        out += _card(card, names, indent="      ", call_known=True)
    return out


def _step_line(i: int, step) -> Text:
    mark, style = STEP_MARK.get(step.state, (" ? ", "dim"))
    when = (iso(step.ts) or "")[11:23]
    line = Text("      ")
    line.append(mark, style=style)
    line.append(f"{i:>2} {step.name:<24} {step.state:<15} {when:<12} {step.note}".rstrip())
    return line


def _findings(d: Diagnosis, arranged: Arrangement, names: dict[str, str]) -> list[Text]:
    if not d.findings:
        return [Text(""), Text("No known failure found.", style="bold green"),
                Text(f"  (the rules loaded: {len(d.rules.rules)}; `logcorr rules list` shows them)")]
    out: list[Text] = []
    if arranged.loose:
        title = "Findings" if not arranged.by_call and not arranged.context else "Other findings"
        out += [Text(""), Text(f"{title} ({sum(len(c.findings) for c in arranged.loose)}):", style=BOLD)]
        for card in arranged.loose:
            out += _card(card, names, indent="  ")
    if arranged.context:
        out += [Text(""), Text("Context (seen, not the cause):", style=BOLD)]
        for card in arranged.context:
            out += _card(card, names, indent="  ")
    return out


# ------------------------------------------------------------------------------------ cards
def _card(card: Card, names: dict[str, str], indent: str, call_known: bool = False) -> list[Text]:
    """One rule's finding in full: title, where, what it means, fix, evidence; then the count of its
    repeats and the consequences it explains."""
    f = card.first
    head = Text(indent)
    head.append(f.severity.upper(), style=SEVERITY_STYLE.get(f.severity, BOLD))
    head.append(f" {f.rule}: {f.title}" + (f"  (x{len(card.findings)})" if len(card.findings) > 1 else ""))
    pad = indent + "  "
    out = [Text(""), head]
    where = _where(f, call_known)
    if where:
        out.append(Text(pad + where))
    if f.detail:
        out.append(Text(pad + f.detail))
    out += [Text(_wrap(pad, "what it means: ", f.explanation)), Text(_wrap(pad, "fix: ", f.fix)),
            Text(pad + "evidence:")]
    out += [Text(f"{pad}  {names.get(e.file, e.file)}:{e.pos}  {e.summary}") for e in f.evidence]
    out += _repeats(card, pad)
    out += _consequences(card, pad)
    return out


def _where(f: Finding, call_known: bool) -> str:
    where = [] if call_known or not f.call_id else [f"call {f.call_id}"]
    if f.ts is not None:
        where.append(f"at {iso(f.ts)}")
    return " ".join(where)


def _repeats(card: Card, pad: str) -> list[Text]:
    more = card.findings[1:]
    if not more:
        return []
    named = "; ".join(_where(f, False) or "no time" for f in more[:SAME_RULE_LISTED])
    rest = f"; ... {len(more) - SAME_RULE_LISTED} more" if len(more) > SAME_RULE_LISTED else ""
    return [Text(f"{pad}also {len(more)} more time(s): {named}{rest} (`--json` or the workbook lists each)",
                 style="dim")]


def _consequences(card: Card, pad: str) -> list[Text]:
    if not card.consequences:
        return []
    named = ", ".join(f"{c.first.rule} ({c.first.severity}: {c.first.title})"
                      + (f" x{len(c.findings)}" if len(c.findings) > 1 else "") for c in card.consequences)
    return [Text(_wrap(pad, "also seen, because of it: ", named))]


def _wrap(pad: str, label: str, text: str) -> str:
    text = " ".join((text or "").split())
    return textwrap.fill(text, width=WIDTH, initial_indent=pad + label,
                         subsequent_indent=pad + " " * len(label), break_on_hyphens=False)
