"""Predicates over columns, compiled once and evaluated on whole columns.

Grammar (YAML): a mapping whose keys are column names (their conditions are ANDed) or the
combinators ``all`` / ``any`` (lists of predicates) and ``not`` (one predicate). A condition is a
scalar (``equals``), a list (``in``) or a mapping of operators: ``equals``, ``in``, ``contains``
(text or list of texts, any), ``regex`` (search), ``exists`` (true/false), ``gt``/``ge``/``lt``/``le``
(numbers) and ``hex_any`` ({pattern, bits}: a hex number captured by ``pattern`` has one of ``bits``).

Evaluation narrows: ``all`` runs its cheapest children first, each only on the rows still true, so a
regex over ``raw`` only sees the few rows that already passed ``proto``/``event`` tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..events import rawtext
from .regexes import Pattern, RegexError, compile_pattern

OPERATORS = ("equals", "in", "contains", "regex", "exists", "gt", "ge", "lt", "le", "hex_any")
COMBINATORS = ("all", "any", "not")
_WIDE = ("raw", "summary", "ms_diagnostics")  # long texts: costly to scan


class Problems:
    """Collects (line, message) pairs while compiling; nothing raises half-way."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))


def _line(obj, key=None, default: int = 0) -> int:
    if key is not None and hasattr(obj, "line_of"):
        return obj.line_of(key)
    return getattr(obj, "line", default) or default


# ----------------------------------------------------------------------------------- the view
class View:
    """The event table as numpy arrays, with per-evaluation caches shared by all rules."""

    def __init__(self, df: pd.DataFrame, kinds: dict[str, str]):
        self.df = df
        self.n = len(df)
        self.kinds = kinds
        self._arrays: dict[str, np.ndarray] = {}
        self._factors: dict[str, tuple[np.ndarray, pd.Index, dict]] = {}
        self.memo: dict[str, np.ndarray] = {}
        self.unique_memo: dict[str, np.ndarray] = {}  # text tests on a column's distinct values
        self.all_idx = np.arange(self.n)
        self._ids: dict[str, int] = {}  # join key texts -> small integers, shared by all columns
        self._texts: list[str] = []
        self._key_codes: dict[str, np.ndarray] = {}

    def intern(self, text: str) -> int:
        """The integer standing for a key text (the same text in any column, the same integer)."""
        i = self._ids.get(text)
        if i is None:
            i = self._ids[text] = len(self._texts)
            self._texts.append(text)
        return i

    def text(self, i: int) -> str:
        return self._texts[i]

    def key_codes(self, col: str) -> np.ndarray:
        """The column as interned key integers over the whole table; -1 where empty."""
        got = self._key_codes.get(col)
        if got is None:
            if self.kinds.get(col) == "int":
                arr = self.array(col)
                codes, uniques = pd.factorize(arr)  # NaN -> -1
                texts = [str(int(u)) for u in uniques]
            else:
                codes, uniques, _ = self.factor(col)
                texts = [str(u) for u in uniques]
            ids = np.array([self.intern(t) if t != "" else -1 for t in texts] + [-1], dtype=np.int64)
            got = ids[codes]  # code -1 (missing) picks the trailing -1
            self._key_codes[col] = got
        return got

    def fetched(self, col: str) -> bool:
        """The column's text is not in the table: read on demand (`raw` of a bundle's table)."""
        return col == "raw" and rawtext.stored(self.df)

    def take(self, col: str, idx) -> np.ndarray:
        """The values of the rows idx; a fetched column's read for those rows only."""
        if self.fetched(col) and col not in self._arrays:
            out = np.empty(len(np.atleast_1d(idx)), dtype=object)
            out[:] = rawtext.texts(self.df, np.atleast_1d(idx))
            return out if np.ndim(idx) else out[0]
        return self.array(col)[idx]

    def array(self, col: str) -> np.ndarray:
        arr = self._arrays.get(col)
        if arr is None and self.fetched(col):
            arr = self.take(col, self.all_idx)  # the whole column: only when a rule asks for it
            self._arrays[col] = arr
        if arr is None:
            s = self.df[col]
            kind = self.kinds.get(col, "str")
            if kind == "int":
                arr = s.to_numpy(dtype="float64", na_value=np.nan)
            elif kind == "datetime":
                arr = s.to_numpy(dtype="datetime64[ns]") if len(s) else np.array([], "datetime64[ns]")
            else:
                arr = s.to_numpy(dtype=object)
            self._arrays[col] = arr
        return arr

    def factor(self, col: str):
        f = self._factors.get(col)
        if f is None:
            codes, uniques = pd.factorize(self.array(col))
            f = (codes, pd.Index(uniques, dtype=object), {v: i for i, v in enumerate(uniques)})
            self._factors[col] = f
        return f

    def has_factor(self, col: str) -> bool:
        return col in self._factors


# ------------------------------------------------------------------------------------- nodes
@dataclass
class Node:
    key: str
    cost: float

    def evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:  # bool array, len(idx)
        raise NotImplementedError

    def mask(self, view: View) -> np.ndarray:
        """Boolean mask over the whole table (cached per evaluation by canonical key)."""
        got = view.memo.get(self.key)
        if got is None:
            got = self.evaluate(view, view.all_idx)
            view.memo[self.key] = got
        return got

    def columns(self) -> set[str]:
        return set()


@dataclass
class Leaf(Node):
    column: str = ""
    op: str = ""
    value: object = None
    kind: str = "str"
    test: Callable | None = field(default=None, repr=False)  # for text ops: str -> bool

    def columns(self) -> set[str]:
        return {self.column}

    def evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:
        if len(idx) == view.n and self.key in view.memo:
            return view.memo[self.key]
        if len(idx) == 0:
            return np.zeros(0, dtype=bool)
        out = self._evaluate(view, idx)
        if len(idx) == view.n:
            view.memo[self.key] = out
        return out

    def _evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:
        if self.kind == "int":
            return self._number(view, idx)
        if self.op in ("equals", "in", "exists"):
            return self._text_exact(view, idx)
        return self._text_test(view, idx)

    def _number(self, view: View, idx: np.ndarray) -> np.ndarray:
        op, value = self.op, self.value
        arr = view.array(self.column)
        vals = arr if len(idx) == view.n else arr[idx]
        if op == "exists":
            return ~np.isnan(vals) if value else np.isnan(vals)
        if op == "equals":
            return vals == float(value)
        if op == "in":
            return np.isin(vals, np.asarray(value, dtype=float))
        with np.errstate(invalid="ignore"):
            cmp = {"gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal}[op]
            return cmp(vals, float(value)) & ~np.isnan(vals)

    def _text_exact(self, view: View, idx: np.ndarray) -> np.ndarray:
        """equals / in / exists on a text column: on its factor codes when there are some."""
        col, op, value = self.column, self.op, self.value
        full = len(idx) == view.n
        if not (full or view.has_factor(col)):
            vals = view.take(col, idx)
            if op == "exists":
                return (vals != "") if value else (vals == "")
            if op == "equals":
                return vals == value
            return np.isin(vals, np.asarray(list(value), dtype=object))
        codes, _, lookup = view.factor(col)
        c = codes if full else codes[idx]
        if op == "exists":
            empty = lookup.get("", -2)
            return c != empty if value else c == empty
        wanted = [lookup[v] for v in (value if op == "in" else [value]) if v in lookup]
        if not wanted:
            return np.zeros(len(c), dtype=bool)
        return np.isin(c, wanted) if len(wanted) > 1 else c == wanted[0]

    def _text_test(self, view: View, idx: np.ndarray) -> np.ndarray:
        """contains / regex / hex_any: a str -> bool test, run once per distinct value."""
        col = self.column
        full = len(idx) == view.n
        if col not in _WIDE or view.has_factor(col):
            codes, uniques, _ = view.factor(col)
            per_unique = view.unique_memo.get(self.key)
            if per_unique is None:
                per_unique = np.fromiter((self.test(u) for u in uniques), bool, len(uniques))
                view.unique_memo[self.key] = per_unique
            return per_unique[codes if full else codes[idx]]
        if view.fetched(col) and self.op == "contains":  # searched in the stores' bytes
            return rawtext.containing(view.df, idx, self.value if isinstance(self.value, list) else [self.value])
        if view.fetched(col):  # read a slice at a time, tested, let go
            return np.concatenate([np.fromiter(map(self.test, texts), bool, len(texts))
                                   for _, texts in rawtext.batches(view.df, idx)] or [np.zeros(0, bool)])
        vals = view.array(col) if full else view.array(col)[idx]
        codes, uniques = pd.factorize(vals)
        per_unique = np.fromiter((self.test(u) for u in uniques), bool, len(uniques))
        return per_unique[codes]


@dataclass
class All(Node):
    children: list[Node] = field(default_factory=list)

    def columns(self) -> set[str]:
        return set().union(*(c.columns() for c in self.children)) if self.children else set()

    def evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:
        full = len(idx) == view.n
        if full and self.key in view.memo:
            return view.memo[self.key]
        live = None  # positions in idx still true; None = all of them
        for child in self.children:  # sorted by cost at compile time
            if live is None:
                res = child.mask(view) if full else child.evaluate(view, idx)
                live = np.flatnonzero(res)
            else:
                if len(live) == 0:
                    break
                live = live[child.evaluate(view, idx[live])]
        out = np.zeros(len(idx), dtype=bool)
        out[live] = True
        if full:
            view.memo[self.key] = out
        return out


@dataclass
class Any(Node):
    children: list[Node] = field(default_factory=list)

    def columns(self) -> set[str]:
        return set().union(*(c.columns() for c in self.children)) if self.children else set()

    def evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:
        full = len(idx) == view.n
        out = None
        pending = None  # positions in idx not yet true; None = all of them
        for child in self.children:
            if pending is None:
                out = (child.mask(view) if full else child.evaluate(view, idx)).copy()
                pending = np.flatnonzero(~out)
            else:
                if len(pending) == 0:
                    break
                res = child.evaluate(view, idx[pending])
                out[pending[res]] = True
                pending = pending[~res]
        return out


@dataclass
class Not(Node):
    child: Node | None = None

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, view: View, idx: np.ndarray) -> np.ndarray:
        res = self.child.mask(view) if len(idx) == view.n else self.child.evaluate(view, idx)
        return ~res


# ---------------------------------------------------------------------------------- compiling
def _hex_test(pattern: Pattern, bits: int) -> Callable[[str], bool]:
    def test(text: str) -> bool:
        m = pattern.search(text)
        if not m:
            return False
        try:
            return bool(int(m.group(1) if m.groups() else m.group(0), 16) & bits)
        except ValueError:
            return False

    return test


def compile_regex(text, problems: Problems, line: int, what: str = "regex") -> Pattern | None:
    if not isinstance(text, str):
        problems.add(line, f"{what} must be a text, got {type(text).__name__}")
        return None
    try:
        return compile_pattern(text)
    except RegexError as exc:
        problems.add(line, f"bad {what} {text[:80]!r}: {exc}")
        return None


class _Invalid(Exception):
    """A condition that cannot be compiled; its message (none when already recorded)."""


def _exists(column, op, value, kind, problems, line):
    if not isinstance(value, bool):
        raise _Invalid(f"{column}: exists takes true or false, got {value!r}")
    return value, None, 1.0


def _compare(column, op, value, kind, problems, line):
    if kind != "int" or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{column}: {op} needs a number column and a number")
    return value, None, 1.0


def _scalars(column, op, value, kind, problems, line):
    if op == "in" and (not isinstance(value, list) or not value):
        raise _Invalid(f"{column}: in takes a non-empty list")
    values = list(value) if op == "in" else [value]
    for v in values:
        if isinstance(v, (dict, list)) or v is None:
            raise _Invalid(f"{column}: {op} takes scalars, got {v!r}")
        if kind == "int" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise _Invalid(f"{column} is a number column; {v!r} is not a number")
    if kind == "str":
        values = [v if isinstance(v, str) else str(v) for v in values]
    return (values if op == "in" else values[0]), None, 1.0


def _contains(column, op, value, kind, problems, line):
    needles = value if isinstance(value, list) else [value]
    if not needles or not all(isinstance(v, str) and v for v in needles):
        raise _Invalid(f"{column}: contains takes a text or a list of texts")
    if kind != "str":
        raise _Invalid(f"{column}: contains needs a text column")
    return value, (lambda s, n=tuple(needles): any(x in s for x in n)), 5.0


def _regex(column, op, value, kind, problems, line):
    if kind != "str":
        raise _Invalid(f"{column}: regex needs a text column")
    pat = compile_regex(value, problems, line)
    if pat is None:
        raise _Invalid()
    return value, (lambda s, p=pat: p.search(s) is not None), 10.0


def _hex_any(column, op, value, kind, problems, line):
    if not isinstance(value, dict) or set(value) != {"pattern", "bits"}:
        raise _Invalid(f"{column}: hex_any takes {{pattern, bits}}")
    pat = compile_regex(value["pattern"], problems, line, "hex_any pattern")
    bits = value["bits"] if isinstance(value["bits"], list) else [value["bits"]]
    try:
        mask = 0
        for b in bits:
            mask |= int(b, 16) if isinstance(b, str) else int(b)
    except (TypeError, ValueError):
        raise _Invalid(f"{column}: hex_any bits must be numbers (0x200) or hex texts") from None
    if pat is None:
        raise _Invalid()
    return value, _hex_test(pat, mask), 10.0


# operator -> its validator: (column, op, value, kind, problems, line) -> (value, test, cost)
_CHECKS = {"exists": _exists, "gt": _compare, "ge": _compare, "lt": _compare, "le": _compare,
           "equals": _scalars, "in": _scalars, "contains": _contains, "regex": _regex,
           "hex_any": _hex_any}


def _leaf(column: str, op: str, value, kind: str, problems: Problems, line: int) -> Node | None:
    try:
        value, test, cost = _CHECKS[op](column, op, value, kind, problems, line)
    except _Invalid as bad:
        if bad.args:
            problems.add(line, bad.args[0])
        return None
    if column in _WIDE:
        cost *= 3
    return Leaf(key=f"{column}|{op}|{value!r}", cost=cost, column=column, op=op, value=value,
                kind=kind, test=test)


def _combinator(key: str, value, kinds, problems: Problems, line: int) -> Node | None:
    """all / any (a list of predicates), not (one predicate)."""
    if key == "not":
        sub = compile_predicate(value, kinds, problems, line)
        return None if sub is None else Not(key=f"not({sub.key})", cost=sub.cost, child=sub)
    if not isinstance(value, list) or not value:
        problems.add(line, f"'{key}' takes a non-empty list of predicates")
        return None
    subs = [compile_predicate(v, kinds, problems, _line(value, default=line)) for v in value]
    if any(s is None for s in subs):
        return None
    if key == "all":
        return _all(subs)
    return Any(key="any(" + ",".join(s.key for s in subs) + ")", cost=sum(s.cost for s in subs),
               children=subs)


def _all(children: list[Node]) -> Node:
    children = sorted(children, key=lambda n: n.cost)
    return All(key="all(" + ",".join(c.key for c in children) + ")",
               cost=sum(c.cost for c in children), children=children)


def _conditions(key: str, value, kind: str, problems: Problems, line: int) -> list[Node] | None:
    """The leaves of one column's condition (a scalar, a list, or a mapping of operators)."""
    if kind == "datetime":
        problems.add(line, f"'{key}' cannot be tested in a predicate (use within/after)")
        return None
    ops = value if isinstance(value, dict) else {"in": value} if isinstance(value, list) else {"equals": value}
    if not ops:
        problems.add(line, f"{key}: empty condition")
        return None
    nodes: list[Node | None] = []
    for op, arg in ops.items():
        oline = _line(ops, op, line) if hasattr(ops, "line_of") else line
        if op not in OPERATORS:
            problems.add(oline, f"{key}: unknown operator '{op}' (known: {', '.join(OPERATORS)})")
            nodes.append(None)
        else:
            nodes.append(_leaf(key, op, arg, kind, problems, oline))
    return None if any(n is None for n in nodes) else nodes


def compile_predicate(spec, kinds: dict[str, str], problems: Problems, line: int = 0) -> Node | None:
    """Compile a predicate mapping; problems are collected (with lines), None when unusable."""
    line = _line(spec, default=line)
    if not isinstance(spec, dict) or not spec:
        problems.add(line, "a predicate must be a non-empty mapping of column: condition")
        return None
    children: list[Node] = []
    ok = True
    for key, value in spec.items():
        kline = _line(spec, key, line)
        if key in COMBINATORS:
            node = _combinator(key, value, kinds, problems, kline)
            nodes = None if node is None else [node]
        elif key in kinds:
            nodes = _conditions(key, value, kinds[key], problems, kline)
        else:
            problems.add(kline, f"unknown column '{key}' (not in the event schema)")
            nodes = None
        ok = ok and nodes is not None
        children.extend(nodes or [])
    if not ok:
        return None
    return children[0] if len(children) == 1 else _all(children)
