"""`logcorr events`: the event table as csv, jsonl or parquet.

CSV is what gets opened in a spreadsheet, so a text cell that one would run as a formula is
written with a leading `'` (see `safe`); jsonl and parquet keep every text exactly as it was.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

from .safe import guard_frame


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def write(events: pd.DataFrame, fmt: str, output: Path | None) -> None:
    frame = events.copy()
    if fmt == "parquet":
        frame.to_parquet(output, index=False)
        return
    for column in ("ts", "ts_aligned"):
        if column in frame:
            frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    target = output if output is not None else sys.stdout
    if fmt == "csv":
        guard_frame(frame).to_csv(target, index=False)
    else:
        frame.to_json(target, orient="records", lines=True, force_ascii=False)
        if output is None:
            sys.stdout.write("\n")
