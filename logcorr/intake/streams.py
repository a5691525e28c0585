"""Decompression as a readable stream that keeps the bundle's account while it reads.

`Inflow` reads a gzip, bzip2 or xz file (every concatenated stream of it), or one zip member's
deflate, bzip2, LZMA or stored bytes, and hands out what it produced. Each call consumes at most
one small piece of compressed input and produces at most what was asked for, so the caps on
bytes, ratio and time are checked between pieces that take milliseconds.
"""
from __future__ import annotations

import bz2
import io
import lzma
import zlib
from typing import IO

from .budget import Budget, Refused

PIECE = 8 * 1024  # compressed bytes fed to a decompressor at a time

MAGIC = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}
SUFFIX = {"gzip": (".gz", ".tgz"), "bzip2": (".bz2", ".tbz2", ".tbz"), "xz": (".xz", ".txz")}


def codec_of(head: bytes) -> str | None:
    """`gzip`, `bzip2` or `xz` from a file's first bytes."""
    for codec, magic in MAGIC.items():
        if head.startswith(magic):
            return codec
    return None


class _Zlib:
    """zlib's decompressor with the interface of the bz2 and lzma ones (input kept, not returned)."""

    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def needs_input(self) -> bool:
        return not self._tail

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._tail + data, max_length)
        self._tail = self._d.unconsumed_tail
        return out


class _Stored(_Zlib):
    """A stored zip member: its bytes as they are."""

    def __init__(self) -> None:
        self._tail = b""

    eof = False
    unused_data = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        data = self._tail + data
        self._tail = data[max_length:]
        return data[:max_length]


class Inflow(io.RawIOBase):
    """The decompressed bytes of `fh` from its current position (`length` compressed bytes at
    most, all of the file when None), every byte counted in `budget`.

    `codec` is `gzip`, `bzip2` or `xz` for whole files (concatenated streams are read on; bytes
    after the last stream that start no new one are ignored), or `deflate`, `bzip2`, `lzma` or
    `stored` for a zip member (one stream, `length` bytes).
    """

    def __init__(self, fh: IO[bytes], codec: str, budget: Budget, length: int | None = None) -> None:
        super().__init__()
        self.fh, self.codec, self.budget = fh, codec, budget
        self.left = length
        self.multi = length is None
        self.consumed = 0
        self.produced = 0
        self.refused: Refused | None = None
        self._pending = b""
        self._done = False
        self._dec = self._decoder()

    # -- the decoders --------------------------------------------------------------------------
    def _decoder(self):
        codec = self.codec
        if codec == "gzip":
            return _Zlib(31)
        if codec == "deflate":
            return _Zlib(-15)
        if codec == "bzip2":
            return bz2.BZ2Decompressor()
        if codec == "xz":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=self.budget.limits.max_lzma_memory)
        if codec == "lzma":
            return self._zip_lzma()
        if codec == "stored":
            return _Stored()
        raise Refused(f"compression method {codec} not supported")

    def _zip_lzma(self):
        """A zip member's LZMA: version (2 bytes), properties size (2), properties, raw LZMA1."""
        head = self._raw(4)
        if len(head) < 4:
            raise EOFError("LZMA member ends inside its header")
        size = int.from_bytes(head[2:4], "little")
        props = self._raw(size)
        if len(props) < size:
            raise EOFError("LZMA member ends inside its properties")
        try:
            filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)
        except (lzma.LZMAError, ValueError) as e:
            raise lzma.LZMAError(f"bad LZMA properties: {e}") from None
        if filt.get("dict_size", 0) > self.budget.limits.max_lzma_memory:
            raise Refused(f"LZMA member asks for a {filt['dict_size'] >> 20} MiB dictionary, refused")
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])

    def _raw(self, n: int) -> bytes:
        if self.left is not None:
            n = min(n, self.left)
        data = self.fh.read(n) if n > 0 else b""
        self.consumed += len(data)
        if self.left is not None:
            self.left -= len(data)
        return data

    # -- reading -------------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.read1(len(b))
        b[: len(data)] = data
        return len(data)

    def read1(self, size: int = -1) -> bytes:
        if self.refused is not None:
            raise self.refused
        size = PIECE * 16 if size is None or size < 0 else size
        try:
            return self._read(size)
        except Refused as e:
            self.refused = e
            raise

    def _read(self, size: int) -> bytes:
        while not self._done and size > 0:
            self.budget.check()
            dec = self._dec
            if dec.eof:
                self._next_stream(dec.unused_data + self._pending)
                continue
            if dec.needs_input and not self._pending:
                self._pending = self._raw(PIECE)
                if not self._pending:
                    if isinstance(dec, _Stored):
                        self._done = True
                        break
                    raise EOFError("compressed data ends before the end of its stream")
            data, self._pending = (self._pending, b"") if dec.needs_input else (b"", self._pending)
            try:
                out = dec.decompress(data, size)
            except lzma.LZMAError as e:
                if "memory" in str(e).lower():
                    limit = self.budget.limits.max_lzma_memory >> 20
                    raise Refused(f"its header asks for more than {limit} MiB to decompress, refused") from None
                raise
            if out:
                self.produced += len(out)
                self.budget.grow(len(out), self.produced, self._used())
                return out
        return b""

    def _used(self) -> int:
        """Compressed bytes taken in so far, less those fed but not yet decoded."""
        return self.consumed - len(self._pending) - len(getattr(self._dec, "_tail", b""))

    def _next_stream(self, rest: bytes) -> None:
        """After one stream: the next concatenated one, or the end."""
        self._pending = b""
        magic = MAGIC.get(self.codec, b"")
        if not self.multi or not magic:
            self._done = True
            return
        while True:
            rest = rest.lstrip(b"\0")  # gzip and xz files may be padded with zeros
            if len(rest) >= len(magic):
                break
            more = self._raw(PIECE)
            if not more:
                break
            rest += more
        if not rest.startswith(magic):
            self._done = True  # trailing bytes that start no stream: ignored, as gzip and xz do
            return
        self._dec = self._decoder()
        self._pending = rest
