"""What RFC 3261's grammar refuses in a message read anyway (RFC 4475 3.1.2): said, not fatal."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .words import decimal

if TYPE_CHECKING:
    from .message import SipMessage

EMPTY_VIA_PARAMETER = re.compile(r";\s*[;,]")
EMPTY_CONTACT_PARAMETER = re.compile(r">\s*;\s*;")
SPACE_IN_BRACKETS = re.compile(r"<\s|\s>")


def field_defects(msg: SipMessage, first_line: str) -> list[str]:
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
