"""events + calls -> which call an event belongs to, where the flow's own step search did not cite it.

The flow (flow.py) cites the events of the steps it found; a finding about an event it did not
cite (a ConnectionBind naming a CONNECTION-ID no ConnectionAttempt gave, CMS's "call 9: ICE
failure", a refused TCP connect to the TURN port) still belongs to a call when one of these links
leads there:

* TURN: the call's SDP offers a `typ relay` candidate == the XOR-RELAYED-ADDRESS of an Allocate
  Success Response; that response's 5-tuple is the allocation's control connection; every STUN
  event on it is the call's, and so is the CONNECTION-ID of each ConnectionAttempt on it. A
  ConnectionBind naming that CONNECTION-ID is the call's, with its data connection, and so is the
  peer's leg to and from the relayed address. A bind naming a CONNECTION-ID no ConnectionAttempt
  gave is the call of the control connection from the same client address whose allocation was
  alive then.
* CMS's call number: CMS writes `call N: incoming ... SIP call from ... to local URI ...` right
  after it logged the call's first INVITE (`outgoing` right before it sends one): that INVITE's
  Call-ID is call N's (without CMS's SIP trace: that of the INVITE to the local URI another source
  saw in the same seconds), and every later `call N: ...` line of that host is the call's (until
  the number is given to a new call after a restart).
* Refused or unanswered TCP connects to the TURN port: the presentation call whose INVITE the
  connecting address (CMS) handled within the allocation window.

Pure functions over the event table (with `ts_aligned`) and the calls; nothing is parsed again.
"""
from __future__ import annotations

import bisect
import operator

import re

import pandas as pd

from ..model import Call
from .hosts import ip_of
from .rows import records

Key = tuple[str, int]  # (file, pos) of an event
WINDOW = pd.Timedelta(seconds=30)  # an allocation is made this soon after the share INVITE
EARLY = pd.Timedelta(seconds=2)  # clocks of two sources may differ this much after alignment
LOG_TO_INVITE = pd.Timedelta(seconds=2)  # CMS's `call N: incoming` line follows its INVITE this closely
LOCAL_URI = re.compile(r'to local URI "([^"]*)"')


def event_calls(events: pd.DataFrame, calls: list[Call]) -> dict[Key, str]:
    """(file, pos) -> Call-ID of the events a link ties to a call (the flow's own citations aside)."""
    if "ts_aligned" not in events:
        events = events.assign(ts_aligned=events["ts"])
    links: dict[Key, str] = {}
    for part in (turn_links(events, calls), call_number_links(events, calls), connect_links(events, calls)):
        for key, call_id in part.items():
            links.setdefault(key, call_id)
    return links


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


# --- TURN: relayed address <-> allocation <-> CONNECTION-ID <-> ConnectionBind ------------------
STUN_COLUMNS = ("ts_aligned", "file", "pos", "event", "src", "dst", "relayed", "connection_id", "txn_id")


class _Allocation:
    """One allocation of a call: its control connection and when it was alive."""

    def __init__(self, call_id: str, success: dict):
        self.call_id = call_id
        self.client, self.server, self.relayed = success["dst"], success["src"], success["relayed"]
        self.start = self.end = success["ts_aligned"]

    def alive(self, ts: pd.Timestamp) -> bool:
        return self.start - EARLY <= ts <= self.end + WINDOW


def turn_links(events: pd.DataFrame, calls: list[Call]) -> dict[Key, str]:
    """STUN and TCP events of each call's allocations: control connection, ConnectionBinds, data connections."""
    relay_call = _relay_owners(calls)
    if not relay_call:
        return {}
    rows = records(events[events["proto"].isin(("stun", "tcp"))], STUN_COLUMNS)
    allocations = _allocations(rows, relay_call)
    by_pair: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        by_pair.setdefault(_pair(r["src"], r["dst"]), []).append(r)
    links: dict[Key, str] = {}
    cid_call = _control_links(allocations, by_pair, links)
    relay_leg = {a.relayed: a.call_id for a in allocations.values()}
    for r in rows:  # the peer's leg: to and from the relayed address
        call_id = relay_leg.get(r["src"]) or relay_leg.get(r["dst"])
        if call_id:
            links.setdefault((r["file"], r["pos"]), call_id)
    by_hosts: dict[tuple[str, str], list[_Allocation]] = {}  # (client IP, server IP) -> allocations
    for a in allocations.values():
        by_hosts.setdefault((ip_of(a.client), ip_of(a.server)), []).append(a)
    for bind in (r for r in rows if r["event"] == "ConnectionBind Request"):
        call_id = cid_call.get(bind["connection_id"]) or _bind_by_client(bind, by_hosts)
        if call_id:
            for r in by_pair.get(_pair(bind["src"], bind["dst"]), []):  # the data connection, responses included
                links.setdefault((r["file"], r["pos"]), call_id)
    return links


def _allocations(rows: list[dict], relay_call: dict[str, list[Call]]) -> dict[tuple[str, str], _Allocation]:
    """Control connection -> its allocation, owned by the call nearest in time that offers its relay."""
    allocations: dict[tuple[str, str], _Allocation] = {}
    for r in rows:
        if r["event"] == "Allocate Success Response" and r["relayed"] in relay_call:
            owner = min(relay_call[r["relayed"]], key=lambda c: abs(r["ts_aligned"] - c.start))
            allocations.setdefault(_pair(r["src"], r["dst"]), _Allocation(owner.call_id, r))
    return allocations


def _control_links(allocations: dict, by_pair: dict, links: dict[Key, str]) -> dict[int, str]:
    """Link every event of each control connection to its call (and stretch the allocation's life
    to its last message); CONNECTION-ID -> Call-ID of the ConnectionAttempts seen on them."""
    cid_call: dict[int, str] = {}
    for pair, alloc in allocations.items():
        on_ctrl = by_pair.get(pair, [])
        alloc.end = max([alloc.end] + [r["ts_aligned"] for r in on_ctrl])
        for r in on_ctrl:
            links[(r["file"], r["pos"])] = alloc.call_id
            if r["event"] == "ConnectionAttempt Indication" and r["connection_id"] is not None:
                cid_call[r["connection_id"]] = alloc.call_id
    return cid_call


def _relay_owners(calls: list[Call]) -> dict[str, list[Call]]:
    """Relayed address -> the calls whose SDP offers it (one address may serve calls one after another)."""
    owners: dict[str, list[Call]] = {}
    for call in calls:
        if call.start is not None:
            for relayed in call.allocations:
                owners.setdefault(relayed, []).append(call)
    return owners


def _bind_by_client(bind: dict, by_hosts: dict[tuple[str, str], list[_Allocation]]) -> str:
    """A bind whose CONNECTION-ID no ConnectionAttempt gave: the allocation of the same client
    address (the bind comes on a new connection from the same host) alive at the bind's time."""
    mine = [a for a in by_hosts.get((ip_of(bind["src"]), ip_of(bind["dst"])), []) if a.alive(bind["ts_aligned"])]
    if not mine:
        return ""
    return min(mine, key=lambda a: abs(bind["ts_aligned"] - a.start)).call_id


# --- CMS's call number <-> SIP Call-ID ---------------------------------------------------------
LOG_COLUMNS = ("ts_aligned", "file", "pos", "host", "event", "call_number", "summary")
INVITE_COLUMNS = ("ts_aligned", "source", "host", "call_id", "direction", "summary")


def call_number_links(events: pd.DataFrame, calls: list[Call]) -> dict[Key, str]:
    """CMS's `call N: ...` lines -> the Call-ID of call N."""
    numbered = events[(events["source"] == "cms") & events["call_number"].notna()]
    if numbered.empty:
        return {}
    known = {c.call_id for c in calls}
    invites = _Invites(events, known)
    links: dict[Key, str] = {}
    current: dict[tuple[str, int], str] = {}  # (host, N) -> Call-ID, as the log goes
    for r in records(numbered.sort_values("ts_aligned", kind="stable"), LOG_COLUMNS):
        number = (r["host"], r["call_number"])
        if r["event"] in ("call-incoming", "call-outgoing"):
            current.pop(number, None)  # a new call under this number
            call_id = _invite_of(r, invites)
            if call_id:
                current[number] = call_id
        if number in current:
            links[(r["file"], r["pos"])] = current[number]
    return links


class _Invites:
    """The first INVITE of each dialog as each source logged it, indexed so that a numbered line
    finds its INVITE by a time window (bisect) instead of a pass over every INVITE of the bundle."""

    def __init__(self, events: pd.DataFrame, known: set[str]) -> None:
        inv = events[(events["event"] == "INVITE") & events["call_id"].isin(known) & events["ts_aligned"].notna()]
        inv = inv.sort_values("ts_aligned", kind="stable").drop_duplicates(["source", "host", "call_id"])
        self.by_cms: dict[tuple[str, str], list[dict]] = {}  # (host, direction) -> CMS's, in time order
        self.by_uri: dict[str, list[dict]] = {}  # Request-URI -> other sources', in time order
        for r in records(inv, INVITE_COLUMNS):
            if r["source"] == "cms":
                self.by_cms.setdefault((r["host"], r["direction"]), []).append(r)
            else:
                self.by_uri.setdefault(_request_uri(r["summary"]), []).append(r)

    def cms(self, host: str, direction: str, lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict]:
        return self._window(self.by_cms.get((host, direction), []), lo, hi)

    def elsewhere(self, uri: str, lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict]:
        return self._window(self.by_uri.get(uri, []), lo, hi)

    @staticmethod
    def _window(rows: list[dict], lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict]:
        key = operator.itemgetter("ts_aligned")
        return rows[bisect.bisect_left(rows, lo, key=key):bisect.bisect_right(rows, hi, key=key)]


def _invite_of(line: dict, invites: _Invites) -> str:
    """The Call-ID of the INVITE a `call N: incoming/outgoing` line is about: the one CMS logged on
    the same host in the same direction, closest (incoming: just before; outgoing: around); for an
    incoming call, one whose Request-URI is the line's local URI goes first. Without CMS's SIP
    trace, the INVITE another source saw within the same seconds to that local URI."""
    ts, incoming = line["ts_aligned"], line["event"] == "call-incoming"
    if pd.isna(ts):
        return ""
    uri = LOCAL_URI.search(line["summary"] or "")
    wanted = uri.group(1) if incoming and uri else ""
    hi = ts + (pd.Timedelta(0) if incoming else LOG_TO_INVITE)
    near = invites.cms(line["host"], "in" if incoming else "out", ts - LOG_TO_INVITE, hi)
    if wanted:
        near = [r for r in near if _request_uri(r["summary"]) == wanted] or near
    if not near and wanted:
        near = invites.elsewhere(wanted, ts - LOG_TO_INVITE, ts + LOG_TO_INVITE)
    if not near:
        return ""
    return min(near, key=lambda r: abs(ts - r["ts_aligned"]))["call_id"]


def _request_uri(summary: str) -> str:
    """`INVITE <uri> sdp: ...` -> `<uri>` (the SIP event's summary)."""
    parts = (summary or "").split()
    return parts[1] if len(parts) > 1 else ""


# --- refused or unanswered TCP connects to the TURN port -----------------------------------------
CONNECT_COLUMNS = ("ts_aligned", "file", "pos", "src")
SIP_COLUMNS = ("call_id", "src", "dst")


def connect_links(events: pd.DataFrame, calls: list[Call]) -> dict[Key, str]:
    """A TCP connect to the TURN port that was refused or never answered -> the presentation call
    whose INVITE the connecting address handled, the connect within the allocation window."""
    connects = events[(events["proto"] == "tcp") & events["event"].isin(("refused", "unanswered"))]
    shares = [c for c in calls if c.presentation]
    if connects.empty or not shares:
        return {}
    ips = _call_ips(events, {c.call_id for c in shares})
    links: dict[Key, str] = {}
    for r in records(connects, CONNECT_COLUMNS):
        ip = ip_of(r["src"])
        near = [(abs(r["ts_aligned"] - t0), c.call_id) for c in shares
                if ip in ips.get(c.call_id, ()) and (t0 := _share_start(c)) is not None
                and t0 - EARLY <= r["ts_aligned"] <= t0 + WINDOW]
        if near:
            links[(r["file"], r["pos"])] = min(near)[1]
    return links


def _call_ips(events: pd.DataFrame, call_ids: set[str]) -> dict[str, set[str]]:
    """Call-ID -> the addresses its SIP messages went between (CMS is one of them)."""
    sip_rows = events[(events["proto"] == "sip") & events["call_id"].isin(call_ids)]
    out: dict[str, set[str]] = {}
    for r in records(sip_rows.drop_duplicates(list(SIP_COLUMNS)), SIP_COLUMNS):
        out.setdefault(r["call_id"], set()).update(ip for ip in (ip_of(r["src"]), ip_of(r["dst"])) if ip)
    return out


def _share_start(call: Call) -> pd.Timestamp | None:
    step = call.step("invite")
    return step.ts if step is not None and step.ts is not None else call.start
