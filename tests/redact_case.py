"""A case bundle with known secrets planted: the share-ok bundle (CMS log bundle, Expressway-E
diagnostic archive with its capture, SfB Edge Snooper trace) plus what a real case also carries:
more CMS and Expressway lines, a plain SIP trace over IPv6 with every identifying header, and a
TURN capture over IPv6 with a customer's TURN user name and realm."""
from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from capture_build import attr, ethernet, ipv6, pcap_file, stun_message, udp, xor_address

SHARE_OK = Path(__file__).parent / "cases" / "share-ok" / "share-ok.zip"
V6_CLIENT, V6_SERVER = "2a02:1234:5678:9abc::45", "2a02:1234:5678:9abc::1"
V6_RELAY = "2a02:1234:5678:9abc:0:ff:10:200"

# Identifying values, by kind. Each must be absent from every output written with --redact.
SECRETS = {
    "ipv4": ["10.48.54.230", "10.48.54.229", "10.48.54.228", "192.168.1.252", "172.16.30.15", "10.1.1.20",
             "198.51.100.73"],
    "ipv6": [V6_CLIENT, V6_SERVER, V6_RELAY, "2a02:1234:5678:9abc:0:0:0:46"],
    "host": ["cms01", "expe01", "sfbedge01", "sfbfe01", "edge01"],
    "domain": ["skype.lab", "corp.lab", "contoso-secret.example"],
    "user": ["alice", "weekly.review", "standup", "zoe.k", "boardroom"],
    "display name": ["Alice Martin", "Zoë Kowalczyk", "Lukas Brandt"],
    "phone": ["+4915201234567", "9001197296736732", "4930555123"],
    "space": ["Weekly review", "Board Review Q4"],
    "meeting": ["Project Falcon kickoff"],
    "conference id": ["7QK4R2ZD", "5b7c1e2a-9d3f-4a6b-8c2d-1e0f9a8b7c6d"],
    "ice": ["cmsU", "skyP", "skypeIcePassword98765432", "cmsIcePassword0123456789", "Zq7x",
            "pw8Lk2Jd9sQ1mN3bV5cX7zA0"],
    "srtp key": ["jK3ivXFoMNDf8Acn5X4KaaqD1mC4M7IVKQ3wr7rP"],
    "turn": ["contoso-turn-svc", "contoso-realm"],
    "gruu": ["8d38e8ee7c", "ZZ34NAF8kEdFoMlocbuXstAA", "8f2d0a4e-5b6c-4d7e-9f10-112233445566"],
    "certificate": ["Contoso Secret GmbH", "Springfield"],
    "bundle": ["acme-case-4711"],
}
CASE_SENSITIVE = {"ice", "srtp key", "gruu"}  # `skyP` is not `Skype`

CMS_LINES = """\
Nov 24 14:53:50.100 user.info cms01 host:server:  INFO : call 31: incoming SIP call from "sips:+4915201234567@contoso-secret.example" to local URI "sip:boardroom@meet.corp.lab"
Nov 24 14:53:50.102 user.info cms01 host:server:  INFO : conference 5b7c1e2a-9d3f-4a6b-8c2d-1e0f9a8b7c6d named "Board Review Q4"
Nov 24 14:53:50.103 local0.info cms01 host:server:  INFO : participant "Zoë Kowalczyk" joined space 5b7c1e2a-9d3f-4a6b-8c2d-1e0f9a8b7c6d (Board Review Q4)
Nov 24 14:53:50.104 user.info cms01 host:server:  INFO : SIP connection 33: incoming secure connection from [2a02:1234:5678:9abc::45]:5061 to [2a02:1234:5678:9abc::1]:5061
Nov 24 14:53:50.105 user.info cms01 host:server:  WARNING : TLS: peer certificate subject "CN=edge01.contoso-secret.example, O=Contoso Secret GmbH, L=Springfield" not trusted
"""
EXPRESSWAY_LINES = """\
2026-11-24T15:53:50.200+01:00 expe01 tvcs: Event="Search Attempted" Service="SIP" Src-alias-type="SIP" Src-alias="zoe.k@contoso-secret.example" Dst-alias-type="SIP" Dst-alias="sip:boardroom@meet.corp.lab" Call-serial-number="0b5d7c3e-2f41-4a8e-9c6d-7e1f2a3b4c5d" Tag="1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d" Detail="searchtype:INVITE" Level="1" UTCTime="2026-11-24 14:53:50,201"
"""
SIP_TRACE = """\
INVITE sip:boardroom@meet.corp.lab;gruu;opaque=app:conf:focus:id:7QK4R2ZD SIP/2.0
Via: SIP/2.0/TLS [2a02:1234:5678:9abc::45]:5061;branch=z9hG4bK7c1;ms-received-port=5061
Max-Forwards: 70
From: Lukas Brandt <sip:zoe.k@contoso-secret.example>;tag=8a1f;epid=0f3e2d1c4b
To: <sip:boardroom@meet.corp.lab>
P-Asserted-Identity: "Zoë Kowalczyk" <tel:+4915201234567>
P-Preferred-Identity: <sip:+4930555123@contoso-secret.example;user=phone>
Call-ID: 61f0c2d8a9b34e7f@2a02:1234:5678:9abc::45
CSeq: 7 INVITE
Contact: <sip:zoe.k@contoso-secret.example;gr=urn:uuid:8f2d0a4e-5b6c-4d7e-9f10-112233445566>;+sip.instance="<urn:uuid:8f2d0a4e-5b6c-4d7e-9f10-112233445566>"
Record-Route: <sip:edge01.contoso-secret.example:5061;transport=tls;lr>
Subject: Project Falcon kickoff
Proxy-Authorization: Digest username="contoso-turn-svc", realm="contoso-realm", nonce="b6f9e1", response="0a1b2c"
User-Agent: UCCAPI/16.0.5387.1000 OC/16.0.5387.1000 (Skype for Business)
Content-Type: application/sdp
Content-Length: 402

v=0
o=- 0 0 IN IP6 2a02:1234:5678:9abc::45
s=session
c=IN IP6 2a02:1234:5678:9abc::45
t=0 0
m=applicationsharing 5061 TCP/RTP/AVP 127
a=ice-ufrag:Zq7x
a=ice-pwd:pw8Lk2Jd9sQ1mN3bV5cX7zA0
a=candidate:1 1 TCP-PASS 2120613887 2a02:1234:5678:9abc::45 13024 typ host
a=candidate:2 1 TCP-ACT 7076607 2a02:1234:5678:9abc:0:0:0:46 51001 typ relay raddr 2a02:1234:5678:9abc::45 rport 13025
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:jK3ivXFoMNDf8Acn5X4KaaqD1mC4M7IVKQ3wr7rP|2^31|1:1
a=x-applicationsharing-role:sharer
"""


def turn_capture() -> bytes:
    """An Allocate over IPv6 with a customer's TURN credentials, answered with a relay."""
    txn1, txn2 = bytes(range(12)), bytes(range(1, 13))
    request = stun_message(0x0003, txn1, [attr(0x0019, b"\x11\0\0\0"), attr(0x0006, b"contoso-turn-svc"),
                                          attr(0x0014, b"contoso-realm"), attr(0x0015, b"b6f9e1")],
                           key=b"k" * 16)
    success = stun_message(0x0103, txn1, [attr(0x0016, xor_address(V6_RELAY, 24726, txn1)),
                                          attr(0x0020, xor_address(V6_CLIENT, 50000, txn1))])
    check = stun_message(0x0001, txn2, [attr(0x0006, b"Zq7x:cmsU")], key=b"p" * 16)
    base = 1795877630_000_000_000  # 2026-11-24 14:53:50 UTC
    packets = [(V6_CLIENT, 50000, V6_SERVER, 3478, request), (V6_SERVER, 3478, V6_CLIENT, 50000, success),
               (V6_CLIENT, 50002, V6_SERVER, 3478, check)]
    return pcap_file([(base + i * 1_000_000, ethernet(ipv6(s, d, 17, udp(sp, dp, m))))
                      for i, (s, sp, d, dp, m) in enumerate(packets)])


def _append_to_tar(data: bytes, member: str, extra: str) -> bytes:
    src = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    buf = io.BytesIO()
    with src, tarfile.open(fileobj=buf, mode="w:gz") as out:
        for m in src.getmembers():
            content = src.extractfile(m).read() if m.isfile() else None
            if content is not None and member in m.name:
                content += extra.encode("utf-8")
                m.size = len(content)
            out.addfile(m, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


def build(folder: Path) -> Path:
    """The planted bundle, written as folder/acme-case-4711.zip."""
    path = folder / "acme-case-4711.zip"
    with zipfile.ZipFile(SHARE_OK) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for name in members:
        if name.startswith("logbundle"):
            members[name] = _append_to_tar(members[name], "syslog", CMS_LINES)
        elif name.startswith("diagnostic_log"):
            members[name] = _append_to_tar(members[name], "loggingsnapshot", EXPRESSWAY_LINES)
    members["traces/edge01.contoso-secret.example.txt"] = SIP_TRACE.replace("\n", "\r\n").encode("utf-8")
    members["captures/edge01_turn.pcap"] = turn_capture()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path
