"""calls.rows: the table's rows as dicts or named tuples, the values pandas' own to_dict would give."""
from collections import namedtuple

import pandas as pd

from logcorr.calls.rows import records, tuples


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "ts": pd.to_datetime(["2026-01-01 10:00:02", "2026-01-01 10:00:01", None, "2026-01-01 10:00:01"], utc=True),
        "event": pd.Categorical(["INVITE", "ACK", None, "BYE"]),
        "status": pd.array([200, None, 404, None], dtype="Int64"),
        "src": ["10.0.0.1:5060", "", None, "10.0.0.2:5061"],
    })


def test_values_and_missing_as_pandas_gives_them():
    frame = _frame()
    cols = ("ts", "event", "status", "src")
    expected = frame.astype(object).where(frame.notna(), None).to_dict("records")
    got = records(frame, cols)
    assert got == expected
    assert [type(r["status"]) for r in got] == [int, type(None), int, type(None)]
    assert isinstance(got[0]["ts"], pd.Timestamp) and got[2]["ts"] is None and got[2]["event"] is None


def test_sorted_stably_by_a_column():
    got = records(_frame(), ("ts", "event"), by="ts")
    assert [r["event"] for r in got] == ["ACK", "BYE", "INVITE", None]  # ties keep their order; no time last


def test_named_tuples_of_the_rows_asked_for():
    Row = namedtuple("Row", ("event", "status", "src"))
    got = tuples(_frame(), Row, rows=pd.Series([True, True, False, True]))
    assert got == [Row("INVITE", 200, "10.0.0.1:5060"), Row("ACK", None, ""), Row("BYE", None, "10.0.0.2:5061")]
    assert got[0].event == "INVITE" and got[1].status is None
