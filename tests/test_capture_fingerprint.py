"""A decoded message's FINGERPRINT verdict, worked out from the attribute walk, is the one
``check_fingerprint`` gives on the message cut after the attribute: right, wrong, misplaced,
repeated, of the wrong size, in messages whose length field lies."""
from __future__ import annotations

import random

from capture_build import attr, stun_message
from logcorr.events.capture import stun

TXN = bytes(range(12))


def expected(raw: bytes, msg: stun.StunMessage) -> bool | None:
    """The verdict as the last FINGERPRINT of a padded walk gets it: ``check_fingerprint`` of the
    message up to that attribute's end (None without one)."""
    verdict, pos = None, stun.HEADER_LEN
    for atype, value in msg.attrs:
        if atype == stun.FINGERPRINT:
            verdict = stun.check_fingerprint(raw[: pos + 4 + len(value)])
        pos += 4 + ((len(value) + 3) & ~3)
    return verdict


def messages(rnd: random.Random):
    for _ in range(3000):
        attrs = [attr(rnd.choice((0x0006, 0x0014, 0x0024, 0x8028, 0x8022)), rnd.randbytes(rnd.randrange(0, 9)))
                 for _ in range(rnd.randrange(0, 4))]
        raw = bytearray(stun_message(rnd.choice((0x0001, 0x0101, 0x0003)), TXN, attrs, fingerprint=rnd.random() < 0.8))
        if rnd.random() < 0.3:
            raw += attr(0x8028, rnd.randbytes(4))  # a second FINGERPRINT, after the length's end
        if rnd.random() < 0.3 and len(raw) > 20:
            raw[rnd.randrange(20, len(raw))] ^= 1 << rnd.randrange(8)
        if rnd.random() < 0.3:
            raw[2:4] = rnd.randrange(0, len(raw) + 8).to_bytes(2, "big")
        yield bytes(raw)


def test_fingerprint_verdict_is_check_fingerprints() -> None:
    seen = {True: 0, False: 0, None: 0}
    for raw in messages(random.Random(5)):
        msg = stun.decode(raw)
        assert msg is not None and not msg.ms_turn
        assert msg.fingerprint_ok is expected(raw, msg), raw.hex()
        seen[msg.fingerprint_ok] += 1
    assert min(seen.values()) > 100
