"""The bundle's table is put in time order column by column (events/read.py `in_time_order`): the
same table, types, categories and row order as concatenating the files' tables and sorting them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from logcorr.events import read, schema


def _table(rng: np.random.Generator, n: int, hosts: list[str], source: str) -> pd.DataFrame:
    stamps = pd.to_datetime("2026-11-24 14:00", utc=True) + pd.to_timedelta(rng.integers(0, 50, n), unit="s")
    records = [{"ts": None if rng.random() < 0.1 else stamps[i], "source": source, "host": hosts[i % len(hosts)],
                "file": f"{source}.log", "pos": i + 1, "proto": "log", "event": f"e{rng.integers(0, 4)}",
                "summary": f"row {i}", "raw": f"line {i}", "call_number": None if i % 3 else i}
               for i in range(n)]
    table = schema.to_frame(records)
    table["parser"] = source
    return table


def _expected(tables: list[pd.DataFrame]) -> pd.DataFrame:
    events = schema.concat([t.copy() for t in tables])
    return events.sort_values("ts", kind="stable", na_position="last").reset_index(drop=True)


def test_in_time_order_is_concat_then_stable_sort():
    rng = np.random.default_rng(7)
    tables = [_table(rng, 300, ["b", "a"], "cms"), _table(rng, 0, ["x"], "sfb"),
              _table(rng, 250, ["c", "a", "d"], "expressway"), _table(rng, 40, ["a"], "pcap")]
    expected = _expected(tables)
    got = read.in_time_order(tables)
    assert tables == []
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    for name in schema.FEW_VALUED:
        assert list(got[name].cat.categories) == list(expected[name].cat.categories)
    assert got["ts"].isna().sum() > 0 and got["ts"].tail(got["ts"].isna().sum()).isna().all()


def test_in_time_order_of_tables_unlike_in_columns():
    rng = np.random.default_rng(8)
    one, two = _table(rng, 50, ["a"], "cms"), _table(rng, 60, ["b"], "sfb")
    two = two.drop(columns=["parser"])
    expected = _expected([one, two])
    pd.testing.assert_frame_equal(read.in_time_order([one, two]), expected, check_exact=True)
    assert read.in_time_order([]).empty
