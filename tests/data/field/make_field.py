"""Make the field-capture corpus of tests/data/field/ from the specifications.

Each capture carries the same small TURN exchange (an Allocate Request and its Success Response
over UDP 3478, client 192.0.2.20, server 198.51.100.10) and a SIP OPTIONS over UDP 5060, inside one
encapsulation, or one STUN variant (lenient cases, classic RFC 3489, [MS-TURN] over UDP and over
TCP 443 with pseudo-TLS and its framing, a TURN-TCP and a SIP-TCP stream sent a byte at a time).
Headers are written field by field from the documents named beside each builder.

Run: python tests/data/field/make_field.py   (rewrites the *.pcap here; then oracle.sh)
"""
from __future__ import annotations

import ipaddress
import struct
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))
from capture_build import attr, ethernet, ipv4, ipv6, pcap_file, stun_message, tcp, udp, xor_address  # noqa: E402

C, S = "192.0.2.20", "198.51.100.10"
C6, S6 = "2001:db8::20", "2001:db8::10"
OUTER_A, OUTER_B = "203.0.113.1", "203.0.113.2"
OUTER6_A, OUTER6_B = "2001:db8:ffff::1", "2001:db8:ffff::2"
T0 = 1_700_000_000_000_000_000
MS_COOKIE = attr(0x000F, bytes.fromhex("72c64bc6"))


def txn(i: int) -> bytes:
    return bytes([0xA0 + i]) * 12


def allocate_pair(i: int, client: str = C, server: str = S) -> list[tuple[str, str, int, int, bytes]]:
    """(src, dst, sport, dport, payload) of an Allocate Request and its Success Response."""
    req = stun_message(0x0003, txn(i), [attr(0x0019, b"\x11\0\0\0"), attr(0x000D, (600).to_bytes(4, "big"))])
    ok = stun_message(0x0103, txn(i), [
        attr(0x0016, xor_address(server, 49152 + i, txn(i))),
        attr(0x0020, xor_address(client, 40000 + i, txn(i))),
        attr(0x000D, (600).to_bytes(4, "big")),
    ])
    return [(client, server, 40000 + i, 3478, req), (server, client, 3478, 40000 + i, ok)]


def options(client: str = C, server: str = S) -> tuple[str, str, int, int, bytes]:
    sip = (f"OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {client}:5060;branch=z9hG4bK-field\r\n"
           f"From: <sip:probe@{client}>;tag=1\r\nTo: <sip:{server}>\r\nCall-ID: field-options@{client}\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
    return client, server, 5060, 5060, sip


def inner_packets(v6: bool = False) -> list[bytes]:
    ip = ipv6 if v6 else ipv4
    c, s = (C6, S6) if v6 else (C, S)
    flows = allocate_pair(1, c, s) + [options(c, s)]
    return [ip(a, b, 17, udp(sp, dp, payload)) for a, b, sp, dp, payload in flows]


def eth_frame(ip_packet: bytes) -> bytes:
    return ethernet(ip_packet)


def write(name: str, frames: list[bytes], linktype: int = 1) -> None:
    data = pcap_file([(T0 + i * 1_000_000, f) for i, f in enumerate(frames)], linktype=linktype)
    (HERE / f"{name}.pcap").write_bytes(data)


# -- encapsulations ------------------------------------------------------------------------------
def gre_header(proto: int, checksum: bool = False, key: int | None = None, seq: int | None = None) -> bytes:
    """RFC 2784 / RFC 2890: C, K, S flags; the checksum is left 0 (receivers need not check it)."""
    flags = (0x80 if checksum else 0) | (0x20 if key is not None else 0) | (0x10 if seq is not None else 0)
    out = struct.pack("!BBH", flags, 0, proto)
    if checksum:
        out += b"\0\0\0\0"
    if key is not None:
        out += struct.pack("!I", key)
    if seq is not None:
        out += struct.pack("!I", seq)
    return out


def over_gre(packets: list[bytes], **kw) -> list[bytes]:
    frames = []
    for n, p in enumerate(packets):
        proto = 0x0800 if p[0] >> 4 == 4 else 0x86DD
        extra = dict(kw)
        if "seq" in extra:
            extra["seq"] = n + 1
        frames.append(eth_frame(ipv4(OUTER_A, OUTER_B, 47, gre_header(proto, **extra) + p)))
    return frames


def pptp_gre(packets: list[bytes]) -> list[bytes]:
    """RFC 2637 4.1 enhanced GRE (version 1, key = payload length + call id, S set), PPP inside
    with address/control 0xFF03 and protocol 0x0021 (RFC 1661, RFC 1332)."""
    frames = []
    for n, p in enumerate(packets):
        ppp = b"\xff\x03\x00\x21" + p
        head = struct.pack("!BBHHHI", 0x30, 0x01, 0x880B, len(ppp), 0x1234, n + 1)
        frames.append(eth_frame(ipv4(OUTER_A, OUTER_B, 47, head + ppp)))
    return frames


def gre_ethernet(packets: list[bytes]) -> list[bytes]:
    return [eth_frame(ipv4(OUTER_A, OUTER_B, 47, gre_header(0x6558, key=7) + eth_frame(p))) for p in packets]


def erspan2(packets: list[bytes]) -> list[bytes]:
    """ERSPAN type II (GRE 0x88BE with a sequence number): ver 1, VLAN 0, session 5; index 0."""
    head = struct.pack("!HHI", (1 << 12) | 0, 5, 0)
    return [eth_frame(ipv4(OUTER_A, OUTER_B, 47, gre_header(0x88BE, seq=n + 1) + head + eth_frame(p)))
            for n, p in enumerate(packets)]


def erspan3(packets: list[bytes]) -> list[bytes]:
    """ERSPAN type III (GRE 0x22EB): ver 2, session 6, a timestamp, O flag set and the 8-byte
    platform-specific subheader."""
    head = struct.pack("!HHIHH", (2 << 12) | 0, 6, 123456, 0, 0x0001) + struct.pack("!II", 0x08000000, 0)
    return [eth_frame(ipv4(OUTER_A, OUTER_B, 47, gre_header(0x22EB, seq=n + 1) + head + eth_frame(p)))
            for n, p in enumerate(packets)]


def ip_in_ip(packets: list[bytes], outer_v6: bool) -> list[bytes]:
    frames = []
    for p in packets:
        proto = 4 if p[0] >> 4 == 4 else 41
        outer = ipv6(OUTER6_A, OUTER6_B, proto, p) if outer_v6 else ipv4(OUTER_A, OUTER_B, proto, p)
        frames.append(eth_frame(outer))
    return frames


def gtp_u(packets: list[bytes]) -> list[bytes]:
    """3GPP TS 29.281: version 1, PT 1, E and S flags, G-PDU (0xFF), TEID, sequence number, then
    one extension header (PDU session container 0x85, length 1 word) and no further one."""
    frames = []
    for n, p in enumerate(packets):
        ext = bytes([1, 0x00, 0x01, 0x00])  # length 1 (4 bytes), content, next type 0
        body = struct.pack("!HBB", n + 1, 0, 0x85) + ext + p
        head = struct.pack("!BBHI", 0x36, 0xFF, len(body), 0x1000 + n)
        frames.append(eth_frame(ipv4(OUTER_A, OUTER_B, 17, udp(2152, 2152, head + body))))
    return frames


def vxlan(packets: list[bytes]) -> list[bytes]:
    """RFC 7348: flags 0x08 (I), VNI 4242."""
    head = struct.pack("!I", 0x08000000) + struct.pack("!I", 4242 << 8)
    return [eth_frame(ipv4(OUTER_A, OUTER_B, 17, udp(51000, 4789, head + eth_frame(p)))) for p in packets]


def mpls(packets: list[bytes]) -> list[bytes]:
    """RFC 3032: two labels (16, 17), the second one bottom of stack, over Ethernet 0x8847."""
    labels = struct.pack("!II", (16 << 12) | 64, (17 << 12) | 0x100 | 64)
    return [b"\x02" * 6 + b"\x04" * 6 + b"\x88\x47" + labels + p for p in packets]


def pppoe(packets: list[bytes]) -> list[bytes]:
    """RFC 2516 session stage: ver/type 0x11, code 0, session 0x0042, length, then PPP 0x0021."""
    out = []
    for p in packets:
        ppp = b"\x00\x21" + p
        out.append(b"\x02" * 6 + b"\x04" * 6 + b"\x88\x64" + struct.pack("!BBHH", 0x11, 0, 0x42, len(ppp)) + ppp)
    return out


def nflog(packets: list[bytes]) -> list[bytes]:
    """Linux NFLOG (LINKTYPE 239): family, version 0, resource id, then TLVs in host (little-endian)
    order: NFULA_PACKET_HDR (1), NFULA_PREFIX (10), NFULA_PAYLOAD (9)."""
    out = []
    for p in packets:
        def tlv(t: int, v: bytes) -> bytes:
            return struct.pack("<HH", 4 + len(v), t) + v + b"\0" * (-len(v) % 4)
        out.append(bytes([2, 0]) + struct.pack("!H", 5) + tlv(1, b"\x08\x00\x03\x00") + tlv(10, b"field\0")
                   + tlv(9, p))
    return out


# -- STUN variants -------------------------------------------------------------------------------
def udp_frames(flows) -> list[bytes]:
    return [eth_frame(ipv4(a, b, 17, udp(sp, dp, payload))) for a, b, sp, dp, payload in flows]


def lenient() -> dict[str, list[bytes]]:
    t = txn(5)
    # an Allocate whose last attribute is not padded: length 106 (as WhatsApp sends them)
    body = attr(0x0019, b"\x11\0\0\0") + attr(0x0006, b"u" * 72) + attr(0x8022, b"x" * 18)[:-2]
    len106 = struct.pack("!HHI", 0x0003, len(body), 0x2112A442) + t + body
    assert len(body) == 106
    # an attribute running past the message end (USERNAME says 40 bytes, 8 are there)
    past = struct.pack("!HHI", 0x0001, 12, 0x2112A442) + txn(6) + struct.pack("!HH", 0x0006, 40) + b"abcdefgh"
    # a message whose header promises more bytes than the datagram holds
    cut = stun_message(0x0101, txn(7), [attr(0x0020, xor_address(C, 40007, txn(7)))], fingerprint=False)
    cut = cut[:2] + (len(cut) - 20 + 8).to_bytes(2, "big") + cut[4:]
    return {
        "stun_len106": udp_frames([(C, S, 40005, 3478, len106)]),
        "stun_attr_past_end": udp_frames([(C, S, 40006, 3478, past)]),
        "stun_len_past_datagram": udp_frames([(S, C, 3478, 40007, cut)]),
    }


def classic() -> list[bytes]:
    """RFC 3489 11: a Binding Request with CHANGE-REQUEST, its response with MAPPED-ADDRESS,
    SOURCE-ADDRESS and CHANGED-ADDRESS; 128-bit transaction id, no cookie."""
    tid = bytes(range(0x10, 0x20))

    def address(ip: str, port: int) -> bytes:
        return struct.pack("!BBH", 0, 1, port) + ipaddress.IPv4Address(ip).packed

    req_body = attr(0x0003, b"\0\0\0\x06")
    res_body = attr(0x0001, address(C, 40010)) + attr(0x0004, address(S, 3478)) + attr(0x0005, address("198.51.100.11", 3479))
    req = struct.pack("!HH", 0x0001, len(req_body)) + tid + req_body
    res = struct.pack("!HH", 0x0101, len(res_body)) + tid + res_body
    return udp_frames([(C, S, 40010, 3478, req), (S, C, 3478, 40010, res)])


def classic_tcp() -> list[bytes]:
    """RFC 3489 messages over TCP (as pre-RFC 5389 TURN servers and older MS-TURN clients sent
    them): no framing, the header's length says where each ends. Two Binding Requests, the second
    cut across two segments, and both responses back to back in one segment."""
    def address(ip: str, port: int) -> bytes:
        return struct.pack("!BBH", 0, 1, port) + ipaddress.IPv4Address(ip).packed

    def message(mtype: int, tid: bytes, body: bytes) -> bytes:
        return struct.pack("!HH", mtype, len(body)) + tid + body

    t1, t2 = bytes(range(0x60, 0x70)), bytes(range(0x70, 0x80))
    first = message(0x0001, t1, attr(0x0003, b"\0\0\0\0"))
    second = message(0x0001, t2, attr(0x0006, b"classic-user"))
    ok = [message(0x0101, t, attr(0x0001, address(C, 40012)) + attr(0x0004, address(S, 3478))
                  + attr(0x0005, address("198.51.100.11", 3479))) for t in (t1, t2)]
    st = Stream((C, 40012), (S, 3478)).handshake().send(0, first).send(0, second, size=10)
    return st.send(1, ok[0] + ok[1]).frames


def ms_turn_messages() -> list[tuple[bool, bytes]]:
    """[MS-TURN] 2.2: an Allocate with MS-VERSION, BANDWIDTH, MS-SERVICE-QUALITY; the 401 with NONCE
    (0x0014) and REALM (0x0015); the signed Allocate with MS-SEQUENCE-NUMBER; the success with
    MAPPED-ADDRESS and XOR-MAPPED-ADDRESS (0x8020). Attributes unpadded, 128-bit transaction ids.
    (client?, message)"""
    t1, t2 = bytes(range(0x40, 0x50)), bytes(range(0x50, 0x60))

    def raw(atype: int, value: bytes) -> bytes:
        return struct.pack("!HH", atype, len(value)) + value

    def msg(mtype: int, tid: bytes, body: bytes) -> bytes:
        return struct.pack("!HH", mtype, len(body)) + tid + body

    version = raw(0x8008, (2).to_bytes(4, "big"))
    first = msg(0x0003, t1, MS_COOKIE + version + raw(0x0010, (12000).to_bytes(4, "big"))
                + raw(0x8055, b"\x00\x02\x00\x00"))
    challenge = msg(0x0113, t1, MS_COOKIE + version + raw(0x0009, b"\0\0\x04\x01Unauthorized")
                    + raw(0x0014, b"nonce-abc") + raw(0x0015, b'"rtcmedia"'))
    seqno = raw(0x8050, bytes(range(20)) + (1).to_bytes(4, "big"))
    signed = msg(0x0003, t2, MS_COOKIE + version + raw(0x0006, b"user-token") + raw(0x0014, b"nonce-abc")
                 + raw(0x0015, b'"rtcmedia"') + seqno + raw(0x0008, b"\x11" * 20))
    mapped = struct.pack("!BBH", 0, 1, 49170) + ipaddress.IPv4Address(S).packed
    # without the RFC 5389 cookie, XOR-MAPPED-ADDRESS is XORed with the transaction id's first 32 bits
    mask = int.from_bytes(t2[:4], "big")
    xored = struct.pack("!BBH", 0, 1, 40020 ^ (mask >> 16)) + (int(ipaddress.IPv4Address(C)) ^ mask).to_bytes(4, "big")
    ok = msg(0x0103, t2, MS_COOKIE + version + raw(0x0001, mapped) + raw(0x8020, xored)
             + raw(0x000D, (480).to_bytes(4, "big")) + raw(0x0008, b"\x22" * 20))
    return [(True, first), (False, challenge), (True, signed), (False, ok)]


def ms_turn_udp() -> list[bytes]:
    return udp_frames([(C, S, 40020, 3478, m) if c else (S, C, 3478, 40020, m) for c, m in ms_turn_messages()])


class Stream:
    """Both directions of one TCP connection, with its handshake."""

    def __init__(self, client: tuple[str, int], server: tuple[str, int]) -> None:
        self.ends = (client, server)
        self.seq = [1000, 5000]
        self.frames: list[bytes] = []

    def pkt(self, side: int, flags: str, payload: bytes = b"") -> bytes:
        (a, ap), (b, bp) = self.ends if side == 0 else self.ends[::-1]
        return eth_frame(ipv4(a, b, 6, tcp(ap, bp, self.seq[side], flags, payload, ack=self.seq[1 - side])))

    def handshake(self) -> "Stream":
        self.frames.append(self.pkt(0, "S"))
        self.seq[0] += 1
        self.frames.append(self.pkt(1, "SA"))
        self.seq[1] += 1
        self.frames.append(self.pkt(0, "A"))
        return self

    def send(self, side: int, data: bytes, size: int | None = None) -> "Stream":
        size = size or len(data)
        for i in range(0, len(data), size):
            chunk = data[i : i + size]
            self.frames.append(self.pkt(side, "PA", chunk))
            self.seq[side] += len(chunk)
        return self


def ms_turn_tcp443() -> list[bytes]:
    """[MS-TURN] 2.1.1 pseudo-TLS (ClientHello; ServerHello and ServerHelloDone in one record),
    then 2.1.4 framing: 0x02 control messages, and a 0x03 end-to-end frame carrying an ICE check."""
    body = b"\x03\x01" + bytes(32) + b"\x00" + b"\x00\x02\x00\x05" + b"\x01\x00"  # RFC 2246 7.4.1.2
    hello = b"\x01" + len(body).to_bytes(3, "big") + body
    client_hello = b"\x16\x03\x01" + len(hello).to_bytes(2, "big") + hello
    server = struct.pack("!B", 2) + (38).to_bytes(3, "big") + b"\x03\x01" + bytes(32) + b"\x00" + b"\x00\x05" + b"\x00"
    done = b"\x0e\x00\x00\x00"
    server_hello = b"\x16\x03\x01" + (len(server) + len(done)).to_bytes(2, "big") + server + done
    st = Stream((C, 50443), (S, 443)).handshake().send(0, client_hello).send(1, server_hello)
    for client, m in ms_turn_messages():
        st.send(0 if client else 1, b"\x02\x00" + len(m).to_bytes(2, "big") + m)
    check = stun_message(0x0001, txn(9), [attr(0x0006, b"abcd:efgh"), attr(0x0024, (1 << 30).to_bytes(4, "big"))])
    st.send(0, b"\x03\x00" + len(check).to_bytes(2, "big") + check)
    return st.frames


def one_byte_tcp() -> dict[str, list[bytes]]:
    turn = Stream((C, 40030), (S, 3478)).handshake()
    for client, payload in ((True, allocate_pair(3)[0][4]), (False, allocate_pair(3)[1][4])):
        turn.send(0 if client else 1, payload, size=1)
    sip = Stream((C, 40031), (S, 5060)).handshake()
    invite = options()[4].replace(b"OPTIONS sip", b"REGIStER sip").replace(b"1 OPTIONS", b"1 REGIStER")
    sip.send(0, invite, size=1)
    return {"tcp_one_byte_turn": turn.frames, "tcp_one_byte_sip": sip.frames}


def main() -> None:
    v4 = inner_packets()
    v6 = inner_packets(v6=True)
    write("gre_ipv4", over_gre(v4))
    write("gre_key_seq_checksum", over_gre(v4, checksum=True, key=0xCAFE, seq=0))
    write("gre_pptp_ppp", pptp_gre(v4))
    write("gre_ethernet", gre_ethernet(v4))
    write("erspan2", erspan2(v4))
    write("erspan3", erspan3(v4))
    write("ipip_4in4", ip_in_ip(v4, outer_v6=False))
    write("ipip_6in4", ip_in_ip(v6, outer_v6=False))
    write("ipip_4in6", ip_in_ip(v4, outer_v6=True))
    write("gtp_u", gtp_u(v4))
    write("vxlan", vxlan(v4))
    write("mpls", mpls(v4))
    write("pppoe", pppoe(v4))
    write("nflog", nflog(v4), linktype=239)
    for name, frames in lenient().items():
        write(name, frames)
    write("stun_classic_rfc3489", classic())
    write("stun_classic_tcp", classic_tcp())
    write("ms_turn_udp", ms_turn_udp())
    write("ms_turn_tcp443_pseudo_tls", ms_turn_tcp443())
    for name, frames in one_byte_tcp().items():
        write(name, frames)


if __name__ == "__main__":
    main()
