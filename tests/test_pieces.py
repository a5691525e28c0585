"""A large text log read in pieces on several cores gives the events of one pass over the whole file.

Cuts are forced much closer than in use (a few kilobytes apart), so that they fall inside SIP
traces, pairing windows and open connections; the Expressway is read with a warm-up long enough
for its pairing window, too short for it, and none at all (then its pieces are read again).
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

from logcorr.events import pieces, rawtext, schema
from logcorr.events.parsers import REGISTRY, ParseContext, identify
from logcorr.events.parsers.text import TextParser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import make_bundle  # noqa: E402

DATA = Path(__file__).parent / "data"
MTIME = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """Logs of many shares (each with its own Call-IDs, ports, connections), as the benchmark makes."""
    out = tmp_path_factory.mktemp("bundle") / "b"
    make_bundle.build(out, size_mb=1)
    return out


def _job(path: Path) -> tuple:
    entry = identify(path.read_bytes()[:65536])
    return (REGISTRY.index(entry), str(path), path.name, dt.timezone.utc, True, MTIME)


def whole(path: Path) -> tuple[pd.DataFrame, dict]:
    job = _job(path)
    ctx = ParseContext(file=path.name, mtime=MTIME)
    with open(path, "rb") as fh:
        table = schema.to_frame(REGISTRY[job[0]].parse(fh, ctx))
    table["parser"] = REGISTRY[job[0]].key  # as events/read.py marks a file's table
    return table, {"skipped": ctx.skipped, "skip_reasons": dict(ctx.skip_reasons), "warnings": ctx.warnings,
                   "warning_count": ctx.warning_count, "notes": ctx.notes}


def in_pieces(path: Path, shares: int, warm_bytes: int | None = None):
    job = _job(path)
    data = path.read_bytes()
    plan = pieces.plan_bytes(data, len(data), REGISTRY[job[0]].parser, shares, warm_bytes)
    assert plan is not None and len(plan) > 1
    results = [pieces.parse_piece(job + (p, k == len(plan) - 1)) for k, p in enumerate(plan)]
    table, facts, again = pieces.join(job, plan, results)
    return table, facts, again, len(plan)


def same(path: Path, shares: int, warm_bytes: int | None = None) -> tuple[int, int]:
    table, facts, again, n = in_pieces(path, shares, warm_bytes)
    expected, expected_facts = whole(path)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    # and so after the bundle's sort, too
    key = ["ts"]
    pd.testing.assert_frame_equal(table.sort_values(key, kind="stable").reset_index(drop=True),
                                  expected.sort_values(key, kind="stable").reset_index(drop=True))
    assert {k: v for k, v in facts.items() if k != "notes"} == \
        {k: v for k, v in expected_facts.items() if k != "notes"}
    assert set(facts["notes"]) == set(expected_facts["notes"])
    return again, n


@pytest.mark.parametrize("name", ["syslog", "loggingsnapshot_expe01_2026-11-24_14:54:28.txt",
                                  "sfbedge01_SIPStack_snooper.txt"])
@pytest.mark.parametrize("shares", [3, 40])
def test_generated_logs_read_in_pieces_as_whole(bundle, name, shares):
    path = bundle / name
    assert path.stat().st_size > 60_000
    same(path, shares)


def test_expressway_pairing_window_across_cuts(bundle):
    path = bundle / "loggingsnapshot_expe01_2026-11-24_14:54:28.txt"
    warmed, n = same(path, 12, warm_bytes=1_000_000)  # a warm-up over two windows: pieces stand
    cold, n = same(path, 12, warm_bytes=0)  # no warm-up: where events are held back, read again
    assert warmed == 0 and 0 < cold < n
    same(path, 12, warm_bytes=3_000)  # a warm-up shorter than the window


def test_cms_connection_table_is_primed(bundle):
    """Most SIP traces name only the remote side: CMS's own address comes from the connection
    record, often far before the cut."""
    path = bundle / "syslog"
    again, n = same(path, 40)
    assert again == 0 and n > 20
    table, _ = whole(path)
    assert (table["proto"] == "sip").sum() > 100


@pytest.mark.parametrize("path", sorted(p for d in ("cms", "expressway", "sfb", "sip")
                                        for p in (DATA / d).glob("*") if p.suffix in (".txt", ".log")
                                        and "xconf" not in p.name), ids=lambda p: p.name)
def test_fixtures_read_in_pieces_as_whole(path):
    job = _job(path)
    if REGISTRY[job[0]].parser.cut_here is None:
        pytest.skip("not a format that is cut")
    data = path.read_bytes()
    plan = pieces.plan_bytes(data, len(data), REGISTRY[job[0]].parser, 30, 2_000)
    if plan is None:
        pytest.skip("no line to cut at")
    same(path, 30, 2_000)


def test_small_or_uncut_files_are_read_whole(bundle):
    entry = identify(b"")
    assert entry is None
    path = bundle / "syslog"
    assert pieces.plan(str(path), REGISTRY[_job(path)[0]].parser, 2) is None  # below SPLIT_BYTES


def test_bundle_read_on_all_cores_as_in_one_process(bundle, monkeypatch):
    """The pool path: files cut in pieces, parsed beside the capture, joined, sorted."""
    from logcorr.events import read

    one = read.read_bundle(bundle)  # a small bundle is read in this process, file by file
    monkeypatch.setattr(read, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(pieces, "SPLIT_BYTES", 100_000)
    monkeypatch.setattr(read.os, "cpu_count", lambda: 3)
    texts = [p for p in bundle.iterdir() if isinstance(REGISTRY[_job(p)[0]].parser, TextParser)]
    cut = [p for p in texts if pieces.plan(str(p), REGISTRY[_job(p)[0]].parser, 3)]
    assert len(cut) == 3  # the CMS, Expressway and SfB logs
    many = read.read_bundle(bundle)
    # the same table and the same text behind each row (each reading keeps its own)
    pd.testing.assert_frame_equal(rawtext.with_raw(many.events), rawtext.with_raw(one.events))
    assert many.sources == one.sources and many.notes == one.notes
