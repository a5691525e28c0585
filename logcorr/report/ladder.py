"""The ladder: a call as a sequence diagram, one column per host (by role), one row per message.

Rows come in aligned time. The same hop logged by two hosts is drawn once. Findings are marked on
the rows of their evidence. `Ladder.rows()` gives the data (the Excel report's Ladder sheet uses
it), `Ladder.diagram()` adds what a drawing needs (the lanes in path order with their roles, the
step each row shows, the failing step and the message it waited for); `render()` draws the rows as
text, report/html_ladder.py as SVG.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..calls.hosts import ip_of
from ..model import FLOW, FLOW_STEPS, HOST_ROLES, Call, stop_index

COL = 22  # characters per column


class Ladder:
    """The ladder rows of any call of one diagnosis; the table is indexed once, not per call."""

    def __init__(self, events: pd.DataFrame, labels: dict[str, str], findings=()):
        if "ts_aligned" not in events:
            events = events.assign(ts_aligned=events["ts"])
        self.events = events
        self.labels = labels
        self.cited: dict[tuple, list] = {}
        for f in findings:
            for e in f.evidence:
                marks = self.cited.setdefault((e.file, e.pos), [])
                if f not in marks:
                    marks.append(f)
        sip = events[(events["proto"] == "sip") & (events["call_id"] != "")]
        self.sip_index = sip.index  # each call's rows as positions in it (labels looked up per call drawn)
        self.sip_rows = sip.groupby("call_id", sort=False).indices
        wire = events[events["proto"].isin(("stun", "tcp"))]
        self.wire_rows = dict(zip(zip(wire["file"], wire["pos"]), wire.index))
        self.findings = list(findings)

    def rows(self, call: Call) -> list[dict]:
        """The messages of `call` as dicts: time, from, to, what, detail, where (file:pos), mark
        (the findings citing it); and proto, file, pos, severity (the worst finding citing it),
        step (the flow step whose evidence it is)."""
        mine = self.sip_rows.get(call.call_id)
        picked = list(self.sip_index[mine]) if mine is not None else []
        picked += [self.wire_rows[k] for k in call.event_keys if k in self.wire_rows]
        chosen = self.events.loc[sorted(set(picked))].sort_values("ts_aligned", kind="stable")
        out, drawn = [], set()
        steps = {(e.file, e.pos): st.name for st in call.steps for e in st.evidence}
        for r in chosen.itertuples():
            src = _who(r.src, r.host, r.direction == "out", self.labels)
            dst = _who(r.dst, r.host, r.direction == "in", self.labels)
            key = (r.event, r.call_id, r.cseq, r.txn_id, src, dst)
            if key in drawn:
                continue
            drawn.add(key)
            marks = self.cited.get((r.file, r.pos), [])
            out.append({"ts": r.ts_aligned, "from": src, "to": dst, "what": r.event,
                        "detail": _detail(r), "where": f"{r.file}:{r.pos}",
                        "mark": ", ".join(f"{f.severity.upper()} {f.rule}" for f in marks),
                        "proto": r.proto, "file": r.file, "pos": int(r.pos),
                        "severity": str(max((f.severity for f in marks), default="")),
                        "step": steps.get((r.file, r.pos), "")})
        return out

    def diagram(self, call: Call) -> Diagram:
        """The rows of `call` with its lanes in path order, and where the flow stopped."""
        rows = self.rows(call)
        lanes: list[str] = []
        for r in rows:
            for who in (r["from"], r["to"]):
                if who not in lanes:
                    lanes.append(who)
        failing = _failing_step(call)
        missing = _expected(failing, call, rows, lanes) if failing else None
        if missing is not None:
            for who in (missing.src, missing.dst):
                if who not in lanes:
                    lanes.append(who)
        first = {who: i for i, who in enumerate(lanes)}
        lanes.sort(key=lambda who: (_PATH.index(role_of(who)), first[who]))
        return Diagram(call=call, lanes=[Lane(who, role_of(who), who not in _drawn(rows)) for who in lanes],
                       rows=rows, failing=failing, missing=missing,
                       findings=[f for f in self.findings if f.call_id == call.call_id])


# -- the diagram model -------------------------------------------------------------------------
# Lanes left to right along the path a presentation takes: SfB side, the Expressways, CMS.
_PATH = ("SfB client", "SfB Front End", "unknown", "SfB Edge", "Expressway-E", "Expressway-C", "CMS", "CUCM")
# The message each step waits for, by the roles that send and receive it (CONTRACT.md's flow).
EXPECTED = {
    "invite": ("Expressway-C", "CMS", "INVITE with m=applicationsharing"),
    "allocate": ("CMS", "Expressway-E", "Allocate Request (TCP)"),
    "allocate-challenge": ("Expressway-E", "CMS", "401 Allocate Error Response"),
    "allocate-auth": ("CMS", "Expressway-E", "Allocate Request with MESSAGE-INTEGRITY"),
    "allocate-success": ("Expressway-E", "CMS", "Allocate Success Response"),
    "refresh": ("CMS", "Expressway-E", "Refresh Request"),
    "answer-relay": ("CMS", "Expressway-C", "200 OK with a typ relay candidate"),
    "ack": ("Expressway-C", "CMS", "ACK"),
    "connection-attempt": ("Expressway-E", "CMS", "ConnectionAttempt Indication"),
    "connection-bind": ("CMS", "Expressway-E", "ConnectionBind Request"),
    "connection-bind-success": ("Expressway-E", "CMS", "ConnectionBind Success Response"),
    "ice-checks": ("CMS", "Expressway-E", "Binding Request on the bound connection"),
    "reinvite": ("SfB Edge", "Expressway-E", "re-INVITE to the chosen pair"),
}
assert set(EXPECTED) == set(FLOW_STEPS)
STEP_TEXT = dict(FLOW)


@dataclass
class Lane:
    label: str
    role: str
    unseen: bool = False  # no message of the call touches it: drawn only for the missing message


@dataclass
class Expected:
    """The message the failing step waited for, drawn dashed where it should have come."""

    step: str
    number: int  # 1-based position in the flow
    src: str
    dst: str
    what: str
    after: int  # index of the row it would follow (-1: before the first)


@dataclass
class Diagram:
    call: Call
    lanes: list[Lane]
    rows: list[dict]
    failing: str  # the step the flow stopped at ("" when none)
    missing: Expected | None
    findings: list = field(default_factory=list)

    @property
    def t0(self):
        return next((r["ts"] for r in self.rows if pd.notna(r["ts"])), None)


def role_of(label: str) -> str:
    """The role a lane label starts with (`CMS cms01` -> CMS), else unknown."""
    return next((r for r in HOST_ROLES if label == r or label.startswith(r + " ")), "unknown")


def _drawn(rows: list[dict]) -> set[str]:
    return {r["from"] for r in rows} | {r["to"] for r in rows}


def _failing_step(call: Call) -> str:
    verdict = call.verdict
    if verdict is not None and verdict.step:
        return verdict.step
    stop = stop_index(call.steps)
    return call.steps[stop].name if stop is not None else ""


def _expected(step: str, call: Call, rows: list[dict], lanes: list[str]) -> Expected | None:
    if step not in EXPECTED:
        return None
    st = call.step(step)
    if st is not None and st.state == "seen":  # seen but failed: its evidence rows are marked
        return None
    src_role, dst_role, what = EXPECTED[step]
    by_role = {role_of(who): who for who in reversed(lanes)}
    number = FLOW_STEPS.index(step) + 1
    before = next((s.name for s in reversed(call.steps[: number - 1]) if s.state == "seen"), "")
    after = max((i for i, r in enumerate(rows) if r["step"] == before), default=len(rows) - 1)
    return Expected(step, number, by_role.get(src_role, src_role), by_role.get(dst_role, dst_role), what, after)


def _who(address: str, host: str, is_self: bool, labels: dict[str, str]) -> str:
    if address:
        ip = ip_of(address)
        return labels.get(ip) or labels.get(ip.split(".", 1)[0]) or ip
    if is_self or not address:
        for label in labels.values():
            if host and host in label:
                return label
        return host or "?"
    return "?"


def _detail(r) -> str:
    if r.proto == "sip":
        bits = [r.sdp_media and f"sdp {r.sdp_media}", r.relay_candidates and f"relay {r.relay_candidates}"]
        return " ".join(b for b in bits if b)
    bits = [r.relayed and f"relayed {r.relayed}", r.peer and f"peer {r.peer}",
            pd.notna(r.connection_id) and f"cid {r.connection_id:#x}", pd.notna(r.error_code) and f"error {r.error_code}",
            r.username and f"user {r.username}"]
    return " ".join(b for b in bits if b)


def render(rows_: list[dict], title: str = "") -> str:
    columns: list[str] = []
    for r in rows_:
        for who in (r["from"], r["to"]):
            if who not in columns:
                columns.append(who)
    head = " " * 13 + "".join(c[: COL - 2].center(COL) for c in columns)
    lines = [title, head, " " * 13 + "".join("|".center(COL) for _ in columns)] if title else [head]
    for r in rows_:
        a, b = columns.index(r["from"]), columns.index(r["to"])
        cells = ["|".center(COL) for _ in columns]
        line = list(" " * 13 + "".join(cells))
        lo, hi = sorted((a, b))
        start = 13 + lo * COL + COL // 2
        end = 13 + hi * COL + COL // 2
        if a == b:
            label = f"* {r['what']}"
            line[start + 1:start + 1 + len(label)] = label
        else:
            for i in range(start + 1, end):
                line[i] = "-"
            if b > a:
                line[end - 1] = ">"
            else:
                line[start + 1] = "<"
            label = r["what"][: max(end - start - 4, 4)]
            mid = start + 1 + max((end - start - len(label)) // 2, 1)
            line[mid:mid + len(label)] = label
        ts = pd.Timestamp(r["ts"]).strftime("%H:%M:%S.%f")[:-3] if pd.notna(r["ts"]) else "?"
        text = ts + "".join(line)[12:].rstrip()
        notes = " ".join(x for x in (r["detail"], r["mark"] and f"<== {r['mark']}") if x)
        lines.append(f"{text}   {notes}".rstrip())
    return "\n".join(lines)
