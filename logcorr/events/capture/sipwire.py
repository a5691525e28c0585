"""Clear-text SIP inside captures: cheap detection by start line, then the shared grammar.

Detection is by content on any port: a status line (``SIP/2.0 <3 digits>``) or a request line
(``<method token> <uri> SIP/2.0``, the method of any case). Parsing, event fields and TCP framing come from :mod:`logcorr.events.sip`
(the one SIP grammar of the project); this module only adapts bytes to it.
"""
from __future__ import annotations

import re

from logcorr.events import sip
from logcorr.events.capture import stun

_TOKEN = sip.TOKEN.encode()  # a method is any token, of any case (RFC 3261 25.1)
_STATUS = re.compile(rb"SIP/2\.0 [1-6]\d\d[ \r\n]")
_REQUEST = re.compile(_TOKEN + rb" [^ \r\n]+ SIP/\d+\.\d+\r?\n")
_ANY_START = re.compile(rb"(?:^|\n)(SIP/2\.0 [1-6]\d\d[ \r\n]|" + _TOKEN + rb" [^ \r\n]+ SIP/\d+\.\d+\r?\n)")
TOKEN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.!%*_+`'~-")
MAX_LINE = 1024  # a request line longer than this is not looked for


def starts_sip(data: bytes, p: int, end: int) -> bool:
    """Does a SIP message start at ``data[p]``?"""
    head = data[p : min(end, p + MAX_LINE)]
    return bool(_STATUS.match(head) or _REQUEST.match(head))


def find_start(buf: bytes | bytearray) -> int:
    """Offset of the first SIP start line in ``buf`` (at a line start), or -1."""
    m = _ANY_START.search(buf)
    if not m:
        return -1
    return m.start(1)


def evidence(payload: bytes) -> bool:
    """Could this TCP payload hold STUN or SIP (or the start of one)? Classic RFC 3489 STUN, which
    has no cookie to find, only as a whole message at the payload's start."""
    return (b"\x21\x12\xa4\x42" in payload or b"\x00\x0f\x00\x04\x72\xc6\x4b\xc6" in payload or b"SIP/2.0" in payload
            or payload[:1] < b"\x02" and stun.classic_prefix(payload) > 0)  # a classic type opens 0x00 or 0x01


def split(buf: bytes) -> tuple[list[bytes], bytes]:
    """Whole SIP messages of a TCP stream and the bytes still waiting (by Content-Length)."""
    return sip.split_messages(buf)


def waiting_for(rest: bytes) -> tuple[int, int]:
    """What the message waiting in ``rest`` (as :func:`split` left it) needs before :func:`split`
    can say more: ``(length, 0)`` when its header block is whole and it ends at ``length``, else
    ``(0, len(rest))``, the bytes already searched for the blank line ending the header block."""
    m = sip._HEADER_END.search(rest)
    if not m:
        return 0, len(rest)
    cl = sip._CONTENT_LENGTH.search(rest, 0, m.start())
    return m.end() + (int(cl.group(1)) if cl else 0), 0


def header_end_after(buf: bytes | bytearray, searched: int) -> bool:
    """Does a blank line (``\n\n`` or ``\n\r\n``) end in ``buf`` past its first ``searched``
    bytes? Searched in place: no copy of the buffer."""
    return buf.find(b"\n\n", max(searched - 1, 0)) >= 0 or buf.find(b"\n\r\n", max(searched - 2, 0)) >= 0


def fields(raw: bytes) -> dict | None:
    """Event columns of one SIP message, or ``None`` when the bytes are not SIP."""
    text = raw.decode("utf-8", "replace")
    if not sip.looks_like_sip(text):
        return None
    return sip.event_fields(sip.parse_message(text), raw=text)
