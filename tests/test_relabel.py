"""tests/cases/relabel.py moves the lab bundle to another site without breaking what it proves."""
import io
import socket
import struct
import sys
import zipfile
from pathlib import Path

import dpkt
import pytest

from logcorr.events.capture import stunauth

CASES = Path(__file__).parent / "cases"
sys.path.insert(0, str(CASES))
import relabel  # noqa: E402
from relabel import Relabel  # noqa: E402

LAB = CASES / "share-ok" / "share-ok.zip"
EXPE, CMS, EDGE = "10.48.54.229", "10.48.54.230", "192.168.1.252"
INSIDE, OUTSIDE = "10.44.12.7", "203.0.113.45"
MOVED = Relabel(
    addresses={EXPE: OUTSIDE, CMS: "172.20.100.31", EDGE: "198.51.100.188"},
    sides={(EXPE, 3478): INSIDE, (EXPE, 7001): INSIDE},
    ports={(EXPE, 3478): 443, (EXPE, 24726): 28412, (CMS, 40557): 52210},
    names={"expe01": "vcse-nyc-edge", "cms01": "cms-nyc-a"},
    seed="test", shift=112.25 * 86400, zones={"cms": "America/New_York", "expressway": "America/New_York"})


def lab() -> dict[str, bytes]:
    with zipfile.ZipFile(LAB) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def members(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Every file of a bundle, archives opened, by kind."""
    out = {}
    for name, data in parts.items():
        inner = relabel.untar(data) if name.endswith(".tar.gz") else [(None, data)]
        for info, blob in inner:
            out[relabel.kind_of(info.name if info else name)] = blob
    return out


@pytest.fixture(scope="module")
def moved():
    return members(relabel.bundle(lab(), MOVED))


def stun_messages(pcap: bytes):
    """(src, dst, STUN message) of every frame, plain or RFC 4571 framed."""
    for ts, buf in dpkt.pcap.Reader(io.BytesIO(pcap)):
        ip = dpkt.ethernet.Ethernet(buf).data
        data, p = bytes(ip.data.data), 0
        while p + 20 <= len(data):
            size = relabel.stun_size(data, p)
            if size:
                yield socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst), data[p:p + size]
                p += size
            elif relabel.stun_size(data, p + 2):
                p += 2
            else:
                break


def test_nothing_moved_gives_the_same_bytes():
    """With nothing to move, every member comes back byte for byte: every MESSAGE-INTEGRITY and
    FINGERPRINT recomputed equals the original, so recomputing after a change is right too."""
    parts = lab()
    again = relabel.bundle(parts, Relabel())
    assert members(again) == members(parts)
    assert Relabel().pcap(members(parts)["pcap"], {})[1] == {"resigned": 26}  # none left unsigned


def test_capture_addresses_ports_and_stun_checks(moved):
    pcap = moved["pcap"]
    seen = set()
    for ts, buf in dpkt.pcap.Reader(io.BytesIO(pcap)):
        eth = dpkt.ethernet.Ethernet(buf)
        ip, l4 = eth.data, eth.data.data
        seen.update({socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst)})
        sums = ip.sum, l4.sum
        ip.sum = l4.sum = 0
        again = dpkt.ethernet.Ethernet(bytes(eth)).data
        assert (again.sum, again.data.sum) == sums or (isinstance(l4, dpkt.udp.UDP) and sums[1] == 0)
    assert {EXPE, CMS, EDGE}.isdisjoint(seen) and {INSIDE, OUTSIDE, "172.20.100.31"} <= seen
    checked = relayed = 0
    for src, dst, msg in stun_messages(pcap):
        assert stunauth.check_fingerprint(msg) is not False
        if stunauth.check_integrity(msg, b"") is not None:  # signed: one of the lab's keys verifies it
            assert any(stunauth.check_integrity(msg, key) for key in relabel.LAB_KEYS), msg.hex()
            checked += 1
        for pos, atype, value in relabel.attributes(msg):
            if atype == 0x0016:  # XOR-RELAYED-ADDRESS: on the outside, its port moved
                port = struct.unpack("!H", value[2:4])[0] ^ 0x2112
                address = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", value[4:8])[0] ^ 0x2112A442))
                assert (address, port) == (OUTSIDE, 28412)
                assert (src, dst) == (INSIDE, "172.20.100.31")  # the TURN server answers from inside
                relayed += 1
    assert checked == 26 and relayed == 1


def test_text_addresses_names_and_content_length(moved):
    cms = moved["cms"].decode()
    assert EXPE not in cms and "cms01" not in cms and "cms-nyc-a" in cms
    assert f"{OUTSIDE} 28412 typ relay raddr 172.20.100.31 rport 52210" in cms  # SDP: address and ports
    expressway = moved["expressway"].decode()
    assert f'Local-ip="{INSIDE}" Local-port="7001"' in expressway  # split by port
    assert f'Local-ip="{OUTSIDE}" Local-port="5061"' in expressway
    # each SIP message's Content-Length is its body's length again (CRLF line ends), though addresses grew
    lengths = 0
    for record in moved["snooper"].decode().split("$$begin_record")[1:]:
        head, _, body = record.partition("Message-Body: ")
        body = body.rsplit("$$end_record", 1)[0]
        for line in head.splitlines():
            if line.lower().startswith("content-length:") and body.strip() != "-":
                assert int(line.split(":")[1]) == len(body.replace("\n", "\r\n").encode())
                lengths += 1
    assert lengths > 5


def test_clocks_and_zones(moved):
    """The share moves to 16 March 2027 (New York already on EDT): CMS writes local time without a
    zone, the Expressway its local time with its offset beside UTC."""
    assert "Mar 16 16:53:41" in moved["cms"].decode()  # 20:53:41 UTC
    first = moved["expressway"].decode().splitlines()[0]
    assert first.startswith("2027-03-16T16:52:20.248-04:00 vcse-nyc-edge ")
    assert 'UTCTime="2027-03-16 20:52:20,248"' in first
    assert 'xConfiguration Time TimeZone: "America/New_York"' in moved["xconf"].decode()
    first_frame = next(iter(dpkt.pcap.Reader(io.BytesIO(moved["pcap"]))))[0]
    assert first_frame == pytest.approx(1795531940.248 + 112.25 * 86400, abs=1e-3)


def test_call_ids_move_with_the_seed():
    parts = lab()
    ids = MOVED.id_map(relabel.texts_of(parts))
    assert ids["b2a211220e344c0a909219a73ad9991d"] != "b2a211220e344c0a909219a73ad9991d"
    assert len(set(ids.values())) == len(ids)
    assert all(len(new) == len(old) for old, new in ids.items())
    assert MOVED.id_map(relabel.texts_of(parts)) == ids  # the same seed, the same ids
