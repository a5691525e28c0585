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
* ``sip`` / method or ``<status> <method>``: clear-text SIP found by its start line on any port,
  fields from :mod:`logcorr.events.sip`.

Speed: most packets in a call capture are RTP. The loop looks at an Ethernet/IPv4/UDP frame
through three one-byte slices (IP version and header length, protocol, first payload byte) and
drops it when that first byte is 0x80-0xFE: no STUN or MS-TURN message (top two bits 0),
ChannelData (0x40-0x7F, or MS-TURN's 0xFF10) or SIP start line (an upper-case letter) begins
so, and RTP/RTCP always do. Everything else goes through :mod:`logcorr.events.capture.link` and the
content checks (RFC 5389 cookie at offset 4, MS-TURN cookie attribute at offset 20, ChannelData on
a flow already seen carrying STUN, a SIP start line). dpkt is not used per packet: building
``dpkt.ethernet.Ethernet`` for each frame costs about 13 us a packet, ten times this whole loop
(numbers in :mod:`logcorr.events.capture.pcapfile`). Measured with bench/bench_capture.py on 1,000,000
packets (229 MB) on a 2-core machine: 1.9 s and 76 MiB peak (the same at 250,000 packets),
against 23.8 s for ``tshark -Y stun -T fields`` on the same file (12.7x).

Memory: connection state is dropped on RST, after both FINs, and when idle for
:data:`IDLE_NS`; reassembly buffers are bounded in :mod:`logcorr.events.capture.tcp`; untracked TCP
connections keep a few integers each, and only when they began with a SYN or carried STUN/SIP
evidence.
"""
from __future__ import annotations

import struct
from typing import Callable, Iterable, Iterator

import pandas as pd

from logcorr.events import sip
from logcorr.events.capture import link, sipwire, stun
from logcorr.events.capture.tcp import ACK, EARLY_TAIL, FIN, MAX_BUFFER, RST, SYN, Half, seq_diff

Warn = Callable[[int | None, str], None]

IDLE_NS = 300 * 1_000_000_000
PURGE_MASK = (1 << 16) - 1  # purge idle connections every 65536 frames
MAX_CONNS = 50_000
MAX_TURN_FLOWS = 100_000
MAX_CHANNEL_KEYS = 4096
UNFRAGMENTED = (b"\x00\x00", b"\x40\x00")  # IPv4 flags/offset: nothing or only Don't Fragment
GIVE_UP_SEGMENTS = 64  # a TCP connection with this many segments and no STUN/SIP is not watched further
TURN_TCP_PORTS = {3478, 5349}  # a SYN to these that is refused or unanswered is an event
RESYNC_KEEP = 27  # bytes kept when no message start is found: a header may straddle segments

COOKIE = stun.MAGIC_COOKIE_BYTES
MS_COOKIE = stun.MS_COOKIE_ATTR
_udp_ports = struct.Struct("!HHH")
_tcp_head = struct.Struct("!HHIIH")
_u16 = struct.Struct("!H")


MAX_TS_NS = (1 << 63) - 1  # pandas' datetime64[ns] range ends in 2262


def timestamp(ts_ns: int | None):
    """A UTC timestamp, or ``None`` (NaT) when the capture gives none or an impossible one."""
    if ts_ns is None or not 0 <= ts_ns <= MAX_TS_NS:
        return None
    return pd.Timestamp(ts_ns, unit="ns", tz="UTC")


class Conn:
    __slots__ = ("halves", "tracked", "syn", "cid", "last", "key", "quiet")

    def __init__(self, key, src: str, dst: str) -> None:
        self.key = key
        self.halves = (Half(src, dst), Half(dst, src))
        self.tracked = False
        self.syn: tuple[int, int | None] | None = None
        self.cid: int | None = None
        self.last: int | None = None
        self.quiet = 0  # payload segments seen without STUN or SIP evidence


class Decoder:
    """State across frames; :meth:`packet` appends finished events to :attr:`out`."""

    def __init__(self, host: str, file: str, warn: Warn) -> None:
        self.host = host
        self.file = file
        self.warn = warn
        self.conns: dict[tuple, Conn] = {}
        self.turn_udp: set[tuple] = set()
        self.channels: dict[tuple, list] = {}
        self.out: list[dict] = []
        self.unsupported_link: set[int] = set()

    # -- events --------------------------------------------------------------------------------
    def _base(self, frame: int, ts: int | None, proto: str, event: str, src: str, dst: str, transport: str) -> dict:
        return {
            "ts": timestamp(ts), "source": "pcap", "host": self.host, "file": self.file, "pos": frame,
            "proto": proto, "event": event, "direction": "", "src": src, "dst": dst, "transport": transport,
        }

    def stun_event(self, raw: bytes, frame: int, ts, src: str, dst: str, transport: str, note: str = "") -> stun.StunMessage | None:
        msg = stun.decode(raw)
        if msg is None:
            return None
        ev = self._base(frame, ts, "stun", msg.name, src, dst, transport)
        text = stun.summary(msg) + note
        ev.update(
            txn_id=msg.txn_id, error_code=msg.error_code, mapped=msg.mapped, relayed=msg.relayed,
            peer=msg.peer, connection_id=msg.connection_id, username=msg.username, realm=msg.realm,
            lifetime=msg.lifetime, summary=text, raw=raw.hex(),
            reason=(msg.reason or stun.ERROR_REASONS.get(msg.error_code, "")) if msg.error_code else "",
        )
        self.out.append(ev)
        if msg.fingerprint_ok is False:
            self.warn(frame, f"STUN {msg.name} {msg.txn_id}: FINGERPRINT does not match")
        for problem in msg.problems:
            self.warn(frame, f"STUN {msg.name} {msg.txn_id}: {problem}")
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
            return
        ev = self._base(frame, ts, "sip", "", src, dst, transport)
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
            ev = self._base(frame, ts, "stun", "ChannelData", src, dst, transport)
            ev["summary"] = f"ChannelData 0x{channel:04x}: {frames} frames, {size} B"
            self.out.append(ev)
        self.channels.clear()

    # -- UDP -----------------------------------------------------------------------------------
    def udp(self, frame: int, ts, l: link.L4, data: bytes, p: int, end: int, sport: int, dport: int) -> None:
        src = link.addr(l.src, sport)
        dst = link.addr(l.dst, dport)
        n = stun.is_stun(data, p, end) or stun.is_ms_turn(data, p, end)
        if n:
            if self.stun_event(data[p : p + n], frame, ts, src, dst, "UDP") is not None:
                if len(self.turn_udp) >= MAX_TURN_FLOWS:
                    self.turn_udp.clear()
                self.turn_udp.add((l.src, sport, l.dst, dport))
                self.turn_udp.add((l.dst, dport, l.src, sport))
            return
        b0 = data[p]
        if (0x40 <= b0 < 0x80 or b0 == 0xFF) and (l.src, sport, l.dst, dport) in self.turn_udp:
            cd = stun.channel_data_len(data, p, end)
            if cd:
                self.count_channel(src, dst, _u16.unpack_from(data, p)[0], cd - 4, frame, ts, "UDP")
                return
        if 65 <= b0 <= 90 and sipwire.starts_sip(data, p, end):
            self.sip_event(data[p:end], frame, ts, src, dst, "UDP")

    # -- TCP -----------------------------------------------------------------------------------
    def tcp(self, frame: int, ts, l: link.L4, data: bytes) -> None:
        l4 = l.l4
        if l4 + 20 > l.end:
            return
        sport, dport, seq, _ack, off_flags = _tcp_head.unpack_from(data, l4)
        doff = (off_flags >> 12) * 4
        flags = off_flags & 0x3F
        if doff < 20 or l4 + doff > l.end:
            return
        payload = data[l4 + doff : l.end]
        key = (l.src, sport, l.dst, dport)
        conn = self.conns.get(key)
        idx = 0
        if conn is None:
            conn = self.conns.get((l.dst, dport, l.src, sport))
            idx = 1
            if conn is None:
                if flags & RST or not (flags & SYN or (payload and sipwire.evidence(payload))):
                    return
                conn = Conn(key, link.addr(l.src, sport), link.addr(l.dst, dport))
                self.conns[key] = conn
                idx = 0
        half = conn.halves[idx]
        conn.last = ts
        if conn.quiet > GIVE_UP_SEGMENTS:  # long past its start and never STUN or SIP: ignore
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
            if not conn.tracked:
                tail = half.early[-1][1][-EARLY_TAIL:] if half.early else b""
                if sipwire.evidence(tail + payload[:64]) or sipwire.evidence(payload):
                    self.track(conn)
                    self.replay_early(conn, idx, seq)
                else:
                    half.keep_early(seq, payload, frame, ts)
                    conn.quiet += 1
                    if conn.quiet > GIVE_UP_SEGMENTS:
                        conn.halves[0].early = []
                        conn.halves[1].early = []
            if conn.tracked:
                if half.push(seq, payload, frame, ts):
                    self.parse_half(conn, half)
                self.report_gaps(half)
        if flags & FIN and not half.fin:
            half.fin = True
            if conn.tracked:
                half.skip_hole(frame)
                self.report_gaps(half)
                self.parse_half(conn, half)
                ev = self._base(frame, ts, "tcp", "close", half.src, half.dst, "TCP")
                ev["summary"] = f"TCP FIN {half.src} -> {half.dst}"
                self.out.append(ev)
        if flags & RST:
            if not conn.tracked and idx == 1:
                self.unserved(conn, frame, "refused")
            if conn.tracked:
                ev = self._base(frame, ts, "tcp", "reset", half.src, half.dst, "TCP")
                ev["summary"] = f"TCP RST {half.src} -> {half.dst}" + self.cid_note(conn)
                self.out.append(ev)
            self.drop(conn)
        elif conn.halves[0].fin and conn.halves[1].fin:
            self.drop(conn)

    def track(self, conn: Conn) -> None:
        conn.tracked = True
        if conn.syn is not None:
            frame, ts = conn.syn
            a, b = conn.halves[0].src, conn.halves[0].dst
            ev = self._base(frame, ts, "tcp", "open", a, b, "TCP")
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
        ev = self._base(syn_frame, ts, "tcp", how, a, b, "TCP")
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
            ev = self._base(frame, ts, "tcp", "media", half.src, half.dst, "TCP")
            ev["summary"] = (f"RFC 4571 framed media {half.src} -> {half.dst}: {c['media_frames']} frames, "
                             f"{c['media_bytes']} B" + self.cid_note(conn))
            self.out.append(ev)
            c["media_frames"] = 0
        if c.get("raw_bytes") and conn.cid is not None:
            frame, ts = c["raw_first"]
            ev = self._base(frame, ts, "tcp", "data", half.src, half.dst, "TCP")
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

    # -- stream parsing ------------------------------------------------------------------------
    def parse_half(self, conn: Conn, half: Half) -> None:
        guard = 0
        while half.buf and guard < 16:
            guard += 1
            mode = half.mode
            if mode == "unknown":
                self.resync(conn, half)
            elif mode == "stun":
                self.parse_stun(conn, half)
            elif mode in ("framed", "bound"):
                self.parse_framed(conn, half)
            elif mode == "sip":
                self.parse_sip(half)
            elif mode == "bound-raw":
                self.count_raw(half, len(half.buf))
            if half.mode == mode:
                break  # waiting for more bytes
        if len(half.buf) > MAX_BUFFER:
            frame, _ = half.frame_at(0)
            self.warn(frame, f"TCP {half.src} -> {half.dst}: {len(half.buf)} bytes without a complete message; dropped")
            self.count_raw(half, len(half.buf))
            half.mode = "unknown"

    def count_raw(self, half: Half, n: int) -> None:
        c = half.counters
        if not c.get("raw_bytes"):
            c["raw_first"] = half.frame_at(0)
            c["raw_bytes"] = 0
        c["raw_bytes"] += n
        half.consume(n)

    def resync(self, conn: Conn, half: Half) -> None:
        """Find where a STUN message, an RFC 4571 frame holding STUN, or a SIP message begins."""
        buf = half.buf
        n = len(buf)
        best: tuple[int, str] | None = None
        i = buf.find(COOKIE)
        while i != -1:
            if i >= 4:
                body = (buf[i - 2] << 8) | buf[i - 1]
                if buf[i - 4] & 0xC0 == 0 and body & 3 == 0:
                    if i >= 6 and _u16.unpack_from(buf, i - 6)[0] == 20 + body:
                        best = (i - 6, "framed")  # RFC 4571: 2-byte length, then the message
                    else:
                        best = (i - 4, "stun")
                    break
            i = buf.find(COOKIE, i + 1)
        j = buf.find(MS_COOKIE)
        if j >= 20 and (best is None or j - 20 < best[0]) and buf[j - 20] & 0xC0 == 0:
            best = (j - 20, "stun")
        k = sipwire.find_start(buf)
        if k >= 0 and (best is None or k < best[0]):
            best = (k, "sip")
        if best is None:
            keep = min(n, RESYNC_KEEP)
            self.count_raw(half, n - keep)
            return
        start, mode = best
        if start:
            frame, _ = half.frame_at(0)
            if half.counters.get("seen"):
                self.warn(frame, f"TCP {half.src} -> {half.dst}: {start} bytes skipped before a message start")
            self.count_raw(half, start)
        half.counters["seen"] = True
        half.mode = mode

    def parse_stun(self, conn: Conn, half: Half) -> None:
        """Back-to-back STUN messages and padded ChannelData (RFC 5766 11.5) on a TURN-TCP connection."""
        buf = half.buf
        while len(buf) >= 4:
            if buf[0] & 0xC0 == 0x40:
                length = _u16.unpack_from(buf, 2)[0]
                total = (4 + length + 3) & ~3
                if len(buf) < total:
                    return
                frame, ts = half.frame_at(0)
                channel = _u16.unpack_from(buf, 0)[0]
                self.count_channel(half.src, half.dst, channel, length, frame, ts, "TCP")
                half.consume(total)
                continue
            if len(buf) < 20:
                return
            if buf[4:8] != COOKIE and (len(buf) < 28 or buf[20:28] != MS_COOKIE):
                if len(buf) < 28 and buf[4:8] != COOKIE and buf[0] & 0xC0 == 0:
                    return
                frame, _ = half.frame_at(0)
                self.warn(frame, f"TCP {half.src} -> {half.dst}: bytes that are not STUN in a STUN stream")
                half.mode = "unknown"
                return
            length = _u16.unpack_from(buf, 2)[0]
            if length & 3 and buf[20:28] != MS_COOKIE:  # MS-TURN does not pad
                half.mode = "unknown"
                half.consume(1)
                return
            total = 20 + length
            if len(buf) < total:
                return
            frame, ts = half.frame_at(0)
            raw = bytes(buf[:total])
            half.consume(total)
            msg = self.stun_event(raw, frame, ts, half.src, half.dst, "TCP")
            if msg is None:
                continue
            if msg.method == stun.CONNECTION_BIND and msg.connection_id is None and conn.cid is not None:
                ev = self.out[-1]  # a response names no CONNECTION-ID: give the request's
                ev["connection_id"] = conn.cid
                ev["summary"] += f" (CONNECTION-ID 0x{conn.cid:08x} of the request)"
            if msg.method == stun.CONNECTION_BIND and msg.cls in (stun.CLASS_REQUEST, stun.CLASS_SUCCESS):
                # RFC 6062 5.4: after ConnectionBind the connection carries the peer's bytes as-is
                if msg.connection_id is not None:
                    conn.cid = msg.connection_id
                half.mode = "bound"
                return

    def parse_framed(self, conn: Conn, half: Half) -> None:
        """RFC 4571 frames: decode the STUN ones, count the others (media)."""
        buf = half.buf
        while len(buf) >= 2:
            length = _u16.unpack_from(buf, 0)[0]
            if half.mode == "bound":
                # first bytes after ConnectionBind: are they RFC 4571 frames?
                if len(buf) < min(2 + length, 2 + 20):
                    return
                looks_stun = len(buf) >= 22 and buf[6:10] == COOKIE and length == 20 + _u16.unpack_from(buf, 4)[0]
                looks_rtp = length >= 12 and buf[2] & 0xC0 == 0x80
                half.mode = "framed" if looks_stun or looks_rtp else "bound-raw"
                if half.mode == "bound-raw":
                    return
            if len(buf) < 2 + length:
                return
            frame, ts = half.frame_at(2)
            if stun.is_stun(buf, 2, 2 + length, exact=True):
                raw = bytes(buf[2 : 2 + length])
                half.consume(2 + length)
                note = " (RFC 4571 framed" + (
                    f", bound connection CID 0x{conn.cid:08x})" if conn.cid is not None else ")"
                )
                self.stun_event(raw, frame, ts, half.src, half.dst, "TCP", note)
            else:
                c = half.counters
                if not c.get("media_frames"):
                    c["media_frames"] = 0
                    c["media_bytes"] = 0
                    c["media_first"] = (frame, ts)
                c["media_frames"] += 1
                c["media_bytes"] += length
                half.consume(2 + length)

    def parse_sip(self, half: Half) -> None:
        # A message arriving in many small segments: until its header block or its body is
        # whole, nothing can be framed, and the buffer is neither copied nor searched again
        # from its start (which made a stream of 1-byte segments quadratic).
        waiting = half.counters.get("sip_waiting")
        if waiting is not None and waiting[0] == half.base:
            _, need, searched = waiting
            buf = half.buf
            if need and len(buf) < need:
                return
            if not need and len(buf) <= sip.MAX_HEADER_BYTES and not sipwire.header_end_after(buf, searched):
                half.counters["sip_waiting"] = (half.base, 0, len(buf))
                return
        data = bytes(half.buf)
        messages, rest = sipwire.split(data)
        pos = 0
        for message in messages:
            at = data.find(message, pos)
            frame, ts = half.frame_at(max(at, 0))
            pos = max(at, 0) + len(message)
            if sipwire.starts_sip(message, 0, len(message)):
                self.sip_event(message, frame, ts, half.src, half.dst, "TCP")
            else:
                self.warn(frame, f"TCP {half.src} -> {half.dst}: {len(message)} bytes that are not SIP skipped")
                half.mode = "unknown"
        half.consume(len(data) - len(rest))
        half.counters["sip_waiting"] = (half.base, *sipwire.waiting_for(rest)) if rest else None


def decode(records: Iterable[tuple], host: str, file: str, warn: Warn) -> Iterator[dict]:
    """Events of a capture, from :func:`logcorr.events.capture.pcapfile.records`."""
    dec = Decoder(host, file, warn)
    defrag = link.Defragmenter()
    out = dec.out
    ip_offset = link.ip_offset
    ip_layer = link.ip_layer
    unpack_udp = _udp_ports.unpack_from
    cookie = COOKIE
    ms_cookie = MS_COOKIE
    frame = 0
    ts = None
    for frame, ts, linktype, data in records:
        if linktype == 1 and data[12:14] == b"\x08\x00":
            off = 14
        else:
            off = ip_offset(linktype, data)
            if off < 0:
                if linktype not in link.SUPPORTED and linktype not in dec.unsupported_link:
                    dec.unsupported_link.add(linktype)
                    warn(frame, f"link type {linktype} is not supported: its packets are skipped")
                continue
        # fast path: IPv4 without options or IPv6 without extension headers carrying UDP whose
        # payload starts with a byte that no STUN, ChannelData or SIP message starts with
        # (RTP/RTCP: version 2, 0x80-0xBF)
        version = data[off : off + 1]
        if version == b"\x45" and data[off + 9 : off + 10] == b"\x11" and data[off + 6 : off + 8] in UNFRAGMENTED:
            first = data[off + 28 : off + 29]
        elif b"\x60" <= version <= b"\x6f" and data[off + 6 : off + 7] == b"\x11":
            first = data[off + 48 : off + 49]  # IPv6 without extension headers
        else:
            first = b""
        if first >= b"\x80" and first != b"\xff":
            if frame & PURGE_MASK == 0:
                dec.purge(ts)
            continue
        l = ip_layer(data, off)
        if l is None:
            continue
        if l.fragment is not None:
            whole = defrag.add(l, data, ts, frame)
            if whole is None:
                continue
            l, data, first_frame = whole  # events point at the first fragment's frame
            if l.proto == 17 and l.end > 8:
                dec.udp(first_frame, ts, l, data, 8, l.end, *unpack_udp(data, 0)[:2])
            if out:
                yield from out
                out.clear()
            continue
        proto = l.proto
        if proto == 17:
            p = l.l4 + 8
            end = l.end
            if p >= end:
                continue
            sport, dport, ulen = unpack_udp(data, l.l4)
            if ulen >= 8 and l.l4 + ulen < end:
                end = l.l4 + ulen
            if (
                data[p + 4 : p + 8] == cookie
                or data[p + 20 : p + 28] == ms_cookie
                or 0x40 <= data[p] < 0x80
                or 65 <= data[p] <= 90
                or data[p] == 0xFF
            ):
                dec.udp(frame, ts, l, data, p, end, sport, dport)
        elif proto == 6:
            dec.tcp(frame, ts, l, data)
        else:
            continue
        if out:
            yield from out
            out.clear()
        if frame & PURGE_MASK == 0:
            dec.purge(ts)
    dec.finish()
    yield from out
    out.clear()
