"""Field encapsulations and STUN variants against tshark's reading of the same captures.

tests/data/field/ holds small captures written from the specifications by make_field.py, and
tshark's reading of each (NAME.tshark.csv, made by oracle.sh; tshark is not needed here). Every
STUN, classic STUN and SIP message tshark finds must come out of our decoder with the same type,
transaction id, addresses and innermost IP source; what tshark cannot read (MS-TURN's TCP framing
after pseudo-TLS, a message longer than its datagram) is checked against what the specification
made.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER

DATA = Path(__file__).parent / "data" / "field"
ORACLES = sorted(DATA.glob("*.tshark.csv"))


def run(name: str) -> tuple[list[dict], ParseContext]:
    ctx = ParseContext(file=f"bundle.zip!{name}.pcap")
    events = list(PARSER.parse(io.BytesIO((DATA / f"{name}.pcap").read_bytes()), ctx))
    return events, ctx


def rows(oracle: Path) -> list[dict]:
    with open(oracle, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def values(row: dict, key: str) -> list[str]:
    return [v for v in row[key].split("|") if v] if row[key] else []


def inner_source(row: dict) -> str:
    """The innermost IP source and transport port, as our events write it."""
    v4, v6 = values(row, "ip.src"), values(row, "ipv6.src")
    port = (values(row, "udp.srcport") or values(row, "tcp.srcport"))[-1]
    # a tunnel's inner header comes after the outer one; 6in4 and 4in6 mix the two lists
    if row["_ws.col.Protocol"] and v6 and (not v4 or len(v6) > 1 or "6in4" in row.get("_name", "")):
        return f"[{v6[-1]}]:{port}"
    return f"{v4[-1]}:{port}"


def stun_of(row: dict) -> tuple[list[int], list[str], list[str]]:
    kind = "stun" if row["stun.type"] else "classicstun"
    types = [int(t, 16) for t in values(row, f"{kind}.type")]
    ids = values(row, f"{kind}.id")
    ips, ports = values(row, f"{kind}.att.ipv4"), values(row, f"{kind}.att.port")
    return types, ids, [f"{ip}:{port}" for ip, port in zip(ips, ports)]


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_every_message_tshark_reads_is_ours_too(oracle: Path) -> None:
    name = oracle.name.split(".")[0]
    events, ctx = run(name)
    checked = 0
    for row in rows(oracle):
        row["_name"] = name
        frame = int(row["frame.number"])
        if row["stun.type"] or row["classicstun.type"]:
            types, ids, addresses = stun_of(row)
            for mtype, tid in zip(types, ids):
                mine = [e for e in events if e["proto"] == "stun" and e.get("txn_id") == tid
                        and int(e["raw"][:4], 16) == mtype and e["pos"] <= frame]
                assert mine, f"frame {frame}: 0x{mtype:04x} {tid} missing"
                e = mine[-1]
                assert e["src"] == inner_source(row)
                for address in addresses:
                    assert address in e["summary"], (frame, address, e["summary"])
                if "Packet length is not multiple of 4 bytes" in row["_ws.expert.message"]:
                    assert "malformed: STUN length not a multiple of 4" in e["summary"]
                for bandwidth in values(row, "stun.port.bandwidth") + values(row, "classicstun.att.bandwidth"):
                    assert f"bandwidth: {bandwidth}" in e["summary"]
                checked += 1
        for method, call_id in zip(values(row, "sip.Method"), values(row, "sip.Call-ID")):
            mine = [e for e in events if e["proto"] == "sip" and e["call_id"] == call_id and e["pos"] <= frame]
            assert mine and mine[-1]["method"] == method and mine[-1]["src"] == inner_source(row)
            checked += 1
    if name not in ("ms_turn_tcp443_pseudo_tls", "stun_len_past_datagram", "stun_classic_tcp"):
        assert checked, "tshark read nothing: the oracle is not proving anything"
    # nothing unread goes uncounted, and these captures hold nothing unreadable
    assert ctx.skipped == 0, ctx.skip_reasons


ENCAPSULATIONS = [p.name.split(".")[0] for p in ORACLES if p.name.split("_")[0] in
                  ("gre", "erspan2", "erspan3", "ipip", "gtp", "vxlan", "mpls", "pppoe", "nflog")]


@pytest.mark.parametrize("name", ENCAPSULATIONS)
def test_each_encapsulation_gives_the_inner_exchange(name: str) -> None:
    events, ctx = run(name)
    assert [e["event"] for e in events] == ["Allocate Request", "Allocate Success Response", "OPTIONS"]
    ok = events[1]
    v6 = name == "ipip_6in4"
    assert ok["mapped"] == ("[2001:db8::20]:40001" if v6 else "192.0.2.20:40001")
    assert ok["relayed"] == ("[2001:db8::10]:49153" if v6 else "198.51.100.10:49153")
    assert ctx.warning_count == 0


def test_malformed_stun_is_decoded_flagged_and_counted() -> None:
    events, ctx = run("stun_len106")
    (e,) = events
    assert e["event"] == "Allocate Request" and e["username"] == "u" * 72
    assert e["summary"].endswith("malformed: STUN length not a multiple of 4")
    assert ctx.skipped == 0
    assert ctx.skip_reasons == {"decoded although malformed: STUN length not a multiple of 4": 1}

    (e,), ctx = run("stun_attr_past_end")
    assert e["event"] == "Binding Request" and "malformed: STUN attribute runs past the message end" in e["summary"]
    # tshark does not take this one for STUN: its header promises 8 bytes more than the datagram has
    (e,), ctx = run("stun_len_past_datagram")
    assert e["event"] == "Binding Success Response" and e["mapped"] == "192.0.2.20:40007"
    assert "malformed: STUN length runs past the bytes captured" in e["summary"]
    assert dict(ctx.skip_reasons) == {"decoded although malformed: STUN length runs past the bytes captured": 1}


def test_classic_stun_has_its_rfc3489_addresses() -> None:
    events, _ = run("stun_classic_rfc3489")
    req, res = events
    assert req["txn_id"] == res["txn_id"] == bytes(range(0x10, 0x20)).hex()
    assert req["summary"] == "Binding Request CHANGE-REQUEST: change IP, change port classic STUN (RFC 3489)"
    assert res["mapped"] == "192.0.2.20:40010"
    assert "SOURCE-ADDRESS: 198.51.100.10:3478 CHANGED-ADDRESS: 198.51.100.11:3479" in res["summary"]


def test_classic_stun_over_tcp() -> None:
    """No cookie and no framing: each message is found by its header's length, whole or cut
    across segments, one after another in a segment. tshark 4.0 has no classic STUN on TCP (its
    STUN dissector there needs the cookie), so it shows the segments as plain TCP; the messages are
    checked against what make_field.py wrote, the frames and ports against tshark."""
    import sys

    sys.path.insert(0, str(DATA))
    from make_field import classic_tcp

    events, ctx = run("stun_classic_tcp")
    stun = [e for e in events if e["proto"] == "stun"]
    t1, t2 = bytes(range(0x60, 0x70)).hex(), bytes(range(0x70, 0x80)).hex()
    assert [(e["pos"], e["event"], e["txn_id"], e["src"]) for e in stun] == [
        (4, "Binding Request", t1, "192.0.2.20:40012"),
        (5, "Binding Request", t2, "192.0.2.20:40012"),  # its bytes in frames 5 to 8
        (9, "Binding Success Response", t1, "198.51.100.10:3478"),
        (9, "Binding Success Response", t2, "198.51.100.10:3478"),
    ]
    assert all(e["transport"] == "TCP" and e["summary"].endswith("classic STUN (RFC 3489)") for e in stun)
    assert stun[1]["username"] == "classic-user"
    assert stun[3]["mapped"] == "192.0.2.20:40012" and "CHANGED-ADDRESS: 198.51.100.11:3479" in stun[3]["summary"]
    # the bytes of each direction are the messages, nothing left over or skipped
    payloads = [f[54:] for f in classic_tcp()]
    assert "".join(e["raw"] for e in stun[:2]) == b"".join(payloads[3:8]).hex()
    assert "".join(e["raw"] for e in stun[2:]) == payloads[8].hex()
    assert ctx.skipped == 0 and ctx.warning_count == 0
    oracle = rows(DATA / "stun_classic_tcp.tshark.csv")
    assert [r["_ws.col.Protocol"] for r in oracle] == ["TCP"] * 9
    assert not any(r["classicstun.type"] or r["stun.type"] for r in oracle)
    for e in stun:
        row = oracle[e["pos"] - 1]
        assert e["src"] == f"{row['ip.src']}:{row['tcp.srcport']}" and e["dst"] == f"{row['ip.dst']}:{row['tcp.dstport']}"


def test_classic_stun_over_tcp_a_byte_at_a_time() -> None:
    """The stream's first message is recognised once its last byte has come, then read on."""
    import sys

    sys.path.insert(0, str(DATA))
    from capture_build import pcap_file
    from make_field import Stream, classic_tcp

    client, server = (f[54:] for f in (classic_tcp()[3], classic_tcp()[8]))
    second = b"".join(f[54:] for f in classic_tcp()[4:8])
    st = Stream(("192.0.2.20", 40014), ("198.51.100.10", 3478)).handshake()
    st.send(0, second + client, size=1).send(1, server, size=1)  # 36 bytes first: past the 32-byte tail
    data = pcap_file([(1_700_000_000_000_000_000 + i, f) for i, f in enumerate(st.frames)])
    ctx = ParseContext(file="x.pcap")
    stun = [e for e in PARSER.parse(io.BytesIO(data), ctx) if e["proto"] == "stun"]
    first = 4  # frame of the first payload byte
    assert len(second) == 36 and stun[0]["username"] == "classic-user"
    assert [(e["event"], e["pos"]) for e in stun] == [
        ("Binding Request", first), ("Binding Request", first + len(second)),
        ("Binding Success Response", first + len(client + second)),
        ("Binding Success Response", first + len(client + second) + len(server) // 2)]
    assert ctx.skipped == 0 and ctx.warning_count == 0


def test_a_stream_that_only_looks_like_classic_stun_is_not_taken_for_it() -> None:
    """A classic header whose attributes are not RFC 3489's, or whose length does not end on an
    attribute, is no evidence: the connection is not followed."""
    import sys

    sys.path.insert(0, str(DATA))
    from capture_build import pcap_file
    from make_field import Stream

    bogus = bytes.fromhex("0001000c") + bytes(16) + bytes.fromhex("7f000004") + b"abcdefgh"  # attribute 0x7f00
    cut = bytes.fromhex("01010010") + bytes(16) + bytes.fromhex("00010008") + bytes(8) + bytes.fromhex("00040008")
    st = Stream(("192.0.2.20", 40013), ("198.51.100.10", 3478)).send(0, bogus).send(1, cut)
    data = pcap_file([(1_700_000_000_000_000_000 + i, f) for i, f in enumerate(st.frames)])
    ctx = ParseContext(file="x.pcap")
    assert [e for e in PARSER.parse(io.BytesIO(data), ctx) if e["proto"] == "stun"] == []


def test_ms_turn_attributes() -> None:
    events, _ = run("ms_turn_udp")
    first, challenge, signed, ok = events
    assert first["summary"] == ("Allocate Request bandwidth: 12000 MS-SERVICE-QUALITY: video, best effort "
                                "MS-TURN (MS-VERSION 2)")
    assert challenge["error_code"] == 401 and challenge["realm"] == "rtcmedia"
    assert "MS-SEQUENCE-NUMBER: 1" in signed["summary"] and signed["username"] == "user-token"
    assert ok["mapped"] == "192.0.2.20:40020" and "MAPPED-ADDRESS: 198.51.100.10:49170" in ok["summary"]


def test_ms_turn_over_tcp_443_with_pseudo_tls() -> None:
    events, ctx = run("ms_turn_tcp443_pseudo_tls")
    tls = [(e["pos"], e["summary"]) for e in events if e["event"] == "pseudo-tls"]
    # tshark reads the two handshake records (frames 4 and 5) and nothing after them
    oracle = {int(r["frame.number"]): r["tls.handshake.type"] for r in rows(DATA / "ms_turn_tcp443_pseudo_tls.tshark.csv")}
    assert oracle[4] == "1" and oracle[5] == "2|14"
    assert tls == [(4, "MS-TURN pseudo-TLS ClientHello 192.0.2.20:50443 -> 198.51.100.10:443"),
                   (5, "MS-TURN pseudo-TLS ServerHello + ServerHelloDone 198.51.100.10:443 -> 192.0.2.20:50443")]
    stun = [(e["pos"], e["event"], e["txn_id"]) for e in events if e["proto"] == "stun"]
    assert stun == [
        (6, "Allocate Request", bytes(range(0x40, 0x50)).hex()),
        (7, "Allocate Error Response", bytes(range(0x40, 0x50)).hex()),
        (8, "Allocate Request", bytes(range(0x50, 0x60)).hex()),
        (9, "Allocate Success Response", bytes(range(0x50, 0x60)).hex()),
        (10, "Binding Request", "a9" * 12),
    ]
    assert all("(MS-TURN TCP framing" in e["summary"] for e in events if e["proto"] == "stun")
    assert events[-1]["summary"].endswith("(MS-TURN TCP framing, end-to-end data)")
    assert ctx.warning_count == 0 and ctx.skipped == 0


def test_streams_sent_a_byte_at_a_time() -> None:
    events, _ = run("tcp_one_byte_turn")
    assert [(e["event"], e["pos"]) for e in events if e["proto"] == "stun"] == [
        ("Allocate Request", 4), ("Allocate Success Response", 4 + 44)]  # one frame a byte
    events, _ = run("tcp_one_byte_sip")
    (sip,) = [e for e in events if e["proto"] == "sip"]
    assert sip["event"] == sip["method"] == "REGIStER" and sip["call_id"] == "field-options@192.0.2.20"


def test_a_turn_stream_a_byte_at_a_time_is_linear() -> None:
    import sys
    import time

    sys.path.insert(0, str(DATA))
    from make_field import Stream, allocate_pair

    stream = Stream(("192.0.2.20", 40040), ("198.51.100.10", 3478)).handshake()
    messages = b"".join(allocate_pair(i % 50)[0][4] for i in range(400))  # 17,600 bytes, 400 messages
    stream.send(0, messages, size=1)
    from capture_build import pcap_file

    data = pcap_file([(1_700_000_000_000_000_000 + i, f) for i, f in enumerate(stream.frames)])
    started = time.perf_counter()
    ctx = ParseContext(file="one-byte.pcap")
    events = list(PARSER.parse(io.BytesIO(data), ctx))
    assert time.perf_counter() - started < 6  # about 1 s here; a rescan per byte would be minutes
    assert sum(e["event"] == "Allocate Request" for e in events) == 400
    assert ctx.warning_count == 0
