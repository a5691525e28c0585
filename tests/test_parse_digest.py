"""The text-log parsers give exactly the events they gave when the digests were stored: every column
(the record's text included, which the golden files leave out), in order, and what reading said.

Inputs: the logs of the benchmark's generated 1 MB bundle (many shares, both directions, every
kind of record the generator writes) and every golden sample under tests/data. The stored digest of
each input sits beside the input's own: a changed input is said so, not taken for a changed parser.
After a deliberate change of the events: ``python tests/test_parse_digest.py --regen``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
import golden  # noqa: E402
import make_bundle  # noqa: E402

from logcorr.events.parsers import REGISTRY, SNIFF_BYTES, ParseContext, identify  # noqa: E402

STORED = Path(__file__).parent / "data" / "parse_digests.json"
MTIME = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)
GENERATED = ("syslog", "loggingsnapshot_expe01_2026-11-24_14:54:28.txt", "sfbedge01_SIPStack_snooper.txt")


def digest(path: Path) -> dict:
    """sha256 of the input, and of the events (every key, sorted) and the context's account."""
    data = path.read_bytes()
    entry = identify(data[:SNIFF_BYTES])
    ctx = ParseContext(file=path.name, mtime=MTIME, year=golden.YEAR if entry.yearless else None)
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for event in entry.parse(fh, ctx):
            h.update(repr(sorted(event.items())).encode("utf-8", "surrogatepass"))
            n += 1
    h.update(repr((ctx.skipped, sorted(ctx.skip_reasons.items()), ctx.warnings, ctx.warning_count,
                   ctx.notes)).encode("utf-8", "surrogatepass"))
    return {"input": hashlib.sha256(data).hexdigest(), "parser": entry.key, "events": n,
            "digest": h.hexdigest()}


def inputs(folder: Path) -> dict[str, Path]:
    out = {f"generated/{name}": folder / name for name in GENERATED}
    out.update({f"{p.parent.name}/{p.name}": p for p in golden.samples()})
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("digest") / "b"
    make_bundle.build(out, size_mb=1)
    return out


def test_parsers_give_the_stored_events(generated):
    stored = json.loads(STORED.read_text())
    found = inputs(generated)
    assert set(found) == set(stored), "inputs added or gone: regenerate the digests"
    for key, path in found.items():
        now, then = digest(path), stored[key]
        assert now["input"] == then["input"], f"{key}: the input changed; regenerate the digests"
        assert (now["parser"], now["events"]) == (then["parser"], then["events"]), key
        assert now["digest"] == then["digest"], f"{key}: the same events, in order, with their text"


def test_the_digest_sees_a_changed_record_text(generated, tmp_path):
    """A one-byte change inside a SIP message's record text changes the digest."""
    path = generated / "syslog"
    data = path.read_bytes()
    at = data.index(b"Call-ID: ") + len(b"Call-ID: ")
    changed = tmp_path / "syslog"
    changed.write_bytes(data[:at] + (b"X" if data[at:at + 1] != b"X" else b"Y") + data[at + 1:])
    assert digest(changed)["digest"] != digest(path)["digest"]


if __name__ == "__main__" and sys.argv[1:] == ["--regen"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        make_bundle.build(Path(tmp) / "b", size_mb=1)
        result = {key: digest(path) for key, path in sorted(inputs(Path(tmp) / "b").items())}
    STORED.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{len(result)} digests written to {STORED}")
