"""SDP bodies (RFC 4566) and their ICE candidates (RFC 5245/8839, RFC 6544, MS-ICE2, legacy MS-ICE)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .words import decimal, join_address

BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


@dataclass
class Candidate:
    """One ICE candidate line, whatever its syntax."""

    foundation: str
    component: int
    transport: str  # UDP or TCP
    priority: float
    ip: str
    port: int
    typ: str = ""  # host, srflx, prflx, relay; empty for legacy MS-ICE
    raddr: str = ""
    rport: int | None = None
    tcptype: str = ""  # active, passive, so
    syntax: str = "rfc5245"  # rfc5245, rfc6544, ms-ice2, ms-ice-legacy

    @property
    def address(self) -> str:
        return join_address(self.ip, self.port)

    def column_text(self) -> str:
        """`ip:port/transport typ[ raddr ip]`, as the `candidates` column holds it."""
        text = f"{self.address}/{self.transport}"
        if self.typ:
            text += f" {self.typ}"
        if self.raddr:
            text += f" raddr {self.raddr}"
        return text


@dataclass(frozen=True)
class CandidateText:
    """One candidate of the `candidates` column, read back."""

    address: str  # ip:port ([v6]:port)
    transport: str
    typ: str
    raddr: str

    @property
    def ip(self) -> str:
        return self.address[1:].split("]", 1)[0] if self.address.startswith("[") else self.address.rsplit(":", 1)[0]


def read_candidates(column: str) -> list[CandidateText]:
    """The candidates of an event's `candidates` column (see :meth:`Candidate.column_text`)."""
    out = []
    for item in filter(None, column.split(";")):
        words = item.split(" ")
        address, _, transport = words[0].rpartition("/")
        typ = words[1] if len(words) > 1 and words[1] != "raddr" else ""
        raddr = words[words.index("raddr") + 1] if "raddr" in words[:-1] else ""
        out.append(CandidateText(address, transport, typ, raddr))
    return out


@dataclass
class Media:
    kind: str  # audio, video, applicationsharing, ...
    port: int | None
    proto: str
    ice_ufrag: str = ""
    ice_pwd: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Sdp:
    connection: str = ""  # the session c= address
    ice_ufrag: str = ""
    ice_pwd: str = ""
    media: list[Media] = field(default_factory=list)

    @property
    def media_types(self) -> list[str]:
        return [m.kind for m in self.media]

    def candidates(self) -> list[str]:
        """Every candidate as :meth:`Candidate.column_text`, first seen first, no repeats."""
        return list(dict.fromkeys(c.column_text() for m in self.media for c in m.candidates))

    def relay_candidates(self) -> list[str]:
        """`ip:port/transport` of every `typ relay` candidate, first seen first, no repeats."""
        seen: dict[str, None] = {}
        for m in self.media:
            for c in m.candidates:
                if c.typ == "relay":
                    seen[f"{c.address}/{c.transport}"] = None
        return list(seen)


def pick_sdp_part(body: str, content_type: str) -> str | None:
    """The SDP part of a multipart body; SfB's `ms-proxy-2007fallback` part only as a last resort."""
    m = BOUNDARY.search(content_type)
    if not m:
        return None
    delimiter = "--" + m.group(1).strip()
    chosen, fallback = None, None
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith("--"):
            break
        head, _, content = chunk.lstrip("\r\n").replace("\r\n", "\n").partition("\n\n")
        head_l = head.lower()
        if "application/sdp" not in head_l and not content.lstrip().startswith("v=0"):
            continue
        if "ms-proxy-2007fallback" in head_l:
            fallback = fallback or content
        elif chosen is None:
            chosen = content
    return chosen if chosen is not None else fallback


def parse_sdp(text: str) -> Sdp:
    return _read(text.split("\n"), Sdp())


def sdp_columns(text: str) -> Sdp:
    """What of an SDP the event columns read: the media of every m= line with their ICE
    credentials and candidates, as :func:`parse_sdp` gives them (other attributes and the
    session's c= address are not looked for). Only the lines that hold "m=", "a=ice-",
    "a=candidate" or "a=x-candidate-ipv6" can give one of those."""
    return _read([line for line in text.split("\n") if "m=" in line or "a=ice-" in line
                  or "a=candidate" in line or "a=x-candidate-ipv6" in line], Sdp())


_ICE_CREDENTIALS = {"ice-ufrag": "ice_ufrag", "ice-pwd": "ice_pwd"}
_CANDIDATE_NAMES = frozenset(("candidate", "x-candidate-ipv6"))


def _read(lines, sdp: Sdp) -> Sdp:
    current: Media | None = None
    for raw in lines:
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind = line[0]
        if kind == "a":  # at session level (no m= yet) or in a medium
            name, _, attr = line[2:].partition(":")
            if name in _ICE_CREDENTIALS:
                setattr(current if current is not None else sdp, _ICE_CREDENTIALS[name], attr.strip())
            elif current is None:
                continue
            elif name in _CANDIDATE_NAMES:
                cand = parse_candidate(attr)
                if cand is not None:
                    current.candidates.append(cand)
            else:
                current.attributes.append((name, attr.strip()))
        elif kind == "m":
            current = _medium(line[2:])
            sdp.media.append(current)
        elif kind == "c" and current is None:
            parts = line[2:].split()
            sdp.connection = parts[2] if len(parts) > 2 else ""
    for m in sdp.media:  # session-level ICE credentials apply to media without their own
        m.ice_ufrag = m.ice_ufrag or sdp.ice_ufrag
        m.ice_pwd = m.ice_pwd or sdp.ice_pwd
    return sdp


def _medium(value: str) -> Media:
    """The medium of an m= line's value (`<media> <port>[/<count>] <proto> <fmt> ...`)."""
    parts = value.split()
    port = decimal(parts[1].split("/")[0]) if len(parts) > 1 else None
    return Media(kind=parts[0] if parts else "", port=port, proto=parts[2] if len(parts) > 2 else "")


def parse_candidate(value: str) -> Candidate | None:
    """One `a=candidate:` value in RFC 5245/8839, RFC 6544 (`tcptype`), MS-ICE2 (`TCP-ACT`/
    `TCP-PASS`) or legacy MS-ICE draft-6 (`<user> <component> <password> UDP <0.830> ip port`)."""
    t = value.split()
    try:
        if len(t) >= 7 and t[3].upper() in ("UDP", "TCP") and "." in t[4] and not t[1].isalpha():
            if "typ" not in t:  # legacy MS-ICE: base64 user, component, base64 password, ...
                return Candidate(foundation=t[0], component=int(t[1]), transport=t[3].upper(),
                                 priority=float(t[4]), ip=t[5], port=int(t[6]),
                                 syntax="ms-ice-legacy")
        if len(t) < 6:
            return None
        transport, tcptype, syntax = t[2].upper(), "", "rfc5245"
        if transport in ("TCP-ACT", "TCP-PASS"):
            tcptype = "active" if transport == "TCP-ACT" else "passive"
            transport, syntax = "TCP", "ms-ice2"
        cand = Candidate(foundation=t[0], component=int(t[1]), transport=transport,
                         priority=float(t[3]), ip=t[4], port=int(t[5]), tcptype=tcptype,
                         syntax=syntax)
        rest = t[6:]
        for key, val in zip(rest[0::2], rest[1::2]):
            key = key.lower()
            if key == "typ":
                cand.typ = val.lower()
            elif key == "raddr":
                cand.raddr = val
            elif key == "rport" and decimal(val) is not None:
                cand.rport = decimal(val)
            elif key == "tcptype":
                cand.tcptype, cand.syntax = val.lower(), "rfc6544"
        return cand
    except (ValueError, IndexError):
        return None
