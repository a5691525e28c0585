"""Make the failure cases of tests/cases/ from the successful share in share-ok/share-ok.zip.

Each case is the same support bundle (CMS log bundle, Expressway-E diagnostic archive with its
capture, SfB Edge Snooper trace) changed the way the failure would change it: frames the failure
prevents are taken out of the capture, logs end where the user gave up, clocks are skewed. The
expected diagnosis of each case is written by hand in its expected.yaml.

Run: python tests/cases/make_cases.py   (rewrites tests/cases/<case>/bundle.zip)
"""
from __future__ import annotations

import copy
import dataclasses
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
import relabel  # noqa: E402
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


# -- other sites ------------------------------------------------------------------------------------
# The lab's hosts, as make_cases and relabel name them.
EXPC, CLIENT, FE, CUCM = "10.48.54.228", "172.16.30.15", "10.1.1.20", "10.48.54.10"
SCANNER, ENDPOINT, CLIENT_SUBNET = "198.51.100.73", "10.48.60.21", "172.16.30.0"
CONTROL = (CMS, 40557)  # CMS's TURN control connection


def site(tag: str, addresses: dict[str, str], names: dict[str, str], days: float, zones: dict[str, str],
         **more) -> Relabel:
    """A site: where each lab host is (every lab host must move), what it is called, when the share
    happens (`days` after the lab's) and in which zones its boxes live."""
    lab = {CMS, EXPE, EXPC, EDGE, CLIENT, FE, CUCM, SCANNER, ENDPOINT, CLIENT_SUBNET}
    assert set(addresses) == lab, lab ^ set(addresses)
    return Relabel(addresses=addresses, names=names, seed=tag, shift=days * 86400, zones=zones, **more)


def lab_names(expe: str, expc: str, cms: str, edge: str, fe: str, corp: str, sfb: str, user: tuple[str, str],
              space: tuple[str, str]) -> dict[str, str]:
    return {"expe01": expe, "expc01": expc, "cms01": cms, "sfbedge01": edge, "sfbfe01": fe, "corp.lab": corp,
            "skype.lab": sfb, "alice": user[0], "Alice Martin": user[1], "weekly.review": space[0],
            "Weekly review": space[1]}


def lab_window(parts: dict[str, bytes]) -> float:
    """The last capture time of a lab bundle (epoch seconds)."""
    for member, data in parts.items():
        for info, blob in (untar(data) if member.endswith(".tar.gz") else []):
            if info.name.endswith(".pcap"):
                return max(ts for ts, _ in dpkt.pcap.Reader(io.BytesIO(blob)))
    raise ValueError("no capture")


def configure(settings: dict[str, str], host: str | None = None):
    """An `after` step: set xConfiguration lines in the Expressway configuration dump (of `host`)."""
    def apply(parts: dict[str, bytes]) -> dict[str, bytes]:
        out = {}
        for member, data in parts.items():
            if member.startswith("diagnostic_log_") and (host is None or f"_{host}_" in member):
                items = []
                for info, blob in untar(data):
                    if relabel.kind_of(info.name) == "xconf":
                        blob = xconf_set(blob.decode(), settings).encode()
                    items.append((info, blob))
                data = retar(items)
            out[member] = data
        return out
    return apply


def xconf_set(text: str, settings: dict[str, str]) -> str:
    lines = text.splitlines()
    for path, value in settings.items():
        line = f"*c xConfiguration {path}: {value}"
        at = [i for i, old in enumerate(lines) if old.startswith(f"*c xConfiguration {path}:")]
        if at:
            lines[at[0]] = line
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


# a. Two shares in one bundle: the first is never bound (no ConnectionBind), the user shares again
# 3 minutes later and it works. Bangalore: CMS and Expressway on India time (UTC+05:30).
BLR = site("blr", {
    CMS: "10.20.30.41", EXPE: "10.20.40.5", EXPC: "10.20.30.40", EDGE: "198.51.100.61", CLIENT: "10.99.7.23",
    FE: "10.99.1.10", CUCM: "10.20.30.10", SCANNER: "192.0.2.144", ENDPOINT: "10.20.60.77", CLIENT_SUBNET: "10.99.7.0"},
    lab_names("vcse-blr-1", "vcsc-blr-1", "cmsblr02", "lyncedge3", "lyncpool1", "northwind.example",
              "contoso.example", ("ravi.k", "Ravi Kumar"), ("design.sync", "Design sync")),
    days=3 + 5.5 / 24, zones={"cms": "Asia/Kolkata", "expressway": "Asia/Kolkata"}, cms_call_offset=17,
    ports={(EXPE, 24726): 27310, (CMS, 40557): 39101, (CMS, 41325): 39102, (EDGE, 51001): 50744})
RETRY_AFTER = 180.0  # seconds from the first share to the second


def two_shares() -> Path:
    first = lab_case(drop=lambda n, ts, s, d, size: on(DATA_CONN, s, d) or (on(PEER_LEG, s, d) and size > 0)
                     or sip_after_cut(ts, s, d, size), cut=True)
    since = dt.datetime.fromtimestamp(lab_window(first) - RETRY_AFTER + 0.5, dt.timezone.utc)
    second = lab_case(drop=lambda n, ts, s, d, size: ts < since.timestamp(), gaps=((EARLY, since),))
    again = dataclasses.replace(
        BLR, seed="blr-again", shift=BLR.shift + RETRY_AFTER, cms_call_offset=BLR.cms_call_offset + 3,
        ports={(EXPE, 24726): 25893, (CMS, 40557): 40211, (CMS, 41325): 40212, (EDGE, 51001): 51377,
               (EDGE, 50289): 50291, (EXPC, 25647): 25655, (SCANNER, 5088): 5090})
    return write("two-shares", joined(relabel.bundle(first, BLR), relabel.bundle(second, again)), again)


def joined(first: dict[str, bytes], second: dict[str, bytes]) -> dict[str, bytes]:
    """One bundle of two that follow each other in time: each log is the first's then the second's
    lines, the capture the frames of both; member names are the second's (the later collection)."""
    def key(name: str) -> str:
        return relabel.kind_of(name) if not name.endswith(".tar.gz") else name.split("_")[0]

    earlier = {key(n): d for n, d in first.items()}
    out = {}
    for name, data in second.items():
        before = earlier[key(name)]
        if name.endswith(".tar.gz"):
            old = {relabel.kind_of(i.name): b for i, b in untar(before)}
            data = retar([(i, join_member(old[relabel.kind_of(i.name)], b, relabel.kind_of(i.name)))
                          for i, b in untar(data)])
        else:
            data = join_member(before, data, key(name))
        out[name] = data
    return out


def join_member(before: bytes, after: bytes, kind: str) -> bytes:
    if kind == "xconf":
        return after
    if kind != "pcap":
        return before + after
    out = io.BytesIO()
    reader = dpkt.pcap.Reader(io.BytesIO(before))
    writer = dpkt.pcap.Writer(out, snaplen=reader.snaplen, linktype=reader.datalink())
    frames = list(reader) + list(dpkt.pcap.Reader(io.BytesIO(after)))
    for ts, buf in sorted(frames, key=lambda f: f[0]):
        writer.writepkt(buf, ts=ts)
    return out.getvalue()


# b. A dual-homed Expressway-E (New York, EDT): LAN1 10.44.12.7 faces the Expressway-C and CMS and
# takes TURN on TCP 443; LAN2 203.0.113.45 faces the SfB Edge and holds the relays. Nothing reaches
# the relay port (the relay range on LAN2 is not opened): no ConnectionAttempt.
NYC_INSIDE, NYC_OUTSIDE = "10.44.12.7", "203.0.113.45"
NYC = site("nyc", {
    CMS: "10.44.20.31", EXPE: NYC_OUTSIDE, EXPC: "10.44.20.30", EDGE: "198.51.100.188", CLIENT: "172.31.8.40",
    FE: "172.31.1.12", CUCM: "10.44.20.10", SCANNER: "192.0.2.201", ENDPOINT: "10.44.60.9", CLIENT_SUBNET: "172.31.8.0"},
    lab_names("expe-nyc", "expc-nyc", "cms-nyc-a", "sfb-edge-ny", "sfb-pool-ny", "fourthcoffee.example",
              "litware.example", ("j.doe", "Jane Doe"), ("q1.planning", "Q1 planning")),
    days=112.25, zones={"cms": "America/New_York", "expressway": "America/New_York"},
    sides={(EXPE, 7001): NYC_INSIDE, (EXPE, 3478): NYC_INSIDE},
    ports={(EXPE, 3478): 443, (EXPE, 24726): 28412, (CMS, 40557): 52210, (EDGE, 51001): 49822})


def dual_homed() -> Path:
    return build("dual-homed", NYC, after=configure({
        "Ethernet 1 IP V4 Address": f'"{NYC_INSIDE}"', "Ethernet 2 IP V4 Address": f'"{NYC_OUTSIDE}"',
        "Ethernet 2 IP V4 SubnetMask": '"255.255.255.192"', "Traversal Server TURN Port": "443",
        "Traversal Server TURN Protocols": "TCP"}), **CASES["no-connection-attempt"])


# c. An Expressway-E cluster (Sydney, AEDT): SIP goes through peer 1, CMS's TURN server and the relay
# are peer 2 (the scanner knocks on peer 2 too). Each peer's diagnostic archive holds its own log,
# configuration (both peers listed) and capture. The share works.
SYD_PEERS = (("vcse-syd-1", "10.61.5.11"), ("vcse-syd-2", "10.61.5.12"))
SYD = site("syd", {
    CMS: "10.61.9.20", EXPE: SYD_PEERS[1][1], EXPC: "10.61.9.14", EDGE: "198.51.100.23", CLIENT: "10.133.40.18",
    FE: "10.133.2.5", CUCM: "10.61.9.3", SCANNER: "192.0.2.66", ENDPOINT: "10.61.70.40", CLIENT_SUBNET: "10.133.40.0"},
    lab_names(SYD_PEERS[0][0], "vcsc-syd-1", "cms-syd", "lync-edge-01", "lync-fe-01", "wingtip.example",
              "adatum.example", ("m.chen", "Mia Chen"), ("sprint.review", "Sprint review")),
    days=-48.75, zones={"cms": "Australia/Sydney", "expressway": "Australia/Sydney"},
    sides={(EXPE, 7001): SYD_PEERS[0][1], (EXPE, 5061): SYD_PEERS[0][1]},
    ports={(EXPE, 24726): 24188, (CMS, 40557): 33815, (CMS, 41325): 33817, (EDGE, 51001): 61342})


def cluster() -> Path:
    return build("expe-cluster", SYD, after=split_peers(SYD_PEERS))


def split_peers(peers) -> callable:
    """An `after` step: one Expressway-E's diagnostic archive becomes one per cluster peer. A log
    record or a frame goes to the peer whose address it names; each peer's configuration names it
    and lists both peers."""
    (first, first_ip), (second, second_ip) = peers

    def mine(text: str, name: str, ip: str) -> str:
        records, out = re.split(r"(?m)^(?=\d{4}-\d\d-\d\dT)", text), []
        for record in records:
            head = record.split("\n", 1)[0]
            goes = (second_ip in head and first_ip not in head) == (ip == second_ip)
            if goes:
                out.append(record.replace(f" {first} tvcs:", f" {name} tvcs:"))
        return "".join(out)

    def frames_of(blob: bytes, ip: str) -> bytes:
        reader, out = dpkt.pcap.Reader(io.BytesIO(blob)), io.BytesIO()
        writer = dpkt.pcap.Writer(out, snaplen=reader.snaplen, linktype=reader.datalink())
        packed = socket.inet_aton(second_ip)
        for ts, buf in reader:
            ip_layer = dpkt.ethernet.Ethernet(buf).data
            if (packed in (ip_layer.src, ip_layer.dst)) == (ip == second_ip):
                writer.writepkt(buf, ts=ts)
        return out.getvalue()

    def apply(parts: dict[str, bytes]) -> dict[str, bytes]:
        out = {}
        for member, data in parts.items():
            if not member.startswith("diagnostic_log_"):
                out[member] = data
                continue
            for name, ip in peers:
                items = []
                for info, blob in untar(data):
                    kind = relabel.kind_of(info.name)
                    if kind == "pcap":
                        blob = frames_of(blob, ip)
                    elif kind == "expressway":
                        blob = mine(blob.decode(), name, ip).encode()
                    else:
                        blob = xconf_set(blob.decode(), {
                            "SystemUnit Name": f'"{name}"', "Ethernet 1 IP V4 Address": f'"{ip}"',
                            "Alternates Cluster Name": '"vcse-syd"', "Alternates Peer 1 Address": f'"{first_ip}"',
                            "Alternates Peer 2 Address": f'"{second_ip}"'}).encode()
                    info = copy.copy(info)
                    info.name = info.name.replace(first, name)
                    items.append((info, blob))
                out[member.replace(first, name)] = retar(items)
        return out
    return apply


# e. No capture in the bundle (Auckland, NZDT: CMS's syslog 13 h ahead of UTC, on the next day): the
# logs show the share answered with a relay and acknowledged, then nothing; which TURN step failed
# cannot be seen.
AKL = site("akl", {
    CMS: "10.7.3.30", EXPE: "10.7.8.2", EXPC: "10.7.3.29", EDGE: "198.51.100.219", CLIENT: "192.168.45.77",
    FE: "192.168.40.5", CUCM: "10.7.3.11", SCANNER: "192.0.2.9", ENDPOINT: "10.7.50.61", CLIENT_SUBNET: "192.168.45.0"},
    lab_names("exp-e-akl", "exp-c-akl", "cmsakl1", "edge-pool-2", "fe-pool-2", "tailspin.example",
              "proseware.example", ("hemi.w", "Hemi Walker"), ("all.hands", "All hands")),
    days=70.5, zones={"cms": "Pacific/Auckland", "expressway": "Pacific/Auckland"}, cms_call_offset=112)


def no_capture() -> Path:
    return build("no-capture", AKL, no_capture=True, cut=True)


# d. The only SfB source is the client's own UccApi log (Munich site, CMS on CET; the SfB user's PC
# on US Central time): no Snooper trace. The user's Edge cannot open TCP to the Expressway-E relay
# (the SfB side's firewall blocks outbound TCP to the relay range): no ConnectionAttempt; the client
# gives up after 9 s and says why in its BYE (ms-client-diagnostics, ICEWarn 0x80000: TCP TURN
# connectivity failed).
MUC = site("muc", {
    CMS: "10.96.4.12", EXPE: "10.96.1.40", EXPC: "10.96.4.11", EDGE: "198.51.100.141", CLIENT: "10.160.22.87",
    FE: "10.160.0.25", CUCM: "10.96.4.3", SCANNER: "192.0.2.58", ENDPOINT: "10.96.80.14", CLIENT_SUBNET: "10.160.22.0"},
    lab_names("expe-muc-1", "expc-muc-1", "cms-muc-1", "sfbedge-chi", "sfbfe-chi", "alpineski.example",
              "relecloud.example", ("dana.r", "Dana Reyes"), ("vendor.sync", "Vendor sync")),
    days=14.0, zones={"cms": "Europe/Berlin", "expressway": "Europe/Berlin", "client": "America/Chicago"},
    ports={(EXPE, 24726): 26720, (CMS, 40557): 36044})
CLIENT_LEG = ((CLIENT, 50917), (FE, 5061))  # the client's TLS connection to its Front End
BYE_AT = dt.datetime(2026, 11, 24, 14, 53, 51, tzinfo=dt.timezone.utc)  # the client gives up
CLIENT_DIAGNOSTICS = (
    'ms-client-diagnostics: 24; reason="A call failed to establish due to a media connectivity failure '
    'when one endpoint is internal and the other is remote"; UserType="Caller"; MediaType="applicationsharing"; '
    'ICEWarn="0x80000"; LocalSite="172.16.30.15:13024"; LocalMR="192.168.1.252:51001"; '
    'RemoteSite="10.48.54.229:24726"; PortRange="1025:65000"; LocalLocation="1"; RemoteLocation="2"; '
    'FederationType="1"; MrDnsU="sip.skype.lab"; MrResU="1"')


def client_only() -> Path:
    failure = dict(
        drop=lambda n, ts, s, d, size: on(DATA_CONN, s, d) or on(PEER_LEG, s, d) or n == 83
        or (size > 0 and CUT.timestamp() < ts < BYE_AT.timestamp() and (s[1] in SIP_PORTS or d[1] in SIP_PORTS)),
        gaps=((CUT, BYE_AT),))
    parts = lab_case(**failure)
    snooper = next(n for n in parts if n.endswith("_snooper.txt"))
    parts["alice-pc/Lync-UccApi-0.UccApilog"] = client_log(parts.pop(snooper).decode()).encode()
    return write("client-uccapi", relabel.bundle(parts, MUC), MUC)


def client_log(snooper: str) -> str:
    """The SfB client's UccApi log of the messages the Edge's trace shows on its FE side: what the
    client sent (3 ms before the Edge saw it, without the hops' Via and Record-Route the FE added)
    and what it received (3 ms after, without the FE's own Via on responses)."""
    out = []
    for stamp, record in re.findall(r"::(\d\d/\d\d/\d{4}-[\d:.]{12})\.\w+ [^\n]*\$\$begin_record\n(.*?)\$\$end_record",
                                    snooper, re.S):
        fields = dict(re.findall(r"^(Direction|Peer|Start-Line|Message-Type): (.*)$", record, re.M))
        if not fields.get("Peer", "").startswith("sfbfe01."):
            continue
        when = dt.datetime.strptime(stamp, "%m/%d/%Y-%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)
        sent = fields["Direction"].startswith("incoming")
        request = fields["Message-Type"] == "request"
        head, _, body = record.partition("Message-Body: ")
        lines = [fields["Start-Line"]]
        for line in head.splitlines()[head.splitlines().index("Start-Line: " + fields["Start-Line"]) + 1:]:
            if line.startswith("Via:") and (sent or not request) and CLIENT not in line:
                continue  # the FE's Via: added after the client sent, removed before it received
            if sent and request and line.startswith("Record-Route:"):
                continue
            if sent and line.startswith("Max-Forwards:"):
                line = "Max-Forwards: 70"
            lines.append(line)
        if sent and fields["Start-Line"].startswith("BYE ") and "b2a211220e344c0a909219a73ad9991d" in head:
            lines.append(CLIENT_DIAGNOSTICS)
        body = "" if body.strip() == "-" else body
        message = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")
        at = when + dt.timedelta(milliseconds=-3 if sent else 3)
        stamp = at.strftime("%m/%d/%Y|%H:%M:%S.") + f"{at.microsecond // 1000:03d} 1F68:C14 INFO  :: "
        local, remote = f"{CLIENT}:{CLIENT_LEG[0][1]}", f"{FE}:{CLIENT_LEG[1][1]}"
        what, side = ("Sending Packet", "From") if sent else ("Data Received", "To")
        size = len(message.encode())
        out.append(f"{stamp}{what} - {remote} ({side} Local Address: {local}) {size} bytes:\r\n")
        out.append(message if message.endswith("\r\n") else message + "\r\n")
        out.append(f"{stamp}End of {what} - {remote} ({side} Local Address: {local}) {size} bytes\r\n")
    return "".join(out)


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
    "two-shares": two_shares,
    "dual-homed": dual_homed,
    "expe-cluster": cluster,
    "no-capture": no_capture,
    "client-uccapi": client_only,
}

if __name__ == "__main__":
    for case in sys.argv[1:] or CASES:
        spec = CASES[case]
        print(spec() if callable(spec) else build(case, **spec))
