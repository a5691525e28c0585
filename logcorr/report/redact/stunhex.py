"""A STUN message (the event table keeps it as hex) with its identifying attributes rewritten:
USERNAME, REALM and host names by their pseudonyms, addresses re-encoded as their pseudonym
addresses (XORed as the attribute wants), an inner STUN message of a DATA attribute likewise.
Lengths are fixed up; MESSAGE-INTEGRITY and FINGERPRINT are left as they were (no longer valid).
A message that cannot be walked is not kept at all."""
from __future__ import annotations

import ipaddress
import struct
from typing import Callable

from ...events.capture import stun

TEXT_ATTRS = {stun.USERNAME, stun.REALM, stun.SOFTWARE, stun.MS_ALTERNATE_HOST_NAME, stun.ALTERNATE_DOMAIN}
HEADER = stun.HEADER_LEN


def rewrite(hex_text: str, text: Callable[[str], str]) -> str:
    try:
        buf = bytes.fromhex(hex_text)
    except ValueError:
        return text(hex_text)
    out = _message(buf, text)
    return "" if out is None else out.hex()


def _message(buf: bytes, text: Callable[[str], str]) -> bytes | None:
    if len(buf) < HEADER or buf[0] & 0xC0:
        return None
    length = struct.unpack_from("!H", buf, 2)[0]
    end = min(HEADER + length, len(buf))
    ms = buf[20:28] == stun.MS_COOKIE_ATTR
    mask = buf[4:20]  # the cookie and transaction id: what XOR-* addresses are XORed with
    body, pos = bytearray(), HEADER
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        value = buf[pos + 4:pos + 4 + alen]
        if len(value) < alen:
            return None
        pad = 0 if ms else -alen % 4
        new = _attribute(atype, value, mask, text)
        if new is None:
            return None
        body += struct.pack("!HH", atype, len(new)) + new + b"\0" * (0 if ms else -len(new) % 4)
        pos += 4 + alen + pad
    if pos != end:
        return None
    return buf[:2] + struct.pack("!H", len(body)) + buf[4:HEADER] + bytes(body) + buf[end:]


def _attribute(atype: int, value: bytes, mask: bytes, text: Callable[[str], str]) -> bytes | None:
    if atype in TEXT_ATTRS:
        return text(value.rstrip(b"\0").decode("utf-8", "replace")).encode("utf-8")
    if atype in stun.ADDRESS_ATTRS:
        return _address(value, stun.ADDRESS_ATTRS[atype], mask, text)
    if atype == stun.DATA_ATTR and stun.is_stun(value, 0, len(value), exact=True):
        return _message(value, text)
    return value


def _address(value: bytes, xored: bool, mask: bytes, text: Callable[[str], str]) -> bytes | None:
    decoded = stun.decode_address(value, xored, mask)
    if decoded is None:
        return bytes(len(value))
    v6 = decoded.startswith("[")
    ip = decoded[1:].split("]", 1)[0] if v6 else decoded.rsplit(":", 1)[0]
    try:
        pseudo = ipaddress.ip_address(text(ip))
    except ValueError:
        return value[:4] + bytes(len(value) - 4)
    if pseudo.version != (6 if v6 else 4):
        return value[:4] + bytes(len(value) - 4)
    raw = int(pseudo)
    if xored:
        raw ^= int.from_bytes(mask if v6 else mask[:4], "big")
    return value[:4] + raw.to_bytes(16 if v6 else 4, "big")
