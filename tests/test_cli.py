"""The command line: exit codes, JSON shape, one-line errors. In process (cli.run), except the
README's first command, which runs through the real entry point."""
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from logcorr import cli

REPO = Path(__file__).parent.parent
EXAMPLE = REPO / "examples" / "presenter-rights.zip"
SCHEMA = json.loads((REPO / "docs" / "diagnosis.schema.json").read_text())


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def logcorr(capsys, monkeypatch):
    """Run one command line in this process, in the folder `cwd`."""

    def run(*args, cwd):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = cli.run([str(a) for a in args])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def test_readme_first_command_names_presenter_rights(tmp_path):
    readme = (REPO / "README.md").read_text()
    first = re.search(r"```sh\n(.+?)\n```", readme, re.S).group(1)
    assert "logcorr diagnose examples/presenter-rights.zip" in first
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-m", "logcorr", "diagnose", str(EXAMPLE)], capture_output=True,
                       text=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "presenter-rights" in r.stdout
    assert "syslog:184" in r.stdout  # the 403 with ms-diagnostics-public 21002
    assert "presenter" in r.stdout.lower() and "fix:" in r.stdout
    assert "Traceback" not in r.stderr
    wb = openpyxl.load_workbook(tmp_path / "logcorr-report.xlsx")
    assert wb.sheetnames == ["Summary", "Findings", "Calls", "Ladder", "TURN", "Timeline", "Sources"]
    findings = [row for row in wb["Findings"].iter_rows(min_row=2, values_only=True)]
    assert any(row[1] == "presenter-rights" for row in findings)


def test_json_matches_contract(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--json", "--no-xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert set(doc) == {"version", "input", "verdict", "sources", "clocks", "hosts", "calls", "findings"}
    assert doc["verdict"]["severity"] == "error" and "attendee present (ASMCU 21002), so step 7 (answer-relay)" in doc["verdict"]["summary"]
    assert {"address": "10.48.54.230", "role": "CMS", "name": "cms01", "addresses": ["10.48.54.230"]} in doc["hosts"]
    src = doc["sources"][0]
    assert src["kind"] == "cms" and src["events"] > 0
    assert set(src) == {"file", "kind", "events", "skipped", "skip_reasons", "warnings"}
    f = next(f for f in doc["findings"] if f["rule"] == "presenter-rights")
    assert f["severity"] == "error" and f["call_id"] == "5f0c2a7e91b34d8a9c6e0f1b2d3a4c5e"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["ts"])
    assert f["explanation"] and f["fix"]
    ev = f["evidence"][0]
    assert ev["file"] == "presenter-rights.zip!logbundle.tar.gz!syslog" and ev["pos"] == 184
    assert not (tmp_path / "logcorr-report.xlsx").exists()


def test_fail_on(tmp_path, logcorr):
    assert logcorr("diagnose", EXAMPLE, "--no-xlsx", "--fail-on", "error", cwd=tmp_path).returncode == 1
    assert logcorr("diagnose", EXAMPLE, "--no-xlsx", "--fail-on", "bogus", cwd=tmp_path).returncode == 2


def test_missing_path_is_one_line(tmp_path, logcorr):
    r = logcorr("diagnose", tmp_path / "nope.zip", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "no such file" in r.stderr
    assert "Traceback" not in r.stderr


def test_nothing_readable(tmp_path, logcorr):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(2000))
    r = logcorr("diagnose", junk, cwd=tmp_path)
    assert r.returncode == 2 and "nothing readable" in r.stderr and "Traceback" not in r.stderr


def test_hostile_archive_refused_in_one_line_and_nothing_written_outside(tmp_path, logcorr):
    case = tmp_path / "case"
    case.mkdir()
    evil = case / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escaped.txt", "Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: x\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    r = logcorr("diagnose", evil, "--no-xlsx", cwd=case)
    assert r.returncode == 2
    assert "leaves the archive" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_events_csv_and_jsonl(tmp_path, logcorr):
    out = tmp_path / "events.jsonl"
    r = logcorr("events", EXAMPLE, "--format", "jsonl", "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    assert rows and rows[0]["ts"].endswith("Z") and "relay_candidates" in rows[0]
    r = logcorr("events", EXAMPLE, cwd=tmp_path)
    header = r.stdout.splitlines()[0].split(",")
    assert header[:7] == ["ts", "source", "host", "file", "pos", "proto", "event"] and header[-1] == "ts_aligned"


def test_rules_list_and_check(tmp_path, logcorr):
    r = logcorr("rules", "list", cwd=tmp_path)
    assert r.returncode == 0 and "presenter-rights" in r.stdout
    r = logcorr("rules", "check", REPO / "rules", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.yaml").write_text("id: broken\ntitle: x\ntitle: y\n")
    r = logcorr("rules", "check", bad, cwd=tmp_path)
    assert r.returncode == 1 and "broken.yaml" in r.stderr and "Traceback" not in r.stderr


def test_redact_hides_addresses(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--json", "--no-xlsx", "--redact", cwd=tmp_path)
    assert r.returncode == 0
    assert "10.48.54.228" not in r.stdout and "bob@" not in r.stdout
    assert "presenter-rights" in r.stdout


SHARE_OK = REPO / "tests" / "cases" / "share-ok" / "share-ok.zip"


def test_ladder_draws_the_presentation_call(tmp_path, logcorr):
    r = logcorr("ladder", SHARE_OK, "--call", "b2a2112", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[1]
    for role in ("SfB Edge", "Expressway-E", "Expressway-C", "CMS"):
        assert role in head
    body = r.stdout
    order = [body.index(x) for x in ("Allocate Request", "ConnectionAttempt Indication",
                                     "ConnectionBind Request", "Binding Request")]
    assert order == sorted(order)
    assert logcorr("ladder", SHARE_OK, "--call", "nope", cwd=tmp_path).returncode == 2


def test_excel_has_ladder_and_steps(tmp_path, logcorr):
    (tmp_path / "out").mkdir()
    r = logcorr("diagnose", SHARE_OK, "--xlsx", tmp_path / "out" / "r.xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(tmp_path / "out" / "r.xlsx")
    assert "Ladder" in wb.sheetnames
    texts = [v for row in wb["Ladder"].iter_rows(min_row=2, values_only=True) for v in row]
    assert "ConnectionBind Request ▶" in texts or "◀ ConnectionBind Request" in texts
    calls = {row[0]: row for row in wb["Calls"].iter_rows(min_row=2, values_only=True)}
    assert calls["b2a211220e344c0a909219a73ad9991d"][4 + 12] == "✓ seen"  # 13. reinvite


def test_bad_tz_and_unwritable_report_are_one_line(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--tz", "Mars/Olympus", "--no-xlsx", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a time zone" in r.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = logcorr("diagnose", EXAMPLE, "--xlsx", blocker / "r.xlsx", cwd=tmp_path)
    assert r.returncode == 2 and "cannot write the Excel report" in r.stderr and "Traceback" not in r.stderr


def test_rules_folder_replaces_a_shipped_rule_by_id(tmp_path, logcorr):
    mine = tmp_path / "mine"
    mine.mkdir()
    text = (REPO / "rules" / "presenter-rights.yaml").read_text()
    (mine / "presenter-rights.yaml").write_text(text.replace("severity: error", "severity: warning", 1))
    r = logcorr("diagnose", EXAMPLE, "--json", "--no-xlsx", "--rules", mine, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    found = {f["rule"]: f["severity"] for f in json.loads(r.stdout)["findings"]}
    assert found["presenter-rights"] == "warning" and found["share-invite-rejected"] == "error"
    listed = logcorr("rules", "list", "--rules", mine, cwd=tmp_path).stdout
    assert re.search(r"presenter-rights\s+warning", listed)
