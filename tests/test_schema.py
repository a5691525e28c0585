"""The schema module and the contract's event table say the same thing."""
import re
from pathlib import Path

import pandas as pd
import pytest

from logcorr.events import schema

CONTRACT = Path(__file__).parent.parent / "docs" / "CONTRACT.md"
TYPE_OF = {"datetime64[ns, UTC]": "datetime", "str": "str", "int": "int", "Int64": "int"}


def contract_columns() -> list[tuple[str, str]]:
    text = CONTRACT.read_text()
    table = text.split("## The event table", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        m = re.match(r"^\| (`[^|]+`) \| ([^|]+) \|", line)
        if not m:
            continue
        names = re.findall(r"`([a-z_]+)`", m.group(1))
        kind = TYPE_OF[m.group(2).strip()]
        rows.extend((n, kind) for n in names)
    return rows


def test_schema_equals_contract_table():
    assert [(c.name, c.kind) for c in schema.COLUMNS] == contract_columns()


def test_to_frame_types_and_order():
    df = schema.to_frame([{"ts": "2026-11-24T14:53:41.295Z", "source": "cms", "pos": 3, "status": 200}])
    assert list(df.columns) == list(schema.NAMES)
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert str(df["status"].dtype) == "Int64" and df["status"][0] == 200
    assert df["error_code"].isna().all()
    assert df["call_id"][0] == ""


def test_unknown_column_is_refused():
    with pytest.raises(ValueError, match="outside the schema"):
        schema.to_frame([{"ts": None, "colour": "red"}])


def test_raw_is_cut_at_64k():
    df = schema.to_frame([{"raw": "x" * 70000}])
    assert len(df["raw"][0]) == 64 * 1024


def test_empty_frame_has_all_columns():
    df = schema.empty_frame()
    assert len(df) == 0 and list(df.columns) == list(schema.NAMES)
    assert isinstance(df, pd.DataFrame)
