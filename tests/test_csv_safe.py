"""CSV export: no cell can become a formula in a spreadsheet; other formats keep texts as they are."""
import csv
import io
import json

import pandas as pd
import pytest

from logcorr.report import table
from logcorr.report.safe import as_text, guard_frame, is_formula_like


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example/c","call")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1", "  =1", "\n+1", "\uff1d1", "\t", "\r"])
def test_formula_like(text):
    assert is_formula_like(text) and as_text(text) == "'" + text


@pytest.mark.parametrize("value", ["INVITE", "a=candidate", "sip:+15551234@x", "", " ", "1-2", None, 5, 2.5])
def test_not_formula_like(value):
    assert not is_formula_like(value) and as_text(value) == value


def test_events_csv_guards_text_cells_and_jsonl_keeps_them(tmp_path):
    frame = pd.DataFrame({"ts": pd.to_datetime(["2026-11-24T14:53:41Z"] * 3, utc=True),
                          "summary": ["=cmd|' /C calc'!A0", "ok", None],
                          "user_agent": ["@evil", "-", "fine"],
                          "pos": [1, -2, 3]})
    out = tmp_path / "e.csv"
    table.write(frame, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["summary"] for r in rows] == ["'=cmd|' /C calc'!A0", "ok", ""]
    assert [r["user_agent"] for r in rows] == ["'@evil", "'-", "fine"]
    assert [r["pos"] for r in rows] == ["1", "-2", "3"]  # numbers stay numbers
    table.write(frame, "jsonl", tmp_path / "e.jsonl")
    first = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[0])
    assert first["summary"] == "=cmd|' /C calc'!A0"
    assert frame["summary"][0] == "=cmd|' /C calc'!A0"  # the table itself is not changed


def test_guard_frame_on_cells_that_are_not_texts():
    frame = pd.DataFrame({"mixed": [[1], "=2", None, {"a": 1}]})
    assert guard_frame(frame)["mixed"].tolist() == [[1], "'=2", None, {"a": 1}]
