"""The SIP grammar's and the Snooper's shortcuts give what the long way gives: the SDP columns read
from the m=, ICE and candidate lines only, header lines remembered as written, a Snooper record's
SIP text cut out of its text at once, unjoin_sip skipped where nothing was joined."""
import io

from logcorr.events import sip
from logcorr.events.parsers import sfb_snooper
from logcorr.events.parsers.base import ParseContext
from logcorr.events.sip.sdp import sdp_columns

SDP = (
    "v=0\r\n"
    "o=- 0 0 IN IP4 10.0.0.1\r\n"
    "a=candidate:0 1 UDP 1 10.9.9.9 1 typ relay\r\n"  # before any m=: read past
    "a=ice-ufrag:sess\r\n"
    "a=ice-pwd:sesspwd\r\n"
    "c=IN IP4 10.0.0.1\r\n"
    "  m=audio 5000 RTP/AVP 0\r\n"  # white space before the line
    "a=fmtp:97 num=1 m=video 9 X\r\n"  # an attribute holding "m=": stays an attribute
    "a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n"
    "a=candidate:2 1 UDP 16648703 192.0.2.7 55001 typ relay raddr 10.0.0.1 rport 5000\r\n"
    "m=video 5002 RTP/AVP 96\r\n"
    "a=ice-ufrag:vid\r\n"
    "a=x-candidate-ipv6:3 1 TCP-PASS 16648702 2001:db8::5 55002 typ relay raddr 2001:db8::9 rport 50013\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "m=\r\n"
)


def _columns(sdp: sip.Sdp) -> tuple:
    return (sdp.media_types, sdp.candidates(), sdp.relay_candidates(),
            [(m.kind, m.ice_ufrag, m.ice_pwd) for m in sdp.media])


def test_sdp_columns_read_from_their_lines_only_match_the_whole_sdp():
    full = sip.parse_sdp(SDP)
    assert _columns(sdp_columns(SDP)) == _columns(full)
    assert full.media_types == ["audio", "video", ""]
    assert full.media[0].attributes == [("fmtp", "97 num=1 m=video 9 X")]
    assert full.relay_candidates() == ["192.0.2.7:55001/UDP", "[2001:db8::5]:55002/TCP"]
    assert [m.ice_ufrag for m in full.media] == ["sess", "vid", "sess"]


def test_event_columns_alike_whether_the_sdp_was_read_whole_or_not():
    text = ("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-1\r\nFrom: <sip:c@b>;tag=1\r\n"
            "To: <sip:a@b>\r\nCall-ID: shortcut-1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n" + SDP)
    lazy = sip.parse_message(text)
    assert lazy.sdp_text is not None and lazy._sdp is None  # not read until asked for
    read_first = sip.parse_message(text)
    assert read_first.sdp.media_types == ["audio", "video", ""]
    assert sip.event_fields(lazy) == sip.event_fields(read_first)
    assert sip.event_fields(lazy)["ice_ufrag"] == "sess,vid,sess"


def test_a_line_remembered_as_a_header_is_still_a_continuation_after_another():
    first = sip.parse_message("OPTIONS sip:a@b SIP/2.0\r\n Subject: x\r\nCall-ID: 1\r\n\r\n")
    assert first.headers[0] == ("Subject", "x")  # nothing to continue: a header of its own
    second = sip.parse_message("OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:b@b>\r\n Subject: x\r\nCall-ID: 1\r\n\r\n")
    assert second.headers[0] == ("To", "<sip:b@b> Subject: x")
    again = sip.parse_message("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCall-ID: 1\r\n\r\n")
    assert again.header_all("Call-ID") == ["1", "1"] and "more than one Call-ID" in again.defects[1]


def test_snooper_sip_text_cut_out_of_the_record_text():
    cut = sfb_snooper.protocol_sip_text
    assert cut("Peer: x\nStart-Line: BYE sip:a SIP/2.0\nCall-ID: 1\nCSeq: 2 BYE\nMessage-Body: -") == (
        "BYE sip:a SIP/2.0\r\nCall-ID: 1\r\nCSeq: 2 BYE\r\n\r\n")
    assert cut("Start-Line: BYE sip:a SIP/2.0\nMessage-Body: v=0\nm=audio 1 RTP/AVP 0\n") == (
        "BYE sip:a SIP/2.0\r\n\r\nv=0\r\nm=audio 1 RTP/AVP 0\r\n")
    assert cut("Start-Line: BYE sip:a SIP/2.0\n\nCall-ID: 1") == "BYE sip:a SIP/2.0\r\n\r\nCall-ID: 1\r\n\r\n"
    assert cut("Start-Line: BYE sip:a SIP/2.0") == "BYE sip:a SIP/2.0\r\n\r\n"
    assert cut("Peer: x\nMessage-Body: -") is None


RECORD = """TL_INFO(TF_PROTOCOL) [sfbedge01\\sfbedge01]0A1C.0B24::11/24/2026-14:52:54.102.0006139A (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(160))$$begin_record
Trace-Correlation-Id: 1
Direction: outgoing;source="local"
Peer: 10.0.0.9:5061
Start-Line: {start}
{headers}
Message-Body: -
$$end_record
"""


def _read(text: str) -> list[dict]:
    return list(sfb_snooper.PARSER.parse(io.BytesIO(text.encode()), ParseContext(file="t")))


def test_snooper_joined_sip_lines_still_cut_apart():
    headers = "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-2\nFrom: <sip:c@b>;tag=1\nTo: <sip:a@b>"
    plain = _read(RECORD.format(start="BYE sip:a@b SIP/2.0", headers=headers + "\nCall-ID: j-1\nCSeq: 3 BYE"))
    joined = _read(RECORD.format(start="BYE sip:a@b SIP/2.0 " + headers.replace("\n", " "),
                                 headers="Call-ID: j-1 CSeq: 3 BYE"))
    for events in (plain, joined):
        (ev,) = events
        assert (ev["call_id"], ev["cseq"], ev["transport"], ev["dst"]) == ("j-1", "3", "TLS", "10.0.0.9:5061")
        assert ev["via"] == "10.0.0.1:5061"
    assert "Call-ID: j-1 CSeq: 3 BYE" in joined[0]["raw"]  # the record's text as given


def test_snooper_lines_decoded_by_block_as_the_base_reads_them(monkeypatch):
    from logcorr.events.parsers.text import TextParser
    data = b"TL_INFO x\r\nStart-Line: \xe2\x82\nbad \xff\xfe end\r\r\n\n\xf0\x9f\x98\x80 ok\nlast \xf0\x9f"
    whole = list(TextParser.lines(sfb_snooper.PARSER, io.BytesIO(data)))
    assert whole[1] == "Start-Line: \ufffd" and whole[-1] == "last \ufffd"
    for size in (1, 2, 5, 64):  # blocks cut inside lines and inside UTF-8 sequences
        monkeypatch.setattr(sfb_snooper, "BLOCK_BYTES", size)
        assert list(sfb_snooper.PARSER.lines(io.BytesIO(data))) == whole


def test_snooper_record_fields_first_seen_and_up_to_the_body():
    fields = sfb_snooper._fields
    record = "Direction: incoming\nPeer: a:1\nStart-Line: BYE sip:a SIP/2.0\nPeer: b:2\nData:  x \nMessage-Body: -\nText: after"
    assert fields(record) == {"Direction": "incoming", "Peer": "a:1", "Start-Line": "BYE sip:a SIP/2.0",
                              "Data": "x", "Message-Body": "-"}
    assert fields("Severity: warning\nMessage-Body\nText: after") == {"Severity": "warning"}  # no colon: still the body
    assert fields("Text: a\nMessage-Bodyx: y\nSeverity: s") == {"Text": "a", "Severity": "s"}
    assert fields("Peer : spaced\nXPeer: no") == {}


def test_long_lines_sdp_and_via_read_each_time_not_kept():
    from logcorr.events.sip import fields, message
    long_via = "SIP/2.0/TLS h:1;branch=" + "x" * 2000
    long_sdp = "v=0\r\nm=audio 1 RTP/AVP 0\r\n" + "a=x:" + "y" * 9000 + "\r\n"
    text = ("INVITE sip:a SIP/2.0\r\nVia: " + long_via + "\r\nCall-ID: " + "c" * 600
            + "\r\n" + "n" * 100_000 + "\r\n" + "N" * 70_000 + ": long name"  # no colon; a long name
            + "\r\nContent-Type: application/sdp\r\n\r\n" + long_sdp)
    for _ in range(2):
        event = sip.event_fields(sip.parse_message(text))
        assert (event["via"], event["sdp_media"], event["call_id"]) == ("h:1", "audio", "c" * 600)
    assert max(map(len, message._LINES_SEEN), default=0) <= message.KEPT_LINE_CHARS
    assert max(map(len, message._NAMES_SEEN), default=0) <= message.KEPT_LINE_CHARS
    assert max(map(len, message._CANONICAL_SEEN), default=0) <= message.KEPT_LINE_CHARS
    assert max(map(len, fields._SDP_SEEN), default=0) <= fields.KEPT_SDP_CHARS
    assert max((sum(map(len, k)) for k in fields._VIA_SEEN), default=0) <= fields.KEPT_VIA_CHARS
