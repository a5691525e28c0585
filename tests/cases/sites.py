"""The cases of tests/cases/ at other sites: the lab's failures (make_cases.py) with other addresses,
host names, Call-IDs, dates and time zones (relabel.py), and shapes the lab has not: two shares in
one bundle, a dual-homed Expressway-E, an Expressway-E cluster, a client log as the only SfB source,
a bundle without a capture. The expected diagnosis of each is written by hand in its expected.yaml.

Run: python tests/cases/make_cases.py [case ...]
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import re
import socket
import sys
from pathlib import Path

import dpkt

sys.path.insert(0, str(Path(__file__).parent))
import make_cases  # noqa: E402
import relabel  # noqa: E402
from make_cases import (  # noqa: E402
    CMS, CUT, DATA_CONN, EARLY, EDGE, EXPE, PEER_LEG, SIP_PORTS, build, lab_case, on, sip_after_cut, write)
from relabel import Relabel, retar, untar  # noqa: E402

# -- other sites ------------------------------------------------------------------------------------
# The lab's hosts, as make_cases and relabel name them.
EXPC, CLIENT, FE, CUCM = "10.48.54.228", "172.16.30.15", "10.1.1.20", "10.48.54.10"
SCANNER, ENDPOINT, CLIENT_SUBNET = "198.51.100.73", "10.48.60.21", "172.16.30.0"


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
# 3 minutes later and it works. The TURN server gives the second share the relay port the first one
# freed: only time tells the two allocations apart. Bangalore: CMS and Expressway on India time
# (UTC+05:30).
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
        ports={(EXPE, 24726): 27310, (CMS, 40557): 40211, (CMS, 41325): 40212, (EDGE, 51001): 51377,
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
        "Traversal Server TURN Protocols": "TCP"}), **make_cases.CASES["no-connection-attempt"])


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


# f. New Year in Auckland: the same share as the lab's, 37 days later less 3 h 50 min. CMS's syslog
# (no year in its stamps) runs from 23:57 on 31 December to 00:03 on 1 January, NZDT, while its
# file's time in the log bundle, in UTC, is still 31 December: the lines after midnight are the
# next year's. Expressway-E and SfB Edge stamps carry their year.
NEW_YEAR = dataclasses.replace(AKL, seed="akl-new-year", shift=37 * 86400 - (3 * 3600 + 50 * 60))


def new_year() -> Path:
    return build("new-year", NEW_YEAR, cut=True)


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
    "two-shares": two_shares,
    "dual-homed": dual_homed,
    "expe-cluster": cluster,
    "no-capture": no_capture,
    "client-uccapi": client_only,
    "new-year": new_year,
}
