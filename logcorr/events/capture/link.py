"""Link layers and IP: from a captured frame to (addresses, protocol, transport payload).

Link types (tcpdump.org LINKTYPE_* numbers): Ethernet with 802.1Q / 802.1ad / QinQ tags, Linux
cooked capture v1 (SLL) and v2 (SLL2), raw IP (DLT_RAW in its three numberings, LINKTYPE_IPV4,
LINKTYPE_IPV6) and BSD loopback (DLT_NULL in host order, DLT_LOOP in network order).

Pure functions over ``bytes``, written with slices and :mod:`struct` rather than dpkt objects: the
decode loop calls them for every packet, and building a dpkt object per layer costs several
microseconds a packet (see :mod:`logcorr.events.capture.decode`). Every offset is checked against the
captured length; a frame too short for its headers gives ``None``.
"""
from __future__ import annotations

import socket
from typing import NamedTuple

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_OLD = 12  # DLT_RAW on most BSDs
LINKTYPE_RAW_OPENBSD = 14
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_QINQ = 0x88A8
ETHERTYPE_QINQ_OLD = 0x9100
VLAN_TYPES = (b"\x81\x00", b"\x88\xa8", b"\x91\x00")
MAX_VLAN_TAGS = 4

IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPV6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options (fragment 44 apart)
IPV6_FRAGMENT = 44
MAX_IPV6_EXTENSIONS = 8

BSD_AF_INET = 2
BSD_AF_INET6 = (10, 24, 28, 30)  # Linux, NetBSD/OpenBSD, FreeBSD, macOS

RAW_TYPES = (LINKTYPE_RAW, LINKTYPE_RAW_OLD, LINKTYPE_RAW_OPENBSD, LINKTYPE_IPV4, LINKTYPE_IPV6)
SUPPORTED = (LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2) + RAW_TYPES


def ip_offset(linktype: int, data: bytes) -> int:
    """Offset of the IP header in a frame, or -1 (not IP, unknown link type, too short)."""
    if linktype == LINKTYPE_ETHERNET:
        off = 12
        et = data[12:14]
        tags = 0
        while et in VLAN_TYPES and tags < MAX_VLAN_TAGS:
            off += 4
            tags += 1
            et = data[off : off + 2]
        if et == b"\x08\x00" or et == b"\x86\xdd":
            return off + 2
        return -1
    if linktype in RAW_TYPES:
        return 0
    if linktype == LINKTYPE_LINUX_SLL:
        et = data[14:16]
        return 16 if et == b"\x08\x00" or et == b"\x86\xdd" else -1
    if linktype == LINKTYPE_LINUX_SLL2:
        et = data[0:2]
        return 20 if et == b"\x08\x00" or et == b"\x86\xdd" else -1
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(data) < 4:
            return -1
        if linktype == LINKTYPE_LOOP:
            family = int.from_bytes(data[0:4], "big")
        else:  # host byte order of the capturing machine: accept either
            family = int.from_bytes(data[0:4], "little")
            if family > 0xFFFF:
                family = int.from_bytes(data[0:4], "big")
        if family == BSD_AF_INET or family in BSD_AF_INET6:
            return 4
        return -1
    return -1


class L4(NamedTuple):
    """A transport segment: addresses as packed bytes, its header's offset and the payload's."""

    version: int
    src: bytes
    dst: bytes
    proto: int
    l4: int  # offset of the TCP/UDP header in the frame
    end: int  # end of the IP payload (bounded by the captured length)
    fragment: tuple | None  # (identification, offset in bytes, more fragments) when fragmented


def ip_layer(data: bytes, off: int) -> L4 | None:
    """Parse IPv4 or IPv6 at ``off``; ``None`` if the header does not fit."""
    n = len(data)
    if off + 20 > n:
        return None
    v = data[off] >> 4
    if v == 4:
        ihl = (data[off] & 0x0F) * 4
        if ihl < 20 or off + ihl > n:
            return None
        total = (data[off + 2] << 8) | data[off + 3]
        end = min(n, off + total) if total >= ihl else n  # TSO captures show total 0
        frag_off = ((data[off + 6] & 0x1F) << 8) | data[off + 7]
        more = bool(data[off + 6] & 0x20)
        frag = (data[off + 4 : off + 6], frag_off * 8, more) if frag_off or more else None
        return L4(4, data[off + 12 : off + 16], data[off + 16 : off + 20], data[off + 9], off + ihl, end, frag)
    if v == 6:
        if off + 40 > n:
            return None
        plen = (data[off + 4] << 8) | data[off + 5]
        end = min(n, off + 40 + plen) if plen else n
        nxt = data[off + 6]
        pos = off + 40
        fragment = None
        for _ in range(MAX_IPV6_EXTENSIONS):
            if nxt in IPV6_EXTENSIONS:
                if pos + 8 > end:
                    return None
                nxt, hlen = data[pos], (data[pos + 1] + 1) * 8
                pos += hlen
            elif nxt == IPV6_FRAGMENT:
                if pos + 8 > end:
                    return None
                word = (data[pos + 2] << 8) | data[pos + 3]
                fragment = (data[pos + 4 : pos + 8], (word >> 3) * 8, bool(word & 1))
                nxt = data[pos]
                pos += 8
            else:
                break
        if pos > end:
            return None
        return L4(6, data[off + 8 : off + 24], data[off + 24 : off + 40], nxt, pos, end, fragment)
    return None


MAX_DATAGRAM = 65535
MAX_REASSEMBLIES = 256
FRAGMENT_TIMEOUT_NS = 30 * 1_000_000_000  # RFC 791 suggests 15 s; Linux keeps 30 s


class Defragmenter:
    """IPv4 / IPv6 fragment reassembly (RFC 791 3.2, RFC 8200 4.5), bounded.

    At most :data:`MAX_REASSEMBLIES` datagrams wait at once (the oldest is given up first), each
    at most 64 KiB, and none longer than :data:`FRAGMENT_TIMEOUT_NS` of capture time.
    """

    def __init__(self) -> None:
        self.pending: dict[tuple, list] = {}  # key -> [first ts, {offset: bytes}, total or None, frame]

    def add(self, l: L4, data: bytes, ts: int | None, frame: int) -> tuple[L4, bytes, int] | None:
        """Add a fragment; when the datagram is whole, (its L4 with l4=0, the payload, first frame)."""
        ident, offset, more = l.fragment
        key = (l.version, l.src, l.dst, l.proto, ident)
        entry = self.pending.get(key)
        if entry is None:
            if len(self.pending) >= MAX_REASSEMBLIES:
                self.pending.pop(next(iter(self.pending)))
            entry = self.pending[key] = [ts, {}, None, frame]
        elif ts is not None and entry[0] is not None and ts - entry[0] > FRAGMENT_TIMEOUT_NS:
            entry[:] = [ts, {}, None, frame]
        piece = data[l.l4 : l.end]
        if offset + len(piece) > MAX_DATAGRAM:
            self.pending.pop(key, None)
            return None
        entry[1].setdefault(offset, piece)
        if offset == 0:
            entry[3] = frame
        if not more:
            entry[2] = offset + len(piece)
        total = entry[2]
        if total is None:
            return None
        have = 0
        for off in sorted(entry[1]):
            if off > have:
                return None  # a hole
            have = max(have, off + len(entry[1][off]))
        if have < total:
            return None
        buf = bytearray(total)
        for off in sorted(entry[1]):
            chunk = entry[1][off][: total - off]
            buf[off : off + len(chunk)] = chunk
        del self.pending[key]
        whole = bytes(buf)
        return L4(l.version, l.src, l.dst, l.proto, 0, len(whole), None), whole, entry[3]


def addr(ip: bytes, port: int) -> str:
    """``ip:port``, or ``[v6]:port``."""
    if len(ip) == 4:
        return f"{socket.inet_ntop(socket.AF_INET, ip)}:{port}"
    return f"[{socket.inet_ntop(socket.AF_INET6, ip)}]:{port}"
