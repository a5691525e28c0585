"""Reading rule files: YAML with line numbers, duplicate keys reported instead of overwritten."""
from __future__ import annotations

import yaml


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


def load_yaml(text: str) -> tuple[object, list[tuple[int, str]]]:
    """Parse one document; returns (data, [(line, problem), ...]). Syntax errors become problems."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [(line, f"YAML syntax: {problem}")]
    finally:
        loader.dispose()
    return data, loader.problems
