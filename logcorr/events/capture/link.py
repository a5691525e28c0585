"""Link layers, tunnels and IP: from a captured frame to (addresses, protocol, transport payload).

Link types (tcpdump.org LINKTYPE_* numbers): Ethernet with 802.1Q / 802.1ad / QinQ tags, PPPoE
sessions (RFC 2516) and MPLS label stacks (RFC 3032) inside it, Linux cooked capture v1 (SLL) and
v2 (SLL2), raw IP (DLT_RAW in its three numberings, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD loopback
(DLT_NULL in host order, DLT_LOOP in network order) and Linux NFLOG (its NFULA_PAYLOAD TLV).

Tunnels (:func:`tunnel_inner`), followed to the innermost IP packet: IP-in-IP (4in4, 6in4, 4in6,
6in6: IP protocols 4 and 41), GRE (RFC 2784 / 2890: checksum, key and sequence number; IP,
Ethernet (0x6558), MPLS and PPP inside, including the enhanced GRE of PPTP, RFC 2637 4.1), ERSPAN
types II and III inside GRE, GTP-U (3GPP TS 29.281, UDP 2152, with its optional fields and
extension headers) and VXLAN (RFC 7348, UDP 4789).

Pure functions over ``bytes``, written with slices and :mod:`struct` rather than dpkt objects: the
decode loop calls them for every packet, and building a dpkt object per layer costs several
microseconds a packet (see :mod:`logcorr.events.capture.decode`). Every offset is checked against the
captured length. A frame that holds no IP packet gives a reason instead of an offset (a ``str``):
the decoder counts it, so nothing is dropped unseen.
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
LINKTYPE_NFLOG = 239
LINKTYPE_LINUX_SLL2 = 276
NFULA_PAYLOAD = 9

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
SUPPORTED = (LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
             LINKTYPE_NFLOG) + RAW_TYPES


LINKTYPE_NAMES = {  # for the reason given when a link type is not read
    0: "BSD loopback", 9: "PPP", 10: "FDDI", 105: "802.11", 119: "Prism 802.11", 127: "802.11 radiotap",
    143: "DOCSIS", 147: "user 0", 192: "PPI", 195: "802.15.4",
}
ETHERTYPE_NAMES = {0x0806: "ARP", 0x8035: "RARP", 0x88CC: "LLDP", 0x8863: "PPPoE discovery",
                   0x888E: "802.1X", 0x88F7: "PTP", 0x8809: "slow protocols (LACP)", 0x9000: "loopback"}
ETHERTYPE_PPPOE = 0x8864
ETHERTYPE_MPLS = (b"\x88\x47", b"\x88\x48")
PPP_IPV4 = (0x21, 0x0021)
PPP_IPV6 = (0x57, 0x0057)
MAX_MPLS_LABELS = 8


def ether(data: bytes, et_at: int) -> int | str:
    """The IP header's offset after an Ethernet type field at ``et_at`` (VLAN tags, PPPoE and
    MPLS followed), or the reason there is none."""
    et = data[et_at : et_at + 2]
    tags = 0
    while et in VLAN_TYPES and tags < MAX_VLAN_TAGS:
        et_at += 4
        tags += 1
        et = data[et_at : et_at + 2]
    if et == b"\x08\x00" or et == b"\x86\xdd":
        return et_at + 2
    if et in ETHERTYPE_MPLS:
        return mpls(data, et_at + 2)
    if len(et) < 2:
        return "frame too short for its Ethernet header"
    value = int.from_bytes(et, "big")
    if value == ETHERTYPE_PPPOE:
        return ppp(data, et_at + 8, "PPPoE")  # 6-byte session header, then the PPP protocol
    if value < 0x0600:
        return "not IP: 802.3 frame with LLC"
    return f"not IP: ethertype 0x{value:04x}" + (f" ({ETHERTYPE_NAMES[value]})" if value in ETHERTYPE_NAMES else "")


def mpls(data: bytes, off: int) -> int | str:
    """IP after an MPLS label stack (RFC 3032): labels until bottom of stack, then IPv4 or IPv6."""
    for _ in range(MAX_MPLS_LABELS):
        if off + 4 > len(data):
            return "frame too short for its MPLS labels"
        bottom = data[off + 2] & 1
        off += 4
        if bottom:
            version = data[off] >> 4 if off < len(data) else 0
            return off if version in (4, 6) else "MPLS payload is not IP (pseudowire)"
    return "MPLS label stack too deep"


def ppp(data: bytes, off: int, where: str) -> int | str:
    """IP after a PPP header at ``off`` (address/control 0xFF03 optional, protocol 1 or 2 bytes)."""
    if data[off : off + 2] == b"\xff\x03":
        off += 2
    if off >= len(data):
        return f"frame too short for PPP in {where}"
    if data[off] & 1:  # protocol field compression (RFC 1661 6.5)
        proto, off = data[off], off + 1
    else:
        proto, off = int.from_bytes(data[off : off + 2], "big"), off + 2
    if proto in PPP_IPV4 or proto in PPP_IPV6:
        return off
    return f"not IP: PPP protocol 0x{proto:04x} in {where}"


def nflog(data: bytes) -> int | str:
    """The packet in the NFULA_PAYLOAD TLV of a Linux NFLOG record (TLV lengths in host order)."""
    off = 4
    n = len(data)
    while off + 4 <= n:
        length = int.from_bytes(data[off : off + 2], "little")
        if length < 4 or off + length > n:
            length = int.from_bytes(data[off : off + 2], "big")
        tlv_type = int.from_bytes(data[off + 2 : off + 4], "little") & 0x7FFF
        if length < 4:
            break
        if tlv_type == NFULA_PAYLOAD or tlv_type == NFULA_PAYLOAD << 8:
            return off + 4
        off += (length + 3) & ~3
    return "NFLOG record without a packet"


def ip_offset(linktype: int, data: bytes) -> int | str:
    """Offset of the IP header in a frame, or why there is none (not IP, unknown link type, too short)."""
    if linktype == LINKTYPE_ETHERNET:
        return ether(data, 12)
    if linktype in RAW_TYPES:
        return 0
    if linktype == LINKTYPE_LINUX_SLL:
        return ether(data, 14)
    if linktype == LINKTYPE_LINUX_SLL2:  # protocol type first, 20-byte header
        et = data[0:2]
        if et == b"\x08\x00" or et == b"\x86\xdd":
            return 20
        return mpls(data, 20) if et in ETHERTYPE_MPLS else f"not IP: protocol 0x{et.hex()} in a cooked capture"
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return _bsd_loopback(linktype, data)
    if linktype == LINKTYPE_NFLOG:
        return nflog(data)
    name = LINKTYPE_NAMES.get(linktype)
    return f"unsupported link type {linktype}" + (f" ({name})" if name else "")


def _bsd_loopback(linktype: int, data: bytes) -> int | str:
    if len(data) < 4:
        return "frame too short for its loopback header"
    if linktype == LINKTYPE_LOOP:
        family = int.from_bytes(data[0:4], "big")
    else:  # host byte order of the capturing machine: accept either
        family = int.from_bytes(data[0:4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(data[0:4], "big")
    if family == BSD_AF_INET or family in BSD_AF_INET6:
        return 4
    return f"not IP: loopback address family {family}"


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


# -- tunnels -------------------------------------------------------------------------------------
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
IPPROTO_GRE = 47
TUNNEL_PROTOS = (IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE)
GTP_U_PORT = 2152
VXLAN_PORT = 4789
UDP_TUNNEL_PORTS = (GTP_U_PORT, VXLAN_PORT)
MAX_TUNNELS = 4  # tunnels inside tunnels followed at most this deep
GRE_ETHERNET = 0x6558
GRE_PPP = 0x880B
GRE_ERSPAN_2 = 0x88BE
GRE_ERSPAN_3 = 0x22EB
GRE_MPLS = (0x8847, 0x8848)


def tunnel_inner(data: bytes, l: L4) -> int | str:
    """The inner IP header's offset of a tunnel packet (IP protocol 4, 41 or 47; UDP to the GTP-U
    or VXLAN port), or why it cannot be read."""
    if l.proto in (IPPROTO_IPIP, IPPROTO_IPV6):
        return l.l4
    if l.proto == IPPROTO_GRE:
        return gre(data, l.l4, l.end)
    ports = data[l.l4 : l.l4 + 4]
    if len(ports) < 4:
        return "UDP header cut short"
    dport = int.from_bytes(ports[2:4], "big")
    sport = int.from_bytes(ports[0:2], "big")
    if GTP_U_PORT in (dport, sport):
        return gtp_u(data, l.l4 + 8, l.end)
    return vxlan(data, l.l4 + 8, l.end)


def gre(data: bytes, off: int, end: int) -> int | str:
    """The packet inside GRE (RFC 2784, RFC 2890 keys and sequence numbers, RFC 2637 enhanced GRE)."""
    if off + 4 > end:
        return "GRE header cut short"
    flags, version = data[off], data[off + 1] & 0x07
    proto = int.from_bytes(data[off + 2 : off + 4], "big")
    if version == 1:  # PPTP: key (payload length, call id) always, sequence and ack optional
        pos = off + 8 + (4 if flags & 0x10 else 0) + (4 if data[off + 1] & 0x80 else 0)
        return ppp(data, pos, "GRE") if proto == GRE_PPP else f"enhanced GRE carrying 0x{proto:04x}"
    if version or flags & 0x40:
        return f"GRE version {version}" + (" with routing" if flags & 0x40 else "") + " not read"
    pos = off + 4 + sum(4 for bit in (0x80, 0x20, 0x10) if flags & bit)  # checksum, key, sequence
    if pos > end:
        return "GRE header cut short"
    return gre_payload(data, pos, proto, flags)


def gre_payload(data: bytes, pos: int, proto: int, flags: int) -> int | str:
    if proto in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return pos
    if proto == GRE_ETHERNET:
        return ether(data, pos + 12)
    if proto == GRE_PPP:
        return ppp(data, pos, "GRE")
    if proto in GRE_MPLS:
        return mpls(data, pos)
    if proto == GRE_ERSPAN_2 and flags & 0x10:  # type II has a sequence number; type I neither
        return ether(data, pos + 8 + 12)
    if proto == GRE_ERSPAN_3:
        optional = 8 if pos + 12 <= len(data) and data[pos + 11] & 1 else 0  # platform subheader
        return ether(data, pos + 12 + optional + 12)
    if proto == GRE_ERSPAN_2:
        return ether(data, pos + 12)  # ERSPAN type I: the mirrored frame follows at once
    return f"GRE carrying protocol 0x{proto:04x}"


def gtp_u(data: bytes, off: int, end: int) -> int | str:
    """The user packet of a GTP-U G-PDU (3GPP TS 29.281 5.1, 5.2)."""
    if off + 8 > end:
        return "GTP-U header cut short"
    flags, msg_type = data[off], data[off + 1]
    if flags >> 5 != 1 or not flags & 0x10:
        return "GTP-U version is not 1"
    if msg_type != 0xFF:
        return f"GTP-U message type {msg_type} (signalling, no user packet)"
    pos = off + 8
    if flags & 0x07:  # sequence number, N-PDU number, next extension header type
        pos += 4
        next_type = data[pos - 1] if pos <= end else 0
        while next_type and pos < end:  # extension headers: length in 4-byte units, type last
            size = data[pos] * 4
            if not size:
                return "GTP-U extension header of length 0"
            pos += size
            next_type = data[pos - 1] if pos <= end else 0
    if pos >= end:
        return "GTP-U header cut short"
    return pos if data[pos] >> 4 in (4, 6) else "GTP-U payload is not IP"


def vxlan(data: bytes, off: int, end: int) -> int | str:
    """The Ethernet frame inside VXLAN (RFC 7348 5: 8-byte header, I flag set)."""
    if off + 8 + 14 > end:
        return "VXLAN header cut short"
    if not data[off] & 0x08:
        return "VXLAN without a valid VNI"
    return ether(data, off + 8 + 12)


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
