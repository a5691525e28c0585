"""The frame loop: capture records in, events of :mod:`logcorr.events.schema` out.

Event keys (``proto`` / ``event``):

* ``stun`` / ``<Method> <Class>`` as Wireshark names it (``Allocate Request``, ``ConnectionBind
  Success Response``, ``Binding Request`` ...), one per STUN message, over UDP, TCP, and inside
  RFC 4571 framing (direct ICE-TCP, and the data connection after a ConnectionBind Success).
* ``stun`` / ``ChannelData``: one per (source, destination, channel, transport), counting frames
  and bytes; ``pos`` is the first frame. Emitted when the connection ends or at the end of the file.
* ``tcp`` / ``open`` (the SYN), ``close`` (a FIN, one per direction), ``reset`` (an RST, one per
  direction), only for connections that carried STUN or SIP; ``open`` is emitted once the
  connection has shown STUN or SIP, so it may come after later frames' events (``pos`` is the SYN's).
* ``tcp`` / ``refused`` (an RST answers the SYN) and ``unanswered`` (no SYN-ACK before the
  connection is forgotten or the file ends), for SYNs to the TURN ports 3478 and 5349; ``pos`` is
  the SYN's frame.
* ``tcp`` / ``media``: RFC 4571 frames that are not STUN (RTP, RTCP) on a framed connection,
  counted per direction; ``tcp`` / ``data``: bytes relayed on a bound data connection that are
  not RFC 4571 framed (RFC 6062 carries the peer's bytes as they are).
* ``tcp`` / ``pseudo-tls``: a record of the [MS-TURN] pseudo-TLS handshake (ClientHello,
  ServerHello + ServerHelloDone) that opens MS-TURN over TCP 443.
* ``sip`` / method or ``<status> <method>``: clear-text SIP found by its start line on any port,
  fields from :mod:`logcorr.events.sip`.

Tunnels (GRE, IP-in-IP, GTP-U, VXLAN, ERSPAN, MPLS, PPPoE; :mod:`logcorr.events.capture.link`) are
followed to the innermost IP packet, whose addresses the events carry. What cannot be used is
counted by reason and handed to ``count(frame, reason, n, skipped)`` at the end: packets skipped
(``unsupported link type 147``, ``not IP: ethertype 0x0806 (ARP)``, ``GRE carrying protocol
0x1234``, ``not SIP: start line``) with ``skipped`` true, STUN messages decoded although malformed
(``STUN length not a multiple of 4``) with ``skipped`` false.

Speed: most packets in a call capture are RTP. The pcap record loop passes over Ethernet/IPv4/UDP
records whose first payload byte is 0x80-0xFE (:func:`logcorr.events.capture.pcapfile.records`):
no STUN or MS-TURN message (top two bits 0), ChannelData (0x40-0x7F, or MS-TURN's 0xFF10) or SIP
start line (an upper-case letter) begins so, and RTP/RTCP always do. Of the rest, the common frame
(Ethernet, IPv4 without options, not a fragment, TCP or UDP not to a tunnel port) is read with one
unpack (:meth:`Decoder.ipv4`); everything else goes through :mod:`logcorr.events.capture.link`.
Then the content checks (RFC 5389 cookie at offset 4, MS-TURN cookie attribute at offset 20,
ChannelData on a flow already seen carrying STUN, a SIP start line). dpkt is not used per packet:
building ``dpkt.ethernet.Ethernet`` for each frame costs about 13 us a packet (numbers in
:mod:`logcorr.events.capture.pcapfile`). Measured in bench/README.md ("Capture decoder"): the 796 MB
capture of the 1 GB bundle (3.37 M frames) in about 4.8 CPU-s, 1.7x a bare Python loop over its
records.

Memory: connection state is dropped on RST, after both FINs, and when idle for
:data:`IDLE_NS`; reassembly buffers are bounded in :mod:`logcorr.events.capture.tcp`; untracked TCP
connections keep a few integers each, and only when they began with a SYN or carried STUN/SIP
evidence.
"""
from __future__ import annotations

import datetime as dt
import struct
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from logcorr.events.capture import link, sipwire, stun
from logcorr.events.capture.streams import Streams
from logcorr.events.capture.tcp import ACK, EARLY_TAIL, FIN, RST, SYN, Half, seq_diff

Warn = Callable[[int | None, str], None]
Count = Callable[[int | None, str, int, bool], None]

IDLE_NS = 300 * 1_000_000_000
PURGE_MASK = (1 << 16) - 1  # purge idle connections every 65536 frames
MAX_CONNS = 50_000
MAX_TURN_FLOWS = 100_000
MAX_CHANNEL_KEYS = 4096
UNFRAGMENTED = (b"\x00\x00", b"\x40\x00")  # IPv4 flags/offset: nothing or only Don't Fragment
GIVE_UP_SEGMENTS = 64  # a TCP connection with this many segments and no STUN/SIP is not watched further
GIVE_UP_BYTES = 16384  # ... and this many bytes (a stream sent a byte at a time is still watched)
TURN_TCP_PORTS = {3478, 5349}  # a SYN to these that is refused or unanswered is an event

COOKIE = stun.MAGIC_COOKIE_BYTES
MS_COOKIE = stun.MS_COOKIE_ATTR
IP_PROTO_NAMES = {1: "ICMP", 2: "IGMP", 50: "ESP", 51: "AH", 58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP"}
_udp_ports = struct.Struct("!HHH")
_tcp_head = struct.Struct("!HHIIH")
# Ethernet type; IPv4 version and header length, total length, flags and fragment offset, protocol,
# addresses; the transport's ports
_ethernet_ipv4 = struct.Struct("!12xHBxHxxHxB2x4s4sHH")
_u16 = struct.Struct("!H")
MAX_TS_NS = (1 << 63) - 1  # pandas' datetime64[ns] range ends in 2262
UTC = dt.timezone.utc
STAMP_BATCH = 256  # events whose times are made timestamps together


def timestamp(ts_ns: int | None):
    """A UTC timestamp, or ``None`` (NaT) when the capture gives none or an impossible one."""
    if ts_ns is None or not 0 <= ts_ns <= MAX_TS_NS:
        return None
    return pd.Timestamp(ts_ns, tz=UTC)


def stamped(events: list[dict]) -> list[dict]:
    """The events with their ``ts`` (ns since the epoch, or ``None``) made what :func:`timestamp`
    makes of it, all in one go: a DatetimeIndex boxes its values for a third of what building
    each Timestamp on its own costs."""
    ns = [ev["ts"] for ev in events]
    valid = [t for t in ns if t is not None and 0 <= t <= MAX_TS_NS]
    if not valid:
        for ev in events:
            ev["ts"] = None
        return events
    boxed = iter(pd.DatetimeIndex(np.array(valid, dtype=np.int64).view("M8[ns]"), tz=UTC))
    for ev, t in zip(events, ns):
        ev["ts"] = next(boxed) if t is not None and 0 <= t <= MAX_TS_NS else None
    return events


class Conn:
    __slots__ = ("halves", "tracked", "syn", "cid", "last", "key", "quiet", "quiet_bytes")

    def __init__(self, key, src: str, dst: str) -> None:
        self.key = key
        self.halves = (Half(src, dst), Half(dst, src))
        self.tracked = False
        self.syn: tuple[int, int | None] | None = None
        self.cid: int | None = None
        self.last: int | None = None
        self.quiet = 0  # payload segments seen without STUN or SIP evidence
        self.quiet_bytes = 0

    @property
    def given_up(self) -> bool:
        return self.quiet > GIVE_UP_SEGMENTS and self.quiet_bytes > GIVE_UP_BYTES


class Decoder(Streams):
    """State across frames; :meth:`packet` appends finished events to :attr:`out`, their ``ts``
    still the capture's nanoseconds (:func:`stamped` makes them timestamps)."""

    def __init__(self, host: str, file: str, warn: Warn, count: Count | None = None) -> None:
        self.host = host
        self.file = file
        self.warn = warn
        self.count = count
        self.conns: dict[tuple, Conn] = {}
        self.turn_udp: set[tuple] = set()
        self.channels: dict[tuple, list] = {}
        self.out: list[dict] = []
        self.counts: dict[tuple[str, bool], list[int]] = {}  # (reason, skipped) -> [n, first frame]

    # -- what could not be used ----------------------------------------------------------------
    def skip(self, frame: int | None, reason: str, skipped: bool = True) -> None:
        """Count a packet or message that could not be used (``skipped``) or was decoded although
        malformed, by reason, with the first frame of each."""
        entry = self.counts.get((reason, skipped))
        if entry is None:
            self.counts[(reason, skipped)] = [1, frame or 0]
        else:
            entry[0] += 1

    def report_counts(self) -> None:
        for (reason, skipped), (n, frame) in self.counts.items():
            if self.count is not None:
                self.count(frame or None, reason, n, skipped)
        self.counts.clear()

    # -- events --------------------------------------------------------------------------------
    def base_event(self, frame: int, ts: int | None, proto: str, event: str, src: str, dst: str, transport: str) -> dict:
        return {
            "ts": ts, "source": "pcap", "host": self.host, "file": self.file, "pos": frame,
            "proto": proto, "event": event, "direction": "", "src": src, "dst": dst, "transport": transport,
        }

    def stun_event(self, raw: bytes, frame: int, ts, src: str, dst: str, transport: str, note: str = "",
                   classic: bool = False) -> stun.StunMessage | None:
        msg = stun.decode(raw, classic=classic)
        if msg is None:
            return None
        name = msg.name
        error = msg.error_code
        self.out.append({  # the keys of base_event, then the message's
            "ts": ts, "source": "pcap", "host": self.host, "file": self.file, "pos": frame,
            "proto": "stun", "event": name, "direction": "", "src": src, "dst": dst, "transport": transport,
            "txn_id": msg.txn_id, "error_code": error, "mapped": msg.mapped, "relayed": msg.relayed,
            "peer": msg.peer, "connection_id": msg.connection_id, "username": msg.username, "realm": msg.realm,
            "lifetime": msg.lifetime, "summary": stun.summary(msg, name) + note, "raw": raw.hex(),
            "reason": (msg.reason or stun.ERROR_REASONS.get(error, "")) if error else "",
        })
        if msg.fingerprint_ok is False:
            self.warn(frame, f"STUN {msg.name} {msg.txn_id}: FINGERPRINT does not match")
        for problem in msg.problems:
            self.warn(frame, f"STUN {msg.name} {msg.txn_id}: {problem}")
        for reason in msg.malformed:
            self.skip(frame, reason, skipped=False)
        inner = stun.inner_stun(msg)
        if inner is not None and not note.startswith(" (inside"):
            other = msg.peer or msg.first(stun.DESTINATION_ADDRESS)
            where = f" (inside {msg.name} {'to' if msg.cls == stun.CLASS_REQUEST or msg.name.startswith('Send') else 'from'} peer {other})"
            self.stun_event(inner, frame, ts, src, dst, transport, where)
        return msg

    def sip_event(self, raw: bytes, frame: int, ts, src: str, dst: str, transport: str) -> None:
        fields = sipwire.fields(raw)
        if fields is None:
            self.warn(frame, f"{transport} {src} -> {dst}: bytes that are not a SIP message skipped")
            self.skip(frame, "not SIP: start line")
            return
        ev = self.base_event(frame, ts, "sip", "", src, dst, transport)
        fields.pop("transport", None)
        fields.pop("proto", None)
        ev.update(fields)
        self.out.append(ev)

    def count_channel(self, src: str, dst: str, channel: int, size: int, frame: int, ts, transport: str) -> None:
        key = (src, dst, channel, transport)
        entry = self.channels.get(key)
        if entry is None:
            if len(self.channels) >= MAX_CHANNEL_KEYS:
                self.flush_channels()
            self.channels[key] = [1, size, frame, ts]
        else:
            entry[0] += 1
            entry[1] += size

    def flush_channels(self) -> None:
        for (src, dst, channel, transport), (frames, size, frame, ts) in self.channels.items():
            ev = self.base_event(frame, ts, "stun", "ChannelData", src, dst, transport)
            ev["summary"] = f"ChannelData 0x{channel:04x}: {frames} frames, {size} B"
            self.out.append(ev)
        self.channels.clear()

    # -- UDP -----------------------------------------------------------------------------------
    def datagram(self, frame: int, ts, src_ip: bytes, dst_ip: bytes, data: bytes, l4: int, end: int) -> None:
        """A whole UDP datagram whose header is at ``l4``, its IP payload ending at ``end``."""
        p = l4 + 8
        if p >= end:
            return
        sport, dport, ulen = _udp_ports.unpack_from(data, l4)
        if ulen >= 8 and l4 + ulen < end:
            end = l4 + ulen
        b0 = data[p]
        if (data[p + 4 : p + 8] == COOKIE or data[p + 20 : p + 28] == MS_COOKIE or b0 < 0x02
                or 0x21 <= b0 < 0x80 or b0 == 0xFF):  # STUN, ChannelData, a SIP method token
            self.udp(frame, ts, src_ip, dst_ip, data, p, end, sport, dport)

    def udp(self, frame: int, ts, src_ip: bytes, dst_ip: bytes, data: bytes, p: int, end: int, sport: int,
            dport: int) -> None:
        src = link.addr(src_ip, sport)
        dst = link.addr(dst_ip, dport)
        if self.udp_stun(frame, ts, data, p, end, src, dst):
            if len(self.turn_udp) >= MAX_TURN_FLOWS:
                self.turn_udp.clear()
            self.turn_udp.add((src_ip, sport, dst_ip, dport))
            self.turn_udp.add((dst_ip, dport, src_ip, sport))
            return
        b0 = data[p]
        if (0x40 <= b0 < 0x80 or b0 == 0xFF) and (src_ip, sport, dst_ip, dport) in self.turn_udp:
            cd = stun.channel_data_len(data, p, end)
            if cd:
                self.count_channel(src, dst, _u16.unpack_from(data, p)[0], cd - 4, frame, ts, "UDP")
                return
        if b0 in sipwire.TOKEN_BYTES and sipwire.starts_sip(data, p, end):
            self.sip_event(data[p:end], frame, ts, src, dst, "UDP")

    def udp_stun(self, frame: int, ts, data: bytes, p: int, end: int, src: str, dst: str) -> bool:
        """A STUN message in a datagram: well formed, malformed but with a cookie (decoded as far as
        it goes), or classic RFC 3489."""
        n = stun.is_stun(data, p, end) or stun.is_ms_turn(data, p, end)
        classic = False
        if not n:
            if data[p] & 0xC0 or end - p < 20:
                return False
            if data[p + 4 : p + 8] == COOKIE or data[p + 20 : p + 28] == MS_COOKIE:
                n = end - p  # malformed: let the decoder say how
            elif stun.is_classic(data, p, end):
                n, classic = end - p, True
            else:
                return False
        return self.stun_event(data[p : p + n], frame, ts, src, dst, "UDP", classic=classic) is not None

    # -- TCP -----------------------------------------------------------------------------------
    def tcp(self, frame: int, ts, l: link.L4, data: bytes) -> None:
        self.segment(frame, ts, l.src, l.dst, data, l.l4, l.end)

    def segment(self, frame: int, ts, src_ip: bytes, dst_ip: bytes, data: bytes, l4: int, end: int) -> None:
        """A TCP segment whose header is at ``l4``, its IP payload ending at ``end``."""
        if l4 + 20 > end:
            self.skip(frame, "TCP header cut short")
            return
        sport, dport, seq, _ack, off_flags = _tcp_head.unpack_from(data, l4)
        doff = (off_flags >> 12) * 4
        flags = off_flags & 0x3F
        if doff < 20 or l4 + doff > end:
            self.skip(frame, "TCP header cut short")
            return
        payload = data[l4 + doff : end]
        found = self.connection(src_ip, dst_ip, sport, dport, flags, payload)
        if found is None:
            return
        conn, idx = found
        half = conn.halves[idx]
        conn.last = ts
        if conn.given_up:  # long past its start and never STUN or SIP: ignore
            if flags & RST or (flags & FIN and conn.halves[1 - idx].fin):
                self.drop(conn)
            elif flags & FIN:
                half.fin = True
            return
        if flags & SYN:
            half.start(seq + 1)
            if not flags & ACK and conn.syn is None:
                conn.syn = (frame, ts)
            seq += 1
        if payload:
            self.tcp_payload(conn, idx, seq, payload, frame, ts)
        if flags & FIN and not half.fin:
            self.tcp_fin(conn, half, frame, ts)
        if flags & RST:
            self.tcp_rst(conn, idx, frame, ts)
        elif conn.halves[0].fin and conn.halves[1].fin:
            self.drop(conn)

    def connection(self, src_ip: bytes, dst_ip: bytes, sport: int, dport: int, flags: int,
                   payload: bytes) -> tuple[Conn, int] | None:
        """The connection a segment belongs to and its direction; a new one only for a SYN or a
        payload that may hold STUN or SIP."""
        key = (src_ip, sport, dst_ip, dport)
        conn = self.conns.get(key)
        if conn is not None:
            return conn, 0
        conn = self.conns.get((dst_ip, dport, src_ip, sport))
        if conn is not None:
            return conn, 1
        if flags & RST or not (flags & SYN or (payload and sipwire.evidence(payload))):
            return None
        conn = self.conns[key] = Conn(key, link.addr(src_ip, sport), link.addr(dst_ip, dport))
        return conn, 0

    def tcp_payload(self, conn: Conn, idx: int, seq: int, payload: bytes, frame: int, ts) -> None:
        half = conn.halves[idx]
        if not conn.tracked:
            if (sipwire.evidence(half.early_tail(EARLY_TAIL) + payload[:64]) or sipwire.evidence(payload)
                    or half.early_classic(payload)):
                self.track(conn)
                self.replay_early(conn, idx, seq)
            else:
                half.keep_early(seq, payload, frame, ts)
                conn.quiet += 1
                conn.quiet_bytes += len(payload)
                if conn.given_up:
                    conn.halves[0].early = []
                    conn.halves[1].early = []
        if conn.tracked:
            if half.push(seq, payload, frame, ts):
                self.parse_half(conn, half)
            if half.gaps:
                self.report_gaps(half)

    def tcp_fin(self, conn: Conn, half: Half, frame: int, ts) -> None:
        half.fin = True
        if conn.tracked:
            half.skip_hole(frame)
            self.report_gaps(half)
            self.parse_half(conn, half)
            ev = self.base_event(frame, ts, "tcp", "close", half.src, half.dst, "TCP")
            ev["summary"] = f"TCP FIN {half.src} -> {half.dst}"
            self.out.append(ev)

    def tcp_rst(self, conn: Conn, idx: int, frame: int, ts) -> None:
        half = conn.halves[idx]
        if not conn.tracked and idx == 1:
            self.unserved(conn, frame, "refused")
        if conn.tracked:
            ev = self.base_event(frame, ts, "tcp", "reset", half.src, half.dst, "TCP")
            ev["summary"] = f"TCP RST {half.src} -> {half.dst}" + self.cid_note(conn)
            self.out.append(ev)
        self.drop(conn)

    def track(self, conn: Conn) -> None:
        conn.tracked = True
        if conn.syn is not None:
            frame, ts = conn.syn
            a, b = conn.halves[0].src, conn.halves[0].dst
            ev = self.base_event(frame, ts, "tcp", "open", a, b, "TCP")
            ev["summary"] = f"TCP SYN {a} -> {b} (new connection)"
            self.out.append(ev)

    def replay_early(self, conn: Conn, idx: int, seq: int) -> None:
        """Start reassembly where the kept segments lead up to ``seq``, and feed them in."""
        for i, half in enumerate(conn.halves):
            early, half.early = half.early, []
            if i == idx:
                half.next_seq = half.early_start_of(early, seq)
            elif early:
                first = min((s for s, *_ in early), key=lambda s: seq_diff(s, early[0][0]))
                if half.next_seq is None or seq_diff(first, half.next_seq) > 0:
                    half.next_seq = first
            for s, data, frame, ts in early:
                if half.push(s, data, frame, ts):
                    self.parse_half(conn, half)
            half.gaps.clear()  # holes before tracking began are not news

    def report_gaps(self, half: Half) -> None:
        for frame, text in half.gaps:
            self.warn(frame, text)
        half.gaps.clear()

    @staticmethod
    def cid_note(conn: Conn) -> str:
        return f" (bound connection CID 0x{conn.cid:08x})" if conn.cid is not None else ""

    def unserved(self, conn: Conn, frame: int | None, how: str) -> None:
        """A SYN to a TURN port that the server refused (RST) or never answered: the connection
        CMS needs for TURN over TCP never came up."""
        a, b = conn.halves[0].src, conn.halves[0].dst
        if conn.syn is None or conn.halves[1].next_seq is not None or int(b.rsplit(":", 1)[1]) not in TURN_TCP_PORTS:
            return
        syn_frame, ts = conn.syn
        ev = self.base_event(syn_frame, ts, "tcp", how, a, b, "TCP")
        ev["summary"] = (f"TCP SYN {a} -> {b} refused (RST in frame {frame})" if how == "refused"
                         else f"TCP SYN {a} -> {b} never answered")
        self.out.append(ev)
        conn.syn = None

    def drop(self, conn: Conn) -> None:
        if not conn.tracked:
            self.unserved(conn, None, "unanswered")
        if conn.tracked:
            for half in conn.halves:
                if half.ooo:
                    half.skip_hole(half.ooo[next(iter(half.ooo))][1])
                    self.report_gaps(half)
                    self.parse_half(conn, half)
                if half.buf and half.mode in ("stun", "framed", "sip"):
                    frame, _ = half.frame_at(0)
                    self.warn(frame, f"TCP {half.src} -> {half.dst}: the connection ended inside a message "
                                     f"({len(half.buf)} bytes never completed)")
                self.flush_half(conn, half)
        self.conns.pop(conn.key, None)

    def flush_half(self, conn: Conn, half: Half) -> None:
        c = half.counters
        if c.get("media_frames"):
            frame, ts = c["media_first"]
            ev = self.base_event(frame, ts, "tcp", "media", half.src, half.dst, "TCP")
            ev["summary"] = (f"RFC 4571 framed media {half.src} -> {half.dst}: {c['media_frames']} frames, "
                             f"{c['media_bytes']} B" + self.cid_note(conn))
            self.out.append(ev)
            c["media_frames"] = 0
        if c.get("raw_bytes") and conn.cid is not None:
            frame, ts = c["raw_first"]
            ev = self.base_event(frame, ts, "tcp", "data", half.src, half.dst, "TCP")
            ev["summary"] = f"relayed data {half.src} -> {half.dst}: {c['raw_bytes']} B" + self.cid_note(conn)
            self.out.append(ev)
            c["raw_bytes"] = 0

    def purge(self, now: int | None) -> None:
        if now is None:
            return
        stale = [c for c in self.conns.values() if c.last is not None and now - c.last > IDLE_NS]
        for conn in stale:
            self.drop(conn)
        if len(self.conns) > MAX_CONNS:
            untracked = sorted((c for c in self.conns.values() if not c.tracked), key=lambda c: c.last or 0)
            for conn in untracked[: len(self.conns) - MAX_CONNS // 2]:
                self.conns.pop(conn.key, None)

    def finish(self) -> None:
        for conn in list(self.conns.values()):
            self.drop(conn)
        self.flush_channels()
        self.report_counts()

    # -- one frame -----------------------------------------------------------------------------
    def ip(self, frame: int, linktype: int, data: bytes) -> link.L4 | None:
        """The innermost IP layer of a frame (tunnels followed), or ``None`` with the reason counted."""
        off = link.ip_offset(linktype, data)
        if type(off) is int and rtp_only(data, off):
            return None
        for _ in range(link.MAX_TUNNELS + 1):
            if type(off) is str:
                self.skip(frame, off)
                return None
            l = link.ip_layer(data, off)
            if l is None:
                self.skip(frame, "IP header cut short or not IPv4/IPv6")
                return None
            if l.fragment is not None or not self.is_tunnel(l, data):
                return l
            off = link.tunnel_inner(data, l)
        self.skip(frame, f"tunnels nested deeper than {link.MAX_TUNNELS}")
        return None

    @staticmethod
    def is_tunnel(l: link.L4, data: bytes) -> bool:
        if l.proto in link.TUNNEL_PROTOS:
            return True
        if l.proto != 17 or l.l4 + 8 > l.end:
            return False
        sport, dport = _u16.unpack_from(data, l.l4)[0], _u16.unpack_from(data, l.l4 + 2)[0]
        return dport in link.UDP_TUNNEL_PORTS or sport == link.GTP_U_PORT

    def transport(self, frame: int, ts, l: link.L4, data: bytes) -> None:
        """Hand a (whole, unfragmented) IP packet's TCP segment or UDP datagram on."""
        proto = l.proto
        if proto == 17:
            self.datagram(frame, ts, l.src, l.dst, data, l.l4, l.end)
        elif proto == 6:
            self.segment(frame, ts, l.src, l.dst, data, l.l4, l.end)
        else:
            self.skip(frame, f"IP protocol {proto}" + (f" ({IP_PROTO_NAMES[proto]})" if proto in IP_PROTO_NAMES else "")
                      + " is not read")

    def ipv4(self, frame: int, ts, data: bytes) -> bool:
        """The common Ethernet frame, read with one unpack: IPv4 without options and not a fragment,
        carrying TCP, or UDP not to a tunnel port. False: not such a frame, :meth:`packet` reads it."""
        n = len(data)
        if n < 42:
            return False
        ethertype, version, total, flags, proto, src, dst, sport, dport = _ethernet_ipv4.unpack_from(data)
        if ethertype != 0x0800 or version != 0x45 or flags & 0xBFFF:  # flags: Don't Fragment only
            return False
        end = min(n, 14 + total) if total >= 20 else n  # TSO captures show total 0
        if proto == 6:
            self.segment(frame, ts, src, dst, data, 34, end)
            return True
        if proto != 17:
            return False
        if n > 42 and 0x80 <= data[42] < 0xFF:  # RTP/RTCP (see rtp_only)
            return True
        if end >= 42 and (dport in link.UDP_TUNNEL_PORTS or sport == link.GTP_U_PORT):
            return False
        self.datagram(frame, ts, src, dst, data, 34, end)
        return True

    def packet(self, frame: int, ts, linktype: int, data: bytes, defrag: link.Defragmenter) -> None:
        l = self.ip(frame, linktype, data)
        if l is None:
            return
        if l.fragment is not None:
            whole = defrag.add(l, data, ts, frame)
            if whole is None:
                return
            l, data, first_frame = whole  # events point at the first fragment's frame
            if l.proto == 17 and l.end > 8:
                self.udp(first_frame, ts, l.src, l.dst, data, 8, l.end, *_udp_ports.unpack_from(data, 0)[:2])
            return
        self.transport(frame, ts, l, data)


def rtp_only(data: bytes, off: int) -> bool:
    """Fast path: IPv4 without options or IPv6 without extension headers carrying UDP whose
    payload starts with a byte that no STUN, ChannelData, tunnel or SIP message starts with
    (RTP/RTCP: version 2, 0x80-0xBF)."""
    version = data[off : off + 1]
    if version == b"\x45" and data[off + 9 : off + 10] == b"\x11" and data[off + 6 : off + 8] in UNFRAGMENTED:
        first = data[off + 28 : off + 29]
    elif b"\x60" <= version <= b"\x6f" and data[off + 6 : off + 7] == b"\x11":
        first = data[off + 48 : off + 49]  # IPv6 without extension headers
    else:
        return False
    return first >= b"\x80" and first != b"\xff"


def decode(records: Iterable[tuple], host: str, file: str, warn: Warn, count: Count | None = None) -> Iterator[dict]:
    """Events of a capture, from :func:`logcorr.events.capture.pcapfile.records`."""
    dec = Decoder(host, file, warn, count)
    defrag = link.Defragmenter()
    out = dec.out
    for frame, ts, linktype, data in records:
        if linktype != 1 or not dec.ipv4(frame, ts, data):
            dec.packet(frame, ts, linktype, data, defrag)
        if len(out) >= STAMP_BATCH:
            yield from stamped(out)
            out.clear()
        if frame & PURGE_MASK == 0:
            dec.purge(ts)
    dec.finish()
    yield from stamped(out)
    out.clear()
