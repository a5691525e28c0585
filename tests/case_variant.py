"""A bundle of tests/cases/ changed in one place, written to a test's folder: its capture's frames
rewritten or added, its CMS syslog edited. Built from the case bundles with tests/cases/make_cases.py's
own archive helpers."""
from __future__ import annotations

import io
import socket
import sys
import zipfile
from pathlib import Path
from typing import Callable

import dpkt

CASES = Path(__file__).parent / "cases"
sys.path.insert(0, str(CASES))
import make_cases  # noqa: E402


def variant(case: str, target: Path, pcap: Callable[[bytes], bytes] | None = None,
            syslog: Callable[[str], str] | None = None) -> Path:
    """tests/cases/<case>/bundle.zip with its capture passed through `pcap` and CMS's syslog through `syslog`."""
    out = {}
    with zipfile.ZipFile(CASES / case / "bundle.zip") as zf:
        for member in zf.namelist():
            data = zf.read(member)
            if member.startswith("diagnostic_log_") and pcap is not None:
                data = make_cases.retar([(info, pcap(blob) if info.name.endswith(".pcap") else blob)
                                         for info, blob in make_cases.untar(data)])
            elif member == "logbundle.tar.gz" and syslog is not None:
                data = make_cases.retar([(info, syslog(blob.decode()).encode())
                                         for info, blob in make_cases.untar(data)])
            out[member] = data
    path = target / f"{case}-variant.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in out.items():
            zf.writestr(member, data)
    return path


def rewrite_frames(rewrite: Callable[[int, bytes], bytes | None]) -> Callable[[bytes], bytes]:
    """A pcap edit: frame n's TCP payload replaced by rewrite(n, payload) (same length) where not None."""
    return lambda blob: make_cases.filter_pcap(blob, lambda *frame: False, rewrite)


def with_frames(extra: list[tuple[float, bytes]]) -> Callable[[bytes], bytes]:
    """A pcap edit: Ethernet frames added at their times, the capture kept in time order."""
    def edit(blob: bytes) -> bytes:
        reader = dpkt.pcap.Reader(io.BytesIO(blob))
        frames = sorted([(ts, buf) for ts, buf in reader] + extra, key=lambda f: f[0])
        out = io.BytesIO()
        writer = dpkt.pcap.Writer(out, snaplen=reader.snaplen, linktype=reader.datalink())
        for ts, buf in frames:
            writer.writepkt(buf, ts=ts)
        return out.getvalue()
    return edit


def tcp_frame(src: tuple[str, int], dst: tuple[str, int], flags: int, seq: int = 1000, ack: int = 0) -> bytes:
    """An Ethernet/IPv4/TCP frame without payload (a SYN, a RST)."""
    tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq, ack=ack, flags=flags, win=64240)
    ip = dpkt.ip.IP(src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]), p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))
