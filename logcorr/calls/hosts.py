"""Which address is which box: CMS, Expressway-E, Expressway-C, SfB Edge, SfB Front End, SfB client,
CUCM; and which addresses are one box.

Every signal the bundle gives votes for a role of an address, and the votes are weighed together:

* who writes which log: the registry says what box writes what its parser reads (a UccApi log is an
  SfB client's, a SIP stack trace an SfB server's), and the logging host's own address is where it
  receives and what it sends from;
* an Expressway's configuration dump: its own addresses (every LAN interface: one box), its cluster
  peers (each an Expressway of the same kind), and whether it is the edge one (TURN on, a traversal
  server zone) or the inside one (a traversal client zone);
* captures: who sends Allocates, who answers them, which address holds relays, who connects to one;
* SIP: the User-Agent of a request names the box that sent it first (the bottom Via), the Server
  of a 100 Trying the hop that sent it, an SfB
  request reaching an Expressway reaches the edge one, and the Via path orders the boxes: of the
  Expressway hops, the one next to CMS is the inside one (C) and the one facing SfB the edge one (E);
  between the edge Expressway and the SfB client, the SfB hop next to the Expressway is the SfB Edge
  and those below it Front Ends.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..events.parsers import REGISTRY, ROLES
from ..model import Host, host_labels

SFB_AGENT = re.compile(r"UCCAPI|Skype for Business|Lync|OC/", re.I)  # an SfB client's User-Agent
AGENTS = (  # a request's User-Agent -> the box that sent it first
    (SFB_AGENT, "SfB client"),
    (re.compile(r"^RTCC?/", re.I), "SfB server"),
    (re.compile(r"Acano|CallBridge|Cisco Meeting Server", re.I), "CMS"),
    (re.compile(r"Cisco-CUCM", re.I), "CUCM"),
    (re.compile(r"^TANDBERG/|Expressway", re.I), "Expressway"),
)
CONFIGURED_ADDRESS = re.compile(
    r"^Ethernet (\d+) IP V[46] (?:Address|Static Address|StaticNAT Address|Static NAT Address)[^:]*: "
    r"\"?([0-9A-Fa-f:.]+)")
PEER_ADDRESS = re.compile(r"^Alternates Peer \d+ Address: \"?([0-9A-Fa-f:.]+)")  # cluster peers
EDGE_SETTING = re.compile(r"^(?:Traversal Server TURN Mode: On|Zones Zone \d+ Name: TraversalZoneServer"
                          r"|Zones Zone \d+ Type: TraversalServer)")
INSIDE_SETTING = re.compile(r"^Zones Zone \d+ Type: TraversalClient")
IPV4_HOP = re.compile(r"^([\d.]+):\d+$")  # a Via sent-by as an IPv4 address with its port
EXPRESSWAYS = ("Expressway", "Expressway-E", "Expressway-C", "Expressway-E (TURN server)")
INSIDE = ("CMS", "CUCM")  # boxes an Expressway-C faces
OUTSIDE = ("SfB Edge", "SfB server", "SfB client", "SfB Front End")  # boxes an Expressway-E faces
# a parser without an entry (events built elsewhere): its source's role when every entry agrees
SOURCE_ROLES = {s: r.pop() for s in {e.name for e in REGISTRY}
                if len(r := {e.role for e in REGISTRY if e.name == s and e.role}) == 1}


def ip_of(address: str) -> str:
    if not address:
        return ""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


@dataclass
class Votes:
    """What the signals say of each address, the names the logs give, the boxes the
    configuration dumps describe (their addresses, one box each)."""

    by_ip: dict[str, Counter] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    boxes: list[list[str]] = field(default_factory=list)

    def __call__(self, ip: str, role: str, weight: int = 1) -> None:
        if ip:
            self.by_ip.setdefault(ip, Counter())[role] += weight

    def name(self, ip: str, name: str) -> None:
        if ip and name:
            self.names.setdefault(ip, name)


def survey(events: pd.DataFrame) -> list[Host]:
    """Every box the events place, with its role, its addresses, its host name and a label such as
    `CMS cms01`, `Expressway-E expe01`, `SfB Edge`: each signal votes, then `_decide` weighs them."""
    votes = Votes()
    sip = events[events["proto"] == "sip"]
    _configured(events[events["event"] == "xconfiguration"], votes)  # first: its LAN 1 is the primary address
    _own_addresses(sip, votes)
    _turn_roles(events[events["proto"] == "stun"], votes)
    _sip_headers(sip, votes)
    _senders(sip, votes)
    _logging_hosts_by_sip(sip, votes)
    _via_paths(sip, votes, {ip: _decide(c) for ip, c in votes.by_ip.items()})
    return [_host(group, votes) for group in _groups(votes)]


def _tally(frame: pd.DataFrame, columns: list[str]) -> Iterator[tuple[tuple, int]]:
    """The distinct rows of `columns` and how often each occurs, in order of first appearance: a
    bundle's messages repeat a few address and header combinations thousands of times, and a vote
    counted n times is one vote of n times the weight."""
    sizes = frame.groupby(columns, sort=False, observed=True, dropna=False).size()
    keys = sizes.index if len(columns) > 1 else ((k,) for k in sizes.index)
    return zip(keys, sizes.to_numpy().tolist())


def _role_of(parser: str, source: str) -> str:
    return ROLES.get(parser) or ("" if parser else SOURCE_ROLES.get(source, ""))


def _own_addresses(sip: pd.DataFrame, vote: Votes) -> None:
    """A logging host's own addresses: where it receives, what it sends from; its role by its log.
    The addresses one named host's log calls its own are one box (an Expressway on two interfaces)."""
    own: dict[str, list[str]] = {}
    for (parser, source), g in sip.groupby(["parser", "source"], sort=False):
        role = _role_of(parser, source)
        if not role:
            continue
        for (host, direction, src, dst), n in _tally(g, ["host", "direction", "src", "dst"]):
            mine = dst if direction == "in" else src if direction == "out" else ""
            ip = ip_of(mine)
            if ip[:1].isdigit() and not ip.startswith(("0.", "127.")):
                vote(ip, role, 3 * n)
                vote.name(ip, host)
                own.setdefault(host, []).append(ip)
            theirs = ip_of(src if direction == "in" else dst)
            if role == "SfB client" and theirs[:1].isdigit():
                vote(theirs, "SfB server", n)  # a client talks to its pool or its Edge
    vote.boxes.extend(list(dict.fromkeys(ips)) for host, ips in own.items() if host)


def _turn_roles(stun: pd.DataFrame, vote: Votes) -> None:
    """Who sends Allocates, who answers them, which address holds relays, who connects to one."""
    for (src, dst), n in _tally(stun[stun["event"] == "Allocate Request"], ["src", "dst"]):
        vote(ip_of(src), "TURN client", 2 * n)
        vote(ip_of(dst), "TURN server", 2 * n)
    for (src, relayed), n in _tally(stun[stun["event"] == "Allocate Success Response"], ["src", "relayed"]):
        vote(ip_of(src), "TURN server", 2 * n)
        if ip_of(relayed) != ip_of(src):
            vote(ip_of(relayed), "TURN server", 2 * n)  # the relay's address: the server's other side
    for (peer,), n in _tally(stun[stun["event"] == "ConnectionAttempt Indication"], ["peer"]):
        vote(ip_of(peer), "TURN peer", 2 * n)


def _sip_headers(sip: pd.DataFrame, vote: Votes) -> None:
    """User-Agent of a request: the box at the bottom of its Via; an SfB request reaching an
    Expressway's own log reaches the edge one."""
    columns = ["parser", "source", "direction", "user_agent", "dst", "via", "expressway_via", "method"]
    for (parser, source, direction, agent, dst, via, xvia, method), n in _tally(sip[sip["status"].isna()], columns):
        if _role_of(parser, source) == "Expressway" and direction == "in" and SFB_AGENT.search(agent):
            vote(ip_of(dst), "Expressway-E", 2 * n)  # the Expressway the SfB side talks to is the edge one
        role = next((role for pattern, role in AGENTS if pattern.search(agent)), "")
        bottom = IPV4_HOP.match(via.rsplit(";", 1)[-1])
        if role and bottom and (role != "SfB client" or method == "INVITE"):
            vote(bottom.group(1), role, (2 if role != "Expressway" else 1) * n)
        for hop in filter(None, map(IPV4_HOP.match, xvia.split(";"))):
            vote(hop.group(1), "Expressway", n)


def _senders(sip: pd.DataFrame, vote: Votes) -> None:
    """A 100 Trying is made by the hop that sends it (no proxy forwards one): its Server header
    names its sender; so does the header of what a log of no known box sends itself."""
    trying = (sip["status"] == 100).fillna(False)
    unowned = sip["parser"].map(lambda p: not ROLES.get(p)) & (sip["direction"] == "out")
    for (src, agent), n in _tally(sip[trying | unowned], ["src", "user_agent"]):
        role = next((role for pattern, role in AGENTS if pattern.search(agent)), "")
        ip = ip_of(src)
        if role and ip[:1].isdigit():
            vote(ip, role, 2 * n)


def _configured(conf: pd.DataFrame, vote: Votes) -> None:
    """An Expressway's configuration dump: its own addresses (every interface: one box, one name),
    its cluster peers (each an Expressway of the same kind), whether it is the edge or inside one."""
    for host, g in conf.groupby("host", sort=False):
        own = [m.group(2) for m in map(CONFIGURED_ADDRESS.match, g["summary"]) if m]
        peers = [m.group(1) for m in map(PEER_ADDRESS.match, g["summary"]) if m]
        kind = "Expressway-E" if g["summary"].str.match(EDGE_SETTING).any() else \
            "Expressway-C" if g["summary"].str.match(INSIDE_SETTING).any() else ""
        for ip in own + peers:
            vote(ip, "Expressway", 3)
            if kind:
                vote(ip, kind, 5)
        for ip in own:
            vote.name(ip, host)
        if own:
            vote.boxes.append(list(dict.fromkeys(own)))


def _logging_hosts_by_sip(sip: pd.DataFrame, vote: Votes) -> None:
    """A host whose log shows no address of its own (SfB Snooper names peers by FQDN) is found
    through the messages it sent: the next hop logged them as received from its address."""
    keyed = sip.assign(key=sip["call_id"] + "|" + sip["cseq"] + "|" + sip["event"].astype(object))[
        ["source", "parser", "host", "direction", "src", "dst", "key"]].reset_index(drop=True)
    received = keyed[(keyed["direction"] == "in") & keyed["src"].str.match(r"^[\d.]+:")]
    sent = keyed[(keyed["direction"] == "out") & (keyed["host"] != "")]
    # each message sent beside each record of it received, in the order they were logged
    pairs = sent.reset_index().merge(received[["key", "host", "src"]].reset_index(), on="key",
                                     suffixes=("", "_rx")).sort_values(["index", "index_rx"], kind="stable")
    box = [_same_box(d, h) for d, h in zip(pairs["dst"], pairs["host_rx"])]
    pairs = pairs[(pairs["host_rx"] != pairs["host"]).to_numpy() & np.array(box, dtype=bool)]
    for (source, parser, host), g in pairs.groupby(["source", "parser", "host"], sort=False):
        if any(n == host for n in vote.names.values()):
            continue
        seen = Counter(map(ip_of, g["src_rx"]))
        ip, _ = seen.most_common(1)[0]
        vote(ip, _role_of(parser, source) or "host", 3)
        vote.name(ip, host)


def _same_box(address: str, host: str) -> bool:
    name = ip_of(address) if address else ""
    return bool(name) and (name == host or name.split(".", 1)[0] == host)


def _via_paths(sip: pd.DataFrame, vote: Votes, first: dict[str, str]) -> None:
    """The boxes in path order: a request's receiver, then its Via hops top (last sender) to bottom
    (first sender). Of a run of Expressway hops, the end next to CMS or CUCM is the inside one, the
    end next to SfB the edge one (a run of two: the other end is the other kind); below the edge
    Expressway on the way to an SfB client, the next SfB hop is the SfB Edge, the others Front Ends."""
    requests = sip[sip["status"].isna() & (sip["via"] != "")]
    paths = pd.DataFrame({"receiver": requests["dst"].where(requests["direction"] == "in", ""), "via": requests["via"],
                          "xvia": requests["expressway_via"], "agent": requests["user_agent"]})
    for (receiver, via, xvia, agent), n in _tally(paths, ["receiver", "via", "xvia", "agent"]):
        path = [ip_of(receiver)] + [m.group(1) if m else "" for m in map(IPV4_HOP.match, via.split(";"))]
        marked = {m.group(1) for m in map(IPV4_HOP.match, xvia.split(";")) if m}
        express = [bool(ip) and (ip in marked or first.get(ip, "") in EXPRESSWAYS) for ip in path]
        for start, end in _runs(express):
            _order_expressways(path, start, end, first, vote, n)
        if SFB_AGENT.search(agent) and any(express):
            _order_sfb(path[max(i for i, x in enumerate(express) if x) + 1:-1], vote, n)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of true flags."""
    runs, start = [], None
    for i, flag in enumerate(flags + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def _order_expressways(path: list[str], start: int, end: int, first: dict[str, str], vote: Votes, n: int) -> None:
    above = first.get(path[start - 1], "") if start > 0 else ""
    below = first.get(path[end + 1], "") if end + 1 < len(path) else ""
    for neighbour, near, far in ((above, start, end), (below, end, start)):
        kinds = ("Expressway-C", "Expressway-E") if neighbour in INSIDE else \
            ("Expressway-E", "Expressway-C") if neighbour in OUTSIDE else None
        if kinds:
            vote(path[near], kinds[0], 2 * n)
            if far != near:
                vote(path[far], kinds[1], 2 * n)


def _order_sfb(hops: list[str], vote: Votes, n: int) -> None:
    """The SfB hops between the edge Expressway (before them) and the SfB client (after them)."""
    for i, ip in enumerate(hops):
        if ip:
            vote(ip, "SfB Edge" if i == 0 else "SfB Front End", 2 * n)


def _groups(vote: Votes) -> list[list[str]]:
    """The addresses of each box: the configured ones of an Expressway together, any other alone."""
    grouped: list[list[str]] = []
    for box in vote.boxes:
        same = next((g for g in grouped if set(g) & set(box)), None)
        if same is None:
            grouped.append(list(box))
        else:
            same.extend(ip for ip in box if ip not in same)
    placed = {ip for g in grouped for ip in g}
    return [g for g in grouped if g] + [[ip] for ip in vote.by_ip if ip not in placed]


def _host(addresses: list[str], vote: Votes) -> Host:
    total: Counter = sum((vote.by_ip[ip] for ip in addresses), Counter())
    kind = _decide(total)
    name = next((vote.names[ip] for ip in addresses if ip in vote.names), "")
    label = f"{kind} {name}".strip() if name and name not in kind else kind
    role = {"Expressway-E (TURN server)": "Expressway-E", "SfB server": "SfB Edge"}.get(kind, kind)
    return Host(address=addresses[0], role=role if role in ROLE_NAMES else "unknown", name=name,
                label=label, addresses=addresses)


ROLE_NAMES = ("CMS", "Expressway-E", "Expressway-C", "SfB Edge", "SfB Front End", "SfB client", "CUCM")


def roles(events: pd.DataFrame) -> dict[str, str]:
    """Every address -> its box's label; a host name (SfB traces name their peers) -> the same label."""
    return host_labels(survey(events))


def _decide(c: Counter) -> str:
    """The role the votes of a box's addresses give."""
    expressway = c["Expressway"] + c["Expressway-E"] + c["Expressway-C"]
    sfb = sum(c[k] for k in OUTSIDE) + c["TURN peer"]
    if c["CMS"] > c["CUCM"] or (c["TURN client"] and not expressway and not sfb):
        return "CMS"
    if c["CUCM"] and not expressway:
        return "CUCM"
    if expressway:
        return _expressway(c)
    if c["TURN server"]:
        return "Expressway-E (TURN server)"
    return _sfb(c)


def _expressway(c: Counter) -> str:
    edge = c["Expressway-E"] + c["TURN server"]
    if edge > c["Expressway-C"]:
        return "Expressway-E"
    if c["Expressway-C"] or not c["TURN peer"]:
        return "Expressway-C"
    return "Expressway"


def _sfb(c: Counter) -> str:
    client, edge, front = c["SfB client"], c["SfB Edge"] + c["TURN peer"], c["SfB Front End"]
    server = c["SfB server"] + edge + front
    if client > server:
        return "SfB client"
    if front > edge:
        return "SfB Front End"
    if server:
        return "SfB Edge"  # an SfB server log's box, a TURN relay's peer: the Edge unless told otherwise
    return "host"
