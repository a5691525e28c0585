"""events -> calls: SIP dialogs joined across sources, and the presentation-sharing flow step by step.

A call is a SIP dialog (one Call-ID) seen by any source. A presentation call (`m=applicationsharing`)
is followed through the 13 steps of the flow (docs/CONTRACT.md): its INVITE, CMS's TURN allocation
(found through the relay candidate in CMS's answer == XOR-RELAYED-ADDRESS of an Allocate Success
Response), the ConnectionAttempt on that allocation's control connection, the ConnectionBind with
its CONNECTION-ID on a new connection, the ICE checks inside the bound connection, and the
re-INVITE. Each step is `seen`, `missing`, or `not observable` (no source in the bundle could show
it: TURN steps need a capture). The first missing step is the call's verdict.

Everything here reads the event table with `ts_aligned` (see clocks.py); nothing is parsed again
except the SDP of the few messages that carry the ICE credentials.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from . import sip
from .hosts import ip_of

STEPS = (
    ("invite", "INVITE with m=applicationsharing reaches CMS"),
    ("allocate", "CMS sends a TCP Allocate Request to the TURN server"),
    ("allocate-challenge", "401 Allocate Error Response with NONCE and REALM"),
    ("allocate-auth", "Allocate Request with USERNAME, REALM, NONCE, MESSAGE-INTEGRITY"),
    ("allocate-success", "Allocate Success Response with XOR-RELAYED-ADDRESS"),
    ("refresh", "Refresh Request and its Success Response"),
    ("answer-relay", "CMS's 200 OK whose SDP holds the relayed address as a typ relay candidate"),
    ("ack", "the ACK of that 200 OK"),
    ("connection-attempt", "ConnectionAttempt Indication with XOR-PEER-ADDRESS and CONNECTION-ID"),
    ("connection-bind", "ConnectionBind Request with that CONNECTION-ID on a new TCP connection"),
    ("connection-bind-success", "ConnectionBind Success Response"),
    ("ice-checks", "Binding Request and Binding Success Response in each direction on the bound connection"),
    ("reinvite", "the re-INVITE that moves media to the chosen pair"),
)
STEP_NAMES = tuple(name for name, _ in STEPS)
TURN_STEPS = {"allocate", "allocate-challenge", "allocate-auth", "allocate-success", "refresh",
              "connection-attempt", "connection-bind", "connection-bind-success", "ice-checks"}
CONVERSATION_ID = re.compile(r"^Ms-Conversation-ID:\s*(\S+)", re.M | re.I)
ALLOCATION_WINDOW = pd.Timedelta(seconds=30)
MAX_EVIDENCE = 3


@dataclass
class Step:
    name: str
    state: str = "missing"
    ts: pd.Timestamp | None = None
    evidence: list[dict] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        out = {"step": self.name, "state": self.state, "ts": self.ts, "evidence": self.evidence}
        if self.note:
            out["note"] = self.note
        return out


def _ev(rows: pd.DataFrame | pd.Series) -> list[dict]:
    if isinstance(rows, pd.Series):
        rows = rows.to_frame().T
    return [{"file": r.file, "pos": int(r.pos), "summary": r.summary} for r in rows.head(MAX_EVIDENCE).itertuples()]


def build(events: pd.DataFrame) -> list[dict]:
    """All INVITE dialogs, presentation calls with their step list; sorted by start."""
    if "ts_aligned" not in events:
        events = events.assign(ts_aligned=events["ts"])
    sipev = events[(events["proto"] == "sip") & (events["call_id"] != "")]
    stun = events[events["proto"] == "stun"]
    has_capture = bool((events["source"] == "pcap").any())
    conversations: dict[str, set[str]] = {}
    calls = []
    for call_id, g in sipev.groupby("call_id", sort=False):
        g = g.sort_values("ts_aligned", kind="stable")
        invites = g[g["event"] == "INVITE"]
        if invites.empty:
            continue
        media = next((m for m in invites["sdp_media"] if m), "")
        conv = next((m.group(1) for m in map(CONVERSATION_ID.search, invites["raw"]) if m), "")
        if conv:
            conversations.setdefault(conv, set()).add(call_id)
        call = {
            "call_id": call_id,
            "media": media,
            "start": g["ts_aligned"].min(),
            "sources": sorted(set(g["source"])),
            "conversation_id": conv,
            "stage": "",
            "steps": [],
            "summary": _dialog_summary(g, invites),
            "allocations": _allocations(g, stun),
            "related": [],
            "_events": set(zip(g["file"], g["pos"])),
        }
        if "applicationsharing" in media.split(","):
            steps, linked = _flow(g, stun, has_capture)
            call["steps"] = [s.to_dict() for s in steps]
            call["stage"], call["summary"] = _verdict(steps)
            call["_events"] |= linked
        calls.append(call)
    for call in calls:
        conv = call["conversation_id"]
        call["related"] = sorted(conversations.get(conv, set()) - {call["call_id"]}) if conv else []
    return sorted(calls, key=lambda c: (pd.isna(c["start"]), c["start"]))


def _dialog_summary(g: pd.DataFrame, invites: pd.DataFrame) -> str:
    finals = g[(g["method"] == "INVITE") & (g["status"].fillna(0) >= 200)]
    answer = "no final answer to the INVITE"
    if not finals.empty:
        first = finals.iloc[0]
        answer = f"answered {first['status']} {first['reason']}".strip()
    ended = "ended by BYE" if (g["event"] == "BYE").any() else "no BYE"
    n = invites.drop_duplicates(["cseq"]).shape[0]
    return f"{n} INVITE transaction(s), {answer}, {ended} (seen in {', '.join(sorted(set(g['source'])))})"


def _relay_addresses(value: str) -> set[str]:
    return {c.rsplit("/", 1)[0] for c in value.split(";") if c}


def _allocations(g: pd.DataFrame, stun: pd.DataFrame) -> list[str]:
    """Relayed addresses of Allocate Success Responses that this call's SDPs offer."""
    offered = set()
    for v in g["relay_candidates"]:
        offered |= _relay_addresses(v)
    succ = stun[(stun["event"] == "Allocate Success Response") & stun["relayed"].isin(offered)]
    return sorted(set(succ["relayed"]))


def _sdp_ufrags(rows: pd.DataFrame) -> set[str]:
    frags = set()
    for raw in rows["raw"].head(4):
        msg = sip.parse_message(raw)
        if msg.sdp:
            frags |= {m.ice_ufrag for m in msg.sdp.media if m.ice_ufrag}
    return frags


def _flow(g: pd.DataFrame, stun: pd.DataFrame, has_capture: bool) -> tuple[list[Step], set]:
    steps = {name: Step(name) for name in STEP_NAMES}
    linked: set = set()
    for name in TURN_STEPS:
        if not has_capture:
            steps[name].state = "not observable"
            steps[name].note = "no capture of the TURN traffic in the bundle"

    def seen(name: str, rows: pd.DataFrame, note: str = "") -> None:
        s = steps[name]
        s.state, s.ts, s.evidence, s.note = "seen", rows["ts_aligned"].min(), _ev(rows), note
        link(rows)

    def link(rows: pd.DataFrame) -> None:
        """These events belong to the call (findings citing them are the call's)."""
        linked.update(zip(rows["file"], rows["pos"]))

    share_invites = g[(g["event"] == "INVITE") & g["sdp_media"].str.contains("applicationsharing")]
    first_invite = share_invites.iloc[0]
    cseq0 = first_invite["cseq"]
    seen("invite", share_invites[share_invites["cseq"] == cseq0])
    t0 = first_invite["ts_aligned"]

    answers = g[(g["method"] == "INVITE") & (g["cseq"] == cseq0) & g["status"].between(200, 299)]
    relay_answers = answers[answers["relay_candidates"] != ""]
    cms_answers = relay_answers[(relay_answers["source"] == "cms") & (relay_answers["direction"] == "out")]
    answer = cms_answers if not cms_answers.empty else relay_answers
    offered: set[str] = set()
    for v in answer["relay_candidates"]:
        offered |= _relay_addresses(v)
    if not answer.empty:
        seen("answer-relay", answer, note="relay " + ", ".join(sorted(offered)))
    elif not answers.empty:
        steps["answer-relay"].note = "the 200 OK offers no typ relay candidate"
    else:
        refused = g[(g["method"] == "INVITE") & (g["cseq"] == cseq0) & (g["status"] >= 300)]
        if not refused.empty:
            r = refused.iloc[0]
            diag = f" ({r['ms_diagnostics']})" if r["ms_diagnostics"] else ""
            steps["answer-relay"].note = f"the share INVITE was refused: {r['status']} {r['reason']}{diag}"
            steps["answer-relay"].evidence = _ev(refused.head(1))
    acks = g[(g["event"] == "ACK") & (g["cseq"] == cseq0)]
    if not acks.empty and not answers.empty:
        seen("ack", acks)

    # CMS's addresses: what its answer came from, the raddr of its relay candidates
    cms_ips = {ip_of(a) for a in g.loc[(g["source"] == "cms") & (g["direction"] == "out"), "src"]}
    for raw in answer["raw"].head(1):
        msg = sip.parse_message(raw)
        if msg.sdp:
            cms_ips |= {c.raddr for m in msg.sdp.media for c in m.candidates if c.typ == "relay" and c.raddr}
    cms_ips.discard("")

    if has_capture:
        _turn_steps(steps, seen, link, stun, t0, offered, cms_ips, g)
    reinvites = g[(g["event"] == "INVITE") & (g["cseq"].map(_num) > _num(cseq0))]
    after = steps["ice-checks"].ts or steps["answer-relay"].ts or t0
    reinvites = reinvites[reinvites["ts_aligned"] >= after]
    if not reinvites.empty:
        first_cseq = reinvites.iloc[0]["cseq"]
        seen("reinvite", reinvites[reinvites["cseq"] == first_cseq])
    return [steps[n] for n in STEP_NAMES], linked


def _num(value: str) -> int:
    return int(value) if str(value).isdigit() else -1


def _turn_steps(steps, seen, link, stun, t0, offered, cms_ips, g) -> None:
    window = stun[(stun["ts_aligned"] >= t0 - pd.Timedelta(seconds=2)) &
                  (stun["ts_aligned"] <= t0 + ALLOCATION_WINDOW)]
    succ = window[window["event"] == "Allocate Success Response"]
    chosen = succ[succ["relayed"].isin(offered)] if offered else succ.iloc[0:0]
    if chosen.empty and cms_ips:
        chosen = succ[succ["dst"].map(ip_of).isin(cms_ips)]
    reqs = window[window["event"] == "Allocate Request"]
    if chosen.empty:
        cand = reqs[reqs["src"].map(ip_of).isin(cms_ips)] if cms_ips else reqs
        if cand.empty:
            return
        client, server = cand.iloc[0]["src"], cand.iloc[0]["dst"]
    else:
        client, server = chosen.iloc[0]["dst"], chosen.iloc[0]["src"]
    on_ctrl = stun[((stun["src"] == client) & (stun["dst"] == server)) |
                   ((stun["src"] == server) & (stun["dst"] == client))]
    link(on_ctrl)
    a_reqs = on_ctrl[on_ctrl["event"] == "Allocate Request"]
    if not a_reqs.empty:
        seen("allocate", a_reqs.head(1), note=f"from {client} to {server}")
    chal = on_ctrl[(on_ctrl["event"] == "Allocate Error Response") & (on_ctrl["error_code"] == 401)]
    if not chal.empty:
        seen("allocate-challenge", chal.head(1))
    auth = a_reqs[a_reqs["username"] != ""]
    if not auth.empty:
        seen("allocate-auth", auth.head(1))
    ok = on_ctrl[on_ctrl["event"] == "Allocate Success Response"]
    if not ok.empty:
        seen("allocate-success", ok.head(1), note=f"relayed {ok.iloc[0]['relayed']}")
    ref_req = on_ctrl[on_ctrl["event"] == "Refresh Request"]
    ref_ok = on_ctrl[on_ctrl["event"] == "Refresh Success Response"]
    if not ref_req.empty and not ref_ok.empty:
        seen("refresh", pd.concat([ref_req.head(1), ref_ok.head(1)]))
    attempts = on_ctrl[(on_ctrl["event"] == "ConnectionAttempt Indication") & (on_ctrl["src"] == server)]
    if attempts.empty:
        return
    peers = _sdp_addresses(g)
    matching = attempts[attempts["peer"].map(ip_of).isin(peers)]
    attempt = (matching if not matching.empty else attempts).iloc[0]
    cid = attempt["connection_id"]
    seen("connection-attempt", attempt.to_frame().T,
         note=f"the relay offered a connection from {attempt['peer']}")
    binds = stun[(stun["event"] == "ConnectionBind Request") & (stun["connection_id"] == cid)]
    if binds.empty:
        return
    bind = binds.iloc[0]
    link(binds)
    new_conn = bind["src"] != client
    seen("connection-bind", binds.head(1),
         note="on a new TCP connection " + bind["src"] if new_conn else "on the control connection (RFC 6062 wants a new one)")
    bound = stun[(stun["event"] == "ConnectionBind Success Response") & (stun["txn_id"] == bind["txn_id"])]
    if bound.empty:
        return
    seen("connection-bind-success", bound.head(1))
    data = bind["src"]
    legs = [(data, server), (offered and next(iter(offered)) or "", attempt["peer"])]
    checks = stun[stun["event"].isin(("Binding Request", "Binding Success Response"))]
    for a, b in legs:
        if not a or not b:
            continue
        leg = checks[((checks["src"] == a) & (checks["dst"] == b)) | ((checks["src"] == b) & (checks["dst"] == a))]
        if leg.empty:
            continue
        link(leg)
        have = {(r.event, r.src == a) for r in leg.itertuples()}
        need = {(e, d) for e in ("Binding Request", "Binding Success Response") for d in (True, False)}
        if need <= have:
            seen("ice-checks", leg, note=f"{len(leg)} check messages between {a} and {b}")
            return
        steps["ice-checks"].note = f"checks between {a} and {b} in one direction only: " + \
            ", ".join(sorted(f"{e} {'->' if d else '<-'}" for e, d in have))
        steps["ice-checks"].evidence = _ev(leg)
    if not steps["ice-checks"].note:
        steps["ice-checks"].note = "no ICE check crossed the bound connection"


def _sdp_addresses(g: pd.DataFrame) -> set[str]:
    """IPs of the candidates of the non-CMS side (the INVITE's SDP)."""
    ips = set()
    for raw in g.loc[g["event"] == "INVITE", "raw"].head(2):
        msg = sip.parse_message(raw)
        if msg.sdp:
            ips |= {c.ip for m in msg.sdp.media for c in m.candidates}
    return ips


SEEN_TEXT = {
    "invite": "the share INVITE was sent",
    "allocate": "CMS asked the TURN server for a relay",
    "allocate-challenge": "the TURN server challenged the Allocate",
    "allocate-auth": "CMS sent its signed Allocate",
    "allocate-success": "the TURN server allocated a relay",
    "refresh": "CMS refreshed the allocation",
    "answer-relay": "CMS answered with its relay candidate",
    "ack": "the answer was acknowledged",
    "connection-attempt": "the relay offered CMS a connection",
    "connection-bind": "CMS asked to bind it",
    "connection-bind-success": "the TURN server bound the connection",
    "ice-checks": "ICE checks succeeded both ways",
    "reinvite": "the re-INVITE moved media to the chosen pair",
}
MISSING_TEXT = {
    "invite": "no share INVITE reached CMS",
    "allocate": "CMS sent no TURN Allocate",
    "allocate-challenge": "the TURN server never challenged the Allocate (no 401)",
    "allocate-auth": "CMS never sent a signed Allocate",
    "allocate-success": "the TURN server allocated no relay",
    "refresh": "no Refresh of the allocation was answered",
    "answer-relay": "CMS's answer carried no relay candidate",
    "ack": "the answer was never acknowledged",
    "connection-attempt": "no ConnectionAttempt came: nothing reached the relay port",
    "connection-bind": "CMS never bound it",
    "connection-bind-success": "the ConnectionBind got no success",
    "ice-checks": "ICE checks did not succeed both ways on the bound connection",
    "reinvite": "no re-INVITE followed",
}


def _verdict(steps: list[Step]) -> tuple[str, str]:
    """(stage, sentence): the last step seen before the first missing one, worded for a person."""
    first_missing = next((i for i, s in enumerate(steps) if s.state == "missing"), None)
    upto = steps if first_missing is None else steps[:first_missing]
    seen = [i for i, s in enumerate(upto) if s.state == "seen"]
    if not seen:
        return "", "the share INVITE was not seen"
    last = seen[-1]
    stage = steps[last].name
    if first_missing is None:
        hidden = [s.name for s in steps if s.state == "not observable"]
        tail = f" ({len(hidden)} TURN step(s) not observable: no capture)" if hidden else ""
        return stage, f"reached step {last + 1} ({stage}): {SEEN_TEXT[stage]}{tail}"
    s = steps[last]
    when = f" at {pd.Timestamp(s.ts).strftime('%H:%M:%S.%f')[:-3]}" if s.ts is not None else ""
    detail = f" ({s.note})" if s.note else ""
    missing = steps[first_missing]
    if missing.note.startswith("the share INVITE was refused"):
        what = missing.note
    else:
        what = MISSING_TEXT[missing.name] + (f"; {missing.note}" if missing.note else "")
    return stage, f"stopped after step {last + 1} ({stage}): {SEEN_TEXT[stage]}{detail}{when}; {what}"


def attribute(findings, calls: list[dict]) -> None:
    """Give findings without a call the call whose events their evidence cites."""
    for f in findings:
        if f.call_id:
            continue
        cited = {(e.file, e.pos) for e in f.evidence}
        for call in calls:
            if cited & call["_events"]:
                f.call_id = call["call_id"]
                break


def public(call: dict) -> dict:
    return {k: v for k, v in call.items() if not k.startswith("_")}
