"""The base of every text-log parser: the line loop, the give-up cap, skipped lines counted by reason.

A text format is a :class:`TextParser` (its name, what the format is called, how to sniff it) and
a :class:`LineReader`, the state of one file being read: :meth:`LineReader.line` is given each line
in turn and yields the events it completes; a line the format cannot place is reported with
:meth:`LineReader.stray` (with the reason), and :meth:`LineReader.end` yields what is still open at
the end of the file. The loop here does the rest, once for every format:

* consecutive stray lines with the same reason are one skip of that many lines (one warning);
* after :data:`~logcorr.events.parsers.base.MAX_CONSECUTIVE_FAILURES` stray lines in a row the
  file is not of this format after all: a warning says so and reading stops (what was read is kept);
* line ends: ``\\n`` (``\\r\\n`` too); :attr:`TextParser.universal_newlines` adds a lone ``\\r``.
"""
from __future__ import annotations

import io
from typing import BinaryIO, Iterable, Iterator

from .base import MAX_CONSECUTIVE_FAILURES, ParseContext


class LineReader:
    """One file's reading state. Subclasses implement :meth:`line` and, when needed, :meth:`end`."""

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.strayed: str | None = None  # the reason the current line could not be placed

    def stray(self, reason: str) -> None:
        """The current line belongs to nothing this format knows (counted and warned by the loop)."""
        self.strayed = reason

    def line(self, pos: int, text: str) -> Iterable[dict]:
        raise NotImplementedError

    def end(self) -> Iterable[dict]:
        return ()


class _StrayRun:
    """Consecutive stray lines with one reason, skipped as one."""

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.start: int | None = None
        self.reason = ""
        self.count = 0

    def add(self, pos: int, reason: str) -> None:
        if self.start is not None and reason != self.reason:
            self.close()
        if self.start is None:
            self.start, self.reason = pos, reason
        self.count += 1

    def close(self) -> None:
        if self.start is not None:
            self.ctx.skip(self.start, self.reason, self.count)
        self.start, self.count = None, 0


class TextParser:
    """A line-based log format; subclasses set the class attributes and :meth:`sniff`."""

    name: str = ""  # the source it reads: the registry's `source`
    what: str = "a log"  # the format in words, for "gave up: not <what>"
    reader: type[LineReader] = LineReader
    universal_newlines = False  # a lone "\r" ends a line too

    def sniff(self, head: bytes) -> bool:
        raise NotImplementedError

    def lines(self, stream: BinaryIO) -> Iterator[str]:
        if self.universal_newlines:
            for line in io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None):
                yield line.rstrip("\n")
        else:
            for raw in stream:
                yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        reader = self.reader(ctx)
        run = _StrayRun(ctx)
        failures = 0
        for pos, text in enumerate(self.lines(stream), 1):
            reader.strayed = None
            yield from reader.line(pos, text)
            if reader.strayed is None:
                if text.strip():
                    run.close()
                    failures = 0
                continue
            run.add(pos, reader.strayed)
            failures += 1
            if failures >= MAX_CONSECUTIVE_FAILURES:
                run.close()
                ctx.warn(pos, f"gave up: not {self.what}")
                break
        run.close()
        yield from reader.end()
