"""The workbook as a reader opens it: sheets, links, fills, formats, print setup, values; and no
formula from any text of a bundle."""
import copy
import dataclasses
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from logcorr import api
from logcorr.model import FLOW_STEPS, CallVerdict, Finding, Severity
from logcorr.report import excel
from logcorr.report.excel.findings import ordered
from logcorr.report.safe import is_formula_like

CASE = Path(__file__).parent / "cases" / "no-connectionbind" / "bundle.zip"
CALL = "b2a211220e344c0a909219a73ad9991d"


@pytest.fixture(scope="module")
def diagnosis():
    return api.diagnose(CASE)


@pytest.fixture(scope="module")
def book(diagnosis, tmp_path_factory):
    path = excel.write(diagnosis, tmp_path_factory.mktemp("wb") / "r.xlsx")
    return openpyxl.load_workbook(path)


def rows(ws):
    return list(ws.iter_rows(values_only=True))


def test_sheets_print_setup_and_properties(book):
    assert book.sheetnames == list(excel.SHEETS)
    assert book.properties.title == "logcorr diagnosis: bundle.zip"
    assert book.properties.creator.startswith("logcorr ") and book.properties.created is not None
    for ws in book:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert "bundle.zip" in ws.oddHeader.left.text and "&P" in ws.oddFooter.center.text
        if ws.title != "Summary":
            assert ws.print_title_rows == "$1:$1" and ws.freeze_panes
    assert book["Timeline"].auto_filter.ref.startswith("A1:")


def test_summary_opens_with_the_verdict_banner(book, diagnosis):
    ws = book["Summary"]
    assert ws["A2"].value == "VERDICT: ERROR" and ws["A2"].fill.fgColor.rgb.endswith("C00000")
    assert ws["B2"].value == diagnosis.verdict.summary and "B2:D2" in ws.merged_cells
    call_row = next(r for r in ws.iter_rows() if r[0].value == CALL)
    assert call_row[2].value.startswith("turn-missing-connectionbind")
    assert call_row[3].value.endswith(".") and "\n" not in call_row[3].value
    span = next(r for r in ws.iter_rows() if r[0].value == "time span (UTC)")
    assert isinstance(span[1].value, dt.datetime) and span[1].number_format.startswith("yyyy-mm-dd")
    assert ws.max_row < 45  # one page


def test_findings_link_each_evidence_to_its_timeline_row(book, diagnosis):
    ws, line = book["Findings"], book["Timeline"]
    head = [c.value for c in line[1]]
    full = head.index("file (full path)") + 1
    f = diagnosis.findings[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == f.rule)
    assert row[0].fill.fgColor.rgb.endswith("F8CBAD")  # error
    assert isinstance(row[4].value, dt.datetime) and row[4].number_format == "yyyy-mm-dd hh:mm:ss.000"
    link = row[8].hyperlink.location
    target = int(link.rsplit("A", 1)[1])
    e = f.evidence[0]
    assert link.startswith("'Timeline'!") and line.cell(target, full).value == f"{e.file}:{e.pos}"


def test_calls_have_one_column_per_step(book):
    ws = book["Calls"]
    head = [c.value for c in ws[1]]
    assert [h.split(". ", 1)[1] for h in head[4:17]] == list(FLOW_STEPS)
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == CALL)
    cells = {name: row[4 + i] for i, name in enumerate(FLOW_STEPS)}
    assert cells["connection-attempt"].value == "✓ seen" and cells["connection-attempt"].fill.fgColor.rgb.endswith("C6EFCE")
    assert cells["connection-bind"].value == "✗ missing" and cells["connection-bind"].fill.fgColor.rgb.endswith("FFC7CE")
    times = ws[row[0].row + 1]
    assert isinstance(times[4].value, dt.datetime)  # the step times under the marks
    assert "192.168.1.252:51001" in row[19].value  # the peer


def test_ladder_marks_the_missing_bind_after_the_attempt(book):
    ws = book["Ladder"]
    texts = [[c.value for c in r] for r in ws.iter_rows()]
    attempt = next(i for i, r in enumerate(texts) if any(str(v).startswith("ConnectionAttempt Indication") for v in r))
    assert "connection-bind expected here" in texts[attempt + 1][1]
    assert any("Expressway-E" in str(v) for v in texts[0]) and any("CMS" in str(v) for v in texts[0])
    first = next(r for r in ws.iter_rows(min_row=3) if isinstance(r[0].value, dt.datetime))
    assert first[0].hyperlink.location.startswith("'Timeline'!A")
    assert any(str(r[-1].value).startswith("ERROR turn-missing-connectionbind") for r in ws.iter_rows())


def test_turn_shows_connection_ids_in_hex(book):
    ws = book["TURN"]
    attempt = next(r for r in rows(ws) if r[0] == "ConnectionAttempt")
    assert attempt[5] == "0x5688b600" and attempt[7].startswith("never bound") and attempt[4] == "192.168.1.252:51001"
    allocs = [r for r in rows(ws) if r[0] == "Allocate"]
    assert [r[7] for r in allocs] == ["error 401 Unauthorized", "success"] and allocs[1][4] == "10.48.54.229:24726"
    line = book["Timeline"]
    head = [c.value for c in line[1]]
    assert "0x5688b600" in [r[head.index("CONNECTION-ID")] for r in rows(line)]


def test_timeline_and_sources(book, diagnosis):
    line = book["Timeline"]
    assert line.max_row == len(diagnosis.events) + 1 and line.freeze_panes == "C2"
    assert isinstance(line["B2"].value, dt.datetime)
    files = {r[0] for r in rows(book["Sources"])}
    assert {s.file for s in diagnosis.read.sources} <= files and "logcorr version" in files


def test_causes_first_consequences_under_their_cause(diagnosis, tmp_path):
    cause = diagnosis.findings[0]
    t = pd.Timestamp("2026-11-24 14:53:00", tz="UTC")
    late = Finding("share-timeout", Severity.error, "share timed out", CALL, t, "x", "y", [], role="consequence",
                   explained_by=cause.rule)
    info = Finding("note", Severity.info, "a note", "", t, "x", "y", [])
    warn = Finding("warn", Severity.warning, "a warning", "", None, "x", "y", [])
    d = copy.copy(diagnosis)
    d.findings = [info, late, warn, dataclasses.replace(cause, role="cause")]
    assert [(f.rule, n) for f, n in ordered(d.findings)] == [
        (cause.rule, 0), ("share-timeout", 1), ("warn", 0), ("note", 0)]
    d.calls = [dataclasses.replace(c, verdict=CallVerdict("failed", "connection-bind", cause.rule, "no bind"))
               if c.call_id == CALL else c for c in diagnosis.calls]
    wb = openpyxl.load_workbook(excel.write(d, tmp_path / "v.xlsx"))
    titles = [r[2] for r in rows(wb["Findings"])[1:] if r[2]]
    assert titles[1].startswith("↳ share timed out") and "consequence of" in titles[1]
    call_row = next(r for r in rows(wb["Summary"]) if r[0] == CALL)
    assert call_row[1].startswith("connection-bind\nno bind")


# ------------------------------------------------------------------------ hostile texts
PREFIXES = ('=HYPERLINK("http://evil.example/c","x")&', "+cmd|' /C calc'!A0 ", "-2+3 ", "@SUM(1) ",
            "\t=1+1 ", "\r=1+1 ", "\uff1d1+1 ")
KEEP = {("Step", "name"), ("Step", "state"), ("CallVerdict", "state"), ("Finding", "role"), ("Host", "role"),
        ("Clock", "basis")}
KEEP_COLUMNS = {"proto", "direction", "transport"}


def hostile(value: str) -> str:
    return PREFIXES[len(value) % len(PREFIXES)] + value if value else value


def poison(obj, owner: str = "", name: str = ""):
    """`obj` with every text of the bundle turned into a formula-like text, consistently (the same
    text always becomes the same hostile text, so calls and events still meet)."""
    if (owner, name) in KEEP or isinstance(obj, Severity):
        return obj
    if isinstance(obj, str):
        return hostile(obj)
    if isinstance(obj, pd.DataFrame):
        out = obj.copy()
        for c in out.columns:
            if c not in KEEP_COLUMNS and out[c].dtype == object:
                out[c] = out[c].map(lambda v: hostile(v) if isinstance(v, str) else v)
        stun = obj["proto"] == "stun"  # the decoder names STUN messages; a SIP method is the sender's
        out.loc[stun, "event"] = obj.loc[stun, "event"]
        return out
    if isinstance(obj, (list, tuple, set)):
        return type(obj)(poison(v, owner, name) for v in obj)
    if isinstance(obj, dict):
        return {poison(k): poison(v, owner, name) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and type(obj).__name__ != "RuleSet":
        kind = type(obj).__name__
        return dataclasses.replace(obj, **{f.name: poison(getattr(obj, f.name), kind, f.name)
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def test_no_text_of_a_bundle_becomes_a_formula(diagnosis, tmp_path):
    d = poison(diagnosis)
    assert any(is_formula_like(v) for v in d.events["call_id"])
    path = excel.write(d, tmp_path / "hostile.xlsx")
    with zipfile.ZipFile(path) as zf:
        xml = "".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        cells = [c for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
        risky = [c for c in cells if is_formula_like(c.value)]
        assert risky, f"{ws.title}: no hostile text reached this sheet"
        assert all(c.data_type == "s" and c.quotePrefix for c in risky), ws.title
        assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r), ws.title
    seen = {c.value[:3] for ws in wb for r in ws.iter_rows() for c in r if isinstance(c.value, str)}
    assert {"=HY", "+cm", "-2+", "@SU", "\t=1", "\r=1"} <= seen
