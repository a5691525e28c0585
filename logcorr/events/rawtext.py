"""The records' text, kept out of the event table.

A record's text (the SIP message as read, the log record, a STUN message as hex) is written, as the
file is parsed, to a store file of its own: the texts one after another, in UTF-8. The event table
keeps three columns that find it again: ``raw_store`` (the store, one object shared by every row of
a file), ``raw_at`` (byte offset in the store) and ``raw_len`` (its length in bytes). The table's
memory so follows the number of events, not the size of what they hold.

* :func:`texts` - the text of the rows asked for, in the order asked, one pass per store;
* :func:`batches` - the same in slices, for passes over many rows that keep none of them;
* :func:`with_raw` - the table with a ``raw`` column (what ``logcorr events`` writes).

A table built without a store (small tables made from dicts, a rule's examples) keeps a plain
``raw`` column; these functions read either. The stores of one reading sit in a private temporary
folder, removed when no table refers to them any more (or when the process ends).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

REFS = ("raw_store", "raw_at", "raw_len")
GAP = 16 * 1024  # records at most this far apart are read in one go (the bytes between them too)
RUN = 4 * 1024 * 1024  # the most read in one go
BATCH = 4096  # rows fetched at a time by `batches`

_FOLDERS: "weakref.WeakValueDictionary[str, Folder]" = weakref.WeakValueDictionary()


class Folder:
    """The private folder of one reading's stores; removed by the process that made it, once
    nothing uses it. A worker process opens the same folder without owning it."""

    def __init__(self, path: str | None = None) -> None:
        self.owner = path is None
        self.path = path or tempfile.mkdtemp(prefix="logcorr-raw-")
        if self.owner:
            self._done = weakref.finalize(self, _remove, self.path, os.getpid())
        _FOLDERS[self.path] = self

    @classmethod
    def at(cls, path: str) -> "Folder":
        return _FOLDERS.get(path) or cls(path)

    def store(self, name: str) -> "Store":
        return Store(self, name)


def _remove(path: str, pid: int) -> None:
    if os.getpid() == pid:  # not in a forked worker holding a copy
        shutil.rmtree(path, ignore_errors=True)


class Store:
    """One file's texts. Rows refer to it; pickled as (folder, name), so a table built in a worker
    process refers, once back, to the folder its reader owns."""

    def __init__(self, folder: Folder, name: str) -> None:
        self.folder, self.name = folder, name
        self.path = os.path.join(folder.path, name)
        self._out = None
        self._size = 0

    def put(self, text: str) -> tuple[int, int]:
        """Append one text; its (offset, length in bytes)."""
        if self._out is None:
            self._out = open(self.path, "ab")
            self._size = self._out.tell()
        data = text.encode("utf-8", "surrogatepass")
        at = self._size
        self._out.write(data)
        self._size += len(data)
        return at, len(data)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def read(self, spans: Sequence[tuple[int, int]]) -> list[str]:
        """The texts at (offset, length) spans, in the order given; read in offset order."""
        out: list[str] = [""] * len(spans)
        order = [i for i in sorted(range(len(spans)), key=lambda i: spans[i][0]) if spans[i][1]]
        with open(self.path, "rb") as fh:
            start = 0
            while start < len(order):  # a run of records close together is one read
                first = spans[order[start]][0]
                end, stop = first + spans[order[start]][1], start + 1
                while stop < len(order) and spans[order[stop]][0] - end <= GAP and end - first < RUN:
                    end = max(end, spans[order[stop]][0] + spans[order[stop]][1])
                    stop += 1
                fh.seek(first)
                block = fh.read(end - first)
                for i in order[start:stop]:
                    at, n = spans[i]
                    out[i] = block[at - first:at - first + n].decode("utf-8", "surrogatepass")
                start = stop
        return out

    def find(self, patterns: Sequence[bytes], chunk: int = 8 * 1024 * 1024) -> list[np.ndarray]:
        """For each pattern, every offset where it starts in the store, in order: one pass over the
        store, a chunk at a time."""
        found: list[list[int]] = [[] for _ in patterns]
        keep = max(map(len, patterns), default=1) - 1
        with open(self.path, "rb") as fh:
            base, tail = 0, b""  # tail: the last bytes of the previous chunk, where a match may start
            while block := fh.read(chunk):
                data = tail + block
                for pattern, offsets in zip(patterns, found):
                    # a match lying wholly in the tail was found with the previous chunk
                    i = data.find(pattern, max(len(tail) - len(pattern) + 1, 0))
                    while i >= 0:
                        offsets.append(base - len(tail) + i)
                        i = data.find(pattern, i + 1)
                base += len(block)
                tail = data[-keep:] if keep else b""
        return [np.asarray(offsets, dtype=np.int64) for offsets in found]

    def __reduce__(self):
        return _restore, (self.folder.path, self.name)

    def __repr__(self) -> str:
        return f"Store({self.path!r})"


def _restore(folder: str, name: str) -> Store:
    return Folder.at(folder).store(name)


def stored(frame: pd.DataFrame) -> bool:
    """The table keeps references, not the text."""
    return "raw" not in frame.columns and REFS[0] in frame.columns


def texts(frame: pd.DataFrame, rows: Sequence[int] | np.ndarray | None = None) -> list[str]:
    """The text of each row (positions, as ``iloc`` takes them; all rows when None), in the order
    asked: one pass per store over the rows asked for, nothing else read."""
    rows = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    if "raw" in frame.columns:
        return [str(v) for v in frame["raw"].to_numpy(dtype=object)[rows]]
    if not stored(frame):
        return [""] * len(rows)
    stores = frame[REFS[0]].to_numpy(dtype=object)[rows]
    at = frame[REFS[1]].to_numpy(dtype=np.int64)[rows]
    size = frame[REFS[2]].to_numpy(dtype=np.int64)[rows]
    out: list[str] = [""] * len(rows)
    by_store: dict[int, tuple[Store, list[int]]] = {}
    for i, store in enumerate(stores):
        if store is not None and size[i]:
            by_store.setdefault(id(store), (store, []))[1].append(i)
    for store, where in by_store.values():
        for i, text in zip(where, store.read([(int(at[i]), int(size[i])) for i in where])):
            out[i] = text
    return out


def containing(frame: pd.DataFrame, rows: Sequence[int] | np.ndarray, needles: Sequence[str]) -> np.ndarray:
    """Whether each row's text holds one of `needles` (as ``needle in text``). Where the rows asked
    for cover much of a store, the store's bytes are searched a chunk at a time and each
    occurrence placed in its record (UTF-8 keeps a needle's bytes whole and on a character
    boundary): no record is decoded. Elsewhere the texts are read and tested."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows), dtype=bool)
    try:
        patterns = [n.encode("utf-8") for n in needles]
    except UnicodeEncodeError:
        patterns = []
    if not stored(frame) or not patterns:
        for i, text in zip(range(len(rows)), texts(frame, rows)):
            out[i] = any(n in text for n in needles)
        return out
    stores = frame[REFS[0]].to_numpy(dtype=object)[rows]
    at = frame[REFS[1]].to_numpy(dtype=np.int64)[rows]
    size = frame[REFS[2]].to_numpy(dtype=np.int64)[rows]
    codes, uniques = pd.factorize(stores, use_na_sentinel=True)
    for k, store in enumerate(uniques):
        mine = np.flatnonzero(codes == k)
        if size[mine].sum() * 8 < os.path.getsize(store.path):  # a few records of a large store: read them
            for i, text in zip(mine, store.read([(int(at[i]), int(size[i])) for i in mine])):
                out[i] = any(n in text for n in needles)
            continue
        for pattern, found in zip(patterns, store.find(patterns)):
            j = np.searchsorted(found, at[mine], side="left")
            hit = j < len(found)
            fits = np.zeros(len(mine), dtype=bool)
            fits[hit] = found[j[hit]] + len(pattern) <= at[mine][hit] + size[mine][hit]
            out[mine] |= fits
    return out


def batches(frame: pd.DataFrame, rows: Sequence[int] | np.ndarray | None = None,
            size: int = BATCH) -> Iterator[tuple[np.ndarray, list[str]]]:
    """(rows, their texts) a slice at a time, so a pass over many rows holds few texts at once."""
    rows = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        yield part, texts(frame, part)


def spill(frame: pd.DataFrame, store: Store) -> pd.DataFrame:
    """A table holding its text in a ``raw`` column, with the text moved to `store`."""
    spans = [store.put(t) if t else (0, 0) for t in frame["raw"].to_numpy(dtype=object)]
    store.close()
    out = frame.drop(columns=["raw"])
    refs = np.array(spans, dtype=np.int64).reshape(len(out), 2)
    out[REFS[0]] = np.full(len(out), store, dtype=object)
    out[REFS[1]], out[REFS[2]] = refs[:, 0], refs[:, 1]
    return out


def with_raw(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its text in a ``raw`` column where the schema puts it (the references gone)."""
    if not stored(frame):
        return frame
    from .schema import NAMES

    out = frame.drop(columns=list(REFS))
    before = NAMES[NAMES.index("raw") - 1]
    where = list(out.columns).index(before) + 1 if before in out.columns else len(out.columns)
    out.insert(where, "raw", texts(frame))
    return out
