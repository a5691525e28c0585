"""--redact: a copy of a finished diagnosis that is safe to share, for every reporter to render.

The analysis always runs on the original data; only what leaves the process is redacted, here,
in one place. :func:`redact` learns the identifying values of the diagnosis (see learn.py), gives
each a stable pseudonym readable by its kind (`cms-1`, `expressway-e-1`, `user-3@domain-2`,
`10.0.0.4`, `2001:db8::2`, `ufrag-1`) and returns a copy in which every string carries the
pseudonyms: dataclasses, dicts, lists and the event table alike. Times, ports, numbers, rule ids,
step names, severities, event names and the table's columns stay as they are, and so does the
form of every record (a syslog time, a PID, a Call-ID, a CSeq).
"""
from __future__ import annotations

import copy
import csv
import dataclasses
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import numpy as np
import pandas as pd

from ...errors import UsageError
from ...events import rawtext
from . import learn
from .stunhex import rewrite as rewrite_stun
from .vocabulary import Vocabulary

T = TypeVar("T")

# Fields and dict keys whose values are the report's own words: never rewritten.
KEEP_FIELDS = frozenset({"rules", "rule", "severity", "step", "state", "stage", "kind", "title", "media",
                         "proto", "event", "direction", "transport", "method", "sdp_media", "txn_id",
                         "cseq", "source"})
KEEP_COLUMNS = frozenset({"source", "proto", "event", "direction", "transport", "method", "sdp_media",
                          "txn_id", "cseq"})


class Redactor:
    """The vocabulary of one run and the copy it makes."""

    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self.call_ids: set[str] = set()

    def learn(self, obj) -> None:
        labels = _roles(obj)
        if labels:
            learn.roles(self.vocabulary, labels)
        label = getattr(getattr(obj, "read", obj), "input", None)
        if isinstance(label, str):
            learn.bundle(self.vocabulary, label)
        _walk(obj, self._learn_text, self._learn_frame, {})

    def _learn_text(self, s: str) -> str:
        learn.text(self.vocabulary, s, self.call_ids)
        return s

    def _learn_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.call_ids |= learn.events(self.vocabulary, frame)
        for col in _text_columns(frame):
            values = frame[col] if col != "raw" or "proto" not in frame else \
                frame.loc[frame["proto"] != "stun", col]
            for value in values.unique():
                learn.text(self.vocabulary, value, self.call_ids)
        if rawtext.stored(frame) and "proto" in frame:  # the records' text, read a slice at a time
            for _, texts in rawtext.batches(frame, np.flatnonzero(frame["proto"].to_numpy(dtype=object) != "stun")):
                for value in texts:
                    learn.text(self.vocabulary, value, self.call_ids)
        return frame

    def text(self, s: str) -> str:
        return self.vocabulary.text(s)

    def copy(self, obj: T) -> T:
        return _walk(obj, self.text, self.frame, {})

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The redacted copy; a table that refers to its records' text (rawtext) no longer does:
        what is shared holds no way back to the original text."""
        out = frame.drop(columns=[c for c in rawtext.REFS if c in frame.columns])
        for col in _text_columns(frame):
            values = frame[col]
            mapping = {u: self.text(u) for u in values.unique()}
            if isinstance(values.dtype, pd.CategoricalDtype):  # two values may share a pseudonym
                out[col] = values.astype(object).map(mapping).astype("category")
            else:
                out[col] = values.map(mapping).astype(values.dtype)
        if "raw" in frame and "proto" in frame:
            wire = frame["proto"] == "stun"
            out.loc[wire, "raw"] = frame.loc[wire, "raw"].map(lambda h: rewrite_stun(h, self.text))
        return out

    def table(self) -> list[tuple[str, str, str]]:
        return self.vocabulary.table()

    def write_map(self, path: str | Path) -> Path:
        """The pseudonym -> original table, for the engineer to keep (never shared)."""
        path = Path(path)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["pseudonym", "kind", "original"])
            for pseudonym, kind, original in self.table():
                out.writerow([pseudonym, kind, _cell(original)])
        return path


def redact(obj: T) -> tuple[T, Redactor]:
    """A redacted copy of `obj` (a diagnosis, or what `read` returned) and the redactor that made it."""
    r = Redactor()
    r.learn(obj)
    return r.copy(obj), r


def for_sharing(obj: T, on: bool, map_file: Path | None = None) -> T:
    """What the CLI calls: `obj` itself, or its redacted copy with the map written to `map_file`
    (`--redact-map` implies `--redact`)."""
    return sharing(obj, on, map_file)[0]


def sharing(obj: T, on: bool, map_file: Path | None = None, also: Iterable[str] = ()) -> tuple[T, Redactor | None]:
    """`for_sharing`, and the redactor that made the copy (None when not redacting), having also
    learnt the texts `also` (full records a report embeds), so that every output of one run gives
    a value the same pseudonym."""
    if not on and map_file is None:
        return obj, None
    r = Redactor()
    r.learn(obj)
    for text in also:
        r.learn(text)
    shared = r.copy(obj)
    if map_file is not None:
        try:
            r.write_map(map_file)
        except OSError as e:
            raise UsageError(f"cannot write the redaction map {map_file}: {e.strerror or e}") from None
    return shared, r


def _roles(obj) -> dict[str, str]:
    labels = getattr(obj, "roles", None)
    if isinstance(labels, dict):
        return labels
    events = getattr(obj, "events", None)
    if isinstance(events, pd.DataFrame) and not events.empty:
        from ...calls import hosts

        return hosts.roles(events)
    return {}


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in KEEP_COLUMNS and c not in rawtext.REFS and
            (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)
             or isinstance(frame[c].dtype, pd.CategoricalDtype))]


def _cell(value: str) -> str:
    """A spreadsheet does not run what the bundle wrote (=, +, -, @ first)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _walk(obj, text: Callable[[str], str], frame: Callable[[pd.DataFrame], pd.DataFrame], memo: dict):
    """A copy of `obj` with `text` applied to every string and `frame` to every DataFrame."""
    if obj is None or isinstance(obj, (Enum, bool, int, float, bytes, pd.Timestamp, pd.Timedelta)):
        return obj
    if isinstance(obj, str):
        return text(obj)
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, pd.DataFrame):
        out = frame(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = copy.copy(obj)
        memo[key] = out
        for f in dataclasses.fields(obj):
            if f.name not in KEEP_FIELDS:
                object.__setattr__(out, f.name, _walk(getattr(obj, f.name), text, frame, memo))
    elif isinstance(obj, dict):
        out = {(_walk(k, text, frame, memo) if isinstance(k, (str, tuple)) else k):
               (v if k in KEEP_FIELDS else _walk(v, text, frame, memo)) for k, v in obj.items()}
    elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
        out = type(obj)(*(_walk(v, text, frame, memo) for v in obj))
    elif isinstance(obj, (list, tuple, set, frozenset)):
        out = type(obj)(_walk(v, text, frame, memo) for v in obj)
    else:
        return obj
    memo[key] = out
    return out
