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
    defects: list[str] = field(default_factory=list)
    # the headers as last indexed, their values by lower-case name and the first of each (see index)
    _by_name: tuple = field(default=((), {}, {}), init=False, repr=False, compare=False)
    # the SDP text of the body (None: none), read when `sdp` is first asked for
    sdp_text: str | None = field(default=None, repr=False)
    _sdp: Sdp | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sdp(self) -> Sdp | None:
        """The SDP of the body (a multipart body's SDP part), None without one."""
        if self._sdp is None and self.sdp_text is not None:
            self._sdp = parse_sdp(self.sdp_text)
        return self._sdp

    @property
    def is_request(self) -> bool:
        return self.status is None and bool(self.start_line)

    def index(self) -> dict[str, list[str]]:
        """The values of every header by lower-case name, in order: built when the message is read,
        and again whenever `headers` no longer holds what it was built from."""
        seen, index, _ = self._by_name
        if seen != self.headers:
            index = {}
            for n, v in self.headers:
                index.setdefault(n.lower(), []).append(v)
            self._by_name = (list(self.headers), index, {name: values[0] for name, values in index.items()})
        return index

    def first_values(self) -> dict[str, str]:
        """The first value of every header by lower-case name (see :meth:`index`)."""
        self.index()
        return self._by_name[2]

    def _values(self, name: str) -> list[str]:
        return self.index().get(name.lower(), [])

    def header(self, name: str) -> str:
        values = self.index().get(name.lower())
        return values[0] if values else ""

    def header_all(self, name: str) -> list[str]:
        return list(self._values(name))

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    @property
    def cseq(self) -> tuple[str, str]:
        return cseq_parts(self.header("CSeq"))


def cseq_parts(value: str) -> tuple[str, str]:
    """(number, method) of a CSeq value, each a token as sent, empty when missing."""
    parts = value.split()
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")


def looks_like_sip(text: str) -> bool:
    """True when the first line is a SIP request or status line."""
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    return bool(REQUEST_LINE.match(first) or STATUS_LINE.match(first))


_CANONICAL_SEEN: dict[str, str] = {}  # header name as written, stripped -> its canonical spelling


def canonical_header(name: str) -> str:
    name = name.strip()
    found = _CANONICAL_SEEN.get(name)
    if found is None:  # each spelling worked out once (a long one each time: the table stays small)
        low = name.lower()
        found = COMPACT_FORMS.get(low, name) if len(name) == 1 else CANONICAL.get(low, name)
        if len(name) <= KEPT_LINE_CHARS:
            if len(_CANONICAL_SEEN) >= 4096:
                _CANONICAL_SEEN.clear()
            _CANONICAL_SEEN[name] = found
    return found


# a header line's name as written (before the colon, white space and all) -> (canonical spelling,
# its lower case), or None when it is no header name (empty, or a space inside)
_NAMES_SEEN: dict[str, tuple[str, str] | None] = {}


def _header_name(written: str) -> tuple[str, str] | None:
    name = written.strip()
    if not name or " " in name:
        found = None
    else:
        canonical = canonical_header(name)
        found = (canonical, canonical.lower())
    if len(written) <= KEPT_LINE_CHARS:
        if len(_NAMES_SEEN) >= 4096:
            _NAMES_SEEN.clear()
        _NAMES_SEEN[written] = found
    return found


def parse_message(text: str) -> SipMessage:
    """Read one SIP message. Line ends may be CRLF or LF; the body is what follows the blank line."""
    msg = SipMessage()
    lines = text.lstrip("\r\n").split("\n")
    first = lines[0]
    if not first or first.isspace():
        msg.defects.append("empty message")
        return msg
    msg.start_line = start = first.rstrip("\r").strip()
    if m := REQUEST_LINE.match(start):
        msg.method, msg.uri, version = m.groups()
        if version != "SIP/2.0":
            msg.defects.append(f"version {version} is not SIP/2.0")
    elif m := STATUS_LINE.match(start):
        msg.status, msg.reason = int(m.group(1)), (m.group(2) or "").strip()
    else:
        msg.defects.append("start line is not SIP")
    end, index = _read_headers(msg, lines)
    if end < len(lines):
        body = "\n".join(lines[end + 1:])
        if "\r" in body:  # each line's trailing CRs go; one CR before each LF is all CRLF text has
            simple = "\r\r" not in body and not body.endswith("\r")
            body = body.replace("\r\n", "\n") if simple else "\n".join(l.rstrip("\r") for l in lines[end + 1:])
        msg.body = body
    if msg.status is not None:
        msg.method = cseq_parts((index.get("cseq") or ("",))[0])[1]
    msg.defects.extend(field_defects(msg, first, index, msg._by_name[2]))
    msg.sdp_text = _find_sdp(msg, index)
    return msg


# a header line as written -> (canonical name, its lower case, value): a dialog's messages repeat
# most of their lines (From, To, Call-ID, Supported, Allow, User-Agent...); only header lines are
# kept (not folded ones, not blank ones), strings only
_LINES_SEEN: dict[str, tuple[str, str, str]] = {}
KEPT_LINE_CHARS = 512  # longer lines are read each time: the tables stay a few MB whatever the input


def _read_headers(msg: SipMessage, lines: list[str]) -> tuple[int, dict[str, list[str]]]:
    """Fill `msg.headers` from the lines after the start line; the index of the blank line (else
    the number of lines) and the headers' values by lower-case name."""
    headers, index, seen = msg.headers, {}, _LINES_SEEN
    folded: dict[int, list[str]] = {}  # header index -> its continuation lines, joined at the end
    end = len(lines)
    for i in range(1, end):  # stops at the blank line
        written = lines[i]
        header = seen.get(written)
        if header is None:
            line = written.rstrip("\r")
            if not line or line.isspace():
                end = i
                break
            if line[0] in " \t" and headers:  # folded continuation (RFC 3261 7.3.1)
                folded.setdefault(len(headers) - 1, []).append(line.strip())
                continue
            header = _header_line(line)
            if header is None:
                msg.defects.append(f"not a header: {line[:60]!r}")
                continue
            if line[0] not in " \t" and len(written) <= KEPT_LINE_CHARS:
                if len(seen) >= 8192:
                    seen.clear()
                seen[written] = header
        headers.append((header[0], header[2]))
        if header[1] in index:
            index[header[1]].append(header[2])
        else:
            index[header[1]] = [header[2]]
    if folded:
        for at, more in folded.items():
            name, value = headers[at]
            headers[at] = (name, " ".join([value, *more]))
        index = {}
        for n, v in headers:
            index.setdefault(n.lower(), []).append(v)
    msg._by_name = (list(headers), index, {name: values[0] for name, values in index.items()})
    return end, index


def _header_line(line: str) -> tuple[str, str, str] | None:
    """(canonical name, its lower case, value) of a header line, None when it is none."""
    written, sep, value = line.partition(":")
    if not sep:
        return None
    name = _NAMES_SEEN[written] if written in _NAMES_SEEN else _header_name(written)
    if name is None:
        return None
    return name[0], name[1], value.strip()


def _find_sdp(msg: SipMessage, index: dict[str, list[str]]) -> str | None:
    """The SDP text of the body: all of it, or a multipart body's SDP part; None without one."""
    body = msg.body
    if not body or body.isspace():
        return None
    content_type = (index.get("content-type") or ("",))[0]
    ctype = content_type.lower()
    if ctype.startswith("multipart/"):
        return pick_sdp_part(body, content_type)
    if "application/sdp" in ctype or (not ctype and body.lstrip().startswith("v=0")):
        return body
    return None
