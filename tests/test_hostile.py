"""Damaged and hostile input: every parser reads what it can and never raises."""
import io
import random
from pathlib import Path

import pytest

from logcorr.events.parsers import REGISTRY
from logcorr.events.parsers.base import ParseContext
from logcorr.events.read import read_bundle

DATA = Path(__file__).parent / "data"
SAMPLES = {
    "cms": DATA / "cms" / "shareok-cms01-syslog.log",
    "pcap": next((DATA / "captures").rglob("c_tcp_passive_ice.pcap")),
}


def mutations(data: bytes, seed: int):
    rnd = random.Random(seed)
    yield data[: len(data) // 2]  # cut in the middle
    yield data[: len(data) // 3] + data[len(data) // 2:]  # a hole
    b = bytearray(data)
    for _ in range(max(1, len(b) // 200)):  # flipped bytes
        b[rnd.randrange(len(b))] = rnd.randrange(256)
    yield bytes(b)
    yield data[:64] + bytes(rnd.randrange(256) for _ in range(4096))  # right header, noise after
    yield data.replace(b"\n", b"\r\n")[:5000]


@pytest.mark.parametrize("parser", REGISTRY, ids=[p.name + str(i) for i, p in enumerate(REGISTRY)])
def test_parsers_never_raise_on_damaged_input(parser):
    for kind, path in SAMPLES.items():
        for i, data in enumerate(mutations(path.read_bytes(), seed=len(kind))):
            ctx = ParseContext(file=f"{kind}-{i}")
            events = list(parser.parse(io.BytesIO(data), ctx))
            assert isinstance(events, list)


def test_damaged_capture_keeps_what_precedes_the_damage(tmp_path):
    data = SAMPLES["pcap"].read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    whole = read_bundle(SAMPLES["pcap"])
    part = read_bundle(cut)
    assert 0 < len(part.events) < len(whole.events)
    assert part.sources[0].warnings  # the damage is said


def test_binary_noise_is_not_read(tmp_path):
    noise = tmp_path / "noise.bin"
    noise.write_bytes(random.Random(7).randbytes(100_000))
    result = read_bundle(noise)
    assert result.sources == [] and result.skipped[0].reason.startswith("not a log or capture")
