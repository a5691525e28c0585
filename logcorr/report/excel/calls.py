"""The Calls sheet: one row per call, one column per step of the presentation-sharing flow.

Each step cell says seen / missing / not observable by a symbol and a fill; the row under a
presentation call holds each step's time. Then the call's media, parties, and the relayed and
peer addresses its TURN events show.
"""
from __future__ import annotations

import pandas as pd
from openpyxl.styles import Alignment, Font

from ...calls.hosts import ip_of
from ...model import FLOW_STEPS, Call, Diagnosis
from .cells import BOLD, CENTER, STATE_FILL, STATE_MARK, Sheet

CALLS_MAX = 5_000
HEADER = ["call", "media", "start (UTC)", "verdict"] + [f"{i}. {n}" for i, n in enumerate(FLOW_STEPS, 1)] + [
    "parties", "relayed", "peer"]
WIDTHS = [24, 13, 21, 30] + [9.5] * len(FLOW_STEPS) + [30, 20, 20]
SMALL = Font(size=8, color="595959")
SMALL_CENTER = Alignment(horizontal="center", vertical="top")


def call_verdict(c: Call) -> tuple[str, str]:
    """(state, text) of a call: its verdict when the diagnosis gave one, else its first missing step."""
    v = c.verdict
    if v is not None:
        text = v.summary or " ".join(x for x in (v.state, v.step and f"at {v.step}", v.cause and f"({v.cause})") if x)
        return v.state, text
    if not c.steps:
        return "", "no presentation flow"
    missing = next((s for s in c.steps if s.state == "missing"), None)
    if missing is None:
        return "ok", "every step seen"
    return "failed", f"{missing.name} missing" + (f" (after {c.stage})" if c.stage else "")


def addresses(d: Diagnosis) -> dict[str, tuple[str, str, str]]:
    """call id -> (parties, relayed, peer), from its SIP events and the TURN events it owns."""
    ev = d.events
    labels = d.roles
    out: dict[str, tuple[str, str, str]] = {}
    sip = ev[(ev["proto"] == "sip") & (ev["call_id"] != "")]
    parties: dict[str, list[str]] = {}
    named: dict[str, str] = {"": ""}  # address -> its host's label, else its IP
    for cid, src, dst in zip(sip["call_id"], sip["src"], sip["dst"]):
        seen = parties.setdefault(cid, [])
        for a in (src, dst):
            name = named.get(a)
            if name is None:
                name = named[a] = labels.get(ip_of(a), ip_of(a))
            if name and name not in seen:
                seen.append(name)
    stun = ev[(ev["relayed"] != "") | (ev["peer"] != "")]
    turn = {k: (r, p) for k, r, p in zip(zip(stun["file"], stun["pos"]), stun["relayed"], stun["peer"])}
    for c in d.calls:
        found = [turn[k] for k in c.event_keys if k in turn]
        relayed = sorted({r for r, _ in found if r})
        peer = sorted({p for _, p in found if p})
        out[c.call_id] = (", ".join(parties.get(c.call_id, [])), "\n".join(relayed), "\n".join(peer))
    return out


def write(wb, d: Diagnosis, case: str) -> None:
    s = Sheet(wb, "Calls", WIDTHS, case, freeze="B2")
    s.header(HEADER, height=45)
    more = addresses(d)
    calls = sorted(d.calls, key=lambda c: (not c.presentation, c.start is None, c.start or pd.Timestamp(0, tz="UTC")))
    for c in calls[:CALLS_MAX]:
        _call(s, c, more.get(c.call_id, ("", "", "")))
    if len(calls) > CALLS_MAX:
        s.row([s.cell(f"{len(calls) - CALLS_MAX} more calls left out (presentation calls first, then by "
                      "start): `logcorr diagnose --json` lists them all", font=BOLD)])


def _call(s: Sheet, c: Call, more: tuple[str, str, str]) -> None:
    state, text = call_verdict(c)
    tone = STATE_FILL["missing"] if state == "failed" else STATE_FILL["seen"] if state == "ok" else None
    steps = {st.name: st for st in c.steps}
    marks = []
    for name in FLOW_STEPS:
        st = steps.get(name)
        if st is None:
            marks.append(None)
            continue
        marks.append(s.cell(f"{STATE_MARK.get(st.state, '?')} {st.state}", fill_=STATE_FILL.get(st.state), align=CENTER,
                            comment=st.note or None))
    s.row([c.call_id, c.media, c.start, s.cell(text, fill_=tone)] + marks + list(more))
    if steps:
        times = [s.cell(steps[n].ts if n in steps else None, number_format="hh:mm:ss.000", font=SMALL,
                        align=SMALL_CENTER) for n in FLOW_STEPS]
        s.row([s.cell("step times (UTC)", font=SMALL), None, None, None] + times)
