"""SIP messages cut out of a TCP byte stream (RFC 3261 18.3)."""
from __future__ import annotations

import re

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
