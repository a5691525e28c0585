"""Clear-text SIP in captures, found by content on any port, read by the shared SIP grammar."""
from __future__ import annotations

import io

import logcorr.events.sip  # noqa: F401 (the shared grammar the adapter reads with: a break fails here)
from capture_build import ethernet, ipv4, pcap_file, tcp, udp
from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER
from logcorr.events.schema import NAMES

SDP = (
    "v=0\r\no=- 0 0 IN IP4 10.0.0.20\r\ns=-\r\nc=IN IP4 10.0.0.20\r\nt=0 0\r\n"
    "m=applicationsharing 50000 TCP/RTP/AVP 127\r\n"
    "a=candidate:1 1 TCP-PASS 174455807 10.48.54.229 24726 typ relay raddr 10.0.0.20 rport 40557 \r\n"
)
INVITE = (
    "INVITE sip:cms@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.30:5061;branch=z9hG4bK1\r\n"
    "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:cms@example.com>\r\nCall-ID: abc123@host\r\n"
    "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
    f"Content-Length: {len(SDP)}\r\n\r\n{SDP}"
)
OK = (
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.30:5060;branch=z9hG4bK1\r\nCall-ID: abc123@host\r\n"
    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
)


def run(frames: list[bytes]) -> list[dict]:
    data = pcap_file([(1_600_000_000_000_000_000 + i, f) for i, f in enumerate(frames)])
    return list(PARSER.parse(io.BytesIO(data), ParseContext(file="sip.pcap")))


def test_sip_over_udp_on_any_port() -> None:
    frames = [
        ethernet(ipv4("10.0.0.30", "10.0.0.20", 17, udp(7000, 7001, INVITE.encode()))),
        ethernet(ipv4("10.0.0.20", "10.0.0.30", 17, udp(7001, 7000, OK.encode()))),
        ethernet(ipv4("10.0.0.20", "10.0.0.30", 17, udp(7001, 7000, b"Hello world, not SIP"))),
    ]
    events = run(frames)
    assert [(e["proto"], e["event"]) for e in events] == [("sip", "INVITE"), ("sip", "200 INVITE")]
    invite = events[0]
    assert invite["call_id"] == "abc123@host" and invite["transport"] == "UDP"
    assert invite["sdp_media"] == "applicationsharing"
    assert "10.48.54.229:24726" in invite["relay_candidates"]
    assert invite["src"] == "10.0.0.30:7000" and invite["pos"] == 1
    assert all(set(e) <= set(NAMES) and e["source"] == "pcap" for e in events)
    assert events[1]["status"] == 200 and events[1]["method"] == "INVITE"


def test_sip_over_tcp_split_and_merged() -> None:
    c, s = "10.0.0.30", "10.0.0.20"
    stream = (INVITE + OK).encode()
    cut = 40
    seq = 5000
    frames = [
        ethernet(ipv4(c, s, 6, tcp(6000, 5061, seq - 1, "S"))),
        ethernet(ipv4(c, s, 6, tcp(6000, 5061, seq, "PA", stream[:cut]))),
        ethernet(ipv4(c, s, 6, tcp(6000, 5061, seq + cut, "PA", stream[cut:]))),
    ]
    events = run(frames)
    sip = [e for e in events if e["proto"] == "sip"]
    assert [e["event"] for e in sip] == ["INVITE", "200 INVITE"]
    assert [e["pos"] for e in sip] == [2, 3]
    assert all(e["transport"] == "TCP" for e in sip)
    assert [e["event"] for e in events if e["proto"] == "tcp"] == ["open"]
