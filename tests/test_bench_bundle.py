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
