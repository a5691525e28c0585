"""The pcap record loop, media test included, against a plain reader written here: the same
records, frame numbers and warnings for every cut of a mixed file, both byte orders, whatever the
read size."""
from __future__ import annotations

import io
import struct

import pytest

from capture_build import ethernet, ipv4, pcap_file, tcp, udp
from logcorr.events.capture import pcapfile

T0 = 1_700_000_000_000_000_000
RTP = b"\x80\x60\x00\x01" + b"\x00" * 40


def frames() -> list[bytes]:
    """Media and what is not media: RTP over UDP, RTP in a fragment, behind IP options, with Don't
    Fragment, over TCP, a STUN-like and an 0xFF first byte, a frame too short for the test, ARP."""
    a, b = "10.0.0.1", "10.0.0.2"
    rtp = ethernet(ipv4(a, b, 17, udp(5000, 6000, RTP)))
    fragment = bytearray(rtp)
    fragment[20] = 0x20  # more fragments
    options = bytearray(ethernet(ipv4(a, b, 17, b"\x01\x01\x01\x01" + udp(5000, 6000, RTP))))
    options[14] = 0x46
    dont_fragment = bytearray(rtp)
    dont_fragment[20] = 0x40
    return [
        rtp, bytes(fragment), bytes(options), bytes(dont_fragment),
        ethernet(ipv4(a, b, 6, tcp(5000, 6000, 1, "PA", RTP))),
        ethernet(ipv4(a, b, 17, udp(5000, 3478, b"\x00\x01" + b"\x00" * 30))),
        ethernet(ipv4(a, b, 17, udp(5000, 6000, b"\xff" + RTP))),
        rtp[:42], rtp[:43], b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28, rtp,
    ]


def plain(data: bytes, mask: int) -> tuple[list, list]:
    """Every record in file order, media dropped by the same test; warnings as the reader words them."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    mult = 1 if data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1000
    out, warned = [], []
    p, frame = 24, 0
    while p < len(data):
        if p + 16 > len(data):
            warned.append((frame + 1, f"truncated record header ({len(data) - p} of 16 bytes) at the end of the file"))
            break
        sec, frac, incl, _ = struct.unpack_from(endian + "IIII", data, p)
        if p + 16 + incl > len(data):
            warned.append((frame + 1, f"truncated record: {len(data) - p - 16} of {incl} bytes at the end of the file"))
            break
        frame += 1
        rec = data[p + 16 : p + 16 + incl]
        p += 16 + incl
        media = (len(rec) > 42 and rec[12:15] == b"\x08\x00\x45" and rec[23] == 17
                 and rec[20:22] in (b"\x00\x00", b"\x40\x00") and 0x80 <= rec[42] < 0xFF)
        if not (media and frame & mask):
            out.append((frame, sec * 1_000_000_000 + frac * mult, 1, rec))
    return out, warned


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_every_cut_gives_the_plain_readers_records(monkeypatch, big: bool, chunk: int) -> None:
    monkeypatch.setattr(pcapfile, "CHUNK", chunk)
    data = pcap_file([(T0 + i * 1000, f) for i, f in enumerate(frames())], big=big)
    for mask in (pcapfile.MAX_BLOCK - 1, 2, 0):
        kept_media = False
        for cut in range(24, len(data) + 1):
            warned: list = []
            got = list(pcapfile.records(io.BytesIO(data[:cut]), lambda f, t: warned.append((f, t)), media_mask=mask))
            assert (got, warned) == plain(data[:cut], mask), (mask, cut)
            kept_media |= any(r[3] == frames()[0] for r in got)
        assert kept_media == (mask != pcapfile.MAX_BLOCK - 1)  # frame 1 is media: dropped only when its bit is set
