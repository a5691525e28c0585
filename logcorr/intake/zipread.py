"""Reading a zip's directory without trusting it.

The directory is read entry by entry up to a count; each entry's local header is read to find
where its data lies, and members whose bytes overlap another member's (the shape of the
overlapping-entries zip bombs, where thousands of entries share one compressed kernel) are
marked, so that each stored byte is decompressed for one member at most. Names are kept as the
bytes they are; a name flagged UTF-8 that is not is no reason to give up on the archive.
"""
from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from typing import IO

EOCD = b"PK\x05\x06"
EOCD64 = b"PK\x06\x06"
LOCATOR64 = b"PK\x06\x07"
CENTRAL = b"PK\x01\x02"
LOCAL = b"PK\x03\x04"
_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_LOCATOR64 = struct.Struct("<4sLQL")  # 20 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes
_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes
METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma"}
FLAG_ENCRYPTED = 0x1
FLAG_STRONG_ENCRYPTION = 0x40
FLAG_UTF8 = 0x800


class ZipDamage(Exception):
    """The archive's structure cannot be read; the message says where."""


@dataclass
class Entry:
    raw_name: bytes
    name: str  # decoded; undecodable bytes kept as surrogates (shown escaped)
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int  # of the local header, in the file
    mode: int  # Unix mode bits from the external attributes
    mtime: dt.datetime | None
    start: int = -1  # where the data begins (found from the local header)
    problem: str = ""  # why this member cannot be read, when it cannot

    @property
    def is_dir(self) -> bool:
        return self.raw_name.endswith(b"/")


def decode_name(raw: bytes, flags: int) -> str:
    """UTF-8 when flagged or when it is valid UTF-8, else the zip format's old code page (cp437);
    bytes that are not what the flag says stay as surrogates (shown escaped)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if flags & FLAG_UTF8:
            return raw.decode("utf-8", "surrogateescape")
        return raw.decode("cp437")


def read_directory(fh: IO[bytes], size: int, max_entries: int) -> tuple[list[Entry], bool]:
    """The directory's entries (at most `max_entries`) and whether there were more."""
    where, cd_size, cd_offset = _end_record(fh, size)
    shift = where - cd_size - cd_offset  # bytes before the archive (a self-extracting stub)
    if shift < 0 or cd_offset + shift + cd_size > size:
        raise ZipDamage("the central directory lies outside the file")
    fh.seek(cd_offset + shift)
    directory = fh.read(cd_size)
    entries: list[Entry] = []
    pos = 0
    while pos + _CENTRAL.size <= len(directory):
        if len(entries) >= max_entries:
            return entries, True
        entry, pos = _central_entry(directory, pos, shift)
        entries.append(entry)
    return entries, False


def _end_record(fh: IO[bytes], size: int) -> tuple[int, int, int]:
    """(where the directory must end, its size, its offset as the end record says)."""
    tail_len = min(size, _EOCD.size + 0xFFFF)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(EOCD)
    if at < 0 or at + _EOCD.size > len(tail):
        raise ZipDamage("no end of central directory record")
    _, _, _, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, at)
    where = size - tail_len + at
    if count != 0xFFFF and cd_size != 0xFFFFFFFF and cd_offset != 0xFFFFFFFF:
        return where, cd_size, cd_offset
    if where < _LOCATOR64.size:
        raise ZipDamage("zip64 end record missing")
    fh.seek(where - _LOCATOR64.size)
    sig, _, end64, _ = _LOCATOR64.unpack(fh.read(_LOCATOR64.size))
    if sig != LOCATOR64:
        return where, cd_size, cd_offset
    at64 = where - _LOCATOR64.size - _EOCD64.size  # where it is when nothing precedes the archive
    fh.seek(at64 if at64 >= 0 else 0)
    rec = fh.read(_EOCD64.size)
    if len(rec) < _EOCD64.size or not rec.startswith(EOCD64):
        raise ZipDamage("zip64 end record missing")
    fields = _EOCD64.unpack(rec)
    return at64, fields[8], fields[9]


def _central_entry(d: bytes, pos: int, shift: int) -> tuple[Entry, int]:
    f = _CENTRAL.unpack_from(d, pos)
    if f[0] != CENTRAL:
        raise ZipDamage(f"bad central directory entry at byte {pos}")
    flags, method, mtime_, mdate, crc, csize, usize = f[3], f[4], f[5], f[6], f[7], f[8], f[9]
    n_name, n_extra, n_comment, attr, offset = f[10], f[11], f[12], f[15], f[16]
    start = pos + _CENTRAL.size
    end = start + n_name + n_extra + n_comment
    if end > len(d):
        raise ZipDamage(f"central directory entry at byte {pos} runs past the directory")
    raw = d[start:start + n_name]
    extra = d[start + n_name:start + n_name + n_extra]
    usize, csize, offset = _zip64(extra, usize, csize, offset)
    entry = Entry(raw_name=raw, name=decode_name(raw, flags), flags=flags, method=method, crc=crc,
                  compressed=csize, size=usize, offset=offset + shift, mode=attr >> 16,
                  mtime=_dos_time(mdate, mtime_))
    return entry, end


def _zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the zip64 extra field, for the ones the entry marks 0xFFFFFFFF."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4:pos + 4 + length]
        if tag == 1:
            values = [int.from_bytes(body[i:i + 8], "little") for i in range(0, len(body) - 7, 8)]
            out = []
            for v in (usize, csize, offset):
                out.append(values.pop(0) if v == 0xFFFFFFFF and values else v)
            return out[0], out[1], out[2]
        pos += 4 + length
    return usize, csize, offset


def _dos_time(d: int, t: int) -> dt.datetime | None:
    try:
        return dt.datetime((d >> 9) + 1980, (d >> 5) & 0xF, d & 0x1F, t >> 11, (t >> 5) & 0x3F,
                           (t & 0x1F) * 2, tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def locate(fh: IO[bytes], entries: list[Entry], size: int) -> None:
    """Find each entry's data from its local header; mark those that cannot be read and those
    whose bytes overlap another's."""
    for e in entries:
        if not e.is_dir:
            e.problem = _locate(fh, e, size)
    spans = sorted((e.offset, e.start + e.compressed, i) for i, e in enumerate(entries)
                   if not e.is_dir and not e.problem)
    overlapping = set()
    reach, holder = -1, -1  # the furthest end so far, and whose it is
    for begin, end, i in spans:
        if begin < reach:
            overlapping.update((i, holder))
        if end > reach:
            reach, holder = end, i
    for i in overlapping:
        entries[i].problem = "shares its bytes with another member (an overlapping zip bomb), refused"


def _locate(fh: IO[bytes], e: Entry, size: int) -> str:
    if e.offset < 0 or e.offset + _LOCAL.size > size:
        return "damaged member: its header lies outside the file"
    fh.seek(e.offset)
    head = fh.read(_LOCAL.size)
    f = _LOCAL.unpack(head)
    if f[0] != LOCAL:
        return "damaged member: no member header where the directory points"
    n_name, n_extra = f[9], f[10]
    name = fh.read(n_name)
    if name != e.raw_name:
        return "damaged member: the directory and the member header name it differently"
    e.start = e.offset + _LOCAL.size + n_name + n_extra
    if e.start + e.compressed > size:
        return "damaged member: its data runs past the end of the file"
    return ""
