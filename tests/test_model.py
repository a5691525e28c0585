"""The typed model: severity order, times as text, the verdict, the JSON reporter against its schema,
and the command line's exit code 3 for an internal error."""
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from logcorr import api, cli
from logcorr.errors import ExitCode
from logcorr.model import (FLOW_STEPS, Call, CallVerdict, Diagnosis, Evidence, Finding, Host, ReadResult, stop_index,
                           Severity, SourceReport, Step, Verdict, iso)
from logcorr.report import json_report
from logcorr.rules import RuleSet, worst_first

REPO = Path(__file__).parent.parent
EXAMPLE = REPO / "examples" / "presenter-rights.zip"
SCHEMA = json.loads((REPO / "docs" / "diagnosis.schema.json").read_text())
T0 = pd.Timestamp("2026-11-19T09:18:13.122456Z")


def finding(rule: str, severity: str, ts=T0, **more) -> Finding:
    return Finding(rule=rule, severity=Severity(severity), title=rule, call_id="c1", ts=ts,
                   explanation="x", fix="y", evidence=[Evidence("syslog", 184, "403 Forbidden")], **more)


def share_call(**more) -> Call:
    steps = [Step(name, "seen" if i == 0 else "missing", T0 if i == 0 else None) for i, name in enumerate(FLOW_STEPS)]
    return Call(call_id="c1", media="applicationsharing", start=T0, steps=steps, stage="invite",
                summary="stopped after step 1 (invite)", **more)


def diagnosis(calls, findings, hosts=()) -> Diagnosis:
    read = ReadResult(input="case.zip", events=pd.DataFrame(), sources=[SourceReport("syslog", "cms", 3)],
                      skipped=[], notes=[])
    return Diagnosis(read=read, clocks=[], hosts=list(hosts), calls=calls, findings=findings,
                     rules=RuleSet(rules=[]), verdict=Verdict.of(calls, findings))


def test_severity_is_ordered_and_reads_as_its_name():
    assert Severity.info < Severity.warning < Severity.error
    assert max([Severity.warning, Severity.error, Severity.info]) is Severity.error
    assert Severity.error >= "warning" and not Severity.info >= "warning"
    assert Severity.error == "error" and f"{Severity.warning}" == "warning"
    assert sorted(Severity) == [Severity.info, Severity.warning, Severity.error]


def test_iso_is_utc_with_milliseconds():
    assert iso(T0) == "2026-11-19T09:18:13.122Z"
    assert iso(pd.Timestamp("2026-11-19T10:18:13.5+01:00")) == "2026-11-19T09:18:13.500Z"
    assert iso(pd.Timestamp("2026-11-19 09:18:13")) == "2026-11-19T09:18:13.000Z"  # naive is UTC
    assert iso(None) is None and iso(pd.NaT) is None


def test_findings_worst_first_then_by_time():
    late_error = finding("b", "error", T0 + pd.Timedelta(seconds=1))
    early_error = finding("a", "error")
    info = finding("c", "info", T0 - pd.Timedelta(seconds=5))
    untimed_warning = finding("d", "warning", None)
    assert worst_first([info, late_error, untimed_warning, early_error]) == [
        early_error, late_error, untimed_warning, info]


def test_verdict_from_the_first_stopped_call_and_the_worst_finding():
    v = Verdict.of([Call("c0", "audio"), share_call()], [finding("a", "warning"), finding("b", "error")])
    assert v.severity is Severity.error and v.summary == "call c1: stopped after step 1 (invite)"
    v = Verdict.of([Call("c0", "audio")], [finding("a", "info"), finding("b", "warning")])
    assert v == Verdict(Severity.warning, "b: b")
    assert Verdict.of([], []) == Verdict(None, "no known failure found")


def test_json_report_carries_the_new_fields_and_fits_the_schema():
    call = share_call(verdict=CallVerdict("failed", step="answer-relay", cause="presenter-rights",
                                          summary="the share INVITE was refused"))
    cause = finding("presenter-rights", "error", role="cause")
    consequence = finding("share-invite-rejected", "error", role="consequence", explained_by="presenter-rights")
    d = diagnosis([call, Call("c2", "audio,video")], [cause, consequence],
                  hosts=[Host("10.48.54.230", "CMS", "cms01", "CMS cms01"),
                         Host("10.48.54.229", "Expressway-E", "expe01", addresses=["203.0.113.9", "10.48.54.229"])])
    doc = json_report.document(d)
    jsonschema.validate(doc, SCHEMA)
    assert doc["version"] == d.version and doc["version"]
    assert doc["verdict"] == {"severity": "error", "summary": "call c1: stopped after step 1 (invite)"}
    assert doc["hosts"] == [{"address": "10.48.54.230", "role": "CMS", "name": "cms01", "addresses": ["10.48.54.230"]},
                            {"address": "10.48.54.229", "role": "Expressway-E", "name": "expe01",
                             "addresses": ["10.48.54.229", "203.0.113.9"]}]  # the primary address first
    assert doc["calls"][0]["verdict"] == {"state": "failed", "step": "answer-relay", "cause": "presenter-rights",
                                          "summary": "the share INVITE was refused"}
    assert doc["calls"][1]["verdict"] is None and doc["calls"][1]["start"] is None
    assert [(f["role"], f["explained_by"]) for f in doc["findings"]] == [
        ("cause", None), ("consequence", "presenter-rights")]
    assert doc["calls"][0]["steps"][0]["ts"] == "2026-11-19T09:18:13.122Z"
    assert "event_keys" not in doc["calls"][0]  # the stages' own bookkeeping stays out
    assert json.loads(json_report.render(d)) == doc


@pytest.mark.parametrize("broken", [
    lambda doc: doc["findings"][0].update(role="reason"),
    lambda doc: doc["findings"][0].update(role="consequence", explained_by=None),
    lambda doc: doc["calls"][0]["verdict"].update(state="fine"),
    lambda doc: doc["hosts"].append({"address": "10.0.0.1", "role": "router", "name": ""}),
    lambda doc: doc["verdict"].update(severity="fatal"),
])
def test_schema_refuses_what_the_contract_does_not_allow(broken):
    call = share_call(verdict=CallVerdict("failed", step="invite"))
    doc = json_report.document(diagnosis([call], [finding("a", "error", role="cause")],
                                         hosts=[Host("10.48.54.230", "CMS")]))
    jsonschema.validate(doc, SCHEMA)
    broken(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_diagnosis_of_the_example_as_objects():
    d = api.diagnose(EXAMPLE)
    share = next(c for c in d.calls if c.presentation)
    assert [s.name for s in share.steps] == list(FLOW_STEPS)
    assert isinstance(share.start, pd.Timestamp) and isinstance(share.steps[0].ts, pd.Timestamp)
    assert all(isinstance(e, Evidence) for s in share.steps for e in s.evidence)
    assert {f.rule for f in d.findings if f.call_id == share.call_id} >= {"presenter-rights"}
    assert d.worst() is Severity.error and d.verdict.severity is Severity.error
    assert Host("10.48.54.230", "CMS", "cms01", "CMS cms01") in d.hosts
    assert d.roles["10.48.54.230"] == "CMS cms01" and d.roles["cms01"] == "CMS cms01"


def _explode(*args, **kwargs):
    raise KeyError("a bug\nover two lines")


def test_internal_error_exits_3_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(api.flow, "build", _explode)
    assert cli.run(["diagnose", str(EXAMPLE), "--no-xlsx"]) == ExitCode.INTERNAL == 3
    err = capsys.readouterr().err
    assert err.startswith("logcorr: internal error: KeyError:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(api.flow, "build", _explode)
    assert cli.run(["--debug", "diagnose", str(EXAMPLE), "--no-xlsx"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_explode" in err
    assert err.rstrip().splitlines()[-1].startswith("logcorr: internal error: KeyError:")


def test_usage_errors_stay_exit_2(capsys):
    assert cli.run(["diagnose", "--no-such-option"]) == ExitCode.USAGE
    assert "No such option" in capsys.readouterr().err
    assert cli.run(["diagnose", str(EXAMPLE), "--fail-on", "fatal"]) == ExitCode.USAGE
    assert cli.run(["--debug", "rules", "check", str(REPO / "no-such-folder")]) == ExitCode.USAGE


def test_main_exits_with_the_code(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(api.flow, "build", _explode)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["diagnose", str(EXAMPLE), "--no-xlsx"])
    assert exit_.value.code == 3


def test_workbook_keeps_the_calls_events_when_it_must_leave_some_out(monkeypatch, tmp_path):
    import openpyxl

    from logcorr.report import excel
    from logcorr.report.excel import timeline

    d = api.diagnose(EXAMPLE)
    share = next(c for c in d.calls if c.presentation)
    monkeypatch.setattr(timeline, "TIMELINE_MAX", 5)
    wb = openpyxl.load_workbook(excel.write(d, tmp_path / "r.xlsx"))
    rows = list(wb["Timeline"].iter_rows(min_row=2, values_only=True))
    header = [c.value for c in wb["Timeline"][1]]
    where = header.index("file (full path)")
    kept = {tuple(r[where].rsplit(":", 1)) for r in rows[:-1]}
    assert {(f, str(p)) for f, p in share.event_keys} <= kept and len(kept) < len(d.events)
    assert "more events left out" in rows[-1][1]


def steps_of(states: str) -> list[Step]:
    """One letter per flow step: s seen, m missing, n not observable."""
    word = {"s": "seen", "m": "missing", "n": "not observable"}
    return [Step(name, word[c]) for name, c in zip(FLOW_STEPS, states)]


@pytest.mark.parametrize("states, stop", [
    ("sssssssssssss", None),
    ("sssssmsssssss", None),          # a Refresh not seen, the flow went on to the end: a gap
    ("sssssmsssmmmm", 9),             # the Refresh not yet due when the bind never came
    ("smmmmmmmmmmmm", 1),
    ("smmmmmmsmmmmm", 1),             # CMS ACKs an answer without a relay: the Allocate is still missing
    ("snnnnnsssmmmm", 9),
    ("mmmmmmmmmmmmm", 0),
])
def test_the_flow_stops_at_its_first_missing_step_but_a_refresh_not_yet_due(states, stop):
    assert stop_index(steps_of(states)) == stop


def test_a_refresh_not_yet_due_is_not_the_failing_step():
    from logcorr.calls import verdict
    from logcorr.rules import load_rules
    call = Call("c1", "applicationsharing", start=T0, steps=steps_of("sssssmsssmmmm"), summary="x")
    cause = finding("turn-missing-connectionbind", "error")
    consequence = finding("ice-no-checks", "warning")
    findings, overall = verdict.decide([call], [cause, consequence], load_rules([REPO / "rules"]))
    assert call.verdict.state == "failed" and call.verdict.step == "connection-bind"
    assert call.verdict.cause == "turn-missing-connectionbind"
    assert [f.role for f in findings] == ["cause", "consequence"]


def test_iso_is_utc_with_milliseconds_for_any_zone_and_time():
    import random

    def reference(ts):
        ts = pd.Timestamp(ts)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"

    rnd = random.Random(7)
    for _ in range(2000):
        ts = pd.Timestamp(rnd.randint(-3 * 10**18, 7 * 10**18), tz=rnd.choice(["UTC", None, "Europe/Paris", "Asia/Kolkata"]))
        assert iso(ts) == reference(ts)
    assert iso("2026-03-05T10:00:00.0429+05:30") == "2026-03-05T04:30:00.042Z"
    assert iso(None) is None and iso(pd.NaT) is None and iso(float("nan")) is None
