"""End-to-end cases: each folder of tests/cases holds a bundle and the diagnosis it must get."""
from pathlib import Path

import pytest
import yaml

from logcorr import api
from logcorr.model import FLOW_STEPS
from logcorr.report import json_report

CASES = sorted(p.parent for p in (Path(__file__).parent / "cases").glob("*/expected.yaml"))


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def case(request):
    folder = request.param
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    bundle = next(folder.glob("*.zip"))
    return expected, json_report.document(api.diagnose(bundle, tz=expected.get("tz")))


def test_stage_and_steps(case):
    expected, doc = case
    call = next(c for c in doc["calls"] if c["call_id"] == expected["call_id"])
    assert call["stage"] == expected["stage"]
    states = {s["step"]: s["state"] for s in call["steps"]}
    assert list(states) == list(FLOW_STEPS)  # all 13, in order
    for step, state in expected["steps"].items():
        assert states[step] == state, step
    assert expected["verdict"] in call["summary"]
    notes = {s["step"]: s.get("note", "") for s in call["steps"]}
    for step, text in expected.get("notes", {}).items():
        assert text in notes[step], (step, notes[step])
    if "sources" in expected:  # the same Call-ID found in each of these sources' events
        assert call["sources"] == expected["sources"]
    if "related" in expected:
        assert call["related"] == expected["related"]
    if "media" in expected:
        assert call["media"] == expected["media"]


def test_clocks_aligned_to_the_truth(case):
    expected, doc = case
    offsets = {c["source"]: c["offset_s"] for c in doc["clocks"]}
    for source, truth in expected["clocks"].items():
        assert offsets[source] is not None, source
        assert abs(offsets[source] - truth) <= expected["tolerance_s"], (source, offsets[source], truth)
    summaries = {c["host"]: c["summary"] for c in doc["clocks"]}
    for host, text in expected.get("clock_summaries", {}).items():  # what the report says of a clock
        assert text in summaries[host], (host, summaries[host])


def test_findings(case):
    expected, doc = case
    found = {f["rule"] for f in doc["findings"]}
    assert set(expected["must_find"]) <= found
    assert not (set(expected["must_not_find"]) & found)
    if expected.get("no_errors"):  # not one error-severity finding, whatever rule
        assert [f["rule"] for f in doc["findings"] if f["severity"] == "error"] == []
    for f in doc["findings"]:
        if f["rule"] in expected["must_find"]:
            assert f["call_id"] == expected["call_id"], f["rule"]
            assert f["evidence"] and all(e["file"] and e["pos"] for e in f["evidence"])


def test_verdict_roles_and_hosts(case):
    """The call's verdict, which findings are causes or consequences (of what), the hosts' roles."""
    expected, doc = case
    call = next(c for c in doc["calls"] if c["call_id"] == expected["call_id"])
    for key, value in expected.get("call_verdict", {}).items():
        assert call["verdict"][key] == value, (key, call["verdict"])
    roles = {f["rule"]: (f["role"], f["explained_by"]) for f in doc["findings"]}
    for rule in expected.get("causes", []):
        assert roles[rule] == ("cause", None), rule
    for rule, cause in expected.get("consequences", {}).items():
        assert roles[rule] == ("consequence", cause), rule
    assert len(doc["findings"]) == len({(f["rule"], f["call_id"]) for f in doc["findings"] if f["call_id"]}) + \
        sum(1 for f in doc["findings"] if not f["call_id"])  # one finding per rule and call
    for rule, n in expected.get("evidence_at_least", {}).items():  # merged findings keep all evidence
        assert len(next(f for f in doc["findings"] if f["rule"] == rule)["evidence"]) >= n, rule
    if "verdict_summary" in expected:  # what the call's one line says (e.g. what the bundle lacks)
        assert expected["verdict_summary"] in call["verdict"]["summary"], call["verdict"]["summary"]
    hosts = {a: h["role"] for h in doc["hosts"] for a in h["addresses"]}  # every address of a box
    for address, role in expected.get("hosts", {}).items():
        assert hosts.get(address) == role, (address, hosts.get(address))
    names = {a: h["name"] for h in doc["hosts"] for a in h["addresses"]}
    for address, name in expected.get("host_names", {}).items():
        assert names.get(address) == name, (address, names.get(address))
    boxes = [sorted(h["addresses"]) for h in doc["hosts"]]
    for box in expected.get("boxes", []):  # these addresses are one host, and it has no other
        assert sorted(box) in boxes, (box, boxes)
    assert expected.get("verdict_line", "") in doc["verdict"]["summary"]
    if "verdict_severity" in expected:  # a failed share is an error, whatever its cause's own rank
        assert doc["verdict"]["severity"] == expected["verdict_severity"]


def test_other_calls(case):
    """Further share calls of the bundle: each its own stage and verdict, no error of the main call on it."""
    expected, doc = case
    calls = {c["call_id"]: c for c in doc["calls"]}
    for call_id, truth in expected.get("other_calls", {}).items():
        call = calls[call_id]
        assert call["stage"] == truth["stage"], (call_id, call["stage"])
        for key, value in truth["verdict"].items():
            assert call["verdict"][key] == value, (call_id, key, call["verdict"])
        errors = [f["rule"] for f in doc["findings"] if f["call_id"] == call_id and f["severity"] == "error"]
        assert errors == truth.get("errors", []), (call_id, errors)
