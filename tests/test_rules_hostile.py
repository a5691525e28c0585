"""A rule file is input too: regexes that need backtracking are refused at their line, the
ones accepted run in linear time, and YAML alias bombs, cycles and deep nesting are refused."""
import time

import pytest

from logcorr.rules.check import check_rules
from logcorr.rules.regexes import MAX_PATTERN, RegexError, compile_pattern
from logcorr.rules.yamlio import MAX_NODES, load_yaml


@pytest.mark.parametrize("pattern,why", [
    ("(?=ICE)ICE", "lookahead is not supported"),
    ("(?!relay).*candidate", "negative lookahead is not supported"),
    ("(?<=a)b", "lookbehind is not supported"),
    ("(?<!a)b", "lookbehind is not supported"),
    (r"(a)\1", "backreferences are not supported"),
    ("a{1001}", "a repetition count above 1000"),
    ("((a{1000}){1000}){1000}", "a repetition count above 1000"),
    ("(", "missing )"),
    ("a" * (MAX_PATTERN + 1), f"longer than {MAX_PATTERN} characters"),
])
def test_patterns_refused_with_the_reason(pattern, why):
    with pytest.raises(RegexError, match=why.replace("(", r"\(").replace(")", r"\)")):
        compile_pattern(pattern)


def test_catastrophic_shapes_run_in_linear_time():
    for pattern, text in (("(a+)+$", "a" * 100_000 + "b"), ("(a|a)*c", "a" * 100_000),
                          (r"^(\w+\s?)*$", "word " * 20_000 + "!"), ("(x+x+)+y", "x" * 100_000)):
        started = time.perf_counter()
        assert compile_pattern(pattern).search(text) is None
        assert time.perf_counter() - started < 0.5, pattern


def test_python_regex_features_that_rules_use_still_work():
    p = compile_pattern(r"(?i)ICEWarn\W{0,3}(0x[0-9A-Fa-f]+)")
    m = p.search("ms-client-diagnostics: 23; icewarn=0x4000")
    assert m.group(1) == "0x4000" and m.groups() == ("0x4000",) and p.groups == 1
    assert compile_pattern(r"(?s)\Aa.*b").search("a\nb") and compile_pattern(r"(?m)^m=x").search("v\nm=x")
    assert compile_pattern("é").search("caf\udcff é")  # a lone surrogate in the text does not raise


def test_rules_check_names_file_and_line_of_a_lookahead(tmp_path):
    rule = (tmp_path / "ahead.yaml")
    rule.write_text("id: ahead\ntitle: t\nseverity: info\nmatch:\n  where:\n    summary: {regex: '(?!x)y'}\n")
    errors = check_rules([tmp_path])
    assert any(e.startswith(f"{rule}:6: bad regex '(?!x)y': negative lookahead is not supported") for e in errors)


def _laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_refused_at_the_line_that_crosses_the_cap():
    started = time.perf_counter()
    data, problems = load_yaml(_laughs(9))  # 10**9 values once expanded
    assert data is None and time.perf_counter() - started < 0.5
    assert problems == [(5, f"YAML refused: its aliases expand to more than {MAX_NODES} values (an alias bomb)")]
    data, problems = load_yaml(_laughs(3))  # 1,000 values: aliases as such are fine
    assert problems == [] and len(data["l2"]) == 10 and data["l2"][0] is data["l1"]


def test_alias_cycles_deep_nesting_and_size_refused():
    assert load_yaml("a: &x [1, *x]\n")[1] == [(1, "YAML refused: an alias refers to the list or mapping it is in")]
    assert load_yaml("a:\n  " + "[" * 100 + "]" * 100 + "\n")[1] == [(2, "YAML refused: nested deeper than 64 levels")]
    assert "larger than" in load_yaml("a: " + "x" * (1 << 20) + "\n")[1][0][1]
    data, problems = load_yaml("base: &b {k: 1}\nmerged: {<<: *b, j: 2}\n")
    assert problems == [] and data["merged"] == {"k": 1, "j": 2}
