"""The reading state of one file: physical lines into records, records into events; and what a
reader tells when the file is read in pieces (see logcorr.events.pieces)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.text import LineReader
from .lines import BSD_START, RECORD_START, _cut, _Record, _start
from .state import _State


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.state = _State(ctx)
        self.record: _Record | None = None

    def line(self, pos: int, line: str) -> Iterator[dict]:
        for piece in _cut(line):
            m = RECORD_START.match(piece) or BSD_START.match(piece)
            if m:
                yield from self._take()
                self.record = _start(m, pos, self.ctx)
            elif piece.startswith("#"):
                yield from self._take()
            elif self.record is not None:
                self.record.more.append(piece)
            elif piece.strip():
                self.stray("lines outside any record")

    def _take(self) -> Iterator[dict]:
        if self.record is not None:
            record, self.record = self.record, None
            yield from self.state.take(record)

    def end(self) -> Iterator[dict]:
        yield from self._take()
        yield from self.state.flush()

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


