"""The schema module and the contract's event table say the same thing."""
import re
from pathlib import Path

import pandas as pd
import pytest

from logcorr.events import schema

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("rel", ["docs/CONTRACT.md", "rules/schema.json"])
def test_derived_files_are_fresh(rel):
    files = schema.derived_files(ROOT)
    now, want = files[ROOT / rel]
    assert now == want, "run: python -m logcorr.events.schema --write"


def test_contract_table_lists_every_column_with_its_type():
    text = (ROOT / "docs" / "CONTRACT.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", text.split(schema.TABLE_BEGIN, 1)[1], re.M)
    assert [(n, t.strip()) for n, t in rows] == [(c.name, schema.TYPE_NAMES[c.kind]) for c in schema.COLUMNS]


def test_stale_file_is_reported_and_rewritten(tmp_path, capsys):
    for rel in ("docs/CONTRACT.md", "rules/schema.json"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text((ROOT / rel).read_text())
    contract = tmp_path / "docs" / "CONTRACT.md"
    contract.write_text(contract.read_text().replace("| `ts` |", "| `time` |"))
    assert schema.main(["--root", str(tmp_path)]) == 1
    assert "CONTRACT.md: stale" in capsys.readouterr().out
    assert schema.main(["--root", str(tmp_path), "--write"]) == 0
    assert schema.main(["--root", str(tmp_path)]) == 0
    assert contract.read_text() == (ROOT / "docs" / "CONTRACT.md").read_text()


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
