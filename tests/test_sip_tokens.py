"""SIP methods are case-sensitive tokens (RFC 3261 25.1): any case, extension methods, escaped URIs."""
from __future__ import annotations

import pytest

from logcorr.events import sip
from logcorr.events.capture import sipwire

HEAD = "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: tok@host\r\nCSeq: 8 {m}\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("method, uri", [
    ("REGIStER", "sip:example.com"),
    ("NEWMETHOD", "sip:user@example.com"),
    ("!interesting-Method0123456789_*+`.%indeed'~", "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com"),
    ("OPTIONS", "sip:%61lice@example.com;transport=TCP"),
    ("INVITE", "sip:sips%3Auser%40example.com@example.net"),
])
def test_any_token_is_a_method(method: str, uri: str) -> None:
    text = f"{method} {uri} SIP/2.0\r\n" + HEAD.format(m=method)
    assert sip.looks_like_sip(text)
    msg = sip.parse_message(text)
    assert (msg.method, msg.uri, msg.call_id, msg.defects) == (method, uri, "tok@host", [])
    assert sip.event_fields(msg)["event"] == method
    raw = text.encode()
    assert sipwire.starts_sip(raw, 0, len(raw)) and sipwire.find_start(b"junk\r\n" + raw) == 6


def test_not_a_token_or_another_version_is_said() -> None:
    assert not sip.looks_like_sip("IN<VITE sip:a SIP/2.0\r\n")  # '<' is a separator, not a token char
    msg = sip.parse_message("INVITE sip:t.watson@192.0.2.5 SIP/7.0\r\n" + HEAD.format(m="INVITE"))
    assert msg.method == "INVITE" and msg.defects == ["version SIP/7.0 is not SIP/2.0"]


def test_a_response_keeps_its_cseq_method_as_sent() -> None:
    text = "SIP/2.0 200 OK\r\n" + HEAD.format(m="REGIStER")
    fields = sip.event_fields(sip.parse_message(text))
    assert (fields["event"], fields["method"]) == ("200 REGIStER", "REGIStER")
    assert fields["summary"] == "200 OK (REGIStER)"


@pytest.mark.parametrize("method", ["INVITE", "REGIStER", "info", "!interesting-Method0123456789_*+`.%indeed'~"])
def test_a_joined_request_line_is_cut_for_any_method_token(method: str) -> None:
    from logcorr.events.scrape import unjoin_sip
    joined = f"{method} sip:bob@example.com SIP/2.0 Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1\r\n" \
             f"From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: j@192.0.2.1\r\nCSeq: 3 {method}\r\nContent-Length: 0\r\n\r\n"
    msg = sip.parse_message(unjoin_sip(joined))
    assert (msg.method, msg.header("Via"), msg.cseq) == (method, "SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1", ("3", method))
    assert msg.defects == []
