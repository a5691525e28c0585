"""The small pieces of SIP text every part of the grammar reads: tokens, numbers, addresses."""
from __future__ import annotations


# RFC 3261 25.1: a method is a token, case-sensitive (REGIStER is not REGISTER, and neither is
# wrong); the Request-URI holds no space; the version is "SIP" "/" 1*DIGIT "." 1*DIGIT.
TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"


def decimal(text: str, max_digits: int = 9) -> int | None:
    """The number written in ASCII digits (CSeq, Content-Length, a status code, a port), or None.

    ``str.isdigit`` is not enough: it accepts ``²``, which ``int`` refuses, and Arabic-Indic
    digits, which no SIP field uses; and ``int`` refuses more than 4300 digits. More than
    ``max_digits`` digits is no such field either (and would not fit the event table's integers).
    """
    if not (text.isascii() and text.isdigit()):  # most come stripped already
        text = text.strip()
        if not (text.isascii() and text.isdigit()):
            return None
    return int(text) if len(text) <= max_digits else None


def join_address(ip: str, port: int | str | None) -> str:
    if port in (None, ""):
        return ip
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
