"""Make a large, deterministic case bundle with failures planted at known places.

    python bench/make_bundle.py OUT --size-mb 1000 [--logs-share 0.2]

OUT becomes a folder holding what a support engineer collects for many presentation shares:
the CMS syslog (SIP traces), the Expressway-E diagnostic log and xconfig, the SfB Edge's Snooper
trace, and one capture. Every share is a copy of the realistic case in tests/cases/share-ok, ten
minutes after the one before, each with its own Call-IDs, conversation, TURN ports, transaction
and connection ids (all rewritten to the same length, so SIP Content-Lengths and the capture's
framing stay right). The capture is the shares' TURN/ICE/SIP frames merged in time order with RTP
noise and unrelated TURN episodes from bench_capture.py.

A few copies are failures instead: each case of tests/cases (no ConnectionBind, no allocation and so
no relay candidate, ConnectionBind error, one-way checks, no re-INVITE, no ConnectionAttempt) made
by tests/cases/make_cases.py, plus a 403 presenter-rights refusal (ms-diagnostics 21002 ASMCU) and a
401 loop (every signed Allocate rejected: wrong password). Where each one is, with the rule ids
that must be found for its Call-ID, is written beside the folder in OUT.manifest.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import struct
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CASES = REPO / "tests" / "cases"
sys.path.insert(0, str(CASES))
sys.path.insert(0, str(BENCH))

import bench_capture  # noqa: E402
import make_cases  # noqa: E402

SPACING = 600  # seconds between two shares
T0 = dt.datetime(2026, 11, 24, 14, 47, 0)  # the first share's window starts here (UTC)
FAILURE_CASES = ("no-connectionbind", "no-allocation", "bind-failed", "one-way-checks", "no-reinvite",
                 "no-connection-attempt")
SHARE_CALL = "b2a211220e344c0a909219a73ad9991d"  # the share's Call-ID in every case
FILES = {"cms": "syslog", "expe": "loggingsnapshot_expe01_2026-11-24_14:54:28.txt",
         "sfb": "sfbedge01_SIPStack_snooper.txt"}
XCONF = "xconf_dump_expe01_2026-11-24_14:54:28.txt"
CAPTURE = "eth0_diagnostic_logging_tcpdump00_expe01_2026-11-24_14:54:28.pcap"
# TURN ports of a share: CMS's control and data connections, the relay port, the Edge's relay
PORTS = {40557: 0, 41325: 1, 24726: 2, 51001: 3}
ASMCU_403 = 'ms-diagnostics-public: 21002;reason="Attendees cannot share in this conference";component="ASMCU"'


def ports_of(copy: int) -> dict[int, int]:
    """The copy's own five-digit ports (same width as the originals: SDP lengths stay right)."""
    ctrl = 30000 + 2 * (copy % 9999)
    return {40557: ctrl, 41325: ctrl + 1, 24726: 24000 + copy % 6000, 51001: 50000 + copy % 9999}


def id_mask(copy: int) -> int:
    return ((copy + 1) * 0x9E3779B1) & 0xFFFFFFFF  # odd multiplier: one mask per copy


# -- text logs: a template per variant, rendered per copy ------------------------------------------
TOKENS = re.compile(
    r"(?m)^(?P<cms>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)"
    r"|(?P<snoop>\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d)"
    r"|(?i:call-id[:=] ?)(?P<cid>[\w.@-]+)"
    r"|(?i:ms-conversation-id: ?)(?P<conv>[\w+/]{6,})"
    r"|\b(?P<port>40557|41325|24726|51001)\b")
TIME_FORMATS = {"cms": "%b %e %H:%M:%S", "snoop": "%m/%d/%Y-%H:%M:%S"}


def new_call_id(value: str, copy: int) -> str:
    """The same Call-ID, same length, its last six characters before any '@' made the copy's."""
    local, at, host = value.partition("@")
    tag = f"{copy:06x}"[-min(6, len(local)):]
    return local[: len(local) - len(tag)] + tag + at + host


class Template:
    """A log's text cut into literal pieces and the tokens a copy changes."""

    def __init__(self, text: str) -> None:
        self.pieces: list[str] = []
        self.tokens: list[tuple[str, object]] = []
        last = 0
        for m in TOKENS.finditer(text):
            kind = m.lastgroup
            start = m.start(kind)
            self.pieces.append(text[last:start])
            value = m.group(kind)
            if kind == "cms":
                value = dt.datetime.strptime("2026 " + value, "%Y %b %d %H:%M:%S")
            elif kind == "iso":
                value = (dt.datetime.fromisoformat(value.replace(" ", "T")), value[10])
            elif kind == "snoop":
                value = dt.datetime.strptime(value, TIME_FORMATS["snoop"])
            elif kind == "port":
                value = int(value)
            self.tokens.append((kind, value))
            last = m.end(kind)
        self.pieces.append(text[last:])

    def render(self, copy: int) -> str:
        delta = dt.timedelta(seconds=SPACING * copy)
        ports = ports_of(copy)
        out = [self.pieces[0]]
        for (kind, value), piece in zip(self.tokens, self.pieces[1:]):
            if kind == "iso":
                t, sep = value
                out.append((t + delta).strftime(f"%Y-%m-%d{sep}%H:%M:%S"))
            elif kind in TIME_FORMATS:
                out.append((value + delta).strftime(TIME_FORMATS[kind]))
            elif kind == "cid":
                out.append(new_call_id(value, copy))
            elif kind == "conv":
                out.append(f"{copy:06x}" + value[6:])
            else:
                out.append(str(ports[value]))
            out.append(piece)
        return "".join(out)


# -- the capture: frames parsed once per variant, rewritten per copy --------------------------------
COOKIE = b"\x21\x12\xa4\x42"
SIP_CALL_ID = re.compile(rb"(?i:call-id: ?)([\w.@-]+)")


@dataclass
class Frame:
    ts: float
    data: bytes
    l4: int = 0  # offset of the TCP/UDP header, 0: not IPv4 TCP/UDP
    tcp: bool = False
    stun: list = field(default_factory=list)  # (message offset, [(type, value offset, length)])
    call_ids: list = field(default_factory=list)  # (offset, value)


def stun_messages(buf: bytes, base: int) -> list:
    found, i = [], buf.find(COOKIE, 4)
    while i >= 4:
        start = i - 4
        mtype, length = struct.unpack_from("!HH", buf, start)
        if mtype >> 14 == 0 and length % 4 == 0 and start + 20 + length <= len(buf):
            attrs, p = [], start + 20
            while p + 4 <= start + 20 + length:
                atype, alen = struct.unpack_from("!HH", buf, p)
                attrs.append((atype, base + p + 4, alen))
                p += 4 + alen + (-alen % 4)
            found.append((base + start, attrs))
        i = buf.find(COOKIE, i + 4)
    return found


def parse_frame(ts: float, data: bytes) -> Frame:
    f = Frame(ts, data)
    if len(data) < 34 or data[12:14] != b"\x08\x00" or data[23] not in (6, 17):
        return f
    f.l4 = 14 + (data[14] & 0x0F) * 4
    f.tcp = data[23] == 6
    start = f.l4 + ((data[f.l4 + 12] >> 4) * 4 if f.tcp else 8)
    payload = data[start:]
    f.stun = stun_messages(payload, start)
    f.call_ids = [(start + m.start(1), m.group(1).decode()) for m in SIP_CALL_ID.finditer(payload)]
    return f


def read_pcap(blob: bytes) -> list[Frame]:
    assert blob[:4] == b"\xd4\xc3\xb2\xa1", "a little-endian microsecond pcap"
    frames, p = [], 24
    while p + 16 <= len(blob):
        sec, usec, incl, _ = struct.unpack_from("<IIII", blob, p)
        frames.append(parse_frame(sec + usec / 1e6, blob[p + 16: p + 16 + incl]))
        p += 16 + incl
    return frames


def xport(buf: bytearray, at: int, ports: dict[int, int]) -> None:
    port = struct.unpack_from("!H", buf, at)[0] ^ 0x2112
    if port in ports:
        struct.pack_into("!H", buf, at, ports[port] ^ 0x2112)


def render_frame(f: Frame, copy: int, ports: dict[int, int]) -> bytes:
    if not f.l4:
        return f.data
    buf = bytearray(f.data)
    for at in (f.l4, f.l4 + 2):
        port = struct.unpack_from("!H", buf, at)[0]
        if port in ports:
            struct.pack_into("!H", buf, at, ports[port])
    mask = id_mask(copy)
    if f.tcp:  # one offset a copy for both directions: sequence and acknowledgement numbers agree
        seq, ack = struct.unpack_from("!II", buf, f.l4 + 4)
        struct.pack_into("!II", buf, f.l4 + 4, (seq + mask) & 0xFFFFFFFF, (ack + mask) & 0xFFFFFFFF)
    for start, attrs in f.stun:
        struct.pack_into("!I", buf, start + 8, struct.unpack_from("!I", buf, start + 8)[0] ^ mask)
        for atype, at, alen in attrs:
            if atype == 0x002A and alen == 4:  # CONNECTION-ID
                struct.pack_into("!I", buf, at, struct.unpack_from("!I", buf, at)[0] ^ mask)
            elif atype in (0x0012, 0x0016, 0x0020) and alen >= 8:  # XOR-PEER/RELAYED/MAPPED-ADDRESS
                xport(buf, at + 2, ports)
            elif atype == 0x8028 and alen == 4:  # FINGERPRINT, over the rewritten message
                struct.pack_into("!I", buf, at, zlib.crc32(bytes(buf[start: at - 4])) ^ 0x5354554E)
    for at, value in f.call_ids:
        buf[at: at + len(value)] = new_call_id(value, copy).encode()
    return bytes(buf)


# -- the variants: share-ok, the failure cases, two more failures ----------------------------------
@dataclass
class Variant:
    name: str
    rules: list[str]
    logs: dict[str, Template]
    frames: list[Frame]


def parts_of(path: Path) -> dict:
    """The text logs and the capture of a case bundle (zip of tarballs and a Snooper trace)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith(".txt"):
                out["sfb"] = data.decode()
                continue
            for info, blob in make_cases.untar(data):
                base = info.name.rsplit("/", 1)[-1]
                if base == "syslog":
                    out["cms"] = blob.decode()
                elif base.startswith("loggingsnapshot"):
                    out["expe"] = blob.decode()
                elif base.endswith(".pcap"):
                    out["pcap"] = blob
                elif base.startswith("xconf"):
                    out["xconf"] = blob.decode()
    return out


def refuse_share(cms: str) -> str:
    """CMS's 200 OK to the share INVITE becomes 403 Forbidden with ms-diagnostics 21002 (ASMCU),
    without SDP."""
    lines = cms.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.endswith("SIP trace: SIP/2.0 200 OK\n") and SHARE_CALL in "".join(lines[i: i + 20]):
            prefix = line[: line.index("SIP trace: ") + len("SIP trace: ")]
            out += [prefix + "SIP/2.0 403 Forbidden\n", prefix + ASMCU_403 + "\n"]
            i += 1
            while not lines[i].endswith("SIP trace: \n"):  # headers
                if "Content-Length:" in lines[i]:
                    out.append(prefix + "Content-Length: 0\n")
                elif "Content-Type:" not in lines[i]:
                    out.append(lines[i])
                i += 1
            out.append(lines[i])
            i += 1
            while i < len(lines) and "SIP trace: " in lines[i] and "SIP trace: connection " not in lines[i]:
                i += 1  # the SDP
            continue
        out.append(line)
        i += 1
    return "".join(out)


def auth_loop_frames(at: float, tries: int = 3) -> list[Frame]:
    """CMS's TURN-TCP control connection where every signed Allocate gets 401 (wrong password)."""
    b = bench_capture
    random.seed(401)  # TcpPair draws its sequence numbers from the module generator
    rnd = random.Random(401)
    conn = b.TcpPair(make_cases.CMS, 40557, make_cases.EXPE, 3478)
    frames = conn.handshake()
    tcp = b.attr(0x0019, b"\x06\0\0\0")
    realm, nonce = b.attr(0x0014, b"TANDBERG"), b.attr(0x0015, rnd.randbytes(12).hex().encode())
    unauthorized = b.attr(0x0009, b"\0\0\x04\x01Unauthorized")
    txn = rnd.randbytes(12)
    frames += [conn.pkt(0, 0x18, b.stun(0x0003, txn, [tcp])),
               conn.pkt(1, 0x18, b.stun(0x0113, txn, [unauthorized, realm, nonce]))]
    for _ in range(tries):
        txn = rnd.randbytes(12)
        signed = [tcp, b.attr(0x0006, b"turn"), realm, nonce, b.attr(0x0008, rnd.randbytes(20))]
        frames += [conn.pkt(0, 0x18, b.stun(0x0003, txn, signed)),
                   conn.pkt(1, 0x18, b.stun(0x0113, txn, [unauthorized, realm, nonce]))]
    frames += [conn.pkt(0, 0x11), conn.pkt(1, 0x11)]
    return [parse_frame(at + 0.002 * n, data) for n, data in enumerate(frames)]


def variants() -> tuple[Variant, list[Variant], str]:
    """share-ok, the failures, and the Expressway's xconfig."""
    ok = parts_of(CASES / "share-ok" / "share-ok.zip")

    def make(name: str, parts: dict, rules: list[str], extra: list[Frame] = ()) -> Variant:
        frames = sorted(read_pcap(parts["pcap"]) + list(extra), key=lambda f: f.ts)
        return Variant(name, rules, {k: Template(parts[k]) for k in FILES}, frames)

    failures = []
    for name in FAILURE_CASES:
        expected = yaml.safe_load((CASES / name / "expected.yaml").read_text())
        assert expected["call_id"] == SHARE_CALL
        failures.append(make(name, parts_of(CASES / name / "bundle.zip"), expected["must_find"]))
    bare = parts_of(CASES / "no-allocation" / "bundle.zip")  # no TURN traffic, no relay candidate
    failures.append(make("presenter-rights", {**bare, "cms": refuse_share(bare["cms"])}, ["presenter-rights"]))
    allocate = next(f.ts for f in read_pcap(ok["pcap"]) if any(
        struct.unpack_from("!H", f.data, s)[0] == 0x0003 for s, _ in f.stun))
    failures.append(make("turn-401-loop", bare, ["turn-auth-failed"], auth_loop_frames(allocate)))
    return make("share-ok", ok, []), failures, ok["xconf"]


# -- the bundle ------------------------------------------------------------------------------------
def plan(copies: int, n_failures: int) -> dict[int, int]:
    """Copy index -> failure index: spread over the bundle, the first and the last copy included."""
    if n_failures == 1:
        return {0: 0}
    return {round(j * (copies - 1) / (n_failures - 1)): j for j in range(n_failures)}


def build(out: Path, size_mb: float, logs_share: float = 0.2, seed: int = 1) -> dict:
    ok, failures, xconf = variants()
    per_copy_logs = sum(len(t.render(0).encode()) for t in ok.logs.values())
    copies = max(2 * len(failures), round(size_mb * 1e6 * logs_share / per_copy_logs))
    where = plan(copies, len(failures))
    out.mkdir(parents=True, exist_ok=True)
    (out / XCONF).write_text(xconf)
    logs = {k: open(out / name, "w", encoding="utf-8", newline="") for k, name in FILES.items()}
    pcap = open(out / CAPTURE, "wb", buffering=1 << 22)
    pcap.write(bench_capture.PCAP_HEADER)
    noise = bench_capture.noise(seed)
    rec = struct.Struct("<IIII")
    base = T0.replace(tzinfo=dt.timezone.utc).timestamp()
    planted, written, frames_n, last_ts = [], 0, 0, base
    noise_bytes = size_mb * 1e6 * (1 - logs_share) - copies * sum(16 + len(f.data) for f in ok.frames)
    noise_per_copy = max(0, int(noise_bytes / 230 / copies))  # an RTP noise record is 230 bytes
    try:
        for copy in range(copies):
            v = failures[where[copy]] if copy in where else ok
            for k, fh in logs.items():
                fh.write(v.logs[k].render(copy))
            shift = SPACING * copy
            ports = ports_of(copy)
            share = [(f.ts + shift, render_frame(f, copy, ports)) for f in v.frames]
            start = base + shift
            step = SPACING / max(1, noise_per_copy)
            merged = share + [(start + i * step, None) for i in range(noise_per_copy)]
            merged.sort(key=lambda x: x[0])
            for ts, data in merged:
                if data is None:
                    data = next(noise)[0]
                sec = int(ts)
                pcap.write(rec.pack(sec, round((ts - sec) * 1e6) % 1_000_000, len(data), len(data)))
                pcap.write(data)
                frames_n += 1
                last_ts = max(last_ts, ts)
            if v is not ok:
                planted.append({"copy": copy, "failure": v.name, "call_id": new_call_id(SHARE_CALL, copy),
                                "rules": v.rules,
                                "start": dt.datetime.fromtimestamp(start, dt.timezone.utc).isoformat()})
    finally:
        for fh in logs.values():
            fh.close()
        pcap.close()
    for name in [*FILES.values(), CAPTURE, XCONF]:  # a log's time is its last record's
        os.utime(out / name, (last_ts, last_ts))
    sizes = {name: (out / name).stat().st_size for name in sorted(os.listdir(out))}
    written = sum(sizes.values())
    return {"bundle": str(out), "size_mb": size_mb, "logs_share": logs_share, "seed": seed,
            "copies": copies, "frames": frames_n, "bytes": written, "files": sizes,
            "planted": planted}


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".manifest.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="the folder to write (the manifest goes beside it)")
    ap.add_argument("--size-mb", type=float, default=100, help="about how big the bundle is (default 100)")
    ap.add_argument("--logs-share", type=float, default=0.2, help="the part of the bytes in text logs (default 0.2)")
    args = ap.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        sys.exit(f"make_bundle: {args.out} exists and is not empty")
    t = time.perf_counter()
    info = build(args.out, args.size_mb, args.logs_share)
    manifest_path(args.out).write_text(json.dumps(info, indent=1) + "\n")
    print(f"{args.out}: {info['bytes'] / 1e6:.0f} MB, {info['copies']} shares, {info['frames']:,} frames, "
          f"{len(info['planted'])} planted failures, made in {time.perf_counter() - t:.0f} s; "
          f"manifest {manifest_path(args.out)}")


if __name__ == "__main__":
    main()
