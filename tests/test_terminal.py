"""The terminal: verdict lines, folded consequences, counted repeats, short evidence paths, colour,
--quiet/--call, --version, clean --help, the report files' rules, and the reading progress."""
import copy
import io
import json
from dataclasses import replace

import openpyxl
import pytest

from logcorr import api
from logcorr.events.read import read_bundle
from logcorr.report import terminal
from logcorr.report.console import ReadProgress, colour_wanted
from test_cli import EXAMPLE, logcorr  # noqa: F401  (the in-process CLI fixture)

ESC = "\x1b["
CALL = "5f0c2a7e91b34d8a9c6e0f1b2d3a4c5e"
OTHER_CALL = "1c4e9a0b77d24f0e8e8f2b9d6a1e5c31"


@pytest.fixture(scope="module")
def diagnosis():
    return api.diagnose(EXAMPLE)


@pytest.fixture
def no_colour_env(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_verdict_first_and_last_and_short_evidence(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--no-xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Verdict (error): share call " + CALL + " failed: SfB meeting") and "step 7 (answer-relay)" in lines[0]
    assert lines[-1] == lines[0]
    assert "      …!syslog:184  403 Forbidden" in r.stdout
    evidence = [l for l in lines if ":184  " in l]
    assert evidence and all("presenter-rights.zip!logbundle" not in l for l in evidence)
    doc = json.loads(logcorr("diagnose", EXAMPLE, "--json", cwd=tmp_path).stdout)
    files = {e["file"] for f in doc["findings"] for e in f["evidence"]}
    assert files == {"presenter-rights.zip!logbundle.tar.gz!syslog"}


def test_short_names_are_the_shortest_unique_end(diagnosis):
    files = ["case.zip!cms1.tar.gz!syslog", "case.zip!cms2.tar.gz!syslog", "case.zip!expe.tar.gz!loggingsnapshot.txt",
             "/very/long/folder/name/that/goes/on/and/on/for/a/while/capture.pcap", "short/a.log"]
    read = replace(diagnosis.read, sources=[replace(diagnosis.read.sources[0], file=f) for f in files])
    names = terminal.short_names(replace(diagnosis, read=read, findings=[]))
    assert names == {files[0]: "…!cms1.tar.gz!syslog", files[1]: "…!cms2.tar.gz!syslog",
                     files[2]: "…!loggingsnapshot.txt", files[3]: "…/capture.pcap", files[4]: "short/a.log"}


def test_without_roles_findings_follow_the_calls_by_severity(diagnosis):
    d = copy.deepcopy(diagnosis)
    for f in d.findings:  # a diagnosis whose verdict stage set no roles
        f.role = f.explained_by = None
    d.findings[0].severity = type(d.findings[0].severity)("info")
    text = terminal.render(d)
    assert "Findings (2):" in text
    assert text.index("ERROR share-invite-rejected") < text.index("INFO presenter-rights")
    assert "also seen, because of it" not in text


def test_consequences_fold_under_their_cause_in_the_call(diagnosis):
    d = copy.deepcopy(diagnosis)
    cause, consequence = (next(f for f in d.findings if f.rule == r) for r in ("presenter-rights", "share-invite-rejected"))
    cause.role = "cause"
    consequence.role, consequence.explained_by = "consequence", "presenter-rights"
    context = replace(cause, rule="cms-ice-failure", title="CMS logged an ICE failure", role="context", call_id="")
    d.findings.append(context)
    text = terminal.render(d)
    steps_end = text.index("13 reinvite")
    card = text.index("ERROR presenter-rights")
    assert steps_end < card < text.index(OTHER_CALL + "  [audio,video]")  # the card is in its call's block
    assert "also seen, because of it: share-invite-rejected (error: Application-sharing INVITE rejected)" in text
    assert "ERROR share-invite-rejected" not in text  # folded, not printed as a card of its own
    assert text.index("Context (seen, not the cause):") < text.index("cms-ice-failure: CMS logged")
    assert "Findings (" not in text


def test_repeated_findings_are_counted_not_repeated(diagnosis):
    d = copy.deepcopy(diagnosis)
    for f in d.findings:
        f.role = f.explained_by = None
    first = d.findings[0]
    d.findings = [first] + [replace(first, call_id=f"call{i}") for i in range(5)] + d.findings[1:]
    text = terminal.render(d)
    assert text.count(f"{first.rule}: {first.title}") == 1
    assert f"{first.rule}: {first.title}  (x6)" in text
    assert "also 5 more time(s): call call0 at" in text and "... 2 more" in text


def test_quiet_prints_the_verdicts_only(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Verdict (error)")
    assert lines[1].startswith(f"  call {CALL}: SfB meeting does not let this attendee present")
    assert (tmp_path / "logcorr-report.xlsx").exists()


def test_call_narrows_the_text_to_one_call(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--no-xlsx", "--call", "1c4e", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Calls (1):" in r.stdout and f"{OTHER_CALL}  [audio,video]" in r.stdout
    assert "13 reinvite" not in r.stdout and "ERROR presenter-rights" not in r.stdout
    assert "Read 1 file(s)" not in r.stdout
    r = logcorr("diagnose", EXAMPLE, "--no-xlsx", "--call", CALL[:8], cwd=tmp_path)
    assert "ERROR presenter-rights" in r.stdout and "13 reinvite" in r.stdout
    r = logcorr("diagnose", EXAMPLE, "--no-xlsx", "--call", "nope", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no call 'nope'" in r.stderr


@pytest.mark.parametrize("env, option, coloured", [
    ({}, None, False),  # captured stdout is no terminal
    ({"FORCE_COLOR": "1"}, None, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, None, False),
    ({"NO_COLOR": "1"}, "always", True),
    ({"FORCE_COLOR": "1"}, "never", False),
    ({}, "always", True),
])
def test_colour_follows_no_color_force_color_and_the_option(tmp_path, logcorr, monkeypatch, no_colour_env,
                                                             env, option, coloured):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = ["diagnose", EXAMPLE, "--no-xlsx"] + (["--color", option] if option else [])
    r = logcorr(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (ESC in r.stdout) is coloured
    assert ESC + "1;31m" in r.stdout if coloured else r.stdout.splitlines()[0].startswith("Verdict")


def test_colour_auto_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert colour_wanted("auto", Tty(), {}) is True
    assert colour_wanted("auto", Tty(), {"NO_COLOR": "1"}) is False
    assert colour_wanted("auto", Tty(), {"TERM": "dumb"}) is False
    assert colour_wanted("auto", io.StringIO(), {"FORCE_COLOR": "0"}) is False
    assert colour_wanted("never", Tty(), {"FORCE_COLOR": "1"}) is False


def test_bad_colour_choice_is_a_usage_error(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--color", "sometimes", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_version(tmp_path, logcorr):
    r = logcorr("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "logcorr 0.1.0"


@pytest.mark.parametrize("command", [["diagnose"], ["events"], ["ladder"], ["show"], ["rules", "list"],
                                     ["rules", "check"]])
def test_help_names_values_and_ends_with_examples_and_exit_codes(tmp_path, logcorr, command):
    r = logcorr(*command, "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    for python_type in ("<bool>", "<list[", "<path>", "<str>", "<Path>"):
        assert python_type not in text
    assert "Example: logcorr " + command[0] in text
    assert "Exit codes: 0" in text and "2 unusable input" in text


def test_diagnose_help_shows_value_names(tmp_path, logcorr):
    text = logcorr("diagnose", "--help", cwd=tmp_path).stdout
    for name in ("PATH", "FILE", "DIR", "ZONE", "CALL-ID", "auto|always|never", "info|warning|error"):
        assert name in text


def test_json_writes_no_workbook_unless_asked(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["verdict"]["severity"] == "error"
    assert list(tmp_path.iterdir()) == []
    r = logcorr("diagnose", EXAMPLE, "--json", "--xlsx", "case.xlsx", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)
    assert openpyxl.load_workbook(tmp_path / "case.xlsx").sheetnames[0] == "Summary"
    r = logcorr("diagnose", EXAMPLE, "--xlsx", "x.xlsx", "--no-xlsx", cwd=tmp_path)
    assert r.returncode == 2 and "opposite" in r.stderr


def test_an_existing_report_is_kept_without_force(tmp_path, logcorr):
    report = tmp_path / "logcorr-report.xlsx"
    report.write_bytes(b"mine")
    r = logcorr("diagnose", EXAMPLE, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "logcorr: the Excel report logcorr-report.xlsx exists: --force overwrites it\n"
    assert report.read_bytes() == b"mine"
    r = logcorr("diagnose", EXAMPLE, "--force", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert openpyxl.load_workbook(report).sheetnames[0] == "Summary"


def test_a_missing_output_folder_is_an_error(tmp_path, logcorr):
    r = logcorr("diagnose", EXAMPLE, "--xlsx", tmp_path / "no" / "such" / "r.xlsx", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no folder" in r.stderr
    assert not (tmp_path / "no").exists() and r.stdout == ""


def test_the_reader_tells_files_and_bytes(tmp_path):
    for i in range(3):
        (tmp_path / f"syslog{i}").write_bytes(b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: x\n" * (i + 1))
    told = []
    result = read_bundle(tmp_path, progress=lambda *a: told.append(a))
    sizes = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert len(result.sources) == 3
    assert told[0] == (0, 3, 0, sizes) and told[-1] == (3, 3, sizes, sizes)
    assert [t[0] for t in told] == [0, 1, 2, 3]


def test_progress_is_silent_off_a_terminal_and_when_disabled():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain = io.StringIO()
    with ReadProgress(plain) as progress:
        progress(0, 2, 0, 1 << 30)
        progress(2, 2, 1 << 30, 1 << 30)
    assert plain.getvalue() == "" and progress.bar is None
    tty = Tty()
    with ReadProgress(tty, enabled=False) as progress:
        progress(0, 2, 0, 1 << 30)
    assert tty.getvalue() == ""
    with ReadProgress(tty) as progress:
        progress(0, 2, 0, 1 << 30)
        assert progress.bar is not None
        progress(1, 2, 1 << 29, 1 << 30)
    assert progress.bar is None
