"""Damaged input never raises: flipped bytes and cut files give events and warnings only."""
from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from logcorr.events.capture import stun
from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER
from logcorr.events.schema import to_frame

DATA = Path(__file__).parent / "data" / "captures"


@pytest.mark.parametrize("name", ["c_tcp_passive_ice.pcap", "ndpi_stun.pcap", "ndpi_stun_msteams_unidir.pcapng"])
def test_mutated_captures_do_not_raise(name: str) -> None:
    original = (DATA / name).read_bytes()
    rnd = random.Random(name)
    for _ in range(30):
        data = bytearray(original)
        for _ in range(rnd.randrange(1, 40)):
            data[rnd.randrange(24, len(data))] = rnd.randrange(256)
        data = data[: rnd.randrange(24, len(data) + 1)]
        ctx = ParseContext(file=name)
        events = list(PARSER.parse(io.BytesIO(bytes(data)), ctx))
        to_frame(events)  # and the events still fit the schema


def test_random_stun_like_bytes_do_not_raise() -> None:
    rnd = random.Random(7)
    for _ in range(2000):
        body = rnd.randbytes(rnd.randrange(0, 80))
        raw = bytes([rnd.randrange(2), rnd.randrange(256)]) + len(body).to_bytes(2, "big") + b"\x21\x12\xa4\x42" + rnd.randbytes(12) + body
        msg = stun.decode(raw)
        assert msg is not None
        stun.summary(msg)
        stun.check_integrity(raw, b"key")
        stun.check_fingerprint(raw)
