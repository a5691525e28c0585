"""TCP: one direction's byte stream, reassembled however it was segmented.

:class:`Half` takes segments in capture order and keeps the contiguous bytes not yet consumed,
with the frame and time of each byte's segment (``frame_at``). Segments that arrive early wait in
a bounded out-of-order store; retransmitted and overlapping bytes are dropped (the first copy
wins); when the store overflows, or the connection ends with a hole, the hole is skipped and
reported. Sequence numbers are compared modulo 2**32 (RFC 793 3.3).
"""
from __future__ import annotations

from collections import deque

from logcorr.events.capture import stun

SEQ_MOD = 1 << 32
MAX_OOO_BYTES = 1 << 20  # bytes waiting behind a hole before the hole is given up
MAX_OOO_SEGMENTS = 512
MAX_BUFFER = 1 << 18  # contiguous bytes a parser may leave unconsumed
EARLY_BYTES = 4096
EARLY_TAIL = 32

FIN = 0x01
SYN = 0x02
RST = 0x04
ACK = 0x10


def seq_diff(a: int, b: int) -> int:
    """a - b in sequence space, as a signed number."""
    d = (a - b) % SEQ_MOD
    return d - SEQ_MOD if d >= SEQ_MOD // 2 else d


class Half:
    """One direction of a connection: reassembly state plus what its parser keeps."""

    __slots__ = (
        "src", "dst", "next_seq", "buf", "base", "marks", "ooo", "ooo_bytes", "mode",
        "fin", "rst", "counters", "gaps", "early", "early_seen",
    )

    def __init__(self, src: str, dst: str) -> None:
        self.src = src
        self.dst = dst
        self.next_seq: int | None = None
        self.buf = bytearray()
        self.base = 0  # stream offset of buf[0]
        self.marks: deque = deque()  # (stream offset, frame, ts) where each appended segment began
        self.ooo: dict[int, tuple[bytes, int, int | None]] = {}
        self.ooo_bytes = 0
        self.mode = "unknown"
        self.fin = False
        self.rst = False
        self.counters: dict = {}  # parser's counts (media frames, channels, raw bytes)
        self.gaps: list[tuple[int, str]] = []  # (frame, text) for the caller to warn about
        self.early: list[tuple[int, bytes, int, int | None]] = []  # segments before tracking began
        self.early_seen = 0

    def keep_early(self, seq: int, payload: bytes, frame: int, ts: int | None) -> None:
        """Remember the first bytes of a connection not (yet) known to carry STUN or SIP.

        A message's first bytes may sit in segments without the cookie (the header split, a
        stream sent a byte at a time, segments out of order); when later evidence arrives these
        segments are replayed. Up to :data:`EARLY_BYTES` bytes are kept, however many segments
        carry them, then only a short tail.
        """
        self.early_seen += len(payload)
        if self.early_seen <= EARLY_BYTES:
            self.early.append((seq, payload, frame, ts))
        else:
            tail = self.early_tail(EARLY_TAIL - min(len(payload), EARLY_TAIL)) + payload[-EARLY_TAIL:]
            tail = tail[-EARLY_TAIL:]
            self.early = [((seq + len(payload) - len(tail)) % SEQ_MOD, tail, frame, ts)]

    def early_classic(self, payload: bytes) -> bool:
        """Do the bytes kept since the start and ``payload``, which completes what their header
        promises, open with a classic RFC 3489 message? (It has no cookie to find: a stream of
        small segments shows it only joined; looked at once, when its last byte comes.)"""
        total = self.early_seen + len(payload)
        if not self.early or total < 20 or self.early_seen > stun.MAX_CLASSIC_TCP + 20:
            return False
        head = (b"".join(d for _s, d, _f, _t in self.early[:4]) + payload)[:4]
        need = 20 + int.from_bytes(head[2:4], "big")
        if int.from_bytes(head[:2], "big") not in stun.CLASSIC_TYPES or not self.early_seen < need <= total:
            return False
        return stun.classic_prefix(b"".join(d for _s, d, _f, _t in self.early) + payload) > 0

    def early_tail(self, n: int) -> bytes:
        """The last ``n`` bytes kept, across segments (in the order they came)."""
        parts: list[bytes] = []
        have = 0
        for _s, data, _f, _t in reversed(self.early):
            if have >= n:
                break
            parts.append(data[-(n - have):] if n > have else b"")
            have += len(parts[-1])
        return b"".join(reversed(parts))[-n:] if n else b""

    @staticmethod
    def early_start_of(early: list, seq: int) -> int:
        """The earliest sequence number from which kept segments run contiguously up to ``seq``
        (linear: each segment is looked up by where it ends)."""
        by_end: dict[int, int] = {}
        for s, data, _f, _t in early:
            end = (s + len(data)) % SEQ_MOD
            if end not in by_end or seq_diff(s, by_end[end]) < 0:
                by_end[end] = s
        start = seq
        for _ in range(len(early)):
            before = by_end.get(start)
            if before is None or seq_diff(before, start) >= 0:
                break
            start = before
        return start

    # -- input ---------------------------------------------------------------------------------
    def start(self, seq: int) -> None:
        if self.next_seq is None:
            self.next_seq = seq % SEQ_MOD

    def push(self, seq: int, payload: bytes, frame: int, ts: int | None) -> bool:
        """Add a segment; True when new contiguous bytes became available."""
        if not payload:
            return False
        if self.next_seq is None:
            self.next_seq = seq
        d = seq_diff(seq, self.next_seq)
        n = len(payload)
        if d < 0:
            if d + n <= 0:
                return False  # retransmission of bytes already taken
            payload = payload[-d:]
            d = 0
            seq = self.next_seq
        if d > 0:
            old = self.ooo.get(seq)
            if old is None or len(old[0]) < n:
                self.ooo_bytes += n - (len(old[0]) if old else 0)
                self.ooo[seq] = (payload, frame, ts)
            if self.ooo_bytes > MAX_OOO_BYTES or len(self.ooo) > MAX_OOO_SEGMENTS:
                self.skip_hole(frame)
                return True
            return False
        self._append(payload, frame, ts)
        self._drain()
        return True

    def _append(self, payload: bytes, frame: int, ts: int | None) -> None:
        self.marks.append((self.base + len(self.buf), frame, ts))
        self.buf += payload
        self.next_seq = (self.next_seq + len(payload)) % SEQ_MOD

    def _drain(self) -> None:
        """Append the waiting segments that have become contiguous.

        The segment starting exactly at ``next_seq`` is found by its key, so segments that
        arrived in reverse order drain in linear time; a pass over the whole store is needed only
        for segments that overlap bytes already taken (retransmissions with other boundaries).
        """
        ooo = self.ooo
        while ooo:
            seq = self.next_seq
            if seq in ooo:
                payload, frame, ts = ooo.pop(seq)
                self.ooo_bytes -= len(payload)
                self._append(payload, frame, ts)
                continue
            progress = False
            for seq in list(ooo):
                d = seq_diff(seq, self.next_seq)
                if d > 0:
                    continue
                payload, frame, ts = ooo.pop(seq)
                self.ooo_bytes -= len(payload)
                if d + len(payload) > 0:
                    self._append(payload[-d:] if d else payload, frame, ts)
                progress = True
            if not progress:
                return

    def skip_hole(self, frame: int) -> None:
        """Give up the bytes missing before the earliest waiting segment; report the hole."""
        if not self.ooo:
            return
        first = min(self.ooo, key=lambda s: seq_diff(s, self.next_seq))
        hole = seq_diff(first, self.next_seq)
        self.gaps.append(
            (self.ooo[first][1], f"TCP {self.src} -> {self.dst}: {hole} bytes never captured; "
             f"{len(self.buf)} buffered bytes dropped, decoding resumes after the hole")
        )
        self.base += len(self.buf) + hole
        self.buf.clear()
        self.marks.clear()
        self.next_seq = first
        self.mode = "unknown"  # framing is lost: the parser looks for a message start again
        self._drain()

    # -- output --------------------------------------------------------------------------------
    def frame_at(self, offset: int) -> tuple[int, int | None]:
        """(frame, ts) of the segment holding byte ``offset`` of ``buf``."""
        target = self.base + offset
        found = self.marks[0] if self.marks else (target, 0, None)
        for mark in self.marks:
            if mark[0] > target:
                break
            found = mark
        return found[1], found[2]

    def consume(self, n: int) -> None:
        if n <= 0:
            return
        del self.buf[:n]
        self.base += n
        marks = self.marks
        while len(marks) > 1 and marks[1][0] <= self.base:
            marks.popleft()
        if not self.buf and marks and marks[0][0] < self.base:
            marks.clear()
