"""rules/schema.json and the loader accept the same keys; every shipped rule validates."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from logcorr.rules import blocks, loader
from logcorr.model import FLOW_STEPS
from logcorr.rules.predicates import OPERATORS
from logcorr.events.schema import NAMES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "rules" / "schema.json").read_text())
DEFS = SCHEMA["$defs"]


def _obj(defn):
    """The object branch of a definition (some are oneOf a column name or an object)."""
    if "properties" in defn:
        return defn
    return next(b for b in defn["oneOf"] if b.get("type") == "object")


PAIRS = [
    (SCHEMA, loader.RULE_KEYS),
    (DEFS["match"], blocks.MATCH_KEYS),
    (DEFS["sequence"], blocks.SEQUENCE_KEYS),
    (DEFS["absent"], blocks.ABSENT_KEYS),
    (DEFS["count"], blocks.COUNT_KEYS),
    (DEFS["call"], blocks.CALL_KEYS),
    (DEFS["step"], blocks.STEP_KEYS),
    (DEFS["for_each"], blocks.FOR_EACH_KEYS),
    (_obj(DEFS["keyspec"]), blocks.KEYSPEC_KEYS),
    (DEFS["extract"], loader.EXTRACT_KEYS),
    (DEFS["example"], loader.EXAMPLE_KEYS),
]


@pytest.mark.parametrize("defn,keys", PAIRS, ids=[k for k in (
    "rule", "match", "sequence", "absent", "count", "call", "step", "for_each", "keyspec",
    "extract", "example")])
def test_same_keys_and_same_required_keys(defn, keys):
    assert set(defn["properties"]) == set(keys)
    assert set(defn.get("required", [])) == {k for k, req in keys.items() if req}
    assert defn.get("additionalProperties") is False


def test_predicate_columns_operators_and_flow_steps_agree():
    pred = DEFS["predicate"]["properties"]
    testable = {n for n in NAMES if loader.KINDS[n] != "datetime"}
    assert set(pred) == testable | {"all", "any", "not"}
    ops = _obj(DEFS["condition"])["properties"]
    assert set(ops) == set(OPERATORS)
    assert DEFS["flow_step"]["enum"] == list(FLOW_STEPS)
    assert set(DEFS["example"]["properties"]["events"]["items"]["properties"]) == set(NAMES) | set(
        loader.EXAMPLE_ONLY_FIELDS)


def test_every_shipped_rule_validates_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    files = sorted((ROOT / "rules").glob("*.yaml"))
    assert files
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path.name


def test_the_schema_rejects_what_the_loader_rejects():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    rule = yaml.safe_load((ROOT / "rules" / "turn-allocation-quota.yaml").read_text())
    bad = dict(rule, match={"where": {"nosuch": 1}})
    assert list(validator.iter_errors(bad))
    bad = dict(rule, severity="fatal")
    assert list(validator.iter_errors(bad))
    bad = dict(rule, colour="red")
    assert list(validator.iter_errors(bad))


def _rule_text(**extra) -> str:
    text = (ROOT / "rules" / "turn-no-allocation.yaml").read_text()
    head = "".join(f"{k}: {v}\n" for k, v in extra.items())
    return "\n".join(line for line in text.splitlines() if not line.startswith(("explains:", "outranks:"))) + "\n" + head


def test_explains_names_flow_steps_only(tmp_path):
    (tmp_path / "turn-no-allocation.yaml").write_text(_rule_text(explains="[allocate, alloc-typo]"))
    rule, errors = loader.load_rule_file(tmp_path / "turn-no-allocation.yaml")
    assert rule is None and any("alloc-typo" in e and "not flow steps" in e for e in errors)


def test_outranks_names_other_rules_only(tmp_path):
    (tmp_path / "turn-no-allocation.yaml").write_text(_rule_text(explains="[allocate]", outranks="[turn-no-allocation]"))
    rule, errors = loader.load_rule_file(tmp_path / "turn-no-allocation.yaml")
    assert rule is None and any("outranks" in e for e in errors)


def test_every_shipped_rule_explains_steps():
    rules = loader.load_rules([ROOT / "rules"])
    assert all(set(r.explains) <= set(FLOW_STEPS) for r in rules)
    assert {o for r in rules for o in r.outranks} <= set(rules.ids)  # shipped ranks name shipped rules
    assert "turn-no-peer-connection" in rules.get("sfb-client-ice-warning").outranks
