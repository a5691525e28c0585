"""The common frame (Ethernet, IPv4 without options, TCP or UDP), read with one unpack, gives what
the general path through the link layers gives: the same events, warnings and counts, on the real
captures and on copies whose Ethernet, IP and transport headers are damaged or cut."""
from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from logcorr.events.capture import pcapfile
from logcorr.events.capture.decode import Decoder, decode

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(p for p in (DATA / "captures").glob("*.pcap*")) + sorted((DATA / "field").glob("*.pcap*"))
TELLING = (0x00, 0x06, 0x08, 0x11, 0x20, 0x40, 0x45, 0x46, 0x80, 0x86, 0xBF, 0xFF)  # values the tests look at


def records(path: Path) -> list[tuple]:
    with open(path, "rb") as fh:
        return list(pcapfile.records(fh, lambda *a: None))


def damaged(recs: list[tuple], rnd: random.Random) -> list[tuple]:
    out = []
    for frame, ts, linktype, data in recs:
        if rnd.random() < 0.3:
            data = bytearray(data)
            for _ in range(rnd.randrange(1, 4)):
                at = rnd.randrange(12, min(len(data), 60)) if len(data) > 12 else 0
                if at < len(data):
                    data[at] = rnd.choice(TELLING) if rnd.random() < 0.7 else rnd.randrange(256)
            if rnd.random() < 0.2:
                data = data[: rnd.randrange(0, len(data) + 1)]
            data = bytes(data)
        out.append((frame, ts, linktype, data))
    return out


def run(recs: list[tuple]) -> tuple[list[str], list, list]:
    warned, counted = [], []
    events = list(decode(recs, "h", "f", lambda f, t: warned.append((f, t)), lambda *a: counted.append(a)))
    return [repr(sorted(e.items())) for e in events], warned, counted


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_common_frame_reads_as_the_general_path(path: Path, monkeypatch) -> None:
    recs = records(path)
    rnd = random.Random(path.name)
    inputs = [recs] + [damaged(recs, rnd) for _ in range(6)]
    fast = [run(r) for r in inputs]
    monkeypatch.setattr(Decoder, "ipv4", lambda self, frame, ts, data: False)
    assert fast == [run(r) for r in inputs]
    assert any(events for events, _, _ in fast) or path.parent.name == "field"


def edge_frames() -> list[bytes]:
    """Frames at the edges of the common frame's test, built here."""
    from capture_build import ethernet, ipv4, tcp, udp

    a, b = "10.0.0.1", "10.0.0.2"
    stun_like = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\x01" * 12
    out = [
        ethernet(ipv4(a, b, 17, udp(5000, 4789, b""))),  # empty datagram to the VXLAN port
        ethernet(ipv4(a, b, 17, udp(2152, 5000, b""))) + b"\x80" * 6,  # padding that looks like RTP
        ethernet(ipv4(a, b, 17, udp(5000, 4789, b"\x08" + b"\x00" * 7 + stun_like))),
        ethernet(ipv4(a, b, 17, udp(5000, 3478, stun_like))),
        ethernet(ipv4(a, b, 6, tcp(5000, 3478, 1, "S"))),
        ethernet(ipv4(a, b, 6, tcp(5000, 3478, 1, "PA", stun_like))),
        ethernet(ipv4(a, b, 47, b"\x00" * 8)),
    ]
    variants = []
    for frame in out:
        for at, value in ((16, 0), (17, 20), (17, 27), (20, 0x80), (20, 0x40), (20, 0x20), (21, 1), (14, 0x46)):
            changed = bytearray(frame)
            changed[at] = value
            variants.append(bytes(changed))
        variants += [frame[:n] for n in (33, 34, 41, 42, 43, 53)]
    return out + variants


def test_edge_frames_read_as_the_general_path(monkeypatch) -> None:
    recs = [(i + 1, 1_700_000_000_000_000_000 + i, 1, f) for i, f in enumerate(edge_frames())]
    fast = run(recs)
    monkeypatch.setattr(Decoder, "ipv4", lambda self, frame, ts, data: False)
    assert fast == run(recs)
    assert fast[0] and fast[2]  # events, and counted frames


@pytest.mark.parametrize("values", [
    [1_700_000_000_123_456_789, None, -1, 0, 1, (1 << 63) - 1, 1 << 63, 1_700_000_000_000_000_001],
    [None, -5],
    [],
])
def test_times_made_together_are_the_one_by_one_timestamps(values: list) -> None:
    from logcorr.events.capture.decode import stamped, timestamp

    made = stamped([{"ts": v, "pos": i} for i, v in enumerate(values)])
    one_by_one = [timestamp(v) for v in values]
    assert [repr(e["ts"]) for e in made] == [repr(t) for t in one_by_one]
    assert [e["ts"] for e in made] == one_by_one and [e["pos"] for e in made] == list(range(len(values)))
