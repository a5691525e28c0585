"""The benchmark's generated bundle: deterministic, and every failure it plants is diagnosed."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from logcorr import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import make_bundle  # noqa: E402


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_planted_failures_are_found_for_their_calls(tmp_path):
    info = make_bundle.build(tmp_path / "a", size_mb=3)
    assert info["copies"] == 16 and len(info["planted"]) == 8
    assert {p["copy"] for p in info["planted"]} >= {0, info["copies"] - 1}
    d = api.diagnose(tmp_path / "a")
    found = {(f.rule, f.call_id) for f in d.findings}
    wanted = {(rule, p["call_id"]) for p in info["planted"] for rule in p["rules"]}
    assert wanted <= found
    # the shares that are not failures are diagnosed as such
    planted = {p["call_id"] for p in info["planted"]}
    assert all(f.call_id in planted for f in d.findings if f.severity == "error")
    shares = [c for c in d.calls if "applicationsharing" in c.media]
    assert len(shares) == info["copies"]
    assert len({c.call_id for c in shares}) == info["copies"]


def test_same_size_same_bytes(tmp_path):
    make_bundle.build(tmp_path / "a", size_mb=3)
    make_bundle.build(tmp_path / "b", size_mb=3)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_the_event_table_holds_no_record_text_but_returns_any(tmp_path):
    """Memory follows the number of events, not the bytes they hold: a bundle's table keeps where
    each record's text is, and gives back exactly what the parser read, for any rows asked."""
    import gc
    import random

    import numpy as np

    from logcorr.events import rawtext
    from logcorr.events.parsers import SNIFF_BYTES, ParseContext, identify
    from logcorr.events.schema import RAW_LIMIT
    from logcorr.intake.archive import Bundle, Limits

    make_bundle.build(tmp_path / "a", size_mb=3)
    events = api.events(tmp_path / "a").events
    assert "raw" not in events.columns and len(events) > 1000
    longest = max(events[c].astype(str).str.len().max() for c in events.columns if events[c].dtype == object
                  and c not in rawtext.REFS)
    texts = rawtext.texts(events)
    assert longest < max(len(t) for t in texts) / 4  # no column holds the records' text

    parsed = []  # what each file's parser gave, read again apart
    with Bundle(tmp_path / "a", Limits()) as bundle:
        for member in bundle.members:
            with open(member.path, "rb") as fh:
                parser = identify(fh.read(SNIFF_BYTES))
            if parser is None:
                continue
            with open(member.path, "rb") as fh:
                for ev in parser.parse(fh, ParseContext(file=member.name, mtime=member.mtime)):
                    parsed.append((ev["file"], ev.get("pos"), ev.get("event"), str(ev.get("raw") or "")[:RAW_LIMIT]))
    table = list(zip(events["file"], events["pos"].astype(object), events["event"], texts))
    assert sorted(table, key=repr) == sorted(parsed, key=repr)
    assert {e for e in events["source"]} >= {"cms", "expressway", "sfb", "pcap"}

    rows = random.Random(7).sample(range(len(events)), 300)  # any rows, in any order, one pass a file
    assert rawtext.texts(events, rows) == [texts[r] for r in rows]
    stun = np.flatnonzero(events["proto"].to_numpy(dtype=object) == "stun")
    assert all(len(bytes.fromhex(t)) >= 20 for t in rawtext.texts(events, stun[:50]))

    folder = events[rawtext.REFS[0]].iloc[0].folder.path
    del events, texts, table
    gc.collect()
    assert not Path(folder).exists()  # the stores go with the last table that refers to them
