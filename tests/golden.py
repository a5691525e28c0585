"""Golden expected events of the text-log parsers: which parser reads a sample, and what is compared.

A sample is ``tests/data/<source>/<name>.txt`` (or ``.log``), one folder per source of the parser
registry; what reading it gives sits beside it in ``<name>.expected.jsonl``: a first line
``{"read": {"parser": ..., "skipped": ..., "skip_reasons": {...}, "warnings": [...]}}`` (the
parser module that sniffed it, the only one, and what reading said), then one JSON object per event (every column but ``file`` and ``raw``; empty ones left
out). Regenerate them all with ``python tests/regen_golden.py`` and review the diff.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from logcorr.events.parsers import REGISTRY, SOURCES  # noqa: E402
from logcorr.events.parsers.base import SNIFF_BYTES, ParseContext  # noqa: E402
from logcorr.events.schema import NAMES, to_frame  # noqa: E402

DATA = ROOT / "tests" / "data"
KINDS = SOURCES  # tests/data/<source>/ holds the samples of that source's parsers
SUFFIXES = (".txt", ".log")
GOLDEN_COLUMNS = tuple(n for n in NAMES if n not in ("file", "raw"))
YEAR = 2024  # the year of samples whose stamps carry none (a leap year: 29 Feb is a real date)


def samples() -> list[Path]:
    return sorted(p for kind in KINDS if (DATA / kind).is_dir() for p in (DATA / kind).iterdir()
                  if p.suffix in SUFFIXES)


def expected_path(sample: Path) -> Path:
    return sample.with_name(sample.stem + ".expected.jsonl")


def sniffing(head: bytes) -> list:
    return [p for p in REGISTRY if p.sniff(head)]


def parse(sample: Path):
    """(registry entry, golden lines, context) for one sample, read by the parser that sniffs it."""
    head = sample.read_bytes()[:SNIFF_BYTES]
    found = sniffing(head)
    if len(found) != 1:
        raise AssertionError(f"{sample.name}: {len(found)} parsers sniff it: {[p for p in found]}")
    entry = found[0]
    ctx = ParseContext(file=f"{sample.parent.name}/{sample.name}", year=YEAR if entry.yearless else None)
    with sample.open("rb") as stream:
        frame = to_frame(entry.parse(stream, ctx))
    said = {"parser": entry.parser.__module__.rsplit(".", 1)[-1], "skipped": ctx.skipped, "skip_reasons": dict(sorted(ctx.skip_reasons.items())),
            "warnings": ctx.warnings}
    return entry, [{"read": said}, *rows(frame)], ctx


def rows(frame) -> list[dict]:
    out = []
    for rec in frame[list(GOLDEN_COLUMNS)].to_dict("records"):
        row = {}
        for key, value in rec.items():
            if key == "ts":
                value = None if value is None or value != value else value.isoformat()
            elif hasattr(value, "item"):
                value = value.item()
            if value is not None and value == value and value != "":
                row[key] = value
            elif key == "ts":
                row[key] = None
        out.append(row)
    return out


def dump(lines: list[dict]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=False) + "\n" for e in lines)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
