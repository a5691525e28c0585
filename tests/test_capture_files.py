"""Capture file formats and link layers, built in the test: every reader path must find the STUN."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from capture_build import (
    attr, ethernet, ipv4, ipv6, null_loopback, pcap_file, pcapng_file, sll, sll2, stun_message, udp,
    xor_address,
)
from logcorr.events.capture import pcapfile
from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER

T0 = 1_700_000_000_123_456_789  # ns
TXN = bytes.fromhex("00112233445566778899aabb")


def request(txn: bytes = TXN) -> bytes:
    return stun_message(0x0003, txn, [attr(0x0019, b"\x06\0\0\0")])


def response(txn: bytes = TXN) -> bytes:
    return stun_message(0x0103, txn, [attr(0x0016, xor_address("10.48.54.229", 24726, txn))])


def run(data: bytes, name: str = "cap.pcap") -> tuple[list[dict], ParseContext]:
    ctx = ParseContext(file=f"case.zip!{name}")
    return list(PARSER.parse(io.BytesIO(data), ctx)), ctx


def two_packets(wrap, v6: bool = False) -> list[tuple[int, bytes]]:
    ip = ipv6 if v6 else ipv4
    a, b = ("2001:db8::20", "2001:db8::10") if v6 else ("10.0.0.20", "10.0.0.10")
    return [
        (T0, wrap(ip(a, b, 17, udp(40000, 3478, request())))),
        (T0 + 1_000, wrap(ip(b, a, 17, udp(3478, 40000, response())))),
    ]


@pytest.mark.parametrize("ns", [False, True])
@pytest.mark.parametrize("big", [False, True])
def test_pcap_both_byte_orders_and_resolutions(ns: bool, big: bool) -> None:
    data = pcap_file(two_packets(ethernet), ns=ns, big=big)
    assert PARSER.sniff(data[:64])
    events, ctx = run(data)
    assert [e["event"] for e in events] == ["Allocate Request", "Allocate Success Response"]
    assert [e["pos"] for e in events] == [1, 2]
    expected = pd.Timestamp(T0 if ns else T0 // 1000 * 1000, unit="ns", tz="UTC")
    assert events[0]["ts"] == expected
    assert events[0]["src"] == "10.0.0.20:40000" and events[1]["relayed"] == "10.48.54.229:24726"
    assert events[0]["host"] == "cap.pcap" and events[0]["file"] == "case.zip!cap.pcap"
    assert ctx.warning_count == 0


@pytest.mark.parametrize("wrap, linktype", [
    (ethernet, 1),
    (lambda p: ethernet(p, vlans=(100,)), 1),
    (lambda p: ethernet(p, vlans=(100, 200)), 1),
    (sll, 113),
    (sll2, 276),
    (lambda p: p, 101),
    (lambda p: p, 12),
    (lambda p: p, 228),
    (null_loopback, 0),
    (lambda p: null_loopback(p, big=True), 108),
], ids=["eth", "vlan", "qinq", "sll", "sll2", "raw101", "raw12", "ipv4", "null", "loop"])
def test_link_types(wrap, linktype: int) -> None:
    events, ctx = run(pcap_file(two_packets(wrap), linktype=linktype))
    assert [e["txn_id"] for e in events] == [TXN.hex()] * 2
    assert ctx.warning_count == 0


@pytest.mark.parametrize("wrap, linktype", [(ethernet, 1), (sll2, 276), (lambda p: p, 229), (null_loopback, 0)])
def test_ipv6(wrap, linktype: int) -> None:
    events, _ = run(pcap_file(two_packets(wrap, v6=True), linktype=linktype))
    assert [e["src"] for e in events] == ["[2001:db8::20]:40000", "[2001:db8::10]:3478"]


def test_unsupported_link_type_is_one_warning() -> None:
    events, ctx = run(pcap_file(two_packets(ethernet), linktype=147))
    assert events == [] and ctx.warning_count == 1 and "147" in ctx.warnings[0]
    assert ctx.skipped == 2 and ctx.skip_reasons == {"unsupported link type 147 (user 0)": 2}


def test_pcapng_two_interfaces_with_their_own_resolution() -> None:
    pkts = two_packets(lambda p: p)
    eth = two_packets(ethernet)
    data = pcapng_file(
        [(101, None), (1, 9)],  # microseconds (default), nanoseconds
        [(0, T0 // 1000, pkts[0][1]), (1, T0 + 5_000, eth[1][1])],
    )
    assert PARSER.sniff(data[:64])
    events, ctx = run(data, "cap.pcapng")
    assert [e["event"] for e in events] == ["Allocate Request", "Allocate Success Response"]
    assert events[0]["ts"] == pd.Timestamp(T0 // 1000 * 1000, unit="ns", tz="UTC")
    assert events[1]["ts"] == pd.Timestamp(T0 + 5_000, unit="ns", tz="UTC")
    assert ctx.warning_count == 0


def test_pcapng_big_endian_and_binary_resolution() -> None:
    pkts = two_packets(ethernet)
    data = pcapng_file([(1, 0x80 | 10)], [(0, (T0 // 1_000_000_000) << 10, pkts[0][1])], big=True)
    events, _ = run(data, "cap.pcapng")
    assert events[0]["ts"] == pd.Timestamp(T0 // 1_000_000_000, unit="s", tz="UTC")


def test_pcapng_packet_on_an_undeclared_interface_is_skipped_with_a_warning() -> None:
    pkts = two_packets(ethernet)
    data = pcapng_file([(1, None)], [(0, 1, pkts[0][1]), (3, 2, pkts[1][1])])
    events, ctx = run(data, "cap.pcapng")
    assert len(events) == 1 and ctx.warning_count == 1 and "interface 3" in ctx.warnings[0]


@pytest.mark.parametrize("cut", [5, 17, 30])
def test_truncated_pcap_keeps_what_precedes_the_damage(cut: int) -> None:
    data = pcap_file(two_packets(ethernet))
    events, ctx = run(data[:-cut])
    assert [e["pos"] for e in events] == [1]
    assert ctx.warning_count == 1 and "truncated" in ctx.warnings[0]


def test_truncated_pcapng() -> None:
    pkts = two_packets(ethernet)
    data = pcapng_file([(1, None)], [(0, 1, pkts[0][1]), (0, 2, pkts[1][1])])
    events, ctx = run(data[:-9], "cap.pcapng")
    assert len(events) == 1 and ctx.warning_count == 1 and "truncated" in ctx.warnings[0]


def test_absurd_record_length_stops_reading() -> None:
    data = bytearray(pcap_file(two_packets(ethernet)))
    second = 24 + 16 + len(two_packets(ethernet)[0][1])
    data[second + 8 : second + 12] = (50_000_000).to_bytes(4, "little")
    events, ctx = run(bytes(data))
    assert len(events) == 1 and "exceeds" in ctx.warnings[0]


def test_sniff() -> None:
    assert not PARSER.sniff(b"2017-08-17 06:03:51.966 INFO something")
    assert not PARSER.sniff(b"")
    assert pcapfile.kind(pcap_file([], ns=True, big=True)) == "pcap"


def test_records_stream_in_chunks(monkeypatch) -> None:
    monkeypatch.setattr(pcapfile, "CHUNK", 7)  # records straddle every read
    frames = [(T0 + i, ethernet(ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"x" * i)))) for i in range(50)]
    recs = list(pcapfile.records(io.BytesIO(pcap_file(frames)), lambda *a: None))
    assert [r[0] for r in recs] == list(range(1, 51))
    assert [r[3] for r in recs] == [f[1] for f in frames]


def test_pcapng_simple_packet_block_tsoffset_and_a_second_section() -> None:
    import struct

    from capture_build import _block

    pkts = two_packets(ethernet)
    # section 1: interface with if_tsoffset 100 s, one EPB; then an SPB (no time)
    idb_opts = struct.pack("<HH", 14, 8) + struct.pack("<q", 100) + struct.pack("<HH", 0, 0)
    first = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    first += _block(1, struct.pack("<HHI", 1, 0, 0) + idb_opts)
    first += _block(6, struct.pack("<IIIII", 0, 0, 5_000_000, len(pkts[0][1]), len(pkts[0][1])) + pkts[0][1])
    first += _block(3, struct.pack("<I", len(pkts[1][1])) + pkts[1][1])
    second = pcapng_file([(1, 9)], [(0, T0, pkts[0][1])], big=True)  # big-endian section
    events, ctx = run(first + second, "cap.pcapng")
    assert [e["pos"] for e in events] == [1, 2, 3]
    assert events[0]["ts"] == pd.Timestamp(105, unit="s", tz="UTC")
    assert events[1]["ts"] is None and events[1]["event"] == "Allocate Success Response"
    assert events[2]["ts"] == pd.Timestamp(T0, unit="ns", tz="UTC")
    assert ctx.warning_count == 0


def test_ipv6_extension_header_and_ipv4_options() -> None:
    import struct

    inner = udp(40000, 3478, request())
    hop_by_hop = bytes([17, 0]) + b"\x01\x04\0\0\0\0"  # next header UDP, 8 bytes
    v6 = ipv6("2001:db8::20", "2001:db8::10", 0, hop_by_hop + inner)
    v4 = bytearray(ipv4("10.0.0.20", "10.0.0.10", 17, inner))
    opts = b"\x01\x01\x01\x00"  # NOP NOP NOP EOL
    v4 = bytes([0x46]) + v4[1:2] + struct.pack("!H", 24 + len(inner)) + v4[4:20] + opts + v4[20:]
    events, _ = run(pcap_file([(T0, ethernet(v6)), (T0, ethernet(v4, vlans=(7,)))]))
    assert [e["src"] for e in events] == ["[2001:db8::20]:40000", "10.0.0.20:40000"]


def fragments(packet: bytes, size: int) -> list[bytes]:
    """IPv4 fragments of ``packet`` carrying ``size`` payload bytes each (a multiple of 8)."""
    import struct

    header, payload = packet[:20], packet[20:]
    out = []
    for off in range(0, len(payload), size):
        piece = payload[off : off + size]
        more = 0x2000 if off + size < len(payload) else 0
        h = bytearray(header)
        h[2:4] = struct.pack("!H", 20 + len(piece))
        h[6:8] = struct.pack("!H", more | (off // 8))
        out.append(bytes(h) + piece)
    return out


def test_ip_fragments_are_reassembled() -> None:
    txn = bytes(range(12))
    big = stun_message(0x0001, txn, [attr(0x0006, b"u" * 400), attr(0x8022, b"s" * 900)])
    packet = ipv4("10.0.0.20", "10.0.0.10", 17, udp(40000, 3478, big))
    frags = fragments(packet, 504)
    assert len(frags) == 3
    other = ethernet(ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, b"\x80" * 20)))
    order = [ethernet(frags[2]), other, ethernet(frags[0]), ethernet(frags[1])]
    events, ctx = run(pcap_file([(T0 + i, f) for i, f in enumerate(order)]))
    assert len(events) == 1 and events[0]["txn_id"] == txn.hex() and events[0]["username"] == "u" * 400
    assert events[0]["pos"] == 3  # the frame of the first fragment
    lone = run(pcap_file([(T0, ethernet(frags[1]))]))[0]
    assert lone == []  # a fragment alone is nothing
