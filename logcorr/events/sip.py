"""The one SIP message grammar every source uses (RFC 3261 text, RFC 4566 SDP, ICE candidates).

CMS traces, Expressway SIPMSG blocks, SfB Snooper records, UccApi packets, plain SIP files and
clear-text SIP in captures all end up here as text; :func:`parse_message` reads it and
:func:`event_fields` gives the event columns. Nothing here raises on bad input: what cannot be
read is left empty and listed in ``SipMessage.defects``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import msdiag

# RFC 3261 section 7.3.3 and the IANA registry of compact header forms.
COMPACT_FORMS = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "n": "Identity-Info", "o": "Event", "r": "Refer-To",
    "s": "Subject", "t": "To", "u": "Allow-Events", "v": "Via", "x": "Session-Expires",
    "y": "Identity",
}
# Canonical spelling of headers logcorr reads, keyed by lower case (wire case varies: MAX-FORWARDS).
CANONICAL = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length",
        "Content-Disposition", "User-Agent", "Server", "Record-Route", "Route", "Max-Forwards",
        "Supported", "Allow", "Ms-Conversation-ID", "ms-diagnostics", "ms-diagnostics-public",
        "ms-client-diagnostics", "Reason", "Content-Encoding", "Event", "Subject", "Refer-To",
    )
}
DIAGNOSTIC_HEADERS = ("ms-diagnostics", "ms-diagnostics-public", "ms-client-diagnostics")

# RFC 3261 25.1: a method is a token, case-sensitive (REGIStER is not REGISTER, and neither is
# wrong); the Request-URI holds no space; the version is "SIP" "/" 1*DIGIT "." 1*DIGIT.
TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
REQUEST_LINE = re.compile(r"^(" + TOKEN + r") (\S+) (SIP/\d+\.\d+)\s*$")
STATUS_LINE = re.compile(r"^SIP/2\.0 (\d{3})(?: (.*))?$")
# where a message starts inside a log line: a request or status line, whatever follows it
START_LINE = re.compile(r"^(?:" + TOKEN + r" \S+ SIP/\d+\.\d+\b|SIP/2\.0 \d{3}\b)")
VIA_TRANSPORT = re.compile(r"SIP/2\.0/([A-Za-z]+)", re.IGNORECASE)
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


@dataclass
class SipMessage:
    start_line: str = ""
    method: str = ""  # request method, or the CSeq method of a response
    uri: str = ""
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    sdp: Sdp | None = None
    defects: list[str] = field(default_factory=list)
    # the headers as last indexed, and their values by lower-case name (see _values)
    _by_name: tuple = field(default=((), {}), init=False, repr=False, compare=False)

    @property
    def is_request(self) -> bool:
        return self.status is None and bool(self.start_line)

    def _values(self, name: str) -> list[str]:
        """The values of header `name` (any case), in order, from an index by lower-case name that
        is built again whenever `headers` no longer holds what it was built from."""
        seen, index = self._by_name
        if seen != self.headers:
            index = {}
            for n, v in self.headers:
                index.setdefault(n.lower(), []).append(v)
            self._by_name = (list(self.headers), index)
        return index.get(name.lower(), [])

    def header(self, name: str) -> str:
        values = self._values(name)
        return values[0] if values else ""

    def header_all(self, name: str) -> list[str]:
        return list(self._values(name))

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    @property
    def cseq(self) -> tuple[str, str]:
        parts = self.header("CSeq").split()
        return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")  # a token, as sent


def looks_like_sip(text: str) -> bool:
    """True when the first line is a SIP request or status line."""
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    return bool(REQUEST_LINE.match(first) or STATUS_LINE.match(first))


_CANONICAL_SEEN: dict[str, str] = {}  # header name as written, stripped -> its canonical spelling


def canonical_header(name: str) -> str:
    name = name.strip()
    found = _CANONICAL_SEEN.get(name)
    if found is None:  # each spelling worked out once
        if len(_CANONICAL_SEEN) >= 4096:
            _CANONICAL_SEEN.clear()
        low = name.lower()
        found = _CANONICAL_SEEN[name] = COMPACT_FORMS.get(low, name) if len(name) == 1 else CANONICAL.get(low, name)
    return found


def parse_message(text: str) -> SipMessage:
    """Read one SIP message. Line ends may be CRLF or LF; the body is what follows the blank line."""
    msg = SipMessage()
    lines = text.lstrip("\r\n").split("\n")
    if not lines or not lines[0].strip():
        msg.defects.append("empty message")
        return msg
    msg.start_line = lines[0].rstrip("\r").strip()
    if m := REQUEST_LINE.match(msg.start_line):
        msg.method, msg.uri = m.group(1), m.group(2)
        if m.group(3) != "SIP/2.0":
            msg.defects.append(f"version {m.group(3)} is not SIP/2.0")
    elif m := STATUS_LINE.match(msg.start_line):
        msg.status, msg.reason = int(m.group(1)), (m.group(2) or "").strip()
    else:
        msg.defects.append("start line is not SIP")
    i, count, headers = 1, len(lines), msg.headers
    folded: dict[int, list[str]] = {}  # header index -> its continuation lines, joined at the end
    while i < count:  # i stops at the blank line, else at the end
        line = lines[i].rstrip("\r")
        if not line.strip():
            break
        i += 1
        if line[0] in " \t" and headers:  # folded continuation (RFC 3261 7.3.1)
            folded.setdefault(len(headers) - 1, []).append(line.strip())
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or " " in name:
            msg.defects.append(f"not a header: {line[:60]!r}")
            continue
        headers.append((canonical_header(name), value.strip()))
    for index, more in folded.items():
        name, value = msg.headers[index]
        msg.headers[index] = (name, " ".join([value, *more]))
    msg.body = "\n".join(l.rstrip("\r") for l in lines[i + 1 :]) if i < len(lines) else ""
    if msg.status is not None:
        msg.method = msg.cseq[1]
    msg.defects.extend(_field_defects(msg, lines[0]))
    msg.sdp = _find_sdp(msg)
    return msg


EMPTY_VIA_PARAMETER = re.compile(r";\s*[;,]")
EMPTY_CONTACT_PARAMETER = re.compile(r">\s*;\s*;")
SPACE_IN_BRACKETS = re.compile(r"<\s|\s>")


def _field_defects(msg: SipMessage, first_line: str) -> list[str]:
    """What RFC 3261's grammar refuses in a message read anyway (RFC 4475 3.1.2): said, not fatal."""
    out = _address_defects(msg) + _header_defects(msg)
    if msg.is_request and first_line.rstrip("\r") != first_line.rstrip("\r").rstrip(" \t"):
        out.append("white space after the start line")
    out.extend(_length_defects(msg))
    cseq = msg.cseq[0]
    number = decimal(cseq, 10) if cseq else 0
    if number is None or number > 2**32 - 1:
        out.append("CSeq number out of range")
    forwards = decimal(msg.header("Max-Forwards") or "0", 4)
    if forwards is None or forwards > 255:
        out.append("Max-Forwards out of range")
    for name in ("To", "From"):
        value = msg.header(name)
        if '"' in value and value.replace('\\\\', "").replace('\\"', "").count('"') % 2:
            out.append(f"unbalanced quote in {name}")
    via, contact = msg.header("Via"), msg.header("Contact")
    if (";" in via and EMPTY_VIA_PARAMETER.search(via)) or (";" in contact and EMPTY_CONTACT_PARAMETER.search(contact)):
        out.append("empty parameter")
    date = msg.header("Date")
    if date and not date.rstrip().endswith(" GMT"):
        out.append("Date not in GMT")
    return out


def _length_defects(msg: SipMessage) -> list[str]:
    length = msg.header("Content-Length")
    value = decimal(length) if length else 0
    if value is None:
        return [f"Content-Length not a number: {length[:20]!r}"]
    ends = msg.body.count("\n")  # the body's line ends were CRLF at most
    if value > len(msg.body) + ends and value > len(msg.body.encode("utf-8", "replace")) + ends:
        return ["Content-Length longer than the body"]
    return []


# RFC 3261 8.1.1 and 20: what every message carries once (Max-Forwards is left out of the
# required ones: an RFC 2543 request has none, and RFC 4475 3.4.1 asks that it be accepted)
REQUIRED = ("To", "From", "Call-ID", "CSeq", "Via")
SINGLE = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type")
DISPLAY_NAME = re.compile(r"^[A-Za-z0-9.!%*_+`'~\s-]*$")  # tokens and white space, one class: no backtracking


def _header_defects(msg: SipMessage) -> list[str]:
    """Required headers missing or repeated, a CSeq naming another method than the request's, and
    an unquoted display name that is not made of tokens (RFC 4475 3.1.2.15, 3.1.2.17, 3.3.1, 3.3.8)."""
    out = []
    if not msg.start_line or "start line is not SIP" in msg.defects:
        return out
    counts = {name: len(msg._values(name)) for name in SINGLE}
    missing = [name for name in REQUIRED if not (counts[name] if name in counts else msg._values(name))]
    if missing:
        out.append("missing " + ", ".join(missing))
    repeated = [name for name in SINGLE if counts[name] > 1]
    if repeated:
        out.append("more than one " + ", ".join(repeated))
    method = msg.cseq[1]
    if msg.is_request and method and method != msg.method:
        out.append(f"CSeq method {method[:40]} is not the request's")
    for name in ("From", "To"):
        value = msg.header(name)
        if "<" in value and not value.lstrip().startswith('"') and not DISPLAY_NAME.match(value.split("<", 1)[0]):
            out.append(f"display name in {name} neither tokens nor a quoted string")
    return out


def _address_defects(msg: SipMessage) -> list[str]:
    """Request-URI and name-addr forms RFC 3261 refuses."""
    out = []
    if msg.uri.startswith("<"):
        out.append("Request-URI in angle brackets")
    elif "?" in msg.uri.rsplit("@", 1)[-1] and msg.uri.lower().startswith(("sip:", "sips:")):
        out.append("Request-URI with escaped headers")
    for name in ("To", "From", "Contact"):
        value = msg.header(name)
        if ("<" in value or ">" in value) and SPACE_IN_BRACKETS.search(value):
            out.append("white space inside angle brackets")
            break
    contact = msg.header("Contact")
    if contact and "<" not in contact and "?" in contact:
        out.append("Contact URI with headers outside angle brackets")
    return out


def _find_sdp(msg: SipMessage) -> Sdp | None:
    ctype = msg.header("Content-Type").lower()
    body = msg.body
    if not body.strip():
        return None
    if ctype.startswith("multipart/"):
        part = pick_sdp_part(body, msg.header("Content-Type"))
        return parse_sdp(part) if part is not None else None
    if "application/sdp" in ctype or (not ctype and body.lstrip().startswith("v=0")):
        return parse_sdp(body)
    return None


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
    sdp = Sdp()
    current: Media | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            port = decimal(parts[1].split("/")[0]) if len(parts) > 1 else None
            current = Media(kind=parts[0] if parts else "", port=port,
                            proto=parts[2] if len(parts) > 2 else "")
            sdp.media.append(current)
        elif kind == "c" and current is None:
            parts = value.split()
            sdp.connection = parts[2] if len(parts) > 2 else ""
        elif kind == "a":
            _attribute(sdp, current, value)
    for m in sdp.media:  # session-level ICE credentials apply to media without their own
        m.ice_ufrag = m.ice_ufrag or sdp.ice_ufrag
        m.ice_pwd = m.ice_pwd or sdp.ice_pwd
    return sdp


def _attribute(sdp: Sdp, media: Media | None, value: str) -> None:
    """One `a=` line, at session level (`media` None) or in a medium."""
    name, _, attr = value.partition(":")
    if name in ("ice-ufrag", "ice-pwd"):
        setattr(media if media is not None else sdp, name.replace("-", "_"), attr.strip())
    elif media is None:
        return
    elif name in ("candidate", "x-candidate-ipv6"):
        cand = parse_candidate(attr)
        if cand is not None:
            media.candidates.append(cand)
    else:
        media.attributes.append((name, attr.strip()))


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


def decimal(text: str, max_digits: int = 9) -> int | None:
    """The number written in ASCII digits (CSeq, Content-Length, a status code, a port), or None.

    ``str.isdigit`` is not enough: it accepts ``²``, which ``int`` refuses, and Arabic-Indic
    digits, which no SIP field uses; and ``int`` refuses more than 4300 digits. More than
    ``max_digits`` digits is no such field either (and would not fit the event table's integers).
    """
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def join_address(ip: str, port: int | str | None) -> str:
    if port in (None, ""):
        return ip
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def via_transport(msg: SipMessage) -> str:
    m = VIA_TRANSPORT.search(msg.header("Via"))
    return m.group(1).upper() if m else ""


def via_hops(msg: SipMessage) -> list[tuple[str, str]]:
    """(sent-by, parameters) of every Via entry, top first (a header may hold several)."""
    hops = []
    for value in msg.header_all("Via"):
        for entry in value.split(","):
            protocol, _, rest = entry.strip().partition(" ")
            sent_by, _, params = rest.strip().partition(";")
            if protocol.upper().startswith("SIP/") and sent_by.strip():
                hops.append((sent_by.strip(), params))
    return hops


# Via parameters an Expressway adds to the hops it inserts
EXPRESSWAY_VIA_PARAMS = re.compile(r"(?:^|;)\s*(?:egress-zone|proxy-call-id)\s*=", re.IGNORECASE)


_DIAGNOSTIC_NAMES = frozenset(n.lower() for n in DIAGNOSTIC_HEADERS)


def ms_diagnostics(msg: SipMessage) -> str:
    """The ms-diagnostics(-public) and ms-client-diagnostics values, in the order sent."""
    if not any(msg._values(n) for n in DIAGNOSTIC_HEADERS):
        return ""
    return ";".join(v for n, v in msg.headers if n.lower() in _DIAGNOSTIC_NAMES)


def event_fields(msg: SipMessage, raw: str | None = None) -> dict:
    """The event columns a SIP message fills (source, time and addresses are the caller's)."""
    number, cseq_method = msg.cseq
    if msg.is_request:
        event = msg.method
    elif msg.status is not None:
        event = f"{msg.status} {cseq_method}".strip()
    else:
        event = "unparsed"
    sdp = msg.sdp or Sdp()
    media = sdp.media_types
    relays = sdp.relay_candidates()
    diags = ms_diagnostics(msg)
    hops = via_hops(msg)
    if msg.is_request:
        summary = f"{msg.method} {msg.uri}"
    else:
        summary = f"{msg.status} {msg.reason} ({cseq_method})".replace("  ", " ")
    if media:
        summary += f" sdp: {','.join(media)}"
    if relays:
        summary += f" relay: {';'.join(relays)}"
    if diags:
        summary += f" ms-diagnostics: {diags}"
        icewarn = msdiag.describe(diags)
        if icewarn:
            summary += f" {icewarn}"
    return {
        "proto": "sip",
        "event": event,
        "call_id": msg.call_id,
        "cseq": number,
        "method": msg.method,
        "reason": msg.reason,
        "status": msg.status,
        "sdp_media": ",".join(media),
        "relay_candidates": ";".join(relays),
        "ms_diagnostics": diags,
        "transport": via_transport(msg),
        **_ice_columns(sdp),
        "candidates": ";".join(sdp.candidates()),
        "conversation_id": (msg.header("Ms-Conversation-ID").split() or [""])[0],
        "user_agent": msg.header("User-Agent") or msg.header("Server"),
        "via": ";".join(hop for hop, _ in hops),
        "expressway_via": ";".join(hop for hop, params in hops if EXPRESSWAY_VIA_PARAMS.search(params)),
        "summary": summary,
        "raw": raw if raw is not None else _render(msg),
    }


def _ice_columns(sdp: Sdp) -> dict:
    """ice_ufrag and ice_pwd, one entry per m= line in sdp_media's order; empty without ICE."""
    if not any(m.ice_ufrag or m.ice_pwd for m in sdp.media):
        return {"ice_ufrag": "", "ice_pwd": ""}
    return {"ice_ufrag": ",".join(m.ice_ufrag for m in sdp.media),
            "ice_pwd": ",".join("yes" if m.ice_pwd else "no" for m in sdp.media)}


def _render(msg: SipMessage) -> str:
    head = [msg.start_line] + [f"{n}: {v}" for n, v in msg.headers]
    return "\n".join(head) + "\n\n" + msg.body


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.IGNORECASE | re.MULTILINE)
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


def split_messages(buf: bytes) -> tuple[list[bytes], bytes]:
    """Cut a TCP byte stream into whole SIP messages (RFC 3261 18.3, by Content-Length).

    Returns the complete messages and the bytes still waiting for more. Keep-alive CRLFs between
    messages are dropped. A header block longer than 64 KiB, or a Content-Length over 1 MiB, is
    not SIP that logcorr can frame: those bytes are returned as one message for the caller to
    reject with a warning, so a broken stream never grows the buffer without bound.
    """
    out: list[bytes] = []
    pos = 0
    n = len(buf)
    while pos < n:
        while pos < n and buf[pos] in (0x0D, 0x0A):
            pos += 1
        if pos >= n:
            break
        m = _HEADER_END.search(buf, pos)
        if not m:
            if n - pos > MAX_HEADER_BYTES:
                out.append(buf[pos:])
                pos = n
            break
        head = buf[pos : m.start()]
        cl = _CONTENT_LENGTH.search(head)
        length = 0 if not cl else int(cl.group(1)) if len(cl.group(1)) <= 9 else MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            out.append(buf[pos:])
            pos = n
            break
        end = m.end() + length
        if end > n:
            break
        out.append(buf[pos:end])
        pos = end
    return out, buf[pos:]
