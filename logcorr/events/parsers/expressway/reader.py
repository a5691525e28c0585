"""The reading state of one file: physical lines into records, records into events; and what a
reader tells when the file is read in pieces (see logcorr.events.pieces)."""
from __future__ import annotations

import re
from collections import OrderedDict
from itertools import chain
from typing import BinaryIO, Iterator

from logcorr.events.parsers.base import MAX_CONSECUTIVE_FAILURES, ParseContext
from logcorr.events.parsers.text import LineReader, _StrayRun
from .lines import BSD_FIRST, BSD_START, EMBEDDED_HINT, EMBEDDED_START, RECORD_START, _Record, _start
from .state import _State


NEXT_OWN_LINE = re.compile(r"\n[^ \n]")  # a line end, then a line that is not a record's next
CHUNK_BYTES = 1 << 20  # a whole file is decoded and split this much at a time (whole lines)
STRAY = "lines outside any record"


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.state = _State(ctx)
        self.record: _Record | None = None

    def line(self, pos: int, line: str) -> list[dict]:
        out: list[dict] = []
        if self.record is not None and (not line or line[0] == " "):
            self.record.more.append(line)  # a record's next line (a SIPMSG block's)
        else:
            self._place(pos, line, out)
        return out

    def _place(self, pos: int, line: str, out: list) -> None:
        """A line that may start or end a record, or hold several a web copy joined."""
        c = line[:1]
        m = RECORD_START.match(line) if c.isdecimal() or c == "L" or c == "<" else None
        if len(line) >= 60 and c != " " and EMBEDDED_HINT.search(line, m.start(10) if m else 1):
            cuts = [x.start() for x in EMBEDDED_START.finditer(line, m.start(10) if m else 1)]
            if cuts:
                bounds = [0, *cuts, len(line)]
                for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
                    piece = line[a:b].strip(" ") if i else line[a:b]
                    self._piece(pos, piece, RECORD_START.match(piece) or BSD_START.match(piece), out)
                return
        if m is None and c in BSD_FIRST:
            m = BSD_START.match(line)
        self._piece(pos, line, m, out)

    def _piece(self, pos: int, piece: str, m, out: list) -> None:
        if m:
            if self.record is not None:
                self._take(out)
            self.record = _start(m, pos)
        elif piece.startswith("#"):
            self._take(out)
        elif self.record is not None:
            self.record.more.append(piece)
        elif piece.strip():
            self.stray(STRAY)

    def _take(self, out: list) -> None:
        if self.record is not None:
            record, self.record = self.record, None
            self.state.take(record, out)

    def end(self) -> list[dict]:
        out: list[dict] = []
        self._take(out)
        self.state.flush(out)
        return out

    def read(self, stream: BinaryIO, what: str) -> Iterator[dict]:
        """The events of a whole file, by the rules of TextLoop.step (see _Loop)."""
        loop = _Loop(self, what)
        for text in _chunks(stream):
            loop.chunk(text)
            yield from loop.out
            loop.out.clear()
            if loop.gave_up:
                break
        else:
            loop.run.close()
        yield from self.end()

    def carry(self) -> tuple:
        """The open record and the output queue: each waiting event, whether it still waits for
        its pair, and how many records ago it came."""
        st, rec = self.state, self.record
        queue = tuple((_settled(s.event), tuple(sorted(s.kinds)), s.key, st.count - s.born,
                       s.key is not None and st.pending.get(s.key) is s) for s in st.queue)
        return (rec.pos, rec.body, tuple(rec.more)) if rec else None, queue

    def log_ops(self) -> None:
        self.state.log = []

    def ops(self) -> list:
        return self.state.log or []

    def take_tables(self, tables) -> None:
        if tables is not None:
            self.state.invite_from, self.state.serial_call = OrderedDict(tables[0]), dict(tables[1])


def _settled(event: dict) -> tuple:
    """An event as a piece sees it, but for the Call-ID of an event record (set by the tables)."""
    return tuple(sorted(kv for kv in event.items() if kv[0] != "call_id" or event.get("proto") != "log"))




class _Loop:
    """TextLoop.step's rules over a whole file: stray lines counted in runs, reading given up
    after MAX_CONSECUTIVE_FAILURES in a row. The lines that continue a record (empty, or opening
    on a space) come in blocks between the other lines, found by one search over a chunk, and
    are added to the record at once."""

    def __init__(self, reader: _Reader, what: str):
        self.reader, self.what = reader, what
        self.run = _StrayRun(reader.ctx)
        self.failures = self.pos = 0
        self.out: list[dict] = []
        self.gave_up = False

    def chunk(self, text: str) -> None:
        """The lines of `text` (whole lines, the last one's end may be missing)."""
        if text.endswith("\n"):
            text = text[:-1]
        if "\r" in text:  # line ends CR LF: the lines without their CRs at the end
            text = "\n".join([line.rstrip("\r") for line in text.split("\n")])
        at = 0  # where the lines not yet read start
        starts = (m.start() + 1 for m in NEXT_OWN_LINE.finditer(text))
        if text and text[0] not in " \n":
            starts = chain((0,), starts)
        for start in starts:
            if start > at:
                self.block(text[at:start - 1].split("\n"))
                if self.gave_up:
                    return
            end = text.find("\n", start)
            if end < 0:
                end = len(text)
            self.step(text[start:end])
            if self.gave_up:
                return
            at = end + 1
        if at <= len(text):
            self.block(text[at:].split("\n"))

    def block(self, lines: list[str]) -> None:
        """Lines that are empty or open on a space: the open record's, else each is looked at."""
        record = self.reader.record
        if record is None:
            for line in lines:
                self.step(line)
                if self.gave_up:
                    return
            return
        record.more.extend(lines)
        self.pos += len(lines)
        if self.failures and any(line.strip() for line in lines):
            self.run.close()
            self.failures = 0

    def step(self, line: str) -> None:
        self.pos += 1
        reader = self.reader
        reader.strayed = None
        if reader.record is not None and (not line or line[0] == " "):
            reader.record.more.append(line)
        else:
            reader._place(self.pos, line, self.out)
        if reader.strayed is None:
            if self.failures and line.strip():
                self.run.close()
                self.failures = 0
            return
        self.run.add(self.pos, reader.strayed)
        self.failures += 1
        if self.failures >= MAX_CONSECUTIVE_FAILURES:
            self.run.close()
            reader.ctx.warn(self.pos, f"gave up: not {self.what}")
            self.gave_up = True


def _chunks(stream: BinaryIO) -> Iterator[str]:
    """The file decoded (UTF-8, bad bytes replaced) in pieces that end at a line end: the same
    text as decoding line by line, as no multi-byte character holds a line end."""
    while True:
        data = stream.read(CHUNK_BYTES)
        if not data:
            return
        if not data.endswith(b"\n"):
            data += stream.readline()
        yield data.decode("utf-8", "replace")
