"""events -> calls: SIP dialogs joined across sources, and the presentation-sharing flow step by step.

A call is a SIP dialog (one Call-ID) seen by any source. A presentation call (`m=applicationsharing`)
is followed through the 13 steps of the flow (docs/CONTRACT.md): its INVITE, CMS's TURN allocation
(found through the relay candidate in CMS's answer == XOR-RELAYED-ADDRESS of an Allocate Success
Response), the ConnectionAttempt on that allocation's control connection, the ConnectionBind with
its CONNECTION-ID on a new connection, the ICE checks inside the bound connection, and the
re-INVITE. Each step is `seen`, `missing`, or `not observable` (no source in the bundle could show
it: TURN steps need a capture). The first missing step is the call's verdict.

Everything here reads the event table with `ts_aligned` (see clocks.py); nothing is parsed again:
the SDP facts (candidates, ICE ufrags) and the Ms-Conversation-ID are columns the parsers filled.
"""
from __future__ import annotations

import bisect
import operator
from collections import namedtuple
from dataclasses import dataclass, field

import pandas as pd

from ..events import sip
from ..model import FLOW_STEPS, Call, Evidence, Finding, Step, stop_index
from . import link
from .rows import tuples
from .hosts import ip_of

TURN_STEPS = {"allocate", "allocate-challenge", "allocate-auth", "allocate-success", "refresh",
              "connection-attempt", "connection-bind", "connection-bind-success", "ice-checks"}
ALLOCATION_WINDOW = pd.Timedelta(seconds=30)
MAX_EVIDENCE = 3


# what the stage reads of the table
COLUMNS = ("ts_aligned", "source", "file", "pos", "event", "direction", "src", "dst",
           "call_id", "cseq", "method", "reason", "status", "sdp_media", "relay_candidates",
           "ms_diagnostics", "ice_ufrag", "candidates", "conversation_id", "txn_id", "error_code",
           "relayed", "peer", "connection_id", "username", "lifetime", "summary")
Row = namedtuple("Row", COLUMNS)  # one event; a call has tens of them, pandas per call is slow


def _records(events: pd.DataFrame, rows: pd.Series) -> list[Row]:
    """The `rows` of the table in time order (stable)."""
    return tuples(events, Row, rows, by="ts_aligned")


class _Wire:
    """The STUN events, indexed once by type, by connection (either direction), by transaction id
    and by CONNECTION-ID, so that no call passes over every STUN event of the capture."""

    def __init__(self, rows: list[Row]):
        self.by_event: dict[str, list[Row]] = {}
        self.by_pair: dict[tuple[str, str], list[Row]] = {}
        self.by_txn: dict[str, list[Row]] = {}
        self.by_cid: dict[int, list[Row]] = {}
        self.allocate_targets: dict[str, set[str]] = {}  # client IP -> the IPs it sent Allocates to
        self.relayed: set[str] = set()  # the relayed addresses of Allocate Success Responses
        for r in rows:
            self.by_event.setdefault(r.event, []).append(r)
            self.by_pair.setdefault(_pair(r.src, r.dst), []).append(r)
            self.by_txn.setdefault(r.txn_id, []).append(r)
            if r.connection_id is not None:
                self.by_cid.setdefault(r.connection_id, []).append(r)
            if r.event == "Allocate Request":
                self.allocate_targets.setdefault(ip_of(r.src), set()).add(ip_of(r.dst))
            elif r.event == "Allocate Success Response":
                self.relayed.add(r.relayed)

    def event(self, name: str) -> list[Row]:
        return self.by_event.get(name, [])

    def during(self, name: str, lo: pd.Timestamp, hi: pd.Timestamp) -> list[Row]:
        """The events of type `name` with lo <= time <= hi (rows come in time order: a bisect, not
        a pass over the capture's events for each call)."""
        rows = self.event(name)
        key = operator.attrgetter("ts_aligned")
        return rows[bisect.bisect_left(rows, lo, key=key):bisect.bisect_right(rows, hi, key=key)]

    def answers(self, name: str, txn_id: str) -> list[Row]:
        """The events of type `name` in transaction `txn_id`."""
        return [r for r in self.by_txn.get(txn_id, []) if r.event == name]

    def naming(self, name: str, connection_id) -> list[Row]:
        """The events of type `name` that carry CONNECTION-ID `connection_id`."""
        return [r for r in self.by_cid.get(connection_id, []) if r.event == name]

    def between(self, a: str, b: str) -> list[Row]:
        return self.by_pair.get(_pair(a, b), [])


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def build(events: pd.DataFrame) -> list[Call]:
    """All INVITE dialogs, presentation calls with their step list; sorted by start."""
    if "ts_aligned" not in events:
        events = events.assign(ts_aligned=events["ts"])
    # an event without a time cannot be placed in a flow (a SIP file that says no time at all)
    timed = events["ts_aligned"].notna()
    sip_rows = _records(events, timed & (events["proto"] == "sip") & (events["call_id"] != ""))
    stun = _Wire(_records(events, timed & (events["proto"] == "stun")))
    capture_ips, turn_ips = _capture_ips(events, timed), _turn_ips(events, timed)
    dialogs: dict[str, list[Row]] = {}
    for r in sip_rows:
        dialogs.setdefault(r.call_id, []).append(r)
    calls = [_call(call_id, g, stun, capture_ips, turn_ips) for call_id, g in dialogs.items()
             if any(r.event == "INVITE" for r in g)]
    _relate(calls)
    return sorted(calls, key=lambda c: (c.start is None, c.start or pd.Timestamp(0, tz="UTC")))


def _capture_ips(events: pd.DataFrame, timed: pd.Series) -> set[str]:
    captured = events[timed & (events["source"] == "pcap")]
    return {ip_of(a) for a in pd.concat([captured["src"], captured["dst"]]).unique() if a}


def _turn_ips(events: pd.DataFrame, timed: pd.Series) -> set[str]:
    """An Expressway's own addresses: where the TURN server may be."""
    expe = events[timed & (events["source"] == "expressway") & (events["proto"] == "sip")]
    return {ip_of(a) for a in expe["dst"].where(expe["direction"] == "in", expe["src"]) if a}


def _call(call_id: str, g: list[Row], stun: _Wire, capture_ips: set[str], turn_ips: set[str]) -> Call:
    """One INVITE dialog; a presentation call gets its steps and verdict."""
    invites = [r for r in g if r.event == "INVITE"]
    call = Call(
        call_id=call_id,
        media=next((r.sdp_media for r in invites if r.sdp_media), ""),
        start=min(r.ts_aligned for r in g),
        sources=sorted({r.source for r in g}),
        conversation_id=next((r.conversation_id for r in invites if r.conversation_id), ""),
        summary=_dialog_summary(g, invites),
        allocations=_allocations(g, stun),
        event_keys={(r.file, r.pos) for r in g},
    )
    if call.presentation:
        steps, linked = _flow(g, stun, capture_ips, turn_ips)
        call.steps = steps
        call.stage, call.summary = _verdict(steps)
        call.event_keys |= linked
    return call


def _relate(calls: list[Call]) -> None:
    """Calls of one conversation (Ms-Conversation-ID) name each other."""
    conversations: dict[str, set[str]] = {}
    for call in calls:
        if call.conversation_id:
            conversations.setdefault(call.conversation_id, set()).add(call.call_id)
    for call in calls:
        conv = call.conversation_id
        call.related = sorted(conversations.get(conv, set()) - {call.call_id}) if conv else []


def _status(r: Row) -> int:
    return int(r.status) if r.status is not None else 0


def _dialog_summary(g: list[Row], invites: list[Row]) -> str:
    finals = [r for r in g if r.method == "INVITE" and _status(r) >= 200]
    answer = "no final answer to the INVITE"
    if finals:
        answer = f"answered {_status(finals[0])} {finals[0].reason}".strip()
    ended = "ended by BYE" if any(r.event == "BYE" for r in g) else "no BYE"
    n = len({r.cseq for r in invites})
    return f"{n} INVITE transaction(s), {answer}, {ended} (seen in {', '.join(sorted({r.source for r in g}))})"


def _relay_addresses(value: str) -> set[str]:
    return {c.rsplit("/", 1)[0] for c in value.split(";") if c}


def _allocations(g: list[Row], stun: _Wire) -> list[str]:
    """Relayed addresses of Allocate Success Responses that this call's SDPs offer."""
    offered = set()
    for r in g:
        offered |= _relay_addresses(r.relay_candidates)
    if not offered:
        return []
    return sorted(offered & stun.relayed)


def _ev(rows: list[Row]) -> list[Evidence]:
    return [Evidence(file=r.file, pos=int(r.pos), summary=r.summary) for r in rows[:MAX_EVIDENCE]]


@dataclass
class _Flow:
    """One presentation call being followed: its dialog, the wire, the steps so far and what they found."""

    g: list[Row]
    stun: _Wire
    steps: dict[str, Step] = field(default_factory=lambda: {name: Step(name) for name in FLOW_STEPS})
    linked: set = field(default_factory=set)
    share_invites: list[Row] = field(default_factory=list)
    cseq0: str = ""
    t0: pd.Timestamp | None = None
    answers: list[Row] = field(default_factory=list)  # the share INVITE's 2xx
    answer: list[Row] = field(default_factory=list)  # those of them with relay candidates, CMS's first
    offered: set[str] = field(default_factory=set)  # relayed addresses the answer offers
    cms_ips: set[str] = field(default_factory=set)
    client: str = ""  # the TURN control connection
    server: str = ""
    on_ctrl: list[Row] = field(default_factory=list)
    attempt: Row | None = None
    bind: Row | None = None

    def link(self, rows: list[Row]) -> None:
        """These events belong to the call (findings citing them are the call's)."""
        self.linked.update((r.file, r.pos) for r in rows)

    def seen(self, name: str, rows: list[Row], note: str = "") -> None:
        s = self.steps[name]
        s.state, s.ts, s.evidence, s.note = "seen", min(r.ts_aligned for r in rows), _ev(rows), note
        self.link(rows)

    def explain(self, name: str, note: str, rows: list[Row]) -> None:
        """A step not seen, with what was seen instead."""
        self.steps[name].note = note
        self.steps[name].evidence = _ev(rows)

    def ctrl(self, event: str, **match) -> list[Row]:
        """Events of one type on the TURN control connection."""
        return [r for r in self.on_ctrl if r.event == event and all(getattr(r, k) == v for k, v in match.items())]


def _flow(g: list[Row], stun: _Wire, capture_ips: set[str], turn_ips: set[str]) -> tuple[list[Step], set]:
    fl = _Flow(g, stun)
    # the TURN steps follow CMS's answer (its relay candidates), so the signalling comes first
    for name in ("invite", "answer-relay", "ack"):
        STEP_FINDERS[name](fl)
    fl.cms_ips = _cms_ips(fl)
    why = _unobservable(fl, capture_ips, turn_ips)
    if why:
        for name in TURN_STEPS:
            fl.steps[name].state, fl.steps[name].note = "not observable", why
    elif _control_connection(fl):
        for name in (n for n in FLOW_STEPS if n in TURN_STEPS):
            if STEP_FINDERS[name](fl) is False:  # a later step needs what this one did not find
                break
    STEP_FINDERS["reinvite"](fl)
    return [fl.steps[n] for n in FLOW_STEPS], fl.linked


def _invite(fl: _Flow) -> None:
    fl.share_invites = [r for r in fl.g if r.event == "INVITE" and "applicationsharing" in r.sdp_media]
    first_invite = fl.share_invites[0]
    fl.cseq0, fl.t0 = first_invite.cseq, first_invite.ts_aligned
    # CMS's own record of the INVITE first: step 1 is the INVITE reaching CMS
    fl.seen("invite", sorted((r for r in fl.share_invites if r.cseq == fl.cseq0),
                             key=lambda r: r.source != "cms"))


def _answer_relay(fl: _Flow) -> None:
    this_invite = [r for r in fl.g if r.method == "INVITE" and r.cseq == fl.cseq0]
    fl.answers = [r for r in this_invite if 200 <= _status(r) <= 299]
    relay_answers = [r for r in fl.answers if r.relay_candidates]
    cms_answers = [r for r in relay_answers if r.source == "cms" and r.direction == "out"]
    fl.answer = cms_answers or relay_answers
    for r in fl.answer:
        fl.offered |= _relay_addresses(r.relay_candidates)
    if fl.answer:
        fl.seen("answer-relay", fl.answer, note="relay " + ", ".join(sorted(fl.offered)))
    elif fl.answers:
        fl.steps["answer-relay"].note = "the 200 OK offers no typ relay candidate"
    else:
        _refused_invite(fl, [r for r in this_invite if _status(r) >= 300])


def _refused_invite(fl: _Flow, refused: list[Row]) -> None:
    if refused:
        r = refused[0]
        diag = f" ({r.ms_diagnostics})" if r.ms_diagnostics else ""
        fl.explain("answer-relay", f"the share INVITE was refused: {_status(r)} {r.reason}{diag}", refused)


def _ack(fl: _Flow) -> None:
    acks = [r for r in fl.g if r.event == "ACK" and r.cseq == fl.cseq0]
    if acks and fl.answers:
        fl.seen("ack", acks)


def _cms_ips(fl: _Flow) -> set[str]:
    """CMS's addresses: what its answer came from, the raddr of its relay candidates."""
    cms_ips = {ip_of(r.src) for r in fl.g if r.source == "cms" and r.direction == "out"}
    for r in fl.answer[:1]:
        cms_ips |= {c.raddr for c in sip.read_candidates(r.candidates) if c.typ == "relay"}
    cms_ips.discard("")
    return cms_ips


def _unobservable(fl: _Flow, capture_ips: set[str], turn_ips: set[str]) -> str:
    """Why the TURN steps cannot be seen ("" if they can): that needs a capture of CMS's or its
    TURN server's traffic."""
    turn_side = fl.cms_ips | turn_ips | {ip_of(a) for a in fl.offered}
    targets = fl.stun.allocate_targets
    for ip in fl.cms_ips:
        turn_side |= targets.get(ip, set())
    if not capture_ips:
        return "no capture in the bundle"
    if turn_side and not capture_ips & turn_side:
        return "the capture holds no traffic of CMS or of its TURN server"
    return ""


def _control_connection(fl: _Flow) -> bool:
    """CMS's TCP connection to the TURN server that made this call's allocation; False if none."""
    lo, hi = fl.t0 - pd.Timedelta(seconds=2), fl.t0 + ALLOCATION_WINDOW
    succ = fl.stun.during("Allocate Success Response", lo, hi)
    chosen = [r for r in succ if r.relayed in fl.offered]
    if not chosen and fl.cms_ips:
        chosen = [r for r in succ if ip_of(r.dst) in fl.cms_ips]
    if chosen:
        fl.client, fl.server = chosen[0].dst, chosen[0].src
    else:
        reqs = [r for r in fl.stun.during("Allocate Request", lo, hi)
                if not fl.cms_ips or ip_of(r.src) in fl.cms_ips]
        if not reqs:
            return False
        fl.client, fl.server = reqs[0].src, reqs[0].dst
    fl.on_ctrl = fl.stun.between(fl.client, fl.server)
    fl.link(fl.on_ctrl)
    return True


def _allocate(fl: _Flow) -> None:
    a_reqs = fl.ctrl("Allocate Request")
    if a_reqs:
        fl.seen("allocate", a_reqs[:1], note=f"from {fl.client} to {fl.server}")


def _allocate_challenge(fl: _Flow) -> None:
    chal = fl.ctrl("Allocate Error Response", error_code=401)
    if chal:
        fl.seen("allocate-challenge", chal[:1])


def _signed_allocates(fl: _Flow) -> list[Row]:
    return [r for r in fl.ctrl("Allocate Request") if r.username]


def _allocate_auth(fl: _Flow) -> None:
    auth = _signed_allocates(fl)
    if auth:
        fl.seen("allocate-auth", auth[:1])


def _allocate_success(fl: _Flow) -> None:
    ok = fl.ctrl("Allocate Success Response")
    if ok:
        fl.seen("allocate-success", ok[:1], note=f"relayed {ok[0].relayed}")
        return
    signed = {r.txn_id for r in _signed_allocates(fl)}
    refused = [r for r in fl.ctrl("Allocate Error Response") if r.txn_id in signed]
    if refused:
        fl.explain("allocate-success", "the signed Allocate was answered " + _stun_error(refused[0]), refused)


def _refresh(fl: _Flow) -> None:
    """A Refresh that keeps the allocation alive (LIFETIME absent or > 0, RFC 5766 7.1), answered;
    the lifetime-0 Refresh that releases the allocation after the call is not this step."""
    keep = [r for r in fl.ctrl("Refresh Request") if r.lifetime is None or r.lifetime > 0]
    txns = {r.txn_id for r in keep}
    ok = [r for r in fl.ctrl("Refresh Success Response") if r.txn_id in txns]
    if ok:
        req = next(r for r in keep if r.txn_id == ok[0].txn_id)
        fl.seen("refresh", [req, ok[0]])
    elif not keep and fl.ctrl("Refresh Request"):
        fl.steps["refresh"].note = "only a Refresh with LIFETIME 0 (releasing the allocation) was seen"


def _connection_attempt(fl: _Flow) -> bool:
    attempts = fl.ctrl("ConnectionAttempt Indication", src=fl.server)
    if not attempts:
        return False
    peers = _sdp_addresses(fl.g)
    fl.attempt = attempt = next((r for r in attempts if ip_of(r.peer) in peers), attempts[0])
    cid = attempt.connection_id
    fl.seen("connection-attempt", [attempt],
            note=f"from {attempt.peer}" + (f", CONNECTION-ID {int(cid):#x}" if cid is not None else ""))
    return True


def _connection_bind(fl: _Flow) -> bool:
    binds = fl.stun.naming("ConnectionBind Request", fl.attempt.connection_id)
    if not binds:
        _other_binds(fl)
        return False
    fl.bind = bind = binds[0]
    fl.link(binds)
    new_conn = bind.src != fl.client
    fl.seen("connection-bind", binds[:1],
            note="on a new TCP connection " + bind.src if new_conn
            else "on the control connection (RFC 6062 wants a new one)")
    return True


def _other_binds(fl: _Flow) -> None:
    """ConnectionBinds from CMS's address after the attempt that name another CONNECTION-ID."""
    lo, hi = fl.attempt.ts_aligned, fl.attempt.ts_aligned + ALLOCATION_WINDOW
    other = [r for r in fl.stun.during("ConnectionBind Request", lo, hi) if ip_of(r.src) == ip_of(fl.client)
             and ip_of(r.dst) == ip_of(fl.server)]
    if other:
        named = ", ".join(sorted({_hex(r.connection_id) for r in other}))
        fl.explain("connection-bind", f"the ConnectionBind from {other[0].src} names CONNECTION-ID {named}, "
                   f"not the ConnectionAttempt's {_hex(fl.attempt.connection_id)}", other)
        fl.link(other)


def _hex(value) -> str:
    return f"{int(value):#x}" if value is not None else "none"


def _connection_bind_success(fl: _Flow) -> bool:
    txn = fl.bind.txn_id
    bound = fl.stun.answers("ConnectionBind Success Response", txn)
    if bound:
        fl.seen("connection-bind-success", bound[:1])
        return True
    refused = fl.stun.answers("ConnectionBind Error Response", txn)
    if refused:
        fl.explain("connection-bind-success", "the ConnectionBind was answered " + _stun_error(refused[0]), refused)
        fl.link(refused)
    return False


CHECKS = ("Binding Request", "Binding Success Response")


def _ice_checks(fl: _Flow) -> None:
    """Checks both ways on the bound connection to the TURN server, else on the relay to the peer."""
    relay = next(iter(sorted(fl.offered)), "")
    for a, b in ((fl.bind.src, fl.server), (relay, fl.attempt.peer)):
        leg = [r for r in fl.stun.between(a, b) if r.event in CHECKS] if a and b else []
        if not leg:
            continue
        fl.link(leg)
        have = {(r.event, r.src == a) for r in leg}
        names = _username_note(leg, fl.g)
        if {(e, d) for e in CHECKS for d in (True, False)} <= have:
            fl.seen("ice-checks", leg, note=f"{len(leg)} check messages between {a} and {b}{names}")
            return
        one_way = ", ".join(sorted(f"{e} {'->' if d else '<-'}" for e, d in have))
        fl.explain("ice-checks", f"checks between {a} and {b} in one direction only: {one_way}{names}", leg)
    if not fl.steps["ice-checks"].note:
        fl.steps["ice-checks"].note = "no ICE check crossed the bound connection"


def _reinvite(fl: _Flow) -> None:
    after = fl.steps["ice-checks"].ts or fl.steps["answer-relay"].ts or fl.t0
    reinvites = [r for r in fl.g if r.event == "INVITE" and _num(r.cseq) > _num(fl.cseq0)
                 and r.ts_aligned >= after]
    if reinvites:
        first_cseq = reinvites[0].cseq
        fl.seen("reinvite", [r for r in reinvites if r.cseq == first_cseq])


def _num(value: str) -> int:
    number = sip.decimal(str(value), max_digits=12)
    return -1 if number is None else number


# what finds each step of FLOW_STEPS; a TURN step returning False ends the TURN chain
STEP_FINDERS = {
    "invite": _invite,
    "allocate": _allocate,
    "allocate-challenge": _allocate_challenge,
    "allocate-auth": _allocate_auth,
    "allocate-success": _allocate_success,
    "refresh": _refresh,
    "answer-relay": _answer_relay,
    "ack": _ack,
    "connection-attempt": _connection_attempt,
    "connection-bind": _connection_bind,
    "connection-bind-success": _connection_bind_success,
    "ice-checks": _ice_checks,
    "reinvite": _reinvite,
}
assert tuple(STEP_FINDERS) == FLOW_STEPS


def _stun_error(r: Row) -> str:
    return f"{r.error_code} {r.reason}".strip() if r.error_code is not None else "with an error"


def _username_note(leg: list[Row], g: list[Row]) -> str:
    """The checks' USERNAMEs (`remote:local` ufrags, RFC 8445 7.2.2) against the SDPs' ice-ufrag."""
    frags = _sdp_ufrags(g)
    names = {r.username for r in leg if r.event == "Binding Request" and r.username}
    if not frags or not names:
        return ""
    strangers = sorted(n for n in names if not set(n.split(":", 1)) <= frags)
    if strangers:
        return (f"; USERNAME {', '.join(strangers)} does not match the ice-ufrag of the call's SDPs "
                f"({', '.join(sorted(frags))})")
    return f"; USERNAMEs {', '.join(sorted(names))} match the SDPs"


def _sdp_ufrags(g: list[Row]) -> set[str]:
    frags: set[str] = set()
    for r in g:
        if r.sdp_media and "applicationsharing" in r.sdp_media:
            pairs = zip(r.sdp_media.split(","), r.ice_ufrag.split(","))
            frags |= {ufrag for kind, ufrag in pairs if kind == "applicationsharing" and ufrag}
    return frags


def _sdp_addresses(g: list[Row]) -> set[str]:
    """IPs of the candidates of the non-CMS side (the INVITE's SDP)."""
    ips = set()
    for r in [r for r in g if r.event == "INVITE"][:2]:
        ips |= {c.ip for c in sip.read_candidates(r.candidates)}
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
    """(stage, sentence): the last step seen before the flow stopped, worded for a person."""
    first_missing = stop_index(steps)
    upto = steps if first_missing is None else steps[:first_missing]
    seen = [i for i, s in enumerate(upto) if s.state == "seen"]
    if not seen:
        return "", "the share INVITE was not seen"
    last = seen[-1]
    stage = steps[last].name
    if first_missing is None:
        hidden = [s for s in steps if s.state == "not observable"]
        tail = f" ({len(hidden)} TURN step(s) not observable: {hidden[0].note})" if hidden else ""
        return stage, f"reached step {last + 1} ({stage}): {SEEN_TEXT[stage]}{tail}"
    s = steps[last]
    when = f" at {pd.Timestamp(s.ts).strftime('%H:%M:%S.%f')[:-3]}" if s.ts is not None else ""
    detail = f" ({s.note})" if s.note else ""
    missing = steps[first_missing]
    if missing.note.startswith("the share INVITE was refused") or " was answered " in missing.note:
        what = missing.note
    else:
        what = MISSING_TEXT[missing.name] + (f"; {missing.note}" if missing.note else "")
    return stage, f"stopped after step {last + 1} ({stage}): {SEEN_TEXT[stage]}{detail}{when}; {what}"


def attribute(findings: list[Finding], calls: list[Call], events: pd.DataFrame | None = None) -> None:
    """Give findings without a call the call whose events their evidence cites: events the flow
    cited first, then those a link ties to a call (link.py: CONNECTION-ID, CMS's call number,
    refused connects to the TURN port)."""
    loose = [f for f in findings if not f.call_id]
    if not loose:
        return
    linked = link.event_calls(events, calls) if events is not None else {}
    for f in loose:
        cited = [(e.file, e.pos) for e in f.evidence]
        owner = next((call.call_id for call in calls if call.event_keys.intersection(cited)), "")
        f.call_id = owner or next((linked[k] for k in cited if k in linked), "")
