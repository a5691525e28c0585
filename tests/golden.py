"""Golden expected events of the log parsers: which parser reads a sample, and what is compared.

A sample is ``tests/data/<kind>/<name>.txt``; its expected events sit beside it in
``<name>.expected.jsonl`` (one JSON object per event, the columns below). Regenerate them all with
``python tests/regen_golden.py`` and review the diff.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from logcorr.events.parsers import REGISTRY  # noqa: E402
from logcorr.events.parsers.base import SNIFF_BYTES, ParseContext  # noqa: E402
from logcorr.events.schema import to_frame  # noqa: E402

DATA = ROOT / "tests" / "data"
KINDS = ("expressway", "sfb", "sip")
# the log parsers of this module set, most specific first
PARSERS = REGISTRY  # every parser: a sample must be sniffed by its own one only
GOLDEN_COLUMNS = (
    "ts", "source", "host", "pos", "proto", "event", "direction", "src", "dst", "transport",
    "call_id", "cseq", "method", "reason", "status", "sdp_media", "relay_candidates",
    "ms_diagnostics", "relayed", "summary",
)


def samples() -> list[Path]:
    return sorted(p for kind in KINDS for p in (DATA / kind).glob("*.txt"))


def expected_path(sample: Path) -> Path:
    return sample.with_name(sample.stem + ".expected.jsonl")


def sniffing(head: bytes) -> list:
    return [p for p in PARSERS if p.sniff(head)]


def parse(sample: Path):
    """(parser, events as JSON-ready dicts, context) for one sample, read by the parser that sniffs it."""
    head = sample.read_bytes()[:SNIFF_BYTES]
    found = sniffing(head)
    if len(found) != 1:
        raise AssertionError(f"{sample.name}: {len(found)} parsers sniff it: {[p for p in found]}")
    parser = found[0]
    ctx = ParseContext(file=f"{sample.parent.name}/{sample.name}")
    with sample.open("rb") as stream:
        frame = to_frame(parser.parse(stream, ctx))
    return parser, rows(frame), ctx


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


def dump(events: list[dict]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=False) + "\n" for e in events)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
