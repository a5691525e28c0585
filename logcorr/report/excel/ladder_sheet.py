"""The Ladder sheet: each presentation call (and each call with an error) as a sequence diagram.

One lifeline per host (a narrow column whose right border is the line) with a wide column after
it; a message is an arrow drawn by the bottom border of the cells between the two lifelines, with
its name and an arrow head. Aligned times on the left (each linked to its Timeline row), the
message's detail and the findings that cite it on the right, and the first missing step marked
where it was expected. Rows come from `report.ladder.Ladder`.
"""
from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from ...model import FLOW, HOST_ROLES, Call, Diagnosis
from .. import ladder
from .calls import call_verdict
from .cells import BOLD, CLOCK_FORMAT, HEAD_FILL, HEAD_FONT, SEVERITY_FILL, STATE_FILL, WRAP, Sheet
from .timeline import Timeline

LADDER_CALLS = 12
LADDER_ROWS = 150
HOSTS_MAX = 7
LIFE, GAP = 2.5, 27
LIFELINE = Side(style="thin", color="7F7F7F")
SHAFT = Side(style="medium", color="000000")
RED_SHAFT = Side(style="medium", color="C00000")
RIGHT = Alignment(horizontal="right", vertical="bottom")
LEFT = Alignment(horizontal="left", vertical="bottom")
RED = Font(bold=True, color="C00000")
BOTTOM = Alignment(vertical="bottom")
BORDERS = {(line, shaft): Border(right=LIFELINE if line else None, bottom=shaft)
           for line in (True, False) for shaft in (SHAFT, RED_SHAFT, None)}  # one object each: styles made once
STEP_TEXT = dict(FLOW)


def chosen_calls(d: Diagnosis) -> list[Call]:
    """Presentation calls first, then the other calls an error finding names; at most LADDER_CALLS."""
    erring = {f.call_id for f in d.findings if str(f.severity) == "error" and f.call_id}
    calls = [c for c in d.calls if c.presentation] + [c for c in d.calls if not c.presentation and c.call_id in erring]
    return calls


def host_columns(d: Diagnosis, drawn: list[list[dict]]) -> list[str]:
    """The hosts (labels) of the drawn rows, in the flow's order of roles, at most HOSTS_MAX."""
    first: dict[str, int] = {}
    for rows in drawn:
        for r in rows:
            for who in (r["from"], r["to"]):
                first.setdefault(who, len(first))
    role_of = {(h.label or h.role): h.role for h in d.hosts}
    order = ["SfB client", "SfB Front End", "SfB Edge", "Expressway-C", "Expressway-E", "CMS", "CUCM"]
    rank = {r: i for i, r in enumerate(order + [r for r in HOST_ROLES if r not in order])}
    hosts = sorted(first, key=lambda h: (rank.get(role_of.get(h, "unknown"), len(rank)), first[h]))
    return hosts[: HOSTS_MAX - 1] + ["other"] if len(hosts) > HOSTS_MAX else hosts


def write(wb, d: Diagnosis, timeline: Timeline, case: str) -> None:
    calls = chosen_calls(d)
    drawing = ladder.Ladder(d.events, d.roles, d.findings)
    shown = calls[:LADDER_CALLS]
    rows = [drawing.rows(c) for c in shown]
    hosts = host_columns(d, rows)
    widths = [13] + [LIFE, GAP] * len(hosts) + [40, 24]
    s = Sheet(wb, "Ladder", widths, case, freeze="B2")
    address = {(h.label or h.role): h.address for h in d.hosts}
    head = [s.cell("time (UTC)", font=HEAD_FONT, fill_=HEAD_FILL)]
    for h in hosts:
        head += [s.cell(f"{h}\n{address.get(h, '')}".strip(), font=HEAD_FONT, fill_=HEAD_FILL, align=WRAP),
                 s.cell(None, fill_=HEAD_FILL)]
    head += [s.cell(t, font=HEAD_FONT, fill_=HEAD_FILL) for t in ("detail", "finding")]
    s.row(head, height=32)
    for k in range(len(hosts)):
        s.merge(2 + 2 * k, 3 + 2 * k)
    if not shown:
        s.row(["no presentation call and no call with an error"])
    for c, drawn in zip(shown, rows):
        _call(s, c, drawn, hosts, timeline)
    if len(calls) > len(shown):
        s.row([s.cell(f"{len(calls) - len(shown)} more calls not drawn here: `logcorr ladder --call ID` "
                      "draws any call", font=BOLD)])


def _call(s: Sheet, c: Call, drawn: list[dict], hosts: list[str], timeline: Timeline) -> None:
    state, text = call_verdict(c)
    last = len(s.widths)
    title = f"Call {c.call_id} ({c.media or 'no SDP'}): {text}"
    tone = STATE_FILL["missing"] if state == "failed" else STATE_FILL["seen"] if state == "ok" else None
    s.row([s.cell(title, font=BOLD, fill_=tone)] + [s.cell(None, fill_=tone)] * (last - 1), height=30)
    s.merge(1, last)
    marker = _missing_marker(c, drawn)
    for i, r in enumerate(drawn[:LADDER_ROWS]):
        _message(s, r, hosts, timeline)
        if marker is not None and i == marker[0]:
            _expected(s, marker[1], hosts)
    if marker is not None and marker[0] >= min(len(drawn), LADDER_ROWS):
        _expected(s, marker[1], hosts)
    if len(drawn) > LADDER_ROWS:
        s.row([s.cell(f"{len(drawn) - LADDER_ROWS} more messages of this call not drawn", font=BOLD)])
    s.row([None])


def _missing_marker(c: Call, drawn: list[dict]) -> tuple[int, str] | None:
    """(index of the row after which the missing step was expected, its name), or None."""
    names = [st.name for st in c.steps]
    step = c.verdict.step if c.verdict is not None and c.verdict.state == "failed" and c.verdict.step else None
    missing = next((st.name for st in c.steps if st.state == "missing"), None)
    if step is None or step not in names or c.step(step).state != "missing":
        step = missing
    if step is None:
        return None
    seen = [st for st in c.steps[: names.index(step)] if st.state == "seen" and st.evidence]
    before = {(e.file, str(e.pos)) for e in (seen[-1].evidence if seen else [])}
    at = [i for i, r in enumerate(drawn) if tuple(r["where"].rsplit(":", 1)) in before]
    return (max(at) if at else len(drawn), step)


def _expected(s: Sheet, step: str, hosts: list[str]) -> None:
    text = f"✗ {step} expected here: {STEP_TEXT.get(step, step)}"
    tone = SEVERITY_FILL["error"]
    s.row([s.cell("missing", font=RED, fill_=tone)] + [s.cell(text, font=RED, fill_=tone, align=LEFT)] +
          [s.cell(None, fill_=tone)] * (2 * len(hosts) - 1) + [s.cell(None, fill_=tone)] * 2)
    s.merge(2, 1 + 2 * len(hosts) + 2)


def _label(what: str, a: int, b: int, column: int, first: int):
    """The text (and its alignment) of one cell of a message's row: the name with its arrow head on
    the arrow's first cell, `↺ name` in the gap after the lifeline for a message to itself."""
    if a == b:
        return (f"↺ {what}", LEFT) if column == 3 + 2 * a else (None, None)
    if column != first:
        return None, None
    return (f"{what} ▶", RIGHT) if b > a else (f"◀ {what}", LEFT)


def _message(s: Sheet, r: dict, hosts: list[str], timeline: Timeline) -> None:
    col = {h: i for i, h in enumerate(hosts)}
    a, b = col.get(r["from"], len(hosts) - 1), col.get(r["to"], len(hosts) - 1)
    marked = bool(r["mark"])
    file, _, pos = r["where"].rpartition(":")
    link = timeline.link(file, int(pos)) if pos.isdigit() else None
    cells = [s.cell(r["ts"], number_format=CLOCK_FORMAT, link=link, align=BOTTOM)]
    lo, hi = sorted((a, b))
    first, end = 2 + 2 * lo + 1, 2 + 2 * hi  # the gap after the left lifeline .. the right lifeline
    shaft = RED_SHAFT if marked else SHAFT
    font = RED if marked else None
    for column in range(2, 2 + 2 * len(hosts)):
        inside = a != b and first <= column <= end
        border = BORDERS[(column % 2 == 0, shaft if inside else None)]
        value, align = _label(r["what"], a, b, column, first)
        cells.append(s.cell(value, border=border, font=font, align=align))
    tone = SEVERITY_FILL["error"] if marked else None
    cells += [s.cell(r["detail"]), s.cell(r["mark"] or None, fill_=tone, font=font)]
    s.row(cells)
    if a != b and end > first:
        s.merge(first, end)


