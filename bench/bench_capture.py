"""Benchmark: the capture decoder against ``tshark -Y stun -T fields`` on a large generated capture.

    python bench/bench_capture.py                  # 1,000,000 packets in a temp dir
    python bench/bench_capture.py --packets 2000000 --path /tmp/big.pcap --keep
    python bench/bench_capture.py --memcheck       # also decode a quarter-size file: peak memory must not grow

The capture is mostly RTP over UDP (Ethernet, IPv4, 172-byte payload, several streams) with TURN
inside: UDP Allocate/Refresh/CreatePermission/ChannelBind exchanges and ChannelData, ICE Binding
checks, and TURN-TCP control and data connections (Allocate, ConnectionAttempt, a new connection
with ConnectionBind, then RFC 4571-framed ICE checks and RTP). Each decoder runs in its own
process; peak memory is that process's ``ru_maxrss``.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COOKIE = 0x2112A442
TSHARK_FIELDS = [
    "frame.number", "frame.time_epoch", "ip.src", "udp.srcport", "tcp.srcport", "ip.dst", "udp.dstport",
    "tcp.dstport", "stun.type", "stun.id", "stun.att.error.class", "stun.att.error", "stun.att.ipv4",
    "stun.att.port", "stun.att.lifetime", "stun.att.realm", "stun.att.username", "stun.value",
]


# -- building packets (this generator's own minimal encoders) -----------------------------------
def attr(t: int, v: bytes) -> bytes:
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xaddr(ip: str, port: int) -> bytes:
    raw = int.from_bytes(bytes(int(x) for x in ip.split(".")), "big") ^ COOKIE
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + raw.to_bytes(4, "big")


def stun(t: int, txn: bytes, attrs: list[bytes]) -> bytes:
    body = b"".join(attrs)
    head = struct.pack("!HHI", t, len(body) + 8, COOKIE) + txn
    crc = zlib.crc32(head + body) ^ 0x5354554E
    body += attr(0x8028, crc.to_bytes(4, "big"))
    return struct.pack("!HHI", t, len(body), COOKIE) + txn + body


def ip4(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def frame_udp(src: str, dst: str, sp: int, dp: int, payload: bytes) -> bytes:
    u = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0, ip4(src), ip4(dst)) + u
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip


def frame_tcp(src: str, dst: str, sp: int, dp: int, seq: int, flags: int, payload: bytes) -> bytes:
    t = struct.pack("!HHIIHHHH", sp, dp, seq & 0xFFFFFFFF, 0, (5 << 12) | flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(t), 0, 0, 64, 6, 0, ip4(src), ip4(dst)) + t
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip


class TcpPair:
    def __init__(self, c: str, cp: int, s: str, sp: int) -> None:
        self.c, self.cp, self.s, self.sp = c, cp, s, sp
        self.seq = [random.randrange(1 << 32), random.randrange(1 << 32)]

    def pkt(self, side: int, flags: int, payload: bytes = b"") -> bytes:
        a, ap, b, bp = (self.c, self.cp, self.s, self.sp) if side == 0 else (self.s, self.sp, self.c, self.cp)
        f = frame_tcp(a, b, ap, bp, self.seq[side], flags, payload)
        self.seq[side] += len(payload) + (1 if flags & 0x03 else 0)
        return f

    def handshake(self) -> list[bytes]:
        return [self.pkt(0, 0x02), self.pkt(1, 0x12), self.pkt(0, 0x10)]


def turn_episode(n: int) -> list[bytes]:
    """One TURN-TCP passive flow with ICE checks on the bound data connection (~30 frames)."""
    rnd = random.Random(n)
    txn = lambda: rnd.randbytes(12)  # noqa: E731
    c, t, p = "10.1.0.20", "10.1.0.10", f"10.2.{n % 250}.30"
    ctl = TcpPair(c, 20000 + n % 20000, t, 3478)
    out = ctl.handshake()
    a = txn()
    out.append(ctl.pkt(0, 0x18, stun(0x0003, a, [attr(0x0019, b"\x06\0\0\0")])))
    out.append(ctl.pkt(1, 0x18, stun(0x0113, a, [attr(0x0009, b"\0\0\x04\x01Unauthorized"), attr(0x0014, b"TANDBERG"), attr(0x0015, rnd.randbytes(8).hex().encode())])))
    a = txn()
    out.append(ctl.pkt(0, 0x18, stun(0x0003, a, [attr(0x0019, b"\x06\0\0\0"), attr(0x0006, b"turn"), attr(0x0014, b"TANDBERG"), attr(0x0008, rnd.randbytes(20))])))
    relay = 24000 + n % 1000
    out.append(ctl.pkt(1, 0x18, stun(0x0103, a, [attr(0x0016, xaddr(t, relay)), attr(0x0020, xaddr(c, ctl.cp)), attr(0x000D, (600).to_bytes(4, "big"))])))
    cid = rnd.randbytes(4)
    out.append(ctl.pkt(1, 0x18, stun(0x001C, txn(), [attr(0x0012, xaddr(p, 51001)), attr(0x002A, cid)])))
    data = TcpPair(c, 40000 + n % 20000, t, 3478)
    out += data.handshake()
    b = txn()
    out.append(data.pkt(0, 0x18, stun(0x000B, b, [attr(0x002A, cid), attr(0x0006, b"turn")])))
    out.append(data.pkt(1, 0x18, stun(0x010B, b, [])))
    for _ in range(2):
        r = txn()
        req = stun(0x0001, r, [attr(0x0006, b"cmsU:skyP"), attr(0x802A, rnd.randbytes(8))])
        resp = stun(0x0101, r, [attr(0x0020, xaddr(p, 51001))])
        out.append(data.pkt(1, 0x18, len(req).to_bytes(2, "big") + req))
        out.append(data.pkt(0, 0x18, len(resp).to_bytes(2, "big") + resp))
    for i in range(6):
        rtp = b"\x80\x60" + i.to_bytes(2, "big") + rnd.randbytes(28)
        out.append(data.pkt(i % 2, 0x18, len(rtp).to_bytes(2, "big") + rtp))
    out.append(data.pkt(1, 0x14))
    return out


def udp_turn_episode(n: int) -> list[bytes]:
    rnd = random.Random(-n)
    c, t = f"10.3.{n % 250}.20", "10.1.0.10"
    cp = 30000 + n % 30000
    out = []
    for mtype, attrs in (
        (0x0003, [attr(0x0019, b"\x11\0\0\0")]),
        (0x0004, [attr(0x000D, (600).to_bytes(4, "big"))]),
        (0x0008, [attr(0x0012, xaddr("10.9.9.9", 0))]),
        (0x0009, [attr(0x000C, b"\x40\x01\0\0"), attr(0x0012, xaddr("10.9.9.9", 5000))]),
    ):
        x = rnd.randbytes(12)
        out.append(frame_udp(c, t, cp, 3478, stun(mtype, x, attrs)))
        out.append(frame_udp(t, c, 3478, cp, stun(mtype | 0x0100, x, [attr(0x0020, xaddr(c, cp))])))
    for i in range(10):
        payload = b"\x40\x01\x00\xac" + b"\x80\x60" + rnd.randbytes(170)
        out.append(frame_udp(c, t, cp, 3478, payload) if i % 2 else frame_udp(t, c, 3478, cp, payload))
    return out


def noise(seed: int = 1):
    """Frames without end: RTP over UDP (20 streams), with a TURN episode (TCP with ICE checks,
    or UDP) every 2,000 frames. Deterministic for a seed; yields (frame, starts_episode)."""
    random.seed(seed)
    streams = [(f"192.168.{i}.10", 16000 + 2 * i, f"172.16.{i}.20", 50000 + 2 * i) for i in range(20)]
    rtp_payload = random.randbytes(160)
    seqs = [0] * len(streams)
    extra_frames: list[bytes] = []
    written = episodes = 0
    while True:
        starts = False
        if not extra_frames and written % 2000 == 1000:
            extra_frames = turn_episode(episodes) if episodes % 2 == 0 else udp_turn_episode(episodes)
            episodes += 1
            starts = True
        if extra_frames:
            frame = extra_frames.pop(0)
        else:
            s = written % len(streams)
            src, sp, dst, dp = streams[s]
            seqs[s] += 1
            rtp = struct.pack("!BBHII", 0x80, 0x60, seqs[s] & 0xFFFF, seqs[s] * 160, 0x1000 + s) + rtp_payload
            frame = frame_udp(src, dst, sp, dp, rtp)
        written += 1
        yield frame, starts


PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)  # microseconds, Ethernet


def generate(path: Path, packets: int, seed: int = 1) -> dict:
    """Write the capture; return what went in."""
    sec = 1_700_000_000
    usec = 0
    episodes = 0
    rec = struct.Struct("<IIII")
    frames = noise(seed)
    with open(path, "wb", buffering=1 << 22) as fh:
        fh.write(PCAP_HEADER)
        for _ in range(packets):
            frame, starts = next(frames)
            episodes += starts
            usec += 20
            if usec >= 1_000_000:
                sec += 1
                usec -= 1_000_000
            fh.write(rec.pack(sec, usec, len(frame), len(frame)))
            fh.write(frame)
    return {"packets": packets, "turn_episodes": episodes, "bytes": path.stat().st_size}


# -- running the decoders ------------------------------------------------------------------------
def decode_only(path: str) -> None:
    """Child process: decode, print event count, seconds and peak memory."""
    from logcorr.events.parsers.base import ParseContext
    from logcorr.events.parsers.pcap import PARSER

    t0 = time.perf_counter()
    c0 = time.process_time()
    ctx = ParseContext(file=path)
    n = stun_n = 0
    with open(path, "rb") as fh:
        for ev in PARSER.parse(fh, ctx):
            n += 1
            stun_n += ev["proto"] == "stun"
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{n} {stun_n} {dt:.3f} {rss} {ctx.warning_count} {cpu:.3f}")


def run_ours(path: Path) -> tuple[float, float, int, int, int]:
    """(wall s, cpu s, events, stun events, peak RSS KiB) of a decode in a child process."""
    out = subprocess.run(
        [sys.executable, __file__, "--decode-only", str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[2]), float(out[5]), int(out[0]), int(out[1]), int(out[3])


def run_tshark(path: Path) -> tuple[float, float, int, int] | None:
    """(wall s, cpu s, rows, peak RSS KiB of the children so far) of tshark on the capture."""
    tshark = shutil.which("tshark")
    if not tshark:
        return None
    cmd = [tshark, "-n", "-r", str(path), "-Y", "stun", "-T", "fields"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return dt, cpu, proc.stdout.count(b"\n"), after.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--path", type=Path, help="where to write the capture (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated capture")
    ap.add_argument("--memcheck", action="store_true", help="also decode a quarter-size capture")
    ap.add_argument("--decode-only", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.decode_only:
        decode_only(args.decode_only)
        return
    tmp = Path(tempfile.mkdtemp(prefix="logcorr-bench-"))
    path = args.path or tmp / "bench.pcap"
    try:
        t0 = time.perf_counter()
        info = generate(path, args.packets)
        print(f"generated {info['packets']:,} packets, {info['bytes'] / 1e6:.0f} MB, "
              f"{info['turn_episodes']} TURN episodes in {time.perf_counter() - t0:.1f} s -> {path}")
        ours, ours_cpu, events, stun_events, rss = run_ours(path)
        print(f"logcorr: {ours:.2f} s wall, {ours_cpu:.2f} s CPU, {events} events ({stun_events} stun), "
              f"peak RSS {rss / 1024:.0f} MiB")
        if args.memcheck:
            small = tmp / "quarter.pcap"
            generate(small, args.packets // 4)
            q_time, _, q_events, _, q_rss = run_ours(small)
            print(f"logcorr on {args.packets // 4:,} packets: {q_time:.2f} s, {q_events} events, "
                  f"peak RSS {q_rss / 1024:.0f} MiB (full size: {rss / 1024:.0f} MiB)")
        ts = run_tshark(path)
        if ts is None:
            print("tshark not installed: no comparison (apt-get install tshark)")
            return
        t_time, t_cpu, t_rows, t_rss = ts
        print(f"tshark -Y stun -T fields: {t_time:.2f} s wall, {t_cpu:.2f} s CPU, {t_rows} rows, "
              f"peak RSS {t_rss / 1024:.0f} MiB")
        print(f"ratio (tshark / logcorr): {t_time / ours:.1f}x wall, {t_cpu / ours_cpu:.1f}x CPU")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            if args.path and path.exists():
                path.unlink()


if __name__ == "__main__":
    main()
