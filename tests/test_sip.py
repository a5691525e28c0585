"""The one SIP grammar: start lines, headers (compact forms), multipart SDP, candidates, framing."""
from logcorr.events import sip

INVITE = (
    "INVITE sip:weekly.review@meet.corp.lab SIP/2.0\r\n"
    "v: SIP/2.0/TLS 10.48.54.228:5061;branch=z9hG4bK1\r\n"
    "f: \"Alice\"<sip:alice@skype.lab>;tag=30a\r\n"
    "t: <sip:weekly.review@meet.corp.lab>\r\n"
    "i: b2a211220e344c0a909219a73ad9991d\r\n"
    "CSeq: 1 INVITE\r\n"
    "Subject: a folded\r\n"
    "  header value\r\n"
    "Content-Type: multipart/alternative;boundary=\"----=_NextPart_000_0011\"\r\n"
    "\r\n"
    "------=_NextPart_000_0011\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "Content-Disposition: session; handling=optional; ms-proxy-2007fallback\r\n"
    "\r\n"
    "v=0\r\nm=audio 50010 RTP/AVP 0\r\n"
    "a=candidate:ZZZZ 1 wwww UDP 0.830 172.16.30.15 50010 \r\n"
    "------=_NextPart_000_0011\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Disposition: session; handling=optional\r\n"
    "\r\n"
    "v=0\r\nc=IN IP4 192.168.1.252\r\na=ice-ufrag:skyP\r\n"
    "m=audio 50012 RTP/AVP 0\r\n"
    "a=candidate:1 1 UDP 2130706431 172.16.30.15 50012 typ host \r\n"
    "a=candidate:2 1 UDP 16648703 192.168.1.252 55001 typ relay raddr 172.16.30.15 rport 50012 \r\n"
    "a=x-candidate-ipv6:3 1 UDP 16648702 2001:db8::5 55002 typ relay raddr 2001:db8::9 rport 50013 \r\n"
    "m=video 50014 RTP/AVP 122\r\n"
    "a=ice-ufrag:vid1\r\n"
    "------=_NextPart_000_0011--\r\n"
)


def test_request_with_compact_headers_and_multipart_alternative():
    msg = sip.parse_message(INVITE)
    assert msg.is_request and msg.method == "INVITE"
    assert msg.call_id == "b2a211220e344c0a909219a73ad9991d"
    assert msg.header("Via").startswith("SIP/2.0/TLS")
    assert msg.header("Subject") == "a folded header value"
    fields = sip.event_fields(msg)
    # the ms-proxy-2007fallback part is ignored: its port 50010 and legacy candidate do not show
    assert fields["sdp_media"] == "audio,video"
    assert fields["relay_candidates"] == "192.168.1.252:55001/UDP;[2001:db8::5]:55002/UDP"
    assert fields["transport"] == "TLS" and fields["event"] == "INVITE" and fields["cseq"] == "1"
    assert msg.sdp.media[0].ice_ufrag == "skyP"  # session-level ufrag inherited
    assert msg.sdp.media[1].ice_ufrag == "vid1"


def test_fallback_part_used_when_it_is_the_only_sdp():
    body_only_fallback = INVITE.split("------=_NextPart_000_0011\r\nContent-Type: application/sdp\r\nContent-Disposition: session; handling=optional\r\n")[0]
    msg = sip.parse_message(body_only_fallback + "------=_NextPart_000_0011--\r\n")
    assert msg.sdp is not None and msg.sdp.media_types == ["audio"]
    assert msg.sdp.media[0].candidates[0].syntax == "ms-ice-legacy"


def test_response_carries_cseq_method_and_ms_diagnostics():
    text = (
        "SIP/2.0 488 Not Acceptable Here\n"
        "Call-ID: abc\nCSeq: 3 INVITE\n"
        "ms-diagnostics-public: 21002;reason=\"Attendees cannot share in this conference\";component=\"ASMCU\"\n"
        "Content-Length: 0\n\n"
    )
    f = sip.event_fields(sip.parse_message(text))
    assert f["event"] == "488 INVITE" and f["status"] == 488 and f["method"] == "INVITE"
    assert f["reason"] == "Not Acceptable Here"
    assert f["ms_diagnostics"].startswith("21002;reason=\"Attendees cannot share")


def test_candidate_syntaxes():
    ms = sip.parse_candidate("4 1 TCP-ACT 1684797951 192.168.56.1 15676 typ srflx raddr 192.168.56.1 rport 15676 ")
    assert (ms.transport, ms.tcptype, ms.typ, ms.rport, ms.syntax) == ("TCP", "active", "srflx", 15676, "ms-ice2")
    rfc = sip.parse_candidate("1 1 tcp 2105524479 10.0.0.1 9 typ host tcptype active")
    assert (rfc.transport, rfc.tcptype, rfc.syntax) == ("TCP", "active", "rfc6544")
    udp = sip.parse_candidate("1 1 UDP 2136431 84.233.149.125 56056 typ host")
    assert (udp.typ, udp.syntax, udp.address) == ("host", "rfc5245", "84.233.149.125:56056")
    assert sip.parse_candidate("garbage") is None
    assert sip.parse_candidate("1 1 UDP notanumber 1.2.3.4 5 typ host") is None


def test_real_sample_applicationsharing_sdp(data_dir):
    text = (data_dir / "sdp" / "technet-dodeitte-ocs2007r2-applicationsharing-sdp.txt").read_text()
    body = text.split("Message-Body: ", 1)[1]
    sdp = sip.parse_sdp(body)
    assert sdp.media_types == ["applicationsharing"]
    assert sdp.media[0].ice_ufrag == "R3Ex"
    assert len(sdp.media[0].candidates) == 8
    assert sdp.relay_candidates() == ["172.16.1.5:50970/TCP"]


def test_expressway_guide_candidates(data_dir):
    lines = [l for l in (data_dir / "sdp" / "cisco-expressway-ms-guide-ms-ice-candidates.txt").read_text().splitlines()
             if l.startswith("a=candidate:")]
    cands = [sip.parse_candidate(l.split(":", 1)[1]) for l in lines]
    assert all(c is not None for c in cands)
    assert any(c.typ == "relay" for c in cands)


def test_not_sip():
    msg = sip.parse_message("HTTP/1.1 200 OK\r\n\r\n")
    assert "start line is not SIP" in msg.defects
    assert not sip.looks_like_sip("GET / HTTP/1.1\r\n")
    assert sip.looks_like_sip("\r\nSIP/2.0 200 OK\r\n")


def test_split_messages_by_content_length():
    one = b"OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc"
    two = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    msgs, rest = sip.split_messages(b"\r\n\r\n" + one + two + b"INVITE sip:b SIP/2.0\r\nContent-Le")
    assert msgs == [one, two]
    assert rest == b"INVITE sip:b SIP/2.0\r\nContent-Le"
    # a body still arriving stays in the buffer
    msgs, rest = sip.split_messages(b"INVITE sip:b SIP/2.0\r\nContent-Length: 10\r\n\r\n12345")
    assert msgs == [] and rest.endswith(b"12345")


def test_split_messages_bounds_garbage():
    junk = b"x" * (sip.MAX_HEADER_BYTES + 10)
    msgs, rest = sip.split_messages(junk)
    assert msgs == [junk] and rest == b""
