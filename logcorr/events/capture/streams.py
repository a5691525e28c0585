"""What a reassembled TCP byte stream carries: STUN, TURN ChannelData, RFC 4571 frames, SIP, and
MS-TURN's own framing, each parsed from one direction's buffer (:class:`~logcorr.events.capture.tcp.Half`).

A stream starts in mode ``unknown``: :meth:`Streams.resync` looks for where a message begins and
sets the mode; each mode's parser consumes whole messages and leaves partial ones in the buffer.

* ``stun``: back-to-back STUN messages and padded ChannelData (TURN over TCP, RFC 5766 11.5).
* ``framed`` / ``bound``: RFC 4571 frames (ICE-TCP; a TURN data connection after ConnectionBind).
* ``sip``: SIP messages framed by Content-Length (RFC 3261 18.3).
* ``ms-tcp``: [MS-TURN] 2.1.4 framing, a 4-byte header (type 0x02 a TURN control message, 0x03
  end-to-end data; a reserved byte; a 2-byte length) before each message, as an SfB Edge's
  external A/V interface carries it on TCP 443.
* ``pseudo-tls``: the [MS-TURN] 2.1.1 pseudo-TLS handshake that opens such a connection (a TLS
  ClientHello, then ServerHello and ServerHelloDone in one record); each record becomes a ``tcp``
  event, and the stream goes on in ``ms-tcp`` mode.
* ``bound-raw``: a data connection relaying the peer's bytes as they are (RFC 6062 5.4).
* ``classic``: back-to-back classic RFC 3489 messages (no cookie), recognised only at the start of
  the bytes being searched, whole and with RFC 3489 attributes only (:func:`stun.classic_prefix`).
"""
from __future__ import annotations

import struct

from logcorr.events import sip
from logcorr.events.capture import sipwire, stun
from logcorr.events.capture.tcp import MAX_BUFFER, Half

COOKIE = stun.MAGIC_COOKIE_BYTES
MS_COOKIE = stun.MS_COOKIE_ATTR
RESYNC_KEEP = 31  # bytes kept when no message start is found: a header may straddle segments
MS_CONTROL = 0x02  # [MS-TURN] 2.1.4 frame types
MS_DATA = 0x03
TLS_HANDSHAKE = 0x16
TLS_HELLO_NAMES = {1: "ClientHello", 2: "ServerHello", 14: "ServerHelloDone"}
_u16 = struct.Struct("!H")


def ms_framed_at(buf, j: int) -> bool:
    """Is the MS-TURN cookie attribute at ``buf[j]`` inside a message with [MS-TURN] TCP framing?"""
    if j < 24 or buf[j - 24] not in (MS_CONTROL, MS_DATA) or buf[j - 23] != 0:
        return False
    return _u16.unpack_from(buf, j - 22)[0] == 20 + _u16.unpack_from(buf, j - 18)[0]


def pseudo_tls_at(buf) -> bool:
    """Does ``buf`` start with a TLS 1.0-1.2 handshake record holding a hello ([MS-TURN] 2.1.1)?"""
    return len(buf) >= 6 and buf[0] == TLS_HANDSHAKE and buf[1] == 3 and buf[2] <= 3 and buf[5] in (1, 2)


class Streams:
    """Stream parsers; mixed into the decoder, whose ``stun_event``, ``sip_event``, ``count_channel``,
    ``warn``, ``skip`` and ``out`` they use."""

    def parse_half(self, conn, half: Half) -> None:
        guard = 0
        while half.buf and guard < 16:
            guard += 1
            mode = half.mode
            self.PARSERS[mode](self, conn, half)
            if half.mode == mode:
                break  # waiting for more bytes
        if len(half.buf) > MAX_BUFFER:
            frame, _ = half.frame_at(0)
            self.warn(frame, f"TCP {half.src} -> {half.dst}: {len(half.buf)} bytes without a complete message; dropped")
            self.skip(frame, "TCP bytes without a complete message")
            self.count_raw(half, len(half.buf))
            half.mode = "unknown"

    def count_raw(self, half: Half, n: int) -> None:
        c = half.counters
        if not c.get("raw_bytes"):
            c["raw_first"] = half.frame_at(0)
            c["raw_bytes"] = 0
        c["raw_bytes"] += n
        half.consume(n)

    def raw_rest(self, conn, half: Half) -> None:
        self.count_raw(half, len(half.buf))

    # -- finding a message start ---------------------------------------------------------------
    @staticmethod
    def find_start(buf) -> tuple[int, str] | None:
        """(offset, mode) of the first message start in ``buf``: STUN (maybe RFC 4571 or MS-TURN
        framed), a pseudo-TLS hello, or a SIP start line."""
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
            best = (j - 24, "ms-tcp") if ms_framed_at(buf, j) else (j - 20, "stun")
        if pseudo_tls_at(buf):
            best = (0, "pseudo-tls")
        k = sipwire.find_start(buf)
        if k >= 0 and (best is None or k < best[0]):
            best = (k, "sip")
        if (best is None or best[0]) and stun.classic_prefix(buf) > 0:
            best = (0, "classic")
        return best

    def resync(self, conn, half: Half) -> None:
        """Find where a message begins; count what came before it."""
        buf = half.buf
        found = self.find_start(buf)
        if found is None and stun.classic_prefix(buf) < 0:
            return  # a classic STUN header whose message is still coming
        if found is None:
            # keep what may still become a message start: a STUN header, or an unfinished line
            line = len(buf) - buf.rfind(b"\n") - 1
            keep = min(len(buf), max(RESYNC_KEEP, line if line <= sipwire.MAX_LINE else 0))
            self.count_raw(half, len(buf) - keep)
            return
        start, mode = found
        if start:
            frame, _ = half.frame_at(0)
            if half.counters.get("seen"):
                self.warn(frame, f"TCP {half.src} -> {half.dst}: {start} bytes skipped before a message start")
                self.skip(frame, "TCP bytes skipped before a message start")
            self.count_raw(half, start)
        half.counters["seen"] = True
        half.mode = mode

    # -- TURN over TCP ---------------------------------------------------------------------------
    def parse_stun(self, conn, half: Half) -> None:
        """Back-to-back STUN messages and padded ChannelData (RFC 5766 11.5) on a TURN-TCP connection."""
        buf = half.buf
        while len(buf) >= 4:
            if buf[0] & 0xC0 == 0x40:
                if not self.channel_over_tcp(half):
                    return
                continue
            need = self.stun_length(half)
            if not need or len(buf) < need:
                return
            frame, ts = half.frame_at(0)
            raw = bytes(buf[:need])
            half.consume(need)
            msg = self.stun_event(raw, frame, ts, half.src, half.dst, "TCP")
            if msg is not None and msg.method == stun.CONNECTION_BIND and self.connection_bound(conn, half, msg):
                return

    def stun_length(self, half: Half) -> int:
        """Length of the STUN message at the buffer's start; 0 to wait for bytes, or (with the mode
        changed) when the bytes are not STUN."""
        buf = half.buf
        if len(buf) < 20:
            return 0
        ms = len(buf) >= 28 and buf[20:28] == MS_COOKIE
        if buf[4:8] != COOKIE and not ms:
            if len(buf) < 28 and buf[0] & 0xC0 == 0:
                return 0
            frame, _ = half.frame_at(0)
            self.warn(frame, f"TCP {half.src} -> {half.dst}: bytes that are not STUN in a STUN stream")
            self.skip(frame, "not STUN: bytes in a STUN stream")
            half.mode = "unknown"
            return 0
        length = _u16.unpack_from(buf, 2)[0]
        if length & 3 and not ms:  # MS-TURN does not pad; an RFC 5389 stream cannot have lost its way
            half.mode = "unknown"
            half.consume(1)
            return 0
        return 20 + length

    def parse_classic(self, conn, half: Half) -> None:
        """Classic RFC 3489 messages back to back: without a cookie, each must be whole and well formed."""
        buf = half.buf
        while len(buf) >= 20:
            n = stun.classic_prefix(buf)
            if n < 0:
                return
            frame, ts = half.frame_at(0)
            if not n:
                self.warn(frame, f"TCP {half.src} -> {half.dst}: bytes that are not STUN in a classic STUN stream")
                self.skip(frame, "not STUN: bytes in a classic STUN stream")
                half.mode = "unknown"
                return
            raw = bytes(buf[:n])
            half.consume(n)
            self.stun_event(raw, frame, ts, half.src, half.dst, "TCP", classic=True)

    def channel_over_tcp(self, half: Half) -> bool:
        buf = half.buf
        length = _u16.unpack_from(buf, 2)[0]
        total = (4 + length + 3) & ~3
        if len(buf) < total:
            return False
        frame, ts = half.frame_at(0)
        self.count_channel(half.src, half.dst, _u16.unpack_from(buf, 0)[0], length, frame, ts, "TCP")
        half.consume(total)
        return True

    def connection_bound(self, conn, half: Half, msg) -> bool:
        """RFC 6062 5.4: after a ConnectionBind the connection carries the peer's bytes as they are."""
        if msg.connection_id is None and conn.cid is not None:
            ev = self.out[-1]  # a response names no CONNECTION-ID: give the request's
            ev["connection_id"] = conn.cid
            ev["summary"] += f" (CONNECTION-ID 0x{conn.cid:08x} of the request)"
        if msg.cls in (stun.CLASS_REQUEST, stun.CLASS_SUCCESS):
            if msg.connection_id is not None:
                conn.cid = msg.connection_id
            half.mode = "bound"
            return True
        return False

    # -- RFC 4571 ------------------------------------------------------------------------------
    def parse_framed(self, conn, half: Half) -> None:
        """RFC 4571 frames: decode the STUN ones, count the others (media)."""
        buf = half.buf
        while len(buf) >= 2:
            length = _u16.unpack_from(buf, 0)[0]
            if half.mode == "bound" and not self.bound_is_framed(half, length):
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
                self.count_media(half, length, frame, ts)
                half.consume(2 + length)

    @staticmethod
    def bound_is_framed(half: Half, length: int) -> bool:
        """First bytes after ConnectionBind: are they RFC 4571 frames? (False: wait, or raw data.)"""
        buf = half.buf
        if len(buf) < min(2 + length, 2 + 20):
            return False
        looks_stun = len(buf) >= 22 and buf[6:10] == COOKIE and length == 20 + _u16.unpack_from(buf, 4)[0]
        looks_rtp = length >= 12 and buf[2] & 0xC0 == 0x80
        half.mode = "framed" if looks_stun or looks_rtp else "bound-raw"
        return half.mode == "framed"

    @staticmethod
    def count_media(half: Half, length: int, frame: int, ts) -> None:
        c = half.counters
        if not c.get("media_frames"):
            c["media_frames"] = 0
            c["media_bytes"] = 0
            c["media_first"] = (frame, ts)
        c["media_frames"] += 1
        c["media_bytes"] += length

    # -- [MS-TURN] over TCP ----------------------------------------------------------------------
    def parse_ms_tcp(self, conn, half: Half) -> None:
        """[MS-TURN] 2.1.4 frames: TURN control messages decoded, end-to-end data decoded when it
        is STUN (connectivity checks through the relay) and counted otherwise."""
        buf = half.buf
        while len(buf) >= 4:
            kind, length = buf[0], _u16.unpack_from(buf, 2)[0]
            if kind not in (MS_CONTROL, MS_DATA) or buf[1]:
                frame, _ = half.frame_at(0)
                self.warn(frame, f"TCP {half.src} -> {half.dst}: bytes that are not an MS-TURN frame")
                self.skip(frame, "not an MS-TURN TCP frame")
                half.mode = "unknown"
                return
            if len(buf) < 4 + length:
                return
            frame, ts = half.frame_at(4)
            body = bytes(buf[4 : 4 + length])
            half.consume(4 + length)
            is_msg = stun.is_stun(body, 0, length, exact=True) or stun.is_ms_turn(body, 0, length)
            if kind == MS_CONTROL or is_msg:
                note = " (MS-TURN TCP framing" + (", end-to-end data)" if kind == MS_DATA else ")")
                if self.stun_event(body, frame, ts, half.src, half.dst, "TCP", note) is None:
                    self.skip(frame, "not STUN: MS-TURN control frame")
            else:
                self.count_media(half, length, frame, ts)

    def parse_pseudo_tls(self, conn, half: Half) -> None:
        """The pseudo-TLS handshake records before MS-TURN framing ([MS-TURN] 2.1.1)."""
        buf = half.buf
        if len(buf) < 5:
            return
        if buf[0] != TLS_HANDSHAKE or buf[1] != 3:
            half.mode = "ms-tcp" if buf[0] in (MS_CONTROL, MS_DATA) and buf[1] == 0 else "unknown"
            return
        size = 5 + _u16.unpack_from(buf, 3)[0]
        if len(buf) < size:
            return
        frame, ts = half.frame_at(0)
        names, pos = [], 5
        while pos + 4 <= size:  # handshake messages: type, 3-byte length
            names.append(TLS_HELLO_NAMES.get(buf[pos], f"handshake type {buf[pos]}"))
            pos += 4 + int.from_bytes(buf[pos + 1 : pos + 4], "big")
        half.consume(size)
        ev = self.base_event(frame, ts, "tcp", "pseudo-tls", half.src, half.dst, "TCP")
        ev["summary"] = f"MS-TURN pseudo-TLS {' + '.join(names)} {half.src} -> {half.dst}"
        self.out.append(ev)
        half.mode = "pseudo-tls" if buf[:1] == bytes([TLS_HANDSHAKE]) else "ms-tcp"

    # -- SIP -----------------------------------------------------------------------------------
    def parse_sip(self, conn, half: Half) -> None:
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
                self.skip(frame, "not SIP: start line")
                half.mode = "unknown"
        half.consume(len(data) - len(rest))
        half.counters["sip_waiting"] = (half.base, *sipwire.waiting_for(rest)) if rest else None

    PARSERS = {
        "unknown": resync, "stun": parse_stun, "framed": parse_framed, "bound": parse_framed,
        "sip": parse_sip, "bound-raw": raw_rest, "ms-tcp": parse_ms_tcp, "pseudo-tls": parse_pseudo_tls,
        "classic": parse_classic,
    }
