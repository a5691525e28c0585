"""Member names as the bundle gives them, made safe to show and checked before use.

A name inside an archive may hold any bytes: ones that decode to nothing (kept by the readers as
surrogates), control characters that would move a terminal's cursor or start an escape sequence,
and the invisible marks that reorder text. Each is shown escaped (`\\xff`, `\\x1b`, `\\u202e`),
so a name can be printed, written to a workbook or to JSON, and still tells which member it was.
"""
from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

from .budget import Refused

# Marks that change the order or the look of the text around them (bidirectional controls).
_INVISIBLE = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
MAX_SHOWN = 1024  # characters of a name kept for display


def shown(name: str | bytes) -> str:
    """`name` with every byte that is not printable text escaped."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "surrogateescape")
    if name.isprintable() and name.isascii():
        return name[:MAX_SHOWN]
    return "".join(_escape(c) for c in name[:MAX_SHOWN])


def _escape(c: str) -> str:
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
        return f"\\x{o:02x}"
    if o in _INVISIBLE or 0xD800 <= o <= 0xDFFF or unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn"):
        return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"
    return c


def check_name(name: str) -> None:
    """Refuse a member name that is empty, absolute or climbs out of the archive."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise Refused(f"absolute path '{shown(name)}' inside the archive, refused")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        raise Refused(f"path '{shown(name)}' leaves the archive, refused")
