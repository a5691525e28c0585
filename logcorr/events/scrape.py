"""Undo what web copies do to SIP text before it reaches the SIP grammar.

Logs pasted into web pages (Cisco TechNotes, blogs) come back with consecutive lines joined by one
space: ``SIP/2.0 504 Server time-out Via: SIP/2.0/TLS ...`` or ``CSeq: 1 INVITE From : <sip:..>``.
Real files never look like that, so the repair only cuts where a well-known header name follows a
space inside the header block, and splits an SDP body only when it was joined into one line.
"""
from __future__ import annotations

import re

from logcorr.events.sip import TOKEN

_HEADERS = (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length",
    "Content-Disposition", "Max-Forwards", "Record-Route", "Route", "Server", "User-Agent",
    "Supported", "Allow", "Require", "Expires", "Session-Expires", "Min-SE", "Accept",
    "Ms-Conversation-ID", "ms-diagnostics", "ms-diagnostics-public", "ms-client-diagnostics",
    "Remote-Party-ID", "P-Asserted-Identity", "Session-ID", "Reason", "Authorization",
    "WWW-Authenticate", "Proxy-Authenticate", "Proxy-Authorization",
)
_NAMES = sorted({n for h in _HEADERS for n in (h, h.upper())}, key=len, reverse=True)
# " Via: " / " From : " inside a line, where a joined header starts
JOINED_HEADER = re.compile(r" (?=(?:" + "|".join(re.escape(n) for n in _NAMES) + r") ?: )")
# "INVITE sip:x SIP/2.0 Via: ..." -> cut after the request line's version
JOINED_REQUEST_LINE = re.compile(r"^(" + TOKEN + r" \S+ SIP/2\.0) (?=\S)")  # any method token
JOINED_SDP = re.compile(r" (?=[a-z]=)")
# a word after a space and before ": " or " : ", where JOINED_HEADER would look for a name (every
# name is such a word): the names are looked up only for these few
MAYBE_JOINED = re.compile(r" ([A-Za-z-]+)(?= ?: )")
_NAME_SET = frozenset(_NAMES)


def _untouched(text: str) -> bool:
    """True when `unjoin_sip` would give `text` back as it is: no request line with more after it,
    no SDP line `v=0 ` with more, no known header name after a space anywhere (one pass over the
    text instead of a search per header line)."""
    if "v=0 " in text or JOINED_REQUEST_LINE.match(text):
        return False
    return MAYBE_JOINED.search(text) is None or \
        not any(m.group(1) in _NAME_SET for m in MAYBE_JOINED.finditer(text))


def unjoin_sip(text: str) -> str:
    """The SIP message with joined header lines (and a one-line SDP body) cut apart again."""
    return text if _untouched(text) else _repair(text)


def _repair(text: str) -> str:
    """unjoin_sip, line by line."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    in_body = False
    changed = False
    for index, line in enumerate(lines):
        if in_body:
            if line.startswith("v=0 ") and JOINED_SDP.search(line):
                out.extend(JOINED_SDP.split(line))
                changed = True
            else:
                out.append(line)
            continue
        if not line.strip():
            in_body = True
            out.append(line)
            continue
        pieces = [line]
        if index == 0:
            m = JOINED_REQUEST_LINE.match(line)
            if m:
                pieces = [m.group(1), line[m.end():]]
        expanded: list[str] = []
        for piece in pieces:
            expanded.extend(JOINED_HEADER.split(piece) if JOINED_HEADER.search(piece) else [piece])
        if len(expanded) > 1:
            changed = True
        out.extend(expanded)
    if not changed:
        return text
    return "\r\n".join(out)
