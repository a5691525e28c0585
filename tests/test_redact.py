"""--redact: pseudonyms are stable, and no address, user or number survives."""
from logcorr.events import schema
from logcorr.report.redact import Redactor


def test_text_pseudonyms_are_stable_and_keep_ports():
    r = Redactor()
    a = r.text('From: "Alice Martin"<sip:alice@skype.lab>;tag=1 via 10.48.54.228:5061 and [2001:db8::5]:55')
    b = r.text("to 10.48.54.228:27747 sip:alice@skype.lab tel:+4930123456 5551234567")
    assert "alice" not in a + b and "Alice" not in a and "10.48.54.228" not in a + b
    assert "2001:db8" not in a and "4930123456" not in b and "5551234567" not in b
    assert "ip-1:5061" in a and "ip-1:27747" in b  # same address, same pseudonym
    assert "sip:user-1@skype.lab" in a and "sip:user-1@skype.lab" in b


def test_frame_keeps_protocol_words():
    r = Redactor()
    df = schema.to_frame([{"source": "pcap", "event": "Allocate Request", "src": "10.0.0.1:3478",
                           "username": "turn", "summary": "Allocate Request user: turn from 10.0.0.1"}])
    out = r.frame(df)
    assert out["event"][0] == "Allocate Request"
    assert out["src"][0] == "ip-1:3478" and "10.0.0.1" not in out["summary"][0]
    assert out["username"][0] == "user-1"
