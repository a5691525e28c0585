"""One large text log read on several cores: cut at record starts, the pieces parsed at once, joined.

A text parser that can be cut (:attr:`TextParser.cut_here`) says which physical line starts a new
record in its format. A file of at least :data:`SPLIT_BYTES` is cut near equal shares at such lines;
each piece is parsed in its own process, and the pieces are joined so that the file's events are
the ones (same rows, same order) a single pass over the whole file gives.

State that spans records crosses a cut in one of three ways:

* **checked**: each reader tells its cross-record state after a line (:meth:`LineReader.carry`).
  The piece before a cut reads on through the cut line L; the piece after it starts at L (from an
  empty state, or after a warm-up over the records before L when the format holds records back, as
  the Expressway's pairing window does). Where both say the same state after L, the second piece
  read its part as one pass would have; where not, that piece is read again from the first piece's
  exact state, in this process.
* **primed**: a table that lives for the whole file and is cheap to find (CMS's connection table:
  which local address a connection has) is read from the bytes before the piece
  (:meth:`LineReader.prime`).
* **replayed**: tables that records fill and later records look up (the Expressway's INVITE source
  and call serial number tables) are logged as operations; the joining process replays them in
  file order and takes a piece as read only when none of its look-ups would have found an entry
  made before the piece (:attr:`TextParser.replay`); else the piece is read again with the tables.

Warnings and skipped lines are kept by the piece that owns their line; after a piece gives up on a
file (too many stray lines), the pieces after it are dropped, as a single pass would stop there.
"""
from __future__ import annotations

import copy
import io
import mmap
import os
import pickle
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable, Iterator

import pandas as pd

from . import rawtext, schema
from .parsers import REGISTRY, ParseContext
from .parsers.text import TextParser, TextLoop

SPLIT_BYTES = 16 * 1024 * 1024  # a text log at least this large is cut
SEARCH_BYTES = 4 * 1024 * 1024  # how far past a share's end a cut line is looked for
COST_PER_BYTE = {"pcap": 1}  # parse cost relative to a capture byte (text logs: TEXT_COST)
TEXT_COST = 10


@dataclass
class Piece:
    """Where one piece of a file starts (`start`, line `pos`), where its warm-up starts (`warm`,
    line `warm_pos`) and the cut line after it (`stop` .. `stop_end`, line `stop_pos`); the last
    piece has stop = stop_end = file size and stop_pos 0."""

    start: int
    pos: int
    warm: int
    warm_pos: int
    stop: int
    stop_end: int
    stop_pos: int
    resume: bytes | None = None  # a reader's pickled state after line pos - 1 (read again)
    tables: object = None  # the replayed tables the resumed reader takes on


@dataclass
class Result:
    events: pd.DataFrame
    tail: pd.DataFrame  # events given while reading the cut line after the piece
    entries: list = field(default_factory=list)  # warnings / skips of the piece's lines
    tail_entries: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    carry_start: object = None  # the state after the piece's first line (the cut line)
    carry_end: object = None  # the state after the cut line after the piece
    state: bytes | None = None  # the pickled reader after that cut line
    ops: list = field(default_factory=list)
    gave_up: bool = False


class PieceContext(ParseContext):
    """A parse context that logs warnings and skips with their line, for the joining process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entries: list[tuple] = []
        self.recording = True

    def warn(self, pos, message):
        if self.recording:
            self.entries.append(("warn", pos, message))

    def skip(self, pos, reason, count=1):
        if self.recording:
            self.entries.append(("skip", pos, reason, count))


def replay_entries(ctx: ParseContext, entries: list[tuple]) -> None:
    for kind, pos, *rest in entries:
        if kind == "warn":
            ctx.warn(pos, rest[0])
        else:
            ctx.skip(pos, rest[0], rest[1])


# -- where to cut ---------------------------------------------------------------------------------
def _count_lines(mm, a: int, b: int, universal: bool) -> int:
    """Line ends in mm[a:b] (a lone CR counts where the parser reads it as one)."""
    n = 0
    for lo in range(a, b, 16 * 1024 * 1024):
        chunk = mm[lo:min(b, lo + 16 * 1024 * 1024)]
        n += chunk.count(b"\n")
        if universal:
            n += chunk.count(b"\r") - chunk.count(b"\r\n")
            if chunk.endswith(b"\r") and mm[lo + len(chunk):lo + len(chunk) + 1] == b"\n":
                n -= 1  # a CR LF across the chunk edge is one line end
    return n


def _cut_line(mm, at: int, limit: int, parser: TextParser) -> tuple[int, int] | None:
    """(start, end) of the first line at or after `at` that starts a record, up to `limit`."""
    start = at if at == 0 or mm[at - 1:at] == b"\n" else mm.find(b"\n", at, limit) + 1
    while (start > 0 or at == 0) and start < limit:
        end = mm.find(b"\n", start, limit)
        if end < 0:
            return None
        line = mm[start:end + 1]
        if b"\r" not in line[:-2] and parser.cut_here(line.rstrip(b"\r\n")):
            return start, end + 1
        start = end + 1
    return None


def plan(path: str, parser: TextParser, shares: int) -> list[Piece] | None:
    """The pieces of a file, or None when it is not worth or not possible to cut."""
    size = os.path.getsize(path)
    if shares < 2 or size < SPLIT_BYTES or parser.cut_here is None:
        return None
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return plan_bytes(mm, size, parser, shares)


def plan_bytes(mm, size: int, parser: TextParser, shares: int, warm_bytes: int | None = None) -> list[Piece] | None:
    universal = parser.universal_newlines
    warm_bytes = parser.warm_bytes if warm_bytes is None else warm_bytes
    cuts: list[tuple[int, int]] = []
    for i in range(1, shares):
        at = max(size * i // shares, cuts[-1][1] if cuts else 0)
        found = _cut_line(mm, at, min(size, at + SEARCH_BYTES), parser)
        if found is not None and found[0] > 0:
            cuts.append(found)
    if not cuts:
        return None
    pieces: list[Piece] = []
    start, pos, counted, counted_at = 0, 1, 1, 0

    def line_no(offset: int) -> int:
        nonlocal counted, counted_at
        counted += _count_lines(mm, counted_at, offset, universal)
        counted_at = offset
        return counted

    for cut_start, cut_end in cuts:
        warm = start
        if pieces and warm_bytes:  # a warm-up from a record start before the piece
            found = _cut_line(mm, max(0, start - warm_bytes), start, parser)
            warm = found[0] if found else start
        pieces.append(Piece(start, pos, warm, 0, cut_start, cut_end, 0))
        start = cut_start
    pieces.append(Piece(start, 0, start, 0, size, size, 0))
    marks = sorted({o for p in pieces for o in (p.start, p.warm, p.stop)} - {size})
    numbers = {o: line_no(o) for o in marks}
    for p in pieces:
        p.pos, p.warm_pos = numbers[p.start], numbers[p.warm]
        p.stop_pos = numbers.get(p.stop, 0)
    return pieces


# -- one piece ------------------------------------------------------------------------------------
def _lines(data: bytes, parser: TextParser, first: int) -> Iterator[tuple[int, str]]:
    return enumerate(parser.lines(io.BytesIO(data)), first)


def parse_piece(job: tuple) -> Result:
    """Parse one piece of a file (a job of :func:`run`). A file's job that names its text store
    (see events/read.py) has each piece's text written beside it, in a store of the piece's own."""
    (index, path, name, tzinfo, tz_assumed, ref), (piece, last) = job[:6], job[-2:]
    store = _piece_store(job, piece)
    parser: TextParser = REGISTRY[index].parser
    ctx = PieceContext(file=name, tz=tzinfo, tz_assumed=tz_assumed, mtime=ref)
    reader = _piece_reader(parser, ctx, piece, path)
    with open(path, "rb") as fh:
        fh.seek(piece.warm)
        data = fh.read(piece.stop_end - piece.warm)
    loop = TextLoop(parser, reader, ctx)
    own, tail = [], []
    result = Result(events=None, tail=None)
    first = piece.pos if piece.start and piece.resume is None else 0
    if not first:
        reader.log_ops()
    ctx.recording = False
    absorb = parser.absorb
    for pos, text in _lines(data, parser, piece.warm_pos):
        if pos < piece.pos:  # warm-up: state only
            if not absorb(loop, text):
                loop.step(pos, text)
            continue
        ctx.recording = True
        if pos == first:  # the cut line before the piece: its own records only
            loop.gave_up, loop.failures = False, 0  # a warm-up's stray lines are the piece before's
            own.extend(e for e in loop.step(pos, text) if e["pos"] >= pos)
            ctx.entries = [x for x in ctx.entries if (x[1] or pos) >= pos]
            result.carry_start = copy.deepcopy(reader.carry())
            reader.log_ops()
        elif pos == piece.stop_pos and not last:  # the cut line after the piece
            mark = len(ctx.entries)
            tail = loop.step(pos, text)
            ctx.entries, result.tail_entries = ctx.entries[:mark], ctx.entries[mark:]
            result.carry_end = copy.deepcopy(reader.carry())
            result.state = pickle.dumps(reader)
            break
        elif not absorb(loop, text):
            own.extend(loop.step(pos, text))
            if loop.gave_up:
                break
    if last or loop.gave_up:
        own.extend(loop.finish())
    result.ops, result.gave_up = reader.ops(), loop.gave_up
    result.entries, result.notes = ctx.entries, ctx.notes
    result.events, result.tail = schema.to_frame(own, store), schema.to_frame(tail, store)
    return result


def _piece_store(job: tuple, piece: Piece) -> rawtext.Store | None:
    """A file's job that names its text store (folder, name) has each piece's text written beside
    it, in a store named after the file's and the piece."""
    if len(job) <= 8:
        return None
    folder, name_in = job[6]
    again = "-again" if piece.resume is not None else ""
    return rawtext.Folder.at(folder).store(f"{name_in}-{piece.start}{again}")


def _piece_reader(parser: TextParser, ctx: PieceContext, piece: Piece, path: str):
    """The reader a piece starts with: the state handed over when it is read again, else a new
    one, primed with the bytes before the piece."""
    if piece.resume is not None:
        reader = pickle.loads(piece.resume)
        reader.rebind(ctx)
        reader.take_tables(piece.tables)
        return reader
    reader = parser.reader(ctx)
    if piece.start:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            reader.prime(mm, piece.start)
    return reader


# -- joining --------------------------------------------------------------------------------------
def join(job: tuple, pieces: list[Piece], results: list[Result]) -> tuple[pd.DataFrame, dict, int]:
    """The file's table and facts from its pieces' results; and how many pieces were read again."""
    parser: TextParser = REGISTRY[job[0]].parser
    frames: list[pd.DataFrame] = []
    entries: list[tuple] = []
    notes: list[str] = []
    again = 0
    prev = results[0]
    tables, patches = parser.replay(parser.new_tables(), prev.ops)
    frames.append(prev.events)
    entries.extend(prev.entries)
    for k in range(1, len(results)):
        if prev.gave_up:
            break
        cur, cut_pos = results[k], pieces[k].pos
        if cur.carry_start == prev.carry_end:
            frames.append(prev.tail[prev.tail["pos"] < cut_pos])
            entries.extend(x for x in prev.tail_entries if (x[1] or cut_pos) < cut_pos)
        else:  # read again from the exact state after the cut line
            again += 1
            frames.append(prev.tail)
            entries.extend(prev.tail_entries)
            p, after = pieces[k], pieces[k - 1].stop_end
            resumed = Piece(after, cut_pos + 1, after, cut_pos + 1, p.stop, p.stop_end, p.stop_pos,
                            resume=prev.state, tables=tables)
            cur = parse_piece(job + (resumed, k == len(results) - 1))
        tables, more = parser.replay(tables, cur.ops)
        patches.update(more)
        frames.append(cur.events)
        entries.extend(cur.entries)
        notes.extend(n for n in cur.notes if n not in notes)
        prev = cur
    ctx = ParseContext(file=job[2])
    replay_entries(ctx, entries)
    for n in results[0].notes + notes:
        ctx.note(n)
    facts = {"skipped": ctx.skipped, "skip_reasons": dict(ctx.skip_reasons), "warnings": ctx.warnings,
             "warning_count": ctx.warning_count, "notes": ctx.notes}
    table = _patched(schema.concat(frames), patches)
    table["parser"] = REGISTRY[job[0]].key  # as a file read whole is marked (events/read.py)
    return table, facts, again


def _patched(table: pd.DataFrame, patches: dict) -> pd.DataFrame:
    """The log events of the lines in `patches` with the values the replayed tables gave them."""
    if not patches or table.empty:
        return table
    rows = table.index[table["pos"].isin(patches.keys()) & (table["proto"] == "log")]
    for column in {c for v in patches.values() for c in v}:
        values = [patches[p].get(column, table.at[i, column]) for i, p in zip(rows, table.loc[rows, "pos"])]
        table.loc[rows, column] = pd.Series(values, index=rows, dtype=table[column].dtype)
    return table


# -- the pool -------------------------------------------------------------------------------------
def run(jobs: list[tuple], parse_file: Callable, workers: int) -> Iterator[tuple[int, tuple[pd.DataFrame, dict]]]:
    """(job number, (table, facts)) of each job as it is done: files parsed by `parse_file` in
    `workers` processes, large text files cut in pieces and joined as soon as their pieces are
    all in; the costliest work is handed out first, so the last left are the smallest."""
    plans = [plan(job[1], REGISTRY[job[0]].parser, workers) if isinstance(REGISTRY[job[0]].parser, TextParser)
             else None for job in jobs]
    work: list[tuple[float, int, int, Callable, tuple]] = []
    for i, (job, pieces) in enumerate(zip(jobs, plans)):
        cost = COST_PER_BYTE.get(REGISTRY[job[0]].name, TEXT_COST)
        if pieces is None:
            work.append((os.path.getsize(job[1]) * cost, i, 0, parse_file, job))
            continue
        for k, p in enumerate(pieces):
            size = p.stop_end - p.warm
            work.append((size * cost, i, k, parse_piece, job + (p, k == len(pieces) - 1)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        owner = {pool.submit(fn, arg): (i, k) for _, i, k, fn, arg in sorted(work, key=lambda w: -w[0])}
        got: dict[int, dict[int, Result]] = {}
        for future in as_completed(owner):
            i, k = owner.pop(future)  # the future, and the result it holds, let go once read
            if plans[i] is None:
                yield i, future.result()
                continue
            got.setdefault(i, {})[k] = future.result()
            if len(got[i]) == len(plans[i]):
                results = got.pop(i)
                table, facts, _ = join(jobs[i], plans[i], [results.pop(k) for k in range(len(plans[i]))])
                yield i, (table, facts)
