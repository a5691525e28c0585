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

    # -- reading a file in pieces (see logcorr.events.pieces) --------------------------------------
    def carry(self) -> object:
        """The state that spans records, comparable with ==: two readers that say the same after
        one line read the rest of the file alike (tables handled by `prime` or `ops` excepted)."""
        return None

    def prime(self, data, end: int) -> None:
        """Take on, from the bytes before offset `end`, the tables that live for the whole file."""

    def log_ops(self) -> None:
        """From now on, log the operations on replayed tables (see TextParser.replay)."""

    def ops(self) -> list:
        return []

    def take_tables(self, tables) -> None:
        """Take on the replayed tables as they stand at the current line (a copy)."""

    def rebind(self, ctx: ParseContext) -> None:
        """Report to `ctx` from now on (a reader taken from another process)."""
        old = self.ctx

        def walk(obj, depth):
            for key, value in vars(obj).items():
                if value is old:
                    setattr(obj, key, ctx)
                elif depth and hasattr(value, "__dict__") and not isinstance(value, type):
                    walk(value, depth - 1)

        walk(self, 2)


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


class TextLoop:
    """The line loop of one reader: stray lines counted in runs, giving up on a file not of its kind."""

    def __init__(self, parser: "TextParser", reader: LineReader, ctx: ParseContext):
        self.parser, self.reader, self.ctx = parser, reader, ctx
        self.run = _StrayRun(ctx)
        self.failures = 0
        self.gave_up = False

    def step(self, pos: int, text: str) -> list[dict]:
        reader = self.reader
        reader.strayed = None
        out = reader.line(pos, text)
        if out.__class__ is not list:
            out = list(out)
        if reader.strayed is None:
            if (self.failures or self.run.start is not None) and text.strip():
                self.run.close()
                self.failures = 0
            return out
        self.run.add(pos, reader.strayed)
        self.failures += 1
        if self.failures >= MAX_CONSECUTIVE_FAILURES:
            self.run.close()
            self.ctx.warn(pos, f"gave up: not {self.parser.what}")
            self.gave_up = True
        return out

    def finish(self) -> list[dict]:
        self.run.close()
        return list(self.reader.end())


class TextParser:
    """A line-based log format; subclasses set the class attributes and :meth:`sniff`."""

    name: str = ""  # the source it reads: the registry's `source`
    what: str = "a log"  # the format in words, for "gave up: not <what>"
    reader: type[LineReader] = LineReader
    universal_newlines = False  # a lone "\r" ends a line too
    # cut_here(line bytes without its end) -> True where a large file may be cut for several
    # cores: the line starts a record by the format's own rule; None: never cut
    cut_here = None
    warm_bytes = 0  # how much the piece after a cut reads first, for state only

    @staticmethod
    def new_tables():
        return None

    @staticmethod
    def replay(tables, ops: list):
        """`tables` after a piece's logged operations, in file order, and what the look-ups of
        those operations give: {line: {column: value}} for the events of those lines."""
        return tables, {}

    def sniff(self, head: bytes) -> bool:
        raise NotImplementedError

    def lines(self, stream: BinaryIO) -> Iterator[str]:
        if self.universal_newlines:
            for line in io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None):
                yield line.rstrip("\n")
        else:
            for raw in stream:
                yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def absorb(self, loop: TextLoop, text: str) -> bool:
        """Take a line straight into the reader's open record where the loop's step would do
        nothing else (the line is not stray, starts and completes nothing): True when taken. The
        whole-file loop and the pieces of a cut file both ask first."""
        return False

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        loop = TextLoop(self, self.reader(ctx), ctx)
        absorb = self.absorb
        for pos, text in enumerate(self.lines(stream), 1):
            if absorb(loop, text):
                continue
            yield from loop.step(pos, text)
            if loop.gave_up:
                break
        yield from loop.finish()
