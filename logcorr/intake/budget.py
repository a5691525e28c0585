"""What opening a bundle may cost: bytes produced, files, nesting depth and time.

Every count is of what decompression actually produced and consumed, never of what an archive's
headers claim. A member that expands too much for its own compressed bytes is refused alone
(`Refused`); once the bundle as a whole has used its bytes, files or time, nothing more is
opened (`Spent`), and what was read so far is kept.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 32 * 1024**3  # everything decompressed, over every layer, added up ...
    total_ratio: int = 200  # ... and no more than this many times the bundle's own size ...
    total_floor: int = 1024**3  # ... once past this
    max_ratio: int = 1000  # produced / consumed above which one member is a bomb ...
    ratio_floor: int = 64 * 1024**2  # ... once it has produced this much
    max_depth: int = 4  # archives inside archives
    max_members: int = 10_000  # archive entries (files and folders) over the whole bundle
    max_seconds: float = 600.0  # wall time for opening archives
    max_lzma_memory: int = 256 * 1024**2  # what an xz/LZMA header may make the decoder allocate


class Refused(Exception):
    """One member is refused; the message says why."""


class Spent(Refused):
    """The bundle's allowance of bytes, files or time is used up: nothing more is opened."""


@dataclass
class Budget:
    """The running account of one bundle's intake."""

    limits: Limits
    produced: int = 0
    entries: int = 0
    input_bytes: int = 0
    spent: str | None = None  # why intake stopped early, once it did
    _start: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._start = self.now()

    def now(self) -> float:
        return time.monotonic()

    def add_input(self, size: int) -> None:
        """A file of the bundle as given (not one produced from an archive)."""
        self.input_bytes += max(size, 0)

    def allowance(self) -> int:
        lim = self.limits
        return min(lim.max_total_bytes, max(lim.total_floor, lim.total_ratio * self.input_bytes))

    def stop(self, reason: str) -> None:
        self.spent = self.spent or reason
        raise Spent(reason)

    def check(self) -> None:
        """Raise `Spent` when intake must stop; called between members and between chunks."""
        if self.spent is not None:
            raise Spent(self.spent)
        if self.now() - self._start > self.limits.max_seconds:
            self.stop(f"opening the archives took longer than {self.limits.max_seconds:g} s; the rest is not read")

    def entry(self) -> None:
        """One more archive entry seen."""
        self.check()
        self.entries += 1
        if self.entries > self.limits.max_members:
            self.stop(f"more than {self.limits.max_members} files in the bundle; the rest is not read")

    def grow(self, produced: int, member_out: int, member_in: int) -> None:
        """`produced` more bytes came out of a decompressor; the member so far made `member_out`
        bytes from `member_in` compressed ones."""
        self.produced += produced
        if self.produced > self.allowance():
            self.stop(f"bundle expands past the decompression cap ({_size(self.allowance())}); the rest is not read")
        lim = self.limits
        if member_out > lim.ratio_floor and member_out > lim.max_ratio * max(member_in, 1):
            raise Refused(f"expands more than {lim.max_ratio} times: a decompression bomb, refused")
        self.check()


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n /= 1024
    return str(n)
