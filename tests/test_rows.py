"""calls.rows.records: the table's rows as dicts, as pandas' own to_dict would give them."""
import pandas as pd

from logcorr.calls.rows import records


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


def test_a_column_empty_in_every_row_is_left_out_and_reads_as_its_empty_value():
    frame = _frame().assign(txn_id="", lifetime=pd.array([None] * 4, dtype="Int64"))
    got = records(frame, ("event", "txn_id", "lifetime", "src"), rows=pd.Series([True, True, False, True]))
    assert [r["event"] for r in got] == ["INVITE", "ACK", "BYE"]
    assert all(set(r) == {"event", "src"} for r in got)  # fewer keys: a smaller dict
    assert [r["txn_id"] for r in got] == ["", "", ""] and [r["lifetime"] for r in got] == [None] * 3
    assert got[1]["src"] == ""  # a value that is empty in some rows only stays in the row
