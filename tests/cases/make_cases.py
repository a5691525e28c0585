"""Make the failure cases of tests/cases/ from the successful share in share-ok/share-ok.zip
(the cases at other sites are in sites.py).

Each case is the same support bundle (CMS log bundle, Expressway-E diagnostic archive with its
capture, SfB Edge Snooper trace) changed the way the failure would change it: frames the failure
prevents are taken out of the capture, logs end where the user gave up, clocks are skewed. The
expected diagnosis of each case is written by hand in its expected.yaml.

Run: python tests/cases/make_cases.py   (rewrites tests/cases/<case>/bundle.zip)
"""
from __future__ import annotations

import datetime as dt
import io
import re
import socket
import sys
import tarfile
import zipfile
from pathlib import Path

import binascii
import struct

import dpkt

sys.path.insert(0, str(Path(__file__).parent))
import relabel  # noqa: E402,F401
from relabel import Relabel, retar, untar  # noqa: E402

HERE = Path(__file__).parent
SOURCE = HERE / "share-ok" / "share-ok.zip"

CMS, EXPE, EDGE = "10.48.54.230", "10.48.54.229", "192.168.1.252"
DATA_CONN = (CMS, 41325)  # CMS's new connection for ConnectionBind
PEER_LEG = (EDGE, 51001)  # the SfB Edge's connection to the relay port
CUT = dt.datetime(2026, 11, 24, 14, 53, 42, 0, tzinfo=dt.timezone.utc)  # logs end: after ACK, before re-INVITE
SIP_PORTS = {5060, 5061, 7001}


# -- the bundle's pieces ------------------------------------------------------------------------
def load() -> dict[str, bytes]:
    with zipfile.ZipFile(SOURCE) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# -- captures -------------------------------------------------------------------------------------
def frames(pcap: bytes):
    reader = dpkt.pcap.Reader(io.BytesIO(pcap))
    for n, (ts, buf) in enumerate(reader, 1):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        l4 = ip.data
        yield n, ts, buf, (socket.inet_ntoa(ip.src), getattr(l4, "sport", 0)), \
            (socket.inet_ntoa(ip.dst), getattr(l4, "dport", 0)), len(getattr(l4, "data", b""))


def filter_pcap(pcap: bytes, drop, rewrite=None) -> bytes:
    """Drop the frames `drop` names; `rewrite(n, tcp_payload)` may give a frame a new payload of
    the same length. The TCP segments that follow a dropped one on its connection are renumbered
    (sequence numbers in its direction, acknowledgements in the other), as if it was never sent."""
    reader = dpkt.pcap.Reader(io.BytesIO(pcap))
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=reader.snaplen, linktype=reader.datalink())
    unsent: dict[tuple, int] = {}  # (src, dst) -> bytes of that direction dropped so far
    for n, ts, buf, src, dst, size in frames(pcap):
        eth = dpkt.ethernet.Ethernet(buf)
        tcp = eth.data.data if isinstance(eth.data.data, dpkt.tcp.TCP) else None
        if drop(n, ts, src, dst, size):
            if tcp is not None:
                unsent[(src, dst)] = unsent.get((src, dst), 0) + size
            continue
        new = rewrite(n, bytes(eth.data.data.data)) if rewrite is not None else None
        if new is not None:
            assert len(new) == len(eth.data.data.data)
            eth.data.data.data = new
        later, acked = unsent.get((src, dst), 0), unsent.get((dst, src), 0)
        if tcp is not None and (later or acked):
            tcp.seq = (tcp.seq - later) % 2**32
            if tcp.flags & dpkt.tcp.TH_ACK:
                tcp.ack = (tcp.ack - acked) % 2**32
        if new is not None or (tcp is not None and (later or acked)):
            eth.data.data.sum = 0  # recomputed
            eth.data.sum = 0
            buf = bytes(eth)
        writer.writepkt(buf, ts=ts)
    return out.getvalue()


def stun_message(mtype: int, txn: bytes, attrs: list[tuple[int, bytes]]) -> bytes:
    """A STUN message (RFC 5389) with a FINGERPRINT that verifies."""
    body = b"".join(struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4) for t, v in attrs)
    head = struct.pack("!HHI", mtype, len(body) + 8, 0x2112A442) + txn
    crc = binascii.crc32(head + body) ^ 0x5354554E
    return head + body + struct.pack("!HHI", 0x8028, 4, crc)


def bind_error(n: int, payload: bytes) -> bytes | None:
    """Frame 90, the ConnectionBind Success Response, becomes a ConnectionBind Error Response 447 (same txn)."""
    if n != 90:
        return None
    txn = payload[8:20]
    # ERROR-CODE (class 4, number 47) then FINGERPRINT; the reason phrase is padded with NULs so
    # that the message keeps the segment's 76 bytes
    room = len(payload) - 20 - 8 - 4 - 4
    reason = b"Connection Timeout or Failure".ljust(room, b"\0")  # NUL-padded, as coturn pads
    msg = stun_message(0x011B, txn, [(0x0009, struct.pack("!HBB", 0, 4, 47) + reason)])
    assert len(msg) == len(payload), len(msg)
    return msg


def on(conn, src, dst) -> bool:
    return src == conn or dst == conn


def sip_after_cut(ts, src, dst, size) -> bool:
    return size > 0 and ts > CUT.timestamp() and (src[1] in SIP_PORTS or dst[1] in SIP_PORTS)


# -- logs -----------------------------------------------------------------------------------------
CMS_STAMP = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3})", re.M)
SNOOPER_STAMP = re.compile(r"::(\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\.\d{3})\.")
ISO_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})([+-]\d\d:\d\d)")


def cms_time(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(f"2026 {stamp}", "%Y %b %d %H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)


def cut_lines(text: str, when) -> str:
    """Keep the lines before the first record stamped after CUT."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        t = when(line)
        if t is not None and t > CUT:
            return "".join(lines[:i])
    return text


def cms_when(line: str):
    m = CMS_STAMP.match(line)
    return cms_time(m.group(1)) if m else None


def snooper_when(line: str):
    m = SNOOPER_STAMP.search(line) if line.startswith("TL_") else None
    return dt.datetime.strptime(m.group(1), "%m/%d/%Y-%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc) if m else None


def iso_when(line: str):
    m = ISO_STAMP.match(line)
    return dt.datetime.fromisoformat(m.group(1) + m.group(2)) if m else None


def shift_cms(text: str, seconds: float) -> str:
    def repl(m):
        t = cms_time(m.group(1)) + dt.timedelta(seconds=seconds)
        return t.strftime("%b %e %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    return CMS_STAMP.sub(repl, text)


def shift_snooper(text: str, seconds: float) -> str:
    def repl(m):
        t = dt.datetime.strptime(m.group(1), "%m/%d/%Y-%H:%M:%S.%f") + dt.timedelta(seconds=seconds)
        return "::" + t.strftime("%m/%d/%Y-%H:%M:%S.") + f"{t.microsecond // 1000:03d}."
    return SNOOPER_STAMP.sub(repl, text)


# -- assembling a case ----------------------------------------------------------------------------
RELAY_LINE = re.compile(r"^.*10\.48\.54\.229 24726 typ relay.*\n", re.M)


def drop_records(text: str, when, t0: dt.datetime, t1: dt.datetime) -> str:
    """Without the records stamped strictly between t0 and t1 (a record's unstamped lines go with it)."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        t = when(line)
        if t is not None:
            inside = t0 < t < t1
        if not inside:
            out.append(line)
    return "".join(out)


WHEN = {"expressway": iso_when, "cms": cms_when, "snooper": snooper_when}
EARLY = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def lab_case(drop=None, cut: bool = False, cms_shift: float = 0.0, sfb_shift: float = 0.0, rewrite=None,
             cut_at: dt.datetime | None = None, no_relay: bool = False,
             gaps: tuple[tuple[dt.datetime, dt.datetime], ...] = (), no_capture: bool = False) -> dict[str, bytes]:
    """The lab bundle changed the way a failure changes it, still with the lab's addresses, names and
    clocks: zip member name -> bytes. `gaps` leaves out the log records stamped inside each window."""
    global CUT
    CUT = cut_at or dt.datetime(2026, 11, 24, 14, 53, 42, 0, tzinfo=dt.timezone.utc)

    def logs(text: str, kind: str) -> str:
        if cut:
            text = cut_lines(text, WHEN[kind])
        for t0, t1 in gaps:
            text = drop_records(text, WHEN[kind], t0, t1)
        if kind == "cms" and cms_shift:
            text = shift_cms(text, cms_shift)
        if kind == "snooper" and sfb_shift:
            text = shift_snooper(text, sfb_shift)
        return RELAY_LINE.sub("", text) if no_relay else text

    out: dict[str, bytes] = {}
    for member, data in load().items():
        if member.startswith("diagnostic_log_"):
            items = []
            for info, blob in untar(data):
                if info.name.endswith(".pcap"):
                    if no_capture:
                        continue
                    if drop is not None:
                        blob = filter_pcap(blob, drop, rewrite)
                elif "loggingsnapshot" in info.name:
                    blob = logs(blob.decode(), "expressway").encode()
                items.append((info, blob))
            out[member] = retar(items)
        elif member == "logbundle.tar.gz":
            out[member] = retar([(info, logs(blob.decode(), "cms").encode()) for info, blob in untar(data)])
        else:
            out[member] = logs(data.decode(), "snooper").encode()
    return out


def write(name: str, parts: dict[str, bytes], site: Relabel | None = None) -> Path:
    target = HERE / name / "bundle.zip"
    target.parent.mkdir(exist_ok=True)
    when = dt.datetime(2026, 11, 24, 14, 56, 0) + dt.timedelta(seconds=site.shift if site else 0)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(parts):
            zf.writestr(zipfile.ZipInfo(member, date_time=when.timetuple()[:6]), parts[member])
    return target


def build(name: str, site: Relabel | None = None, after=None, **failure) -> Path:
    """Case `name`: the lab failure `failure`, moved to `site`, then `after(parts)` (site values)."""
    parts = lab_case(**failure)
    if site is not None:
        parts = relabel.bundle(parts, site)
    if after is not None:
        parts = after(parts)
    return write(name, parts, site)


CASES = {
    # CMS's clock 2.31 s ahead, the SfB Edge's 1.5 s behind: the flow must still read in order.
    "skewed-clocks": dict(cms_shift=2.31, sfb_shift=-1.5),
    # The relay offers the connection but CMS never binds it (RFC 6062 5.4): no data connection,
    # nothing relayed from the peer, no re-INVITE.
    "no-connectionbind": dict(
        drop=lambda n, ts, s, d, size: on(DATA_CONN, s, d) or (on(PEER_LEG, s, d) and size > 0)
        or sip_after_cut(ts, s, d, size),
        cut=True, cms_shift=0.8),
    # Nothing reaches the relay port (firewall on the relay range): no ConnectionAttempt at all.
    "no-connection-attempt": dict(
        drop=lambda n, ts, s, d, size: on(DATA_CONN, s, d) or on(PEER_LEG, s, d) or n == 83
        or sip_after_cut(ts, s, d, size),
        cut=True, sfb_shift=-0.6),
    # CMS gets no relay: nothing reaches the TURN server, CMS answers without a relay candidate.
    "no-allocation": dict(
        drop=lambda n, ts, s, d, size: 3478 in (s[1], d[1]) or on(PEER_LEG, s, d)
        or sip_after_cut(ts, s, d, size),
        cut=True, no_relay=True),
    # The TURN server answers the ConnectionBind with 447 Connection Timeout or Failure.
    "bind-failed": dict(
        drop=lambda n, ts, s, d, size: (on(DATA_CONN, s, d) and n > 91) or (on(PEER_LEG, s, d) and size > 0)
        or sip_after_cut(ts, s, d, size),
        rewrite=bind_error, cut=True),
    # ICE succeeds both ways, but nobody sends the re-INVITE.
    "no-reinvite": dict(
        drop=lambda n, ts, s, d, size: sip_after_cut(ts, s, d, size),
        cut=True, cut_at=dt.datetime(2026, 11, 24, 14, 53, 42, 380000, tzinfo=dt.timezone.utc)),
    # CMS's answers to the Edge's checks never come back: checks in one direction only.
    "one-way-checks": dict(
        drop=lambda n, ts, s, d, size: n in (96, 97, 111, 112) or sip_after_cut(ts, s, d, size),
        cut=True),
}

if __name__ == "__main__":
    import sites  # the cases moved to other sites (they build on this module)
    every = {**CASES, **sites.CASES}
    for case in sys.argv[1:] or every:
        spec = every[case]
        print(spec() if callable(spec) else build(case, **spec))
