"""Which address is which box: CMS, Expressway-E, Expressway-C, SfB Edge, SfB client.

Worked out from what the events say of themselves: the logging hosts' own addresses (what a CMS
receives on, what it sends from), the TURN roles in captures (who sends Allocate, who answers, who
is the peer of a ConnectionAttempt), and SIP headers (Expressway Via parameters, User-Agent/Server).
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from ..events.parsers import ROLES
from ..model import Host, host_labels

# what `_decide` says -> the contract's host role
CONTRACT_ROLE = {"Expressway-E (TURN server)": "Expressway-E", "Expressway": "unknown", "host": "unknown"}

SFB_AGENT = re.compile(r"UCCAPI|RTC/|Skype for Business|Lync", re.I)
CONFIGURED_ADDRESS = re.compile(r"^Ethernet \d+ IP V[46] (?:Address|Static Address)[^:]*: \"?([0-9A-Fa-f:.]+)")
PEER_ADDRESS = re.compile(r"^Alternates Peer \d+ Address: \"?([0-9A-Fa-f:.]+)")  # cluster peers
EDGE_SETTING = re.compile(r"^(?:Traversal Server TURN Mode: On|Zones Zone \d+ Name: TraversalZoneServer)")
IPV4_HOP = re.compile(r"^([\d.]+):\d+$")  # a Via sent-by as an IPv4 address with its port


def ip_of(address: str) -> str:
    if not address:
        return ""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def survey(events: pd.DataFrame) -> list[Host]:
    """Every address the events place, with its role, its host name and a label such as
    `CMS cms01`, `Expressway-E expe01`, `SfB Edge`: each signal votes, then `_decide` weighs them."""
    votes: dict[str, Counter] = {}

    def vote(ip: str, role: str, weight: int = 1) -> None:
        if ip:
            votes.setdefault(ip, Counter())[role] += weight

    names: dict[str, str] = {}
    sip = events[events["proto"] == "sip"]
    _own_addresses(sip, vote, names)
    _configured(events[events["event"] == "xconfiguration"], vote, names)
    _turn_roles(events[events["proto"] == "stun"], vote)
    _sip_headers(sip, vote)
    _logging_hosts_by_sip(sip, vote, names)
    turn_servers = {ip for ip, c in votes.items() if c["TURN server"]}
    return [_host(ip, _decide(ip, c, turn_servers), names.get(ip, "")) for ip, c in votes.items()]


def _own_addresses(sip: pd.DataFrame, vote, names: dict[str, str]) -> None:
    """A logging host's own address: where it receives, what it sends from; its role by its log."""
    for source, role in ROLES.items():
        for r in sip[sip["source"] == source].itertuples():
            mine = r.dst if r.direction == "in" else r.src if r.direction == "out" else ""
            ip = ip_of(mine)
            if ip and ip[0].isdigit():
                vote(ip, role, 3)
                names.setdefault(ip, r.host)


def _turn_roles(stun: pd.DataFrame, vote) -> None:
    """Who sends Allocates, who answers them, who connects to a relay."""
    for r in stun[stun["event"] == "Allocate Request"].itertuples():
        vote(ip_of(r.src), "TURN client", 2)
        vote(ip_of(r.dst), "TURN server", 2)
    for r in stun[stun["event"] == "ConnectionAttempt Indication"].itertuples():
        vote(ip_of(r.peer), "TURN peer", 2)


def _sip_headers(sip: pd.DataFrame, vote) -> None:
    """User-Agent/Server and the Via path: the Expressway hops, the SfB client at the bottom."""
    for r in sip.itertuples():
        if r.source == "expressway" and r.direction == "in" and SFB_AGENT.search(r.user_agent):
            vote(ip_of(r.dst), "Expressway-E", 2)  # the Expressway the SfB side talks to is the edge one
        for hop in filter(None, map(IPV4_HOP.match, r.expressway_via.split(";"))):
            vote(hop.group(1), "Expressway")
        if SFB_AGENT.search(r.user_agent) and r.method == "INVITE" and r.status is pd.NA:
            bottom = IPV4_HOP.match(r.via.rsplit(";", 1)[-1])
            if bottom:
                vote(bottom.group(1), "SfB client")


def _host(ip: str, kind: str, name: str) -> Host:
    label = f"{kind} {name}".strip() if name and name not in kind else kind
    return Host(address=ip, role=CONTRACT_ROLE.get(kind, kind), name=name, label=label)


def roles(events: pd.DataFrame) -> dict[str, str]:
    """ip -> its label; a host name (SfB traces name their peers) -> the same label."""
    return host_labels(survey(events))




def _configured(conf: pd.DataFrame, vote, names) -> None:
    """An Expressway's configuration dump: its own addresses (every interface: one box, one name),
    its cluster peers, and whether it is the edge one (TURN on, a traversal server zone)."""
    for host, g in conf.groupby("host"):
        own = [m.group(1) for m in map(CONFIGURED_ADDRESS.match, g["summary"]) if m]
        peers = [m.group(1) for m in map(PEER_ADDRESS.match, g["summary"]) if m]
        edge = g["summary"].str.match(EDGE_SETTING).any()
        for ip in own:
            vote(ip, "Expressway", 3)
            names.setdefault(ip, host)
        for ip in peers:
            vote(ip, "Expressway", 3)
        for ip in own + peers if edge else []:
            vote(ip, "Expressway-E", 5)


def _logging_hosts_by_sip(sip, vote, names) -> None:
    """A host whose log shows no address of its own (SfB Snooper names peers by FQDN) is found
    through the messages it sent: the next hop logged them as received from its address."""
    keyed = sip.assign(key=sip["call_id"] + "|" + sip["cseq"] + "|" + sip["event"].astype(object))[
        ["source", "host", "direction", "src", "dst", "key"]].reset_index(drop=True)
    received = keyed[(keyed["direction"] == "in") & keyed["src"].str.match(r"^[\d.]+:")]
    sent = keyed[(keyed["direction"] == "out") & (keyed["host"] != "")]
    # each message sent beside each record of it received, in the order they were logged
    pairs = sent.reset_index().merge(received[["key", "host", "src"]].reset_index(), on="key",
                                     suffixes=("", "_rx")).sort_values(["index", "index_rx"], kind="stable")
    box = [_same_box(d, h) for d, h in zip(pairs["dst"], pairs["host_rx"])]
    pairs = pairs[(pairs["host_rx"] != pairs["host"]).to_numpy() & np.array(box, dtype=bool)]
    for (source, host), g in pairs.groupby(["source", "host"]):
        if any(n == host for n in names.values()):
            continue
        seen = Counter(map(ip_of, g["src_rx"]))
        ip, _ = seen.most_common(1)[0]
        vote(ip, ROLES.get(source, "host"), 3)
        names.setdefault(ip, host)


def _same_box(address: str, host: str) -> bool:
    name = ip_of(address) if address else ""
    return bool(name) and (name == host or name.split(".", 1)[0] == host)


def _decide(ip: str, c: Counter, turn_servers: set[str]) -> str:
    if c["CMS"] or (c["TURN client"] and not c["Expressway"]):
        return "CMS"
    if c["Expressway"] and (ip in turn_servers or c["Expressway-E"]):
        return "Expressway-E"
    if c["TURN server"]:
        return "Expressway-E (TURN server)"
    if c["Expressway"]:
        return "Expressway-C" if not c["TURN peer"] else "Expressway"
    if c["TURN peer"] or c["SfB"]:
        return "SfB Edge"
    if c["SfB client"]:
        return "SfB client"
    return "host"
