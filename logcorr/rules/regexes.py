"""Regular expressions of rule files, compiled with RE2.

A rule file is input like any other (rules are shared between engineers), and its regexes run
over every text a bundle holds. Python's backtracking engine can take exponential time on a
pattern such as `(a+)+$`; RE2 matches in time linear in the text whatever the pattern, and has
no lookaround and no backreferences, the two constructs that need backtracking. Its syntax is
otherwise Python's (`(?i)`, `(?s)`, `(?m)`, `\\A`, `(?P<name>...)`); `\\w`, `\\d`, `\\s` and `\\b` are
ASCII-only. A pattern is also capped in length, and in the size of the program it compiles to.
"""
from __future__ import annotations

import re2

MAX_PATTERN = 1000  # characters
MAX_PROGRAM = 8 << 20  # bytes RE2 may use for one compiled pattern

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # its message comes back in the exception, not on stderr
_OPTIONS.max_mem = MAX_PROGRAM

_WHY = (
    ("invalid perl operator: (?=", "lookahead is not supported"),
    ("invalid perl operator: (?!", "negative lookahead is not supported"),
    ("invalid perl operator: (?<", "lookbehind is not supported"),
    ("invalid escape sequence: \\1", "backreferences are not supported"),
    ("invalid repetition size", "a repetition count above 1000"),
    ("pattern too large", "the pattern compiles to more than the engine allows"),
)


class RegexError(ValueError):
    """A rule regex that cannot be used; the message says why."""


class Pattern:
    """A compiled rule regex: `search(text)` and `pattern`, as `re.Pattern` offers them."""

    __slots__ = ("_re", "pattern")

    def __init__(self, compiled, pattern: str) -> None:
        self._re = compiled
        self.pattern = pattern

    def search(self, text: str):
        try:
            return self._re.search(text)
        except UnicodeEncodeError:  # a lone surrogate in the text: match on it replaced
            return self._re.search(text.encode("utf-8", "replace").decode("utf-8"))

    @property
    def groups(self) -> int:
        return self._re.groups

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


def compile_pattern(text: str) -> Pattern:
    """Compile a rule regex with RE2, or raise `RegexError`."""
    if len(text) > MAX_PATTERN:
        raise RegexError(f"longer than {MAX_PATTERN} characters")
    try:
        return Pattern(re2.compile(text, options=_OPTIONS), text)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        why = next((w for prefix, w in _WHY if detail.startswith(prefix)), detail)
        raise RegexError(f"{why} (rule regexes use RE2, which runs in linear time)") from None
