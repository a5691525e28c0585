"""Microsoft diagnostic headers in words: ``ms-client-diagnostics`` ICEWarn flags.

ICEWarn is a bit field ([MS-QoE] 2.2.1.7.1 IceWarningFlags); an SfB client puts it in the
``ms-client-diagnostics`` header of a failed call (e.g. code 25, ``ICEWarn="0x40003a0"``).
Bits not in the table are kept as ``bit 0x...`` so nothing is hidden.
"""
from __future__ import annotations

import re

ICE_WARNING_FLAGS: dict[int, str] = {
    0x00000010: "TURN server unreachable",
    0x00000020: "shared secret with TURN failed",
    0x00000040: "UDP allocate on TURN failed",
    0x00000200: "TCP allocate on TURN failed",
    0x00004000: "UDP local connectivity failed",
    0x00008000: "UDP NAT connectivity failed",
    0x00010000: "UDP TURN connectivity failed",
    0x00040000: "TCP NAT connectivity failed",
    0x00080000: "TCP TURN server connectivity failed",
    0x00100000: "message integrity failed in connectivity check request",
    0x00200000: "message integrity failed in connectivity check response",
    0x00400000: "candidate lookup failed on request",
    0x00800000: "candidate lookup failed on response",
    0x04000000: "TURN FQDN not resolved",
    0x08000000: "TURN credentials failed",  # the public table is cut after "TURN credentials"
}

# ICEWarn="0x40003a0"  (web copies turn the quotes into typographic ones, or drop them)
ICEWARN = re.compile(r"ICEWarn\s*=\s*[\"\u201c\u201d\u2033']?\s*(0x[0-9A-Fa-f]+|\d+)", re.IGNORECASE)


MAX_TOKEN = 20  # digits of a 64-bit number and then some; the flags are 32 bits


def icewarn_value(text: str) -> int | None:
    """The ICEWarn number in a header value (or any text holding one), or None.

    A number of more than :data:`MAX_TOKEN` digits is no flag word: it is not read (``int`` would
    refuse 4300 decimal digits, and naming every bit of a huge hex number would take forever)."""
    m = ICEWARN.search(text)
    if not m:
        return None
    token = m.group(1)
    if len(token) > MAX_TOKEN:
        return None
    return int(token, 16) if token.lower().startswith("0x") else int(token)


def icewarn_words(flags: int) -> list[str]:
    """Every set bit in words, lowest first."""
    words = []
    bit = 1
    while bit <= flags:
        if flags & bit:
            words.append(ICE_WARNING_FLAGS.get(bit, f"bit {bit:#x}"))
        bit <<= 1
    return words


def describe(ms_diagnostics: str) -> str:
    """`ICEWarn 0x200: TCP allocate on TURN failed` for a header value, or empty."""
    flags = icewarn_value(ms_diagnostics)
    if not flags:
        return ""
    return f"ICEWarn {flags:#x}: " + ", ".join(icewarn_words(flags))
