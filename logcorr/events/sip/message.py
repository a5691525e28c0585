"""A SIP message read from text (RFC 3261 section 7): start line, headers, body."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .defects import field_defects
from .sdp import Sdp, parse_sdp, pick_sdp_part
from .words import TOKEN, decimal

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
REQUEST_LINE = re.compile(r"^(" + TOKEN + r") (\S+) (SIP/\d+\.\d+)\s*$")
STATUS_LINE = re.compile(r"^SIP/2\.0 (\d{3})(?: (.*))?$")
# where a message starts inside a log line: a request or status line, whatever follows it
START_LINE = re.compile(r"^(?:" + TOKEN + r" \S+ SIP/\d+\.\d+\b|SIP/2\.0 \d{3}\b)")


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
    msg.defects.extend(field_defects(msg, lines[0]))
    msg.sdp = _find_sdp(msg)
    return msg



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
