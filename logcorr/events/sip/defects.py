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


def field_defects(msg: SipMessage, first_line: str, index: dict[str, list[str]], first: dict[str, str]) -> list[str]:
    """What RFC 3261's grammar refuses in a message read anyway (RFC 4475 3.1.2): said, not fatal.

    `index` holds the message's header values by lower-case name (:meth:`SipMessage.index`),
    `first` the first of each. Each check is behind a literal test of what its defect needs, so a
    well-formed message costs a few look-ups."""
    out = _address_defects(msg, first) + _header_defects(msg, index, first)
    start = first_line.rstrip("\r")
    if start[-1:] in (" ", "\t") and msg.is_request:
        out.append("white space after the start line")
    _length_defects(msg, first.get("content-length", ""), out)
    cseq = first.get("cseq", "").split(None, 1)
    number = decimal(cseq[0], 10) if cseq else 0
    if number is None or number > 2**32 - 1:
        out.append("CSeq number out of range")
    forwards = first.get("max-forwards")
    if forwards:
        forwards = decimal(forwards, 4)
        if forwards is None or forwards > 255:
            out.append("Max-Forwards out of range")
    for name, key in (("To", "to"), ("From", "from")):
        value = first.get(key, "")
        if '"' in value and value.replace('\\\\', "").replace('\\"', "").count('"') % 2:
            out.append(f"unbalanced quote in {name}")
    via, contact = first.get("via", ""), first.get("contact", "")
    if (";" in via and EMPTY_VIA_PARAMETER.search(via)) or (";" in contact and EMPTY_CONTACT_PARAMETER.search(contact)):
        out.append("empty parameter")
    date = first.get("date")
    if date and not date.rstrip().endswith(" GMT"):
        out.append("Date not in GMT")
    return out


def _length_defects(msg: SipMessage, length: str, out: list[str]) -> None:
    value = decimal(length) if length else 0
    if value is None:
        out.append(f"Content-Length not a number: {length[:20]!r}")
        return
    body = msg.body
    if value <= len(body):  # never longer than the body, whatever its line ends and encoding
        return
    ends = body.count("\n")  # the body's line ends were CRLF at most
    if value > len(body) + ends and value > len(body.encode("utf-8", "replace")) + ends:
        out.append("Content-Length longer than the body")


# RFC 3261 8.1.1 and 20: what every message carries once (Max-Forwards is left out of the
# required ones: an RFC 2543 request has none, and RFC 4475 3.4.1 asks that it be accepted)
REQUIRED = ("To", "From", "Call-ID", "CSeq", "Via")
SINGLE = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type")
_REQUIRED = tuple((name, name.lower()) for name in REQUIRED)
_SINGLE = tuple((name, name.lower()) for name in SINGLE)
DISPLAY_NAME = re.compile(r"^[A-Za-z0-9.!%*_+`'~\s-]*$")  # tokens and white space, one class: no backtracking


def _header_defects(msg: SipMessage, index: dict[str, list[str]], first: dict[str, str]) -> list[str]:
    """Required headers missing or repeated, a CSeq naming another method than the request's, and
    an unquoted display name that is not made of tokens (RFC 4475 3.1.2.15, 3.1.2.17, 3.3.1, 3.3.8)."""
    out = []
    if not msg.start_line or "start line is not SIP" in msg.defects:
        return out
    missing = [name for name, key in _REQUIRED if key not in index]
    if missing:
        out.append("missing " + ", ".join(missing))
    repeated = [name for name, key in _SINGLE if len(index.get(key, ())) > 1]
    if repeated:
        out.append("more than one " + ", ".join(repeated))
    cseq = first.get("cseq", "").split()
    method = cseq[1] if len(cseq) > 1 else ""
    if method and method != msg.method and msg.is_request:
        out.append(f"CSeq method {method[:40]} is not the request's")
    for name, key in (("From", "from"), ("To", "to")):
        value = first.get(key, "")
        bracket = value.find("<")
        # before the first "<": nothing, a quoted string, or tokens and white space
        if bracket > 0 and not DISPLAY_NAME.match(value, 0, bracket) and not value.lstrip().startswith('"'):
            out.append(f"display name in {name} neither tokens nor a quoted string")
    return out


def _address_defects(msg: SipMessage, first: dict[str, str]) -> list[str]:
    """Request-URI and name-addr forms RFC 3261 refuses."""
    out = []
    uri = msg.uri
    if uri.startswith("<"):
        out.append("Request-URI in angle brackets")
    elif "?" in uri and "?" in uri.rsplit("@", 1)[-1] and uri.lower().startswith(("sip:", "sips:")):
        out.append("Request-URI with escaped headers")
    contact = first.get("contact", "")
    # "<" or ">" next to white space in To, From or Contact (NUL is neither, nor white space)
    if SPACE_IN_BRACKETS.search(f"{first.get('to', '')}\0{first.get('from', '')}\0{contact}"):
        out.append("white space inside angle brackets")
    if contact and "?" in contact and "<" not in contact:
        out.append("Contact URI with headers outside angle brackets")
    return out
