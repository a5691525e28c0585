"""The loader: every problem of every file, with file:line, in one run."""
from __future__ import annotations

from pathlib import Path

import pytest

from logcorr.rules import RuleError, load_rules
from rules_helpers import EXAMPLES, HEADER, write_rule


def errors_of(tmp_path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    return info.value.errors


def test_a_valid_rule_loads_with_its_metadata(tmp_path):
    write_rule(tmp_path, "ok-rule")
    rs = load_rules([tmp_path])
    (rule,) = rs.rules
    assert (rule.id, rule.severity, rule.references, rule.tags) == ("ok-rule", "error", ["RFC 0000"], ["test"])
    assert len(rule.examples) == 2


def test_unknown_key_is_reported_with_its_line(tmp_path):
    path = write_rule(tmp_path, "r1", body="match:\n  where: {proto: stun}\n  wehre: {proto: sip}\n")
    errs = errors_of(tmp_path)
    line = HEADER.count("\n") + 3
    assert any(e.startswith(f"{path}:{line}:") and "unknown key 'wehre'" in e for e in errs), errs


def test_duplicate_key_is_reported_with_both_lines(tmp_path):
    path = write_rule(tmp_path, "r1", body="match:\n  where: {proto: stun}\n  where: {proto: sip}\n")
    errs = errors_of(tmp_path)
    n = HEADER.count("\n")
    assert f"{path}:{n + 3}: duplicate key 'where' (first at line {n + 2})" in errs


def test_unknown_column_in_predicate_and_keys(tmp_path):
    write_rule(tmp_path, "r1", body="""\
        sequence:
          join: [conn_id]
          steps:
            - {name: a, where: {protocol: stun}}
            - {name: b, where: {proto: stun}, keys: {x: nosuch}, within: 1s}
        """)
    errs = "\n".join(errors_of(tmp_path))
    assert "unknown column 'protocol'" in errs
    assert "join column 'conn_id' is not in the event schema" in errs
    assert "key column 'nosuch' is not in the event schema" in errs


def test_bad_regex_and_bad_operator_and_bad_types(tmp_path):
    write_rule(tmp_path, "r1", body="""\
        match:
          where:
            summary: {regex: 'ICE failure ('}
            event: {startswith: Allocate}
            error_code: four
        """)
    errs = "\n".join(errors_of(tmp_path))
    assert "bad regex 'ICE failure ('" in errs
    assert "unknown operator 'startswith'" in errs
    assert "error_code is a number column" in errs


def test_examples_must_have_a_positive_and_a_negative(tmp_path):
    only_negative = """\
examples:
  - name: negative
    expect: 0
    events: []
"""
    write_rule(tmp_path, "r1", examples=only_negative)
    write_rule(tmp_path, "r2", examples="")
    errs = "\n".join(errors_of(tmp_path))
    assert "r1.yaml" in errs and "at least one positive example" in errs
    assert "r2.yaml:1: rule: missing required key 'examples'" in errs


def test_all_errors_of_several_files_in_one_run(tmp_path):
    a = write_rule(tmp_path, "a-rule", body="match:\n  where: {nosuch: 1}\n")
    b = write_rule(tmp_path, "b-rule", header=HEADER.format(id="b-rule").replace("error", "fatal"))
    c = tmp_path / "c-rule.yaml"
    c.write_text("id: c-rule\ntitle: [unclosed\n")
    write_rule(tmp_path, "fine")
    errs = errors_of(tmp_path)
    assert any(e.startswith(f"{a}:") and "unknown column 'nosuch'" in e for e in errs)
    assert any(e.startswith(f"{b}:3:") and "severity 'fatal'" in e for e in errs)
    assert any(e.startswith(f"{c}:") and "YAML syntax" in e for e in errs)
    assert not any("fine.yaml" in e for e in errs)


def test_id_must_equal_file_name(tmp_path):
    write_rule(tmp_path, "name-a", header=HEADER.format(id="name-b"))
    assert any("differs from the file name 'name-a'" in e for e in errors_of(tmp_path))


def test_bad_duration_template_field_and_flow_step(tmp_path):
    write_rule(tmp_path, "r1", body="""\
        detail: "{nosuch_field}"
        absent:
          join: [txn_id]
          steps: [{name: a, where: {proto: stun}}]
          not_followed_by: {name: b, where: {proto: stun}, within: soon}
        call:
          seen: [connection-bound]
        """)
    errs = "\n".join(errors_of(tmp_path))
    assert "'within': 'soon' is not a duration" in errs
    assert "'{nosuch_field}' is not a column" in errs
    assert "'connection-bound' is not a flow step name" in errs


def test_a_step_without_shared_key_or_window_is_refused(tmp_path):
    write_rule(tmp_path, "r1", body="""\
        sequence:
          steps:
            - {name: a, where: {proto: stun}}
            - {name: b, where: {proto: sip}}
        """)
    assert any("shares no key" in e for e in errors_of(tmp_path))


def test_example_events_outside_the_schema_are_refused(tmp_path):
    bad = EXAMPLES.replace("error_code: 437}", "error_code: 437, colour: red}")
    write_rule(tmp_path, "r1", examples=bad)
    assert any("columns outside the schema: ['colour']" in e for e in errors_of(tmp_path))


def test_later_dirs_replace_rules_by_id_and_add_new_ones(tmp_path):
    shipped, mine = tmp_path / "shipped", tmp_path / "mine"
    write_rule(shipped, "one")
    write_rule(shipped, "two")
    write_rule(mine, "two", header=HEADER.format(id="two").replace("severity: error", "severity: info"))
    write_rule(mine, "three")
    rs = load_rules([shipped, mine])
    assert rs.ids == ["one", "two", "three"]
    assert rs.get("two").severity == "info"
    assert load_rules([shipped]).get("two").severity == "error"


def test_an_empty_file_is_an_error(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    assert errors_of(tmp_path) == [f"{tmp_path / 'empty.yaml'}:1: empty rule file"]


# --- which folder `rules check` checks ------------------------------------------------------------
def test_rules_check_without_folder_checks_the_checkout_it_runs_in(tmp_path):
    import shutil
    import subprocess
    import sys

    from logcorr.rules import checked_rules_dir

    repo = Path(__file__).resolve().parent.parent
    checkout = tmp_path / "checkout"
    (checkout / "rules").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text('[project]\nname = "logcorr"\n')
    shutil.copy(repo / "rules" / "turn-forbidden.yaml", checkout / "rules")
    (checkout / "docs").mkdir()
    assert checked_rules_dir(checkout / "docs") == checkout / "rules"
    other = tmp_path / "elsewhere"
    other.mkdir()
    # outside any checkout: the checkout logcorr itself runs from (this one), else the shipped rules
    assert checked_rules_dir(other) == repo / "rules"
    r = subprocess.run([sys.executable, "-m", "logcorr", "rules", "check"], cwd=checkout / "docs",
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert str(checkout / "rules") in r.stdout
