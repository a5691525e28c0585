"""TCP: STUN and SIP found however the stream is segmented; bound connections; gaps warned."""
from __future__ import annotations

import io

from capture_build import attr, ethernet, ipv4, pcap_file, stun_message, tcp, udp, xor_address
from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER

C, T, P = "10.0.0.20", "10.0.0.10", "10.0.0.30"
T0 = 1_600_000_000_000_000_000


def txn(i: int) -> bytes:
    return i.to_bytes(12, "big")


def allocate(i: int) -> bytes:
    return stun_message(0x0003, txn(i), [attr(0x0019, b"\x06\0\0\0"), attr(0x0006, b"turn")])


def run(frames: list[bytes]) -> tuple[list[dict], ParseContext]:
    data = pcap_file([(T0 + i * 1000, f) for i, f in enumerate(frames)])
    ctx = ParseContext(file="x.pcap")
    return list(PARSER.parse(io.BytesIO(data), ctx)), ctx


class Flow:
    """One TCP connection C:sport -> T:dport, with sequence numbers kept for both sides."""

    def __init__(self, sport: int = 50000, dport: int = 3478, a: str = C, b: str = T) -> None:
        self.a, self.b, self.sport, self.dport = a, b, sport, dport
        self.seq = {0: 1000, 1: 9000}

    def syn(self) -> list[bytes]:
        out = [self.pkt(0, "S", b""), self.pkt(1, "SA", b"")]
        self.seq[0] += 1
        self.seq[1] += 1
        return out + [self.pkt(0, "A", b"")]

    def pkt(self, side: int, flags: str, payload: bytes, seq: int | None = None) -> bytes:
        src, dst = (self.a, self.b) if side == 0 else (self.b, self.a)
        sp, dp = (self.sport, self.dport) if side == 0 else (self.dport, self.sport)
        return ethernet(ipv4(src, dst, 6, tcp(sp, dp, self.seq[side] if seq is None else seq, flags, payload)))

    def send(self, side: int, payload: bytes, flags: str = "PA") -> bytes:
        out = self.pkt(side, flags, payload)
        self.seq[side] += len(payload)
        return out

    def segments(self, side: int, data: bytes, cuts: list[int]) -> list[bytes]:
        """``data`` cut at the given offsets, in order."""
        base = self.seq[side]
        edges = [0] + cuts + [len(data)]
        out = [self.pkt(side, "PA", data[x:y], seq=base + x) for x, y in zip(edges, edges[1:])]
        self.seq[side] += len(data)
        return out


def stun_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["proto"] == "stun"]


def test_one_message_over_three_segments_and_three_in_one() -> None:
    f = Flow()
    one = allocate(1)
    three = allocate(2) + allocate(3) + allocate(4)
    frames = f.syn() + f.segments(0, one, [3, 30]) + [f.send(0, three)]
    events, ctx = run(frames)
    st = stun_events(events)
    assert [e["txn_id"] for e in st] == [txn(i).hex() for i in (1, 2, 3, 4)]
    assert st[0]["pos"] == 4  # the frame holding the first byte
    assert [e["pos"] for e in st[1:]] == [7, 7, 7]
    opened = [e for e in events if e["event"] == "open"]
    assert len(opened) == 1 and opened[0]["pos"] == 1 and opened[0]["src"] == "10.0.0.20:50000"
    assert ctx.warning_count == 0


def test_out_of_order_and_retransmitted_segments() -> None:
    f = Flow()
    data = allocate(1) + allocate(2)
    segs = f.segments(0, data, [10, 40, 70])
    frames = f.syn() + [segs[1], segs[0], segs[0], segs[3], segs[2], segs[2], segs[3]]
    events, ctx = run(frames)
    st = stun_events(events)
    assert [e["txn_id"] for e in st] == [txn(1).hex(), txn(2).hex()]
    assert st[0]["pos"] == 5  # segs[0] arrived in frame 5
    assert ctx.warning_count == 0


def test_overlapping_retransmission_with_new_bytes() -> None:
    f = Flow()
    data = allocate(1) + allocate(2)
    base = f.seq[0]
    frames = f.syn() + [
        f.pkt(0, "PA", data[:30], seq=base),
        f.pkt(0, "PA", data[10:60], seq=base + 10),  # 20 old bytes, 30 new
        f.pkt(0, "PA", data[60:], seq=base + 60),
    ]
    events, ctx = run(frames)
    assert [e["txn_id"] for e in stun_events(events)] == [txn(1).hex(), txn(2).hex()]


def test_gap_is_a_warning_and_decoding_resumes() -> None:
    f = Flow()
    a, b, c = allocate(1), allocate(2), allocate(3)
    base = f.seq[0]
    frames = f.syn() + [
        f.pkt(0, "PA", a, seq=base),
        # b never captured
        f.pkt(0, "PA", c, seq=base + len(a) + len(b)),
        f.pkt(0, "FA", b"", seq=base + len(a) + len(b) + len(c)),
    ]
    events, ctx = run(frames)
    assert [e["txn_id"] for e in stun_events(events)] == [txn(1).hex(), txn(3).hex()]
    assert ctx.warning_count == 1 and f"{len(b)} bytes never captured" in ctx.warnings[0]


def test_uninteresting_tcp_leaves_no_events_and_no_state() -> None:
    f = Flow(sport=50001, dport=443)
    frames = f.syn() + [f.send(0, b"\x16\x03\x01" + b"x" * 200), f.send(1, b"y" * 300)]
    frames += [f.send(0, b"", flags="FA"), f.send(1, b"", flags="FA")]
    events, ctx = run(frames)
    assert events == [] and ctx.warning_count == 0


def test_connection_bind_turns_the_connection_into_a_framed_data_leg() -> None:
    ctl = Flow(sport=40557)
    data = Flow(sport=41325)
    cid = (0x5688B600).to_bytes(4, "big")
    attempt = stun_message(0x001C, txn(5), [attr(0x0012, xor_address(P, 51001, txn(5))), attr(0x002A, cid)])
    bind = stun_message(0x000B, txn(6), [attr(0x002A, cid)])
    bind_ok = stun_message(0x010B, txn(6), [])
    check = stun_message(0x0001, txn(7), [attr(0x0006, b"cmsU:skyP"), attr(0x0025, b"")])
    check_ok = stun_message(0x0101, txn(7), [attr(0x0020, xor_address(P, 51001, txn(7)))])
    rtp = b"\x80\x60" + b"\0" * 30

    def framed(msg: bytes) -> bytes:
        return len(msg).to_bytes(2, "big") + msg

    frames = ctl.syn() + [ctl.send(0, allocate(1)), ctl.send(1, attempt)]
    frames += data.syn() + [data.send(0, bind), data.send(1, bind_ok + framed(check)[:10])]
    frames += [data.send(1, framed(check)[10:] + framed(rtp)), data.send(0, framed(check_ok) + framed(rtp))]
    frames += [data.send(1, b"", flags="RA")]
    events, ctx = run(frames)
    names = [(e["event"], e["src"]) for e in events]
    assert ("open", "10.0.0.20:41325") in names
    checks = [e for e in events if e.get("txn_id") == txn(7).hex()]
    assert [e["event"] for e in checks] == ["Binding Request", "Binding Success Response"]
    assert all("bound connection CID 0x5688b600" in e["summary"] for e in checks)
    assert checks[0]["pos"] == 10  # first byte of the check is in the bind-success segment
    assert checks[1]["mapped"] == "10.0.0.30:51001"
    ok = next(e for e in events if e["event"] == "ConnectionBind Success Response")
    assert ok["connection_id"] == 0x5688B600
    media = [e for e in events if e["event"] == "media"]
    assert sorted(e["summary"].split(": ")[1] for e in media) == ["1 frames, 32 B (bound connection CID 0x5688b600)"] * 2
    assert [e["event"] for e in events if e["proto"] == "tcp"].count("reset") == 1
    assert ctx.warning_count == 0


def test_capture_starting_mid_connection_resynchronises() -> None:
    f = Flow()
    data = b"garbage-tail-of-a-message" + allocate(1) + allocate(2)
    frames = [f.send(0, data)]  # no SYN, starts with the rest of an unseen message
    events, ctx = run(frames)
    assert [e["txn_id"] for e in stun_events(events)] == [txn(1).hex(), txn(2).hex()]
    assert not [e for e in events if e["event"] == "open"]


def test_channel_data_over_tcp_is_counted_not_emitted() -> None:
    f = Flow()
    cd = b"\x40\x01\x00\x05hello\0\0\0"  # padded to 4 on TCP (RFC 5766 11.5)
    frames = f.syn() + [f.send(0, allocate(1)), f.send(0, cd * 3), f.send(0, cd[:6]), f.send(0, cd[6:])]
    events, _ = run(frames)
    channel = [e for e in events if e["event"] == "ChannelData"]
    assert len(channel) == 1 and channel[0]["summary"] == "ChannelData 0x4001: 4 frames, 20 B"
    assert channel[0]["pos"] == 5


def test_udp_channel_data_only_on_turn_flows() -> None:
    alloc = ethernet(ipv4(C, T, 17, udp(5000, 3478, allocate(1))))
    cd = ethernet(ipv4(C, T, 17, udp(5000, 3478, b"\x40\x02\x00\x04abcd")))
    stray = ethernet(ipv4(C, T, 17, udp(6000, 9999, b"\x40\x02\x00\x04abcd")))
    events, _ = run([alloc, cd, cd, stray])
    channel = [e for e in events if e["event"] == "ChannelData"]
    assert len(channel) == 1 and channel[0]["summary"] == "ChannelData 0x4002: 2 frames, 8 B"


def test_connection_state_is_dropped() -> None:
    from logcorr.events.capture import link, pcapfile
    from logcorr.events.capture.decode import IDLE_NS, Decoder

    def feed(dec: Decoder, frames: list[bytes], t: int) -> None:
        data = pcap_file([(t + i * 1000, fr) for i, fr in enumerate(frames)])
        for n, ts, lt, frame in pcapfile.records(io.BytesIO(data), lambda *a: None):
            dec.tcp(n, ts, link.ip_layer(frame, link.ip_offset(lt, frame)), frame)

    dec = Decoder("h", "f", lambda *a: None)
    closed = []
    for i in range(300):
        f = Flow(sport=10000 + i)
        closed += f.syn() + [f.send(0, allocate(i)), f.send(0, b"", flags="FA"), f.send(1, b"", flags="FA")]
    feed(dec, closed, T0)
    assert sum(e["event"] == "Allocate Request" for e in dec.out) == 300
    assert dec.conns == {}  # dropped after both FINs
    feed(dec, [Flow(sport=30000 + i, dport=80).pkt(0, "S", b"") for i in range(300)], T0)
    assert len(dec.conns) == 300  # a SYN alone costs a small entry ...
    dec.purge(T0 + IDLE_NS // 2)
    assert len(dec.conns) == 300
    dec.purge(T0 + 2 * IDLE_NS)  # ... until it has been idle long enough
    assert dec.conns == {}


def test_message_cut_by_the_end_of_the_capture_is_a_warning() -> None:
    f = Flow()
    frames = f.syn() + [f.send(0, allocate(1)), f.send(0, allocate(2)[:30])]
    events, ctx = run(frames)
    assert [e["txn_id"] for e in stun_events(events)] == [txn(1).hex()]
    assert ctx.warning_count == 1 and "30 bytes never completed" in ctx.warnings[0]


def test_syn_to_the_turn_port_refused_or_unanswered() -> None:
    refused = Flow(sport=50001)
    unanswered = Flow(sport=50002)
    web = Flow(sport=50003, dport=8080)
    frames = [refused.pkt(0, "S", b""), refused.pkt(1, "RA", b""),
              unanswered.pkt(0, "S", b""), unanswered.pkt(0, "S", b""),
              web.pkt(0, "S", b""), web.pkt(1, "RA", b"")]
    events, _ = run(frames)
    got = [(e["event"], e["pos"], e["dst"]) for e in events]
    assert ("refused", 1, f"{T}:3478") in got
    assert ("unanswered", 3, f"{T}:3478") in got
    assert all(e["dst"] != f"{T}:8080" for e in events)  # only the TURN ports are watched


def test_a_served_connection_is_not_refused() -> None:
    flow = Flow(sport=50004)
    events, _ = run(flow.syn() + [flow.pkt(0, "RA", b"")])
    assert not [e for e in events if e["event"] in ("refused", "unanswered")]
