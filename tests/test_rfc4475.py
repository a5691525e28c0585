"""RFC 4475 (SIP torture tests): every valid message is read with its Call-ID and method and no defect;
every invalid one is read with a defect note, or is refused as not SIP (what a log reader counts as
skipped with that reason)."""
from __future__ import annotations

from pathlib import Path

import pytest

from logcorr.events import sip

CORPUS = Path(__file__).parent / "data" / "sip" / "rfc4475"

# name: (Call-ID, method: the request's, or a response's CSeq method)
VALID = {
    "wsinv": ("wsinv.ndaksdj@192.0.2.1", "INVITE"),
    "intmeth": ("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", "!interesting-Method0123456789_*+`.%indeed'~"),
    "esc01": ("esc01.239409asdfakjkn23onasd0-3234", "INVITE"),
    "escnull": ("escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", "REGISTER"),
    "esc02": ("esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", "RE%47IST%45R"),
    "lwsdisp": ("lwsdisp.1234abcd@funky.example.com", "OPTIONS"),
    "longreq": ("longreq.one" + "really" * 20 + "longcallid", "INVITE"),
    "dblreq": ("dblreq.0ha0isndaksdj99sdfafnl3lk233412", "REGISTER"),
    "semiuri": ("semiuri.0ha0isndaksdj", "OPTIONS"),
    "transports": ("transports.kijh4akdnaqjkwendsasfdj", "OPTIONS"),
    "unreason": ("unreason.1234ksdfak3j2erwedfsASdf", "INVITE"),
    "noreason": ("noreason.asndj203insdf99223ndf", "INVITE"),
}
# name: the defect said (or "start line is not SIP": refused)
INVALID = {
    "badinv01": "empty parameter",
    "clerr": "Content-Length longer than the body",
    "ncl": "Content-Length not a number: '-999'",
    "scalar02": "CSeq number out of range",
    "scalarlg": "CSeq number out of range",
    "quotbal": "unbalanced quote in To",
    "ltgtruri": "Request-URI in angle brackets",
    "lwsruri": "start line is not SIP",
    "lwsstart": "start line is not SIP",
    "trws": "white space after the start line",
    "escruri": "Request-URI with escaped headers",
    "baddate": "Date not in GMT",
    "regbadct": "Contact URI with headers outside angle brackets",
    "badaspec": "white space inside angle brackets",
}


def test_the_corpus_is_complete_as_listed():
    assert {p.name for p in CORPUS.iterdir() if p.suffix != ".md"} == set(VALID) | set(INVALID)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_message_read_with_call_id_and_method(name: str):
    text = (CORPUS / name).read_bytes().decode("utf-8", "replace")
    assert sip.looks_like_sip(text)
    msg = sip.parse_message(text)
    call_id, method = VALID[name]
    fields = sip.event_fields(msg)
    assert (fields["call_id"], fields["method"]) == (call_id, method)
    assert fields["event"] == (method if msg.is_request else f"{msg.status} {method}")
    assert msg.defects == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_message_said_or_refused(name: str):
    text = (CORPUS / name).read_bytes().decode("utf-8", "replace")
    msg = sip.parse_message(text)
    assert INVALID[name] in msg.defects
    if INVALID[name] == "start line is not SIP":
        assert not sip.looks_like_sip(text)
    else:
        assert msg.call_id.startswith(name + ".")  # read all the same


def test_torture_details_kept():
    wsinv = sip.parse_message((CORPUS / "wsinv").read_text())
    assert wsinv.cseq == ("0009", "INVITE")  # a folded CSeq, leading zeros kept
    unreason = sip.parse_message((CORPUS / "unreason").read_bytes().decode())
    assert unreason.status == 200 and unreason.reason.startswith("= 2**3 * 5**2 но сто")
    esc02 = sip.parse_message((CORPUS / "esc02").read_text())
    assert esc02.method == "RE%47IST%45R" and len(esc02.header_all("Contact")) == 2
