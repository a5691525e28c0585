"""Building synthetic captures for the tests: STUN messages, IP packets, pcap and pcapng files."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import struct
import zlib

COOKIE = 0x2112A442


def attr(atype: int, value: bytes) -> bytes:
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * (-len(value) % 4)


def xor_address(ip: str, port: int, txn: bytes) -> bytes:
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + (int(addr) ^ COOKIE).to_bytes(4, "big")
    mask = int.from_bytes(COOKIE.to_bytes(4, "big") + txn, "big")
    return struct.pack("!BBH", 0, 2, port ^ (COOKIE >> 16)) + (int(addr) ^ mask).to_bytes(16, "big")


def stun_message(msg_type: int, txn: bytes, attrs: list[bytes], key: bytes | None = None, fingerprint: bool = True) -> bytes:
    body = b"".join(attrs)
    if key is not None:
        head = struct.pack("!HHI", msg_type, len(body) + 24, COOKIE) + txn
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if fingerprint:
        head = struct.pack("!HHI", msg_type, len(body) + 8, COOKIE) + txn
        crc = zlib.crc32(head + body) ^ 0x5354554E
        body += attr(0x8028, crc.to_bytes(4, "big"))
    return struct.pack("!HHI", msg_type, len(body), COOKIE) + txn + body


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, seq: int, flags: str = "A", payload: bytes = b"", ack: int = 0) -> bytes:
    bits = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in flags)
    return struct.pack("!HHIIHHHH", sport, dport, seq % (1 << 32), ack, (5 << 12) | bits, 65535, 0, 0) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
        ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed,
    ) + payload


def ipv6(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    return struct.pack(
        "!IHBB16s16s", 0x60000000, len(payload), proto, 64,
        ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed,
    ) + payload


def ethernet(ip_packet: bytes, vlans: tuple[int, ...] = ()) -> bytes:
    version = ip_packet[0] >> 4
    etype = 0x0800 if version == 4 else 0x86DD
    tags = b"".join(struct.pack("!HH", 0x8100, vid) for vid in vlans)
    return b"\x02" * 6 + b"\x04" * 6 + tags + struct.pack("!H", etype) + ip_packet


def sll(ip_packet: bytes) -> bytes:
    etype = 0x0800 if ip_packet[0] >> 4 == 4 else 0x86DD
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 8, etype) + ip_packet


def sll2(ip_packet: bytes) -> bytes:
    etype = 0x0800 if ip_packet[0] >> 4 == 4 else 0x86DD
    return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6, b"\x02" * 8) + ip_packet


def null_loopback(ip_packet: bytes, big: bool = False) -> bytes:
    family = 2 if ip_packet[0] >> 4 == 4 else 30
    return family.to_bytes(4, "big" if big else "little") + ip_packet


def pcap_file(frames: list[tuple[int, bytes]], linktype: int = 1, ns: bool = False, big: bool = False) -> bytes:
    """frames: (timestamp in ns, frame bytes)."""
    e = ">" if big else "<"
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    out = [struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for ts, data in frames:
        sec, rest = divmod(ts, 1_000_000_000)
        frac = rest if ns else rest // 1000
        out.append(struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(btype: int, body: bytes, e: str = "<") -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def pcapng_file(interfaces: list[tuple[int, int | None]], packets: list[tuple[int, int, bytes]], big: bool = False) -> bytes:
    """interfaces: (linktype, if_tsresol byte or None); packets: (interface, time units, frame)."""
    e = ">" if big else "<"
    out = [_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)]
    for linktype, resol in interfaces:
        opts = b""
        if resol is not None:
            opts = struct.pack(e + "HH", 9, 1) + bytes([resol]) + b"\0\0\0" + struct.pack(e + "HH", 0, 0)
        out.append(_block(1, struct.pack(e + "HHI", linktype, 0, 262144) + opts, e))
    for iface, units, data in packets:
        body = struct.pack(e + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data
        out.append(_block(6, body, e))
    return b"".join(out)
