"""STUN message integrity and fingerprint (RFC 5389 / 8489 15.4, 15.5) and the keys they use.

Pure functions over the bytes of one message.
"""
from __future__ import annotations

import hashlib
import hmac
import stringprep
import struct
import unicodedata
import zlib

HEADER_LEN = 20
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 section 15.5
MESSAGE_INTEGRITY = 0x0008
MESSAGE_INTEGRITY_SHA256 = 0x001C
FINGERPRINT = 0x8028


def _with_length(buf: bytes, end: int) -> bytes:
    """The message up to ``end`` with its header length set as if it ended there."""
    return buf[:2] + (end - HEADER_LEN).to_bytes(2, "big") + buf[4:end]


def _find_attr(buf: bytes, wanted: int) -> tuple[int, int] | None:
    """(offset of the attribute header, value length) of the first ``wanted`` attribute."""
    if len(buf) < HEADER_LEN:
        return None
    end = min(len(buf), HEADER_LEN + int.from_bytes(buf[2:4], "big"))
    pos = HEADER_LEN
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        if pos + 4 + alen > end:
            return None
        if atype == wanted:
            return pos, alen
        pos += 4 + ((alen + 3) & ~3)
    return None


def check_fingerprint(buf: bytes) -> bool | None:
    """Verify FINGERPRINT (RFC 5389 15.5): CRC-32 of what precedes it, XOR 0x5354554E.

    ``buf`` is the message; ``None`` when it has no FINGERPRINT.
    """
    found = _find_attr(buf, FINGERPRINT)
    if not found or found[1] != 4:
        return None
    pos, _ = found
    expected = int.from_bytes(buf[pos + 4 : pos + 8], "big")
    crc = zlib.crc32(_with_length(buf, pos + 8)[:pos]) ^ FINGERPRINT_XOR
    return crc == expected


def fingerprint_at(buf: bytes, pos: int, value: bytes) -> bool | None:
    """:func:`check_fingerprint` of ``buf[:pos + 4 + len(value)]`` when ``pos`` is the first
    FINGERPRINT a padded walk of the attributes meets, its value ``value``, without walking again."""
    if len(value) != 4:
        return None
    crc = zlib.crc32(buf[:2] + (pos - 12).to_bytes(2, "big") + buf[4:pos]) ^ FINGERPRINT_XOR
    return crc == int.from_bytes(value, "big")


def check_integrity(buf: bytes, key: bytes) -> bool | None:
    """Verify MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 with ``key``.

    RFC 5389 15.4: the HMAC covers the message up to the attribute, with the header length
    counting up to the end of MESSAGE-INTEGRITY. ``None`` when there is no integrity attribute.
    """
    for attr, algo, size in ((MESSAGE_INTEGRITY, hashlib.sha1, 20), (MESSAGE_INTEGRITY_SHA256, hashlib.sha256, 32)):
        found = _find_attr(buf, attr)
        if not found:
            continue
        pos, alen = found
        if attr == MESSAGE_INTEGRITY and alen != size or alen < 16 or alen > size:
            return False
        mac = buf[pos + 4 : pos + 4 + alen]
        digest = hmac.new(key, _with_length(buf, pos + 4 + alen)[:pos], algo).digest()
        return hmac.compare_digest(digest[:alen], mac)
    return None


_PROHIBITED = (
    stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4,
    stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
    stringprep.in_table_c9, stringprep.in_table_a1,
)


def saslprep(text: str) -> str:
    """SASLprep (RFC 4013): map, NFKC-normalise, reject prohibited and bidi-inconsistent text."""
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    out = unicodedata.normalize("NFKC", mapped)
    for c in out:
        if any(table(c) for table in _PROHIBITED):
            raise ValueError(f"SASLprep: prohibited character U+{ord(c):04X}")
    if any(stringprep.in_table_d1(c) for c in out):
        if any(stringprep.in_table_d2(c) for c in out):
            raise ValueError("SASLprep: mixed bidirectional text")
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            raise ValueError("SASLprep: RandALCat text must start and end with RandALCat")
    return out


def short_term_key(password: str) -> bytes:
    """Short-term credential key (RFC 5389 15.4): SASLprep(password)."""
    return saslprep(password).encode("utf-8")


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """Long-term credential key (RFC 5389 15.4): MD5(username ":" realm ":" SASLprep(password))."""
    return hashlib.md5(f"{username}:{realm}:{saslprep(password)}".encode("utf-8")).digest()
