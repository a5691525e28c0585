"""Capture file readers: libpcap (us and ns, both byte orders) and pcapng.

:func:`records` streams ``(frame, ts_ns, linktype, data)`` tuples, frame numbers 1-based and
counted like Wireshark (packet blocks only). ``ts_ns`` is nanoseconds since the epoch (UTC), or
``None`` for a pcapng Simple Packet Block, which has no time.

The file is read in chunks of :data:`CHUNK` bytes and parsed with :mod:`struct` straight from the
chunk, so memory stays constant whatever the file's size. Every length read from the file is
bounded (:data:`MAX_RECORD`, the block's own length); damage ends the stream with a warning and
what preceded it is kept.

Why not ``dpkt.pcap.Reader`` / ``dpkt.pcapng.Reader``: measured on a 200,000-packet capture
(bench/bench_capture.py's generator), dpkt's pcap reader alone takes 0.61 s against 0.21 s for this
one, and parsing each frame with ``dpkt.ethernet.Ethernet`` brings it to 2.7 s, while our whole
decode (reader, link, IP, UDP fast path, TCP, STUN) takes 0.28 s. dpkt's pcapng reader also keeps
a single timestamp resolution for all interfaces. The formats are small enough to read directly
(pcap: 24-byte file header + 16-byte record headers; pcapng: SHB, IDB with if_tsresol and
if_tsoffset, EPB, SPB and the obsolete PB), and doing so lets every length be bounded here.
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Callable, Iterator

CHUNK = 1 << 20
MAX_RECORD = 1 << 18  # 256 KiB: larger than any snaplen seen in practice (262144)
MAX_BLOCK = 1 << 24  # 16 MiB for a pcapng block

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BOM = 0x1A2B3C4D
PCAPNG_IDB = 0x00000001
PCAPNG_PB = 0x00000002  # obsolete Packet Block
PCAPNG_SPB = 0x00000003
PCAPNG_EPB = 0x00000006
OPT_ENDOFOPT = 0
IF_TSRESOL = 9
IF_TSOFFSET = 14

Warn = Callable[[int | None, str], None]
Record = tuple[int, "int | None", int, bytes]

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}


def kind(head: bytes) -> str | None:
    """``pcap``, ``pcapng`` or ``None`` from the first bytes of a file."""
    if head[:4] in _MAGICS and len(head) >= 24:
        return "pcap"
    if head[:4] == b"\x0a\x0d\x0d\x0a" and len(head) >= 12 and head[8:12] in (
        b"\x4d\x3c\x2b\x1a",
        b"\x1a\x2b\x3c\x4d",
    ):
        return "pcapng"
    return None


def records(stream: BinaryIO, warn: Warn, media_mask: int | None = None) -> Iterator[Record]:
    """All packet records of a pcap or pcapng stream. With `media_mask`, a pcap's Ethernet
    records of unfragmented IPv4 UDP whose payload opens as RTP/RTCP does (0x80-0xFE: no STUN,
    ChannelData, tunnel or SIP message opens so) are passed over where it is cheapest, in the
    record loop, except those whose frame number has no bit of the mask set."""
    head = stream.read(24)
    k = kind(head)
    if k == "pcap":
        yield from _pcap(stream, head, warn, media_mask)
    elif k == "pcapng":
        yield from _pcapng(stream, head, warn)
    else:
        warn(None, "not a pcap or pcapng file")


class _Chunks:
    """A read window over the stream: ``need(n)`` makes ``n`` bytes available at ``pos``."""

    __slots__ = ("stream", "buf", "pos")

    def __init__(self, stream: BinaryIO, initial: bytes = b"") -> None:
        self.stream = stream
        self.buf = initial
        self.pos = 0

    def need(self, n: int) -> bool:
        have = len(self.buf) - self.pos
        if have >= n:
            return True
        parts = [self.buf[self.pos :]]
        while have < n:
            chunk = self.stream.read(max(CHUNK, n - have))
            if not chunk:
                self.buf = b"".join(parts)
                self.pos = 0
                return False
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts)
        self.pos = 0
        return True

    def left(self) -> int:
        return len(self.buf) - self.pos


def _media_test(endian: str) -> tuple[struct.Struct, int, tuple[int, int]]:
    """The one unpack that reads a record's length and the bytes the media test looks at: Ethernet
    type, IPv4 version and header length, flags and fragment offset, protocol, and the first UDP
    payload byte of an IPv4 header without options. Also the Ethernet type IPv4 and the flags of
    a packet that is not a fragment (nothing, or Don't Fragment), read as that unpack reads them."""
    head = struct.Struct(endian + "8xI16xHB5xHxB18xB")
    ipv4, = struct.unpack(endian + "H", b"\x08\x00")
    whole = tuple(struct.unpack(endian + "H", v)[0] for v in (b"\x00\x00", b"\x40\x00"))
    return head, ipv4, whole  # type: ignore[return-value]


def _pcap(stream: BinaryIO, head: bytes, warn: Warn, media_mask: int | None = None) -> Iterator[Record]:
    endian, ns = _MAGICS[head[:4]]
    _vmaj, _vmin, _zone, _sig, snaplen, network = struct.unpack(endian + "HHiIII", head[4:24])
    linktype = network & 0x0FFFFFFF  # upper bits: FCS length flags
    limit = min(max(snaplen, MAX_RECORD), MAX_BLOCK)
    mult = 1 if ns else 1000
    mask = media_mask if media_mask is not None and linktype == 1 else 0
    media, ipv4, whole = _media_test(endian)
    unpack, size = media.unpack_from, media.size
    stamp = struct.Struct(endian + "II").unpack_from
    read = stream.read
    buf = b""
    p = n = frame = 0
    while True:  # while a whole media test fits in the buffer; the file's last bytes below
        if p + size > n:  # refill: keep the unread tail, add a chunk
            chunk = read(CHUNK)
            buf = buf[p:] + chunk
            p, n = 0, len(buf)
            if not chunk:
                break
            continue
        incl, ethertype, version, flags, proto, first = unpack(buf, p)
        if incl > limit:
            warn(frame + 1, f"record length {incl} exceeds the limit {limit}: file damaged, reading stops")
            return
        end = p + 16 + incl
        if end > n:
            chunk = read(max(CHUNK, end - n))
            buf = buf[p:] + chunk
            p, n = 0, len(buf)
            if not chunk:
                warn(frame + 1, f"truncated record: {n - 16} of {incl} bytes at the end of the file")
                return
            continue
        frame += 1
        # Ethernet type IPv4, version 4 without options, UDP, not a fragment, payload 0x80-0xFE
        if proto == 17 and 0x80 <= first < 0xFF and ethertype == ipv4 and version == 0x45 and flags in whole \
                and incl > 42 and frame & mask:
            p = end
            continue
        sec, frac = stamp(buf, p)
        yield frame, sec * 1_000_000_000 + frac * mult, linktype, buf[p + 16 : end]
        p = end
    yield from _pcap_tail(buf, frame, endian, mult, linktype, limit, warn)


def _pcap_tail(buf: bytes, frame: int, endian: str, mult: int, linktype: int, limit: int, warn: Warn) -> Iterator[Record]:
    """The records in the file's last bytes, too few for the media test (none is media)."""
    p, n = 0, len(buf)
    unpack = struct.Struct(endian + "IIII").unpack_from
    while p < n:
        if p + 16 > n:
            warn(frame + 1, f"truncated record header ({n - p} of 16 bytes) at the end of the file")
            return
        sec, frac, incl, _orig = unpack(buf, p)
        if incl > limit:
            warn(frame + 1, f"record length {incl} exceeds the limit {limit}: file damaged, reading stops")
            return
        end = p + 16 + incl
        if end > n:
            warn(frame + 1, f"truncated record: {n - p - 16} of {incl} bytes at the end of the file")
            return
        frame += 1
        yield frame, sec * 1_000_000_000 + frac * mult, linktype, buf[p + 16 : end]
        p = end


def _tsres_to_ns(resol: int) -> tuple[int, int]:
    """(multiplier, divisor) turning interface time units into ns (if_tsresol, pcapng 4.2)."""
    if resol & 0x80:
        return 1_000_000_000, 1 << (resol & 0x7F)
    exp = resol
    if exp <= 9:
        return 10 ** (9 - exp), 1
    return 1, 10 ** (exp - 9)


def _options(body: bytes, start: int, endian: str) -> Iterator[tuple[int, bytes]]:
    pos = start
    n = len(body)
    while pos + 4 <= n:
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == OPT_ENDOFOPT:
            return
        vend = pos + 4 + length
        if vend > n:
            return
        yield code, body[pos + 4 : vend]
        pos = pos + 4 + ((length + 3) & ~3)


def _pcapng(stream: BinaryIO, head: bytes, warn: Warn) -> Iterator[Record]:
    ch = _Chunks(stream, head)
    endian = "<"
    ifaces: list[tuple[int, int, int, int, int]] = []  # linktype, snaplen, mult, div, offset_s
    frame = 0
    while True:
        if not ch.need(12):
            if ch.left():
                warn(frame + 1, f"truncated block header ({ch.left()} bytes) at the end of the file")
            return
        buf, p = ch.buf, ch.pos
        if buf[p : p + 4] == b"\x0a\x0d\x0d\x0a":  # a section starts: its byte order rules
            bom = buf[p + 8 : p + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else ""
            if not endian:
                warn(frame + 1, "pcapng section header with a bad byte-order magic: reading stops")
                return
            ifaces = []
        btype, blen = struct.unpack_from(endian + "II", buf, p)
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            warn(frame + 1, f"pcapng block length {blen} is invalid: file damaged, reading stops")
            return
        if not ch.need(blen):
            warn(frame + 1, f"truncated pcapng block: {ch.left()} of {blen} bytes at the end of the file")
            return
        buf, p = ch.buf, ch.pos
        body = buf[p + 8 : p + blen - 4]
        ch.pos = p + blen
        if btype == PCAPNG_IDB:
            iface = _interface(body, endian)
            if iface is None:
                warn(frame + 1, "short pcapng interface block")
            else:
                ifaces.append(iface)
        elif btype in (PCAPNG_EPB, PCAPNG_PB, PCAPNG_SPB):
            if len(body) < (4 if btype == PCAPNG_SPB else 20):
                warn(frame + 1, "short pcapng " + ("simple " if btype == PCAPNG_SPB else "") + "packet block")
                continue
            frame += 1
            record = _packet(btype, body, endian, ifaces, frame, warn)
            if record is not None:
                yield record
        # other blocks (SHB, NRB, ISB, DSB, custom) carry no packets


def _interface(body: bytes, endian: str) -> tuple[int, int, int, int, int] | None:
    """(linktype, snaplen, multiplier, divisor, offset in s) of an Interface Description Block."""
    if len(body) < 8:
        return None
    linktype, _res, snaplen = struct.unpack_from(endian + "HHI", body, 0)
    mult, div, offset = 1000, 1, 0  # default resolution: microseconds
    for code, value in _options(body, 8, endian):
        if code == IF_TSRESOL and value:
            mult, div = _tsres_to_ns(value[0])
        elif code == IF_TSOFFSET and len(value) == 8:
            offset = struct.unpack(endian + "q", value)[0]
    return linktype, snaplen, mult, div, offset


def _packet(btype: int, body: bytes, endian: str, ifaces: list, frame: int, warn: Warn) -> Record | None:
    """The record of an Enhanced, obsolete or Simple Packet Block (``None``: skipped, warned)."""
    if btype == PCAPNG_SPB:
        if not ifaces:
            warn(frame, "simple packet block before any interface: skipped")
            return None
        orig = struct.unpack_from(endian + "I", body, 0)[0]
        linktype, snap, _m, _d, _o = ifaces[0]
        caplen = min(orig, len(body) - 4, snap or orig)
        return frame, None, linktype, body[4 : 4 + caplen]
    if btype == PCAPNG_EPB:
        iface, hi, lo, caplen, _orig = struct.unpack_from(endian + "IIIII", body, 0)
    else:
        iface, _drops, hi, lo, caplen, _orig = struct.unpack_from(endian + "HHIIII", body, 0)
    start = 20  # both headers are 20 bytes before the packet data
    if iface >= len(ifaces):
        warn(frame, f"packet on undeclared interface {iface}: skipped")
        return None
    if start + caplen > len(body):
        warn(frame, f"captured length {caplen} exceeds its block: cut to the block")
        caplen = len(body) - start
    linktype, _snap, mult, div, offset = ifaces[iface]
    units = (hi << 32) | lo
    return frame, units * mult // div + offset * 1_000_000_000, linktype, body[start : start + caplen]
