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


def unjoin_sip(text: str) -> str:
    """The SIP message with joined header lines (and a one-line SDP body) cut apart again."""
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
