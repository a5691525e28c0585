"""Builders of hostile archives, small enough to make in a test (sizes are parameters).

Each returns the archive's bytes. The shapes are the known ones: a compression stream of zeros
repeated (xz, gzip, bzip2), nested fan-out as in 42.zip, the overlapping-entries zip bomb (every
entry's data ends in one shared compressed kernel, each entry "quoting" the next entry's header
in a stored deflate block), and archives of very many tiny members.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib

LOG = b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: ending\n"


def zeros_stream(codec: str, size: int, copies: int = 1) -> bytes:
    """`size` zero bytes compressed as one stream, repeated `copies` times (a valid multi-stream
    file that expands to size * copies)."""
    data = b"\0" * size
    one = {"xz": lambda: lzma.compress(data, format=lzma.FORMAT_XZ, preset=9),
           "gzip": lambda: gzip.compress(data, 9, mtime=0),
           "bzip2": lambda: bz2.compress(data, 9)}[codec]()
    return one * copies


def xz_claiming_huge_dictionary() -> bytes:
    """A small xz stream whose block header asks the decoder for a 4 GiB dictionary."""
    data = bytearray(lzma.compress(LOG, format=lzma.FORMAT_XZ,
                                   filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}]))
    size = (data[12] + 1) * 4  # the block header, right after the 12-byte stream header
    assert data[13] == 0 and data[14:16] == b"\x21\x01"  # one filter, LZMA2, one byte of properties
    data[16] = 40  # dictionary size code 40: 4 GiB - 1
    data[12 + size - 4:12 + size] = struct.pack("<L", zlib.crc32(data[12:12 + size - 4]))
    return bytes(data)


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def fan_out(levels: int, width: int, leaf_size: int) -> bytes:
    """42.zip's shape: `levels` zips deep, `width` copies at each level, a leaf of zeros; each
    level deflated again (a deflated run of zeros is itself very regular)."""
    data = zip_of({"leaf.bin": b"\0" * leaf_size})
    for level in range(levels - 1):
        data = zip_of({f"l{level}-{i:x}.zip": data for i in range(width)})
    return data


def many_members_zip(count: int, payload: bytes = b"x") -> bytes:
    """A zip of `count` stored members (written directly: zipfile takes seconds for 100,000)."""
    local, central = [], []
    offset, crc = 0, zlib.crc32(payload)
    for i in range(count):
        name = f"m{i:06d}.log".encode()
        head = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, len(payload),
                           len(payload), len(name), 0) + name
        local.append(head + payload)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc,
                                   len(payload), len(payload), len(name), 0, 0, 0, 0, 0, offset) + name)
        offset += len(head) + len(payload)
    cd = b"".join(central)
    count16 = min(count, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count16, count16, len(cd), offset, 0)
    return b"".join(local) + cd + end


def many_members_tar(count: int, payload: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for i in range(count):
            info = tarfile.TarInfo(f"m{i:06d}.log")
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def _stored_block(length: int) -> bytes:
    """A deflate stored block's header (not final): the next `length` bytes are literal."""
    return b"\x00" + struct.pack("<HH", length, length ^ 0xFFFF)


def overlapping_zip(entries: int, kernel_size: int, full_overlap: bool = False, good: bytes = b"") -> bytes:
    """The overlapping-entries zip bomb. Entry i's deflate data quotes entry i+1's local header
    in a stored block and runs on into the same data, down to one shared kernel of zeros, so each
    entry expands to the kernel and the archive to about `entries` * `kernel_size`.

    With `full_overlap`, every directory entry points at one local header instead (same name).
    With `good`, a stored member `good.log` holding it comes first."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = comp.compress(b"\0" * kernel_size) + comp.flush()
    kernel_crc = zlib.crc32(b"\0" * kernel_size)
    names = [b"a" if full_overlap else f"f{i:04d}".encode() for i in range(entries)]

    def header(i: int, crc: int, csize: int, usize: int) -> bytes:
        return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, csize, usize,
                           len(names[i]), 0) + names[i]

    count = 1 if full_overlap else entries
    # built from the last entry back: entry i's content is the headers after it, then the kernel
    content_prefix = b""  # uncompressed bytes before the kernel's output, for entry i
    data = kernel
    headers: list[bytes] = [b""] * count
    crcs, csizes, usizes = [0] * count, [0] * count, [0] * count
    for i in reversed(range(count)):
        crc = zlib.crc32(b"\0" * kernel_size, zlib.crc32(content_prefix)) if content_prefix else kernel_crc
        crcs[i], csizes[i], usizes[i] = crc, len(data), len(content_prefix) + kernel_size
        headers[i] = header(i, crc, len(data), usizes[i])
        if i:
            data = _stored_block(len(headers[i])) + headers[i] + data
            content_prefix = headers[i] + content_prefix
    body, central = b"", b""
    if good:
        crc = zlib.crc32(good)
        central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc, len(good), len(good),
                              8, 0, 0, 0, 0, 0, 0) + b"good.log"
        body = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, len(good), len(good), 8, 0)
        body += b"good.log" + good
    offsets = []
    for i in range(count):
        offsets.append(len(body))
        body += headers[i] + (_stored_block(len(headers[i + 1])) if i + 1 < count else b"")
    body += kernel
    for i in range(entries):
        j = 0 if full_overlap else i
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crcs[j], csizes[j],
                               usizes[j], len(names[i]), 0, 0, 0, 0, 0, offsets[j]) + names[i]
    total = entries + bool(good)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total, total, len(central), len(body), 0)
    return body + central + end


def with_member(archive_members: dict[str, bytes]) -> bytes:
    """A plain zip holding the given members stored (for bombs beside a good log)."""
    return zip_of(archive_members, zipfile.ZIP_STORED)
