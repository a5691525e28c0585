"""Reading rule files: YAML with line numbers, duplicate keys reported instead of overwritten.

A rule file is input too: its size, its nesting and what its aliases expand to are capped, so
that an alias bomb ("billion laughs": each level an alias list of the one before) or a cycle of
aliases is reported at its line instead of exhausting memory in whatever walks the data.
"""
from __future__ import annotations

import yaml

MAX_TEXT = 1 << 20  # characters in one rule file
MAX_DEPTH = 64  # nested mappings and lists
MAX_NODES = 100_000  # values in one document once its aliases are expanded


class _Refused(yaml.YAMLError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


class LDict(dict):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LList(list):
    line: int = 0


class _Loader(yaml.SafeLoader):
    """SafeLoader that records lines and collects duplicate keys in ``self.problems``."""

    def __init__(self, stream):
        super().__init__(stream)
        self.problems: list[tuple[int, str]] = []
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: D102
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(self.peek_event().start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):  # noqa: D102
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_mapping(self, node, deep=False):  # noqa: D102
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                self.problems.append((line, f"unhashable key {key!r}"))
                continue
            if key in out:
                self.problems.append(
                    (line, f"duplicate key '{key}' (first at line {out.key_lines[key]})")
                )
                continue
            out[key] = self.construct_object(value_node, deep=True)
            out.key_lines[key] = line
        return out

    def construct_yaml_seq(self, node):
        out = LList()
        out.line = node.start_mark.line + 1
        yield out
        out.extend(self.construct_sequence(node, deep=True))


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root) -> None:
    """Raise `_Refused` when the document's aliases form a cycle or expand past MAX_NODES; linear
    in the document as written (each node is sized once, however often it is referred to)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_NODES:
                raise _Refused(node.start_mark.line + 1,
                               f"its aliases expand to more than {MAX_NODES} values (an alias bomb)")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise _Refused(node.start_mark.line + 1, "an alias refers to the list or mapping it is in")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def load_yaml(text: str) -> tuple[object, list[tuple[int, str]]]:
    """Parse one document; returns (data, [(line, problem), ...]). Syntax errors become problems."""
    if len(text) > MAX_TEXT:
        return None, [(1, f"rule file larger than {MAX_TEXT} characters")]
    try:
        loader = _Loader(text)  # its reader refuses control characters already here
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [(text.count("\n", 0, exc.position) + 1, f"YAML syntax: character #x{char:04x}: {exc.reason}")]
    try:
        data = loader.get_single_data()
    except _Refused as exc:
        return None, [(exc.line, f"YAML refused: {exc.problem}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [(line, f"YAML syntax: {problem}")]
    finally:
        loader.dispose()
    return data, loader.problems
