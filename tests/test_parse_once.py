"""Facts later stages need are columns the parsers fill once, through the one SIP grammar; the
text-parser base and the registry's per-source facts."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from logcorr.calls import hosts
from logcorr.events import sip
from logcorr.events.parsers import CLOCK_ORDER, REGISTRY, ROLES, SOURCES, YEARLESS, cms, expressway, siptext
from logcorr.events.parsers.base import MAX_CONSECUTIVE_FAILURES, ParseContext
from logcorr.events.schema import to_frame

from test_sip import INVITE

OFFER = (
    "INVITE sip:share@meet.corp.lab SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 203.0.113.7:5061;branch=z9a;egress-zone=DefaultZone,"
    " SIP/2.0/TLS 172.16.30.15:50300;branch=z9b\r\n"
    "Call-ID: share-1\r\nCSeq: 1 INVITE\r\n"
    "User-Agent: UCCAPI/16.0.5387.1000 OC/16.0.5387.1000 (Skype for Business)\r\n"
    "Ms-Conversation-ID: Advj/4M06K79xWB6rmlAsk7zH1mQUo==\r\n"
    "ms-client-diagnostics: 25; ICEWarn=\"0x200\"\r\n"
    "Content-Type: application/sdp\r\n\r\n"
    "v=0\r\nm=audio 50010 RTP/AVP 0\r\n"
    "m=applicationsharing 13024 TCP/RTP/AVP 127\r\na=ice-ufrag:R3Ex\r\na=ice-pwd:secret\r\n"
    "a=candidate:1 1 TCP-PASS 2120613887 172.16.30.15 13024 typ host \r\n"
    "a=candidate:3 1 TCP-PASS 6556159 192.168.1.252 51001 typ relay raddr 172.16.30.15 rport 13024 \r\n"
)


def test_sip_grammar_fills_the_parse_once_columns():
    f = sip.event_fields(sip.parse_message(OFFER))
    assert f["sdp_media"] == "audio,applicationsharing"
    assert (f["ice_ufrag"], f["ice_pwd"]) == (",R3Ex", "no,yes")  # aligned with sdp_media
    assert "secret" not in "".join(str(v) for k, v in f.items() if k != "raw")
    assert f["candidates"] == ("172.16.30.15:13024/TCP host;"
                               "192.168.1.252:51001/TCP relay raddr 172.16.30.15")
    assert f["conversation_id"] == "Advj/4M06K79xWB6rmlAsk7zH1mQUo=="
    assert f["user_agent"].startswith("UCCAPI/16.0")
    assert f["via"] == "203.0.113.7:5061;172.16.30.15:50300"
    assert f["expressway_via"] == "203.0.113.7:5061"
    assert f["summary"].endswith("ICEWarn 0x200: TCP allocate on TURN failed")


def test_candidates_column_reads_back():
    f = sip.event_fields(sip.parse_message(INVITE))
    got = sip.read_candidates(f["candidates"])
    assert [(c.ip, c.transport, c.typ, c.raddr) for c in got] == [
        ("172.16.30.15", "UDP", "host", ""), ("192.168.1.252", "UDP", "relay", "172.16.30.15"),
        ("2001:db8::5", "UDP", "relay", "2001:db8::9")]
    assert f["ice_ufrag"] == "skyP,vid1" and f["ice_pwd"] == "no,no"
    assert sip.event_fields(sip.parse_message("BYE sip:x SIP/2.0\r\n\r\n"))["ice_ufrag"] == ""


@pytest.mark.parametrize("parser,text", [
    (cms.PARSER, "Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: connection 3: "
                 "incoming SIP TLS data from 10.0.0.1:5061, size 9:\n"
                 + "".join(f"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: {line}\n"
                           for line in OFFER.split("\r\n"))),
    (siptext.PARSER, OFFER.replace("\r\n", "\n")),
])
def test_every_source_gets_the_icewarn_words_and_columns(parser, text):
    events = list(parser.parse(io.BytesIO(text.encode()), ParseContext(file="f", year=2026)))
    sip_events = [e for e in events if e["proto"] == "sip"]
    assert len(sip_events) == 1
    assert "ICEWarn 0x200: TCP allocate on TURN failed" in sip_events[0]["summary"]
    assert sip_events[0]["conversation_id"] == "Advj/4M06K79xWB6rmlAsk7zH1mQUo=="


def test_cms_call_number_column():
    text = ("Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 31: incoming encrypted SIP call\n"
            "Nov 24 14:53:42.295 user.info cms01 host:server:  INFO : call 31: ICE failure 4 (unauthorized)\n"
            "Nov 24 14:53:43.295 user.info cms01 host:server:  INFO : conference abc has ended\n")
    events = list(cms.parse(io.BytesIO(text.encode()), ParseContext(file="log", year=2026)))
    assert [e.get("call_number") for e in events] == [31, 31, None]
    assert to_frame(events)["call_number"].dtype == "Int64"


def test_hosts_read_the_columns_not_raw():
    f = sip.event_fields(sip.parse_message(OFFER), raw="")
    row = dict(f, ts=pd.Timestamp("2026-11-24T14:53:41Z"), source="sip", host="", file="f", pos=1,
               direction="", src="", dst="")
    labels = hosts.roles(to_frame([row]))
    assert labels["203.0.113.7"].startswith("Expressway") and labels["172.16.30.15"] == "SfB client"


# --- the text-parser base -------------------------------------------------------------------------
def test_stray_lines_are_one_skip_per_run_and_the_cap_gives_up():
    junk = "\n".join(f"junk {i}" for i in range(MAX_CONSECUTIVE_FAILURES + 10))
    ctx = ParseContext(file="f")
    head = OFFER + "----\r\n"
    first = head.count("\n") + 1
    events = list(siptext.PARSER.parse(io.BytesIO((head + junk).encode()), ctx))
    assert len(events) == 1  # what was read before is kept
    assert ctx.skipped == ctx.skip_reasons["line outside any SIP message"] == MAX_CONSECUTIVE_FAILURES
    assert ctx.warnings == [f"line {first}: line outside any SIP message ({MAX_CONSECUTIVE_FAILURES} lines)",
                            f"line {first + MAX_CONSECUTIVE_FAILURES - 1}: gave up: not SIP text"]


def test_a_read_line_ends_the_stray_run():
    text = "# a\n# b\n2017-03-02T08:10:46.240+01:00 vcse tvcs: Event=\"Call Attempted\" Level=\"1\"\n# c\nstray\n"
    ctx = ParseContext(file="f")
    events = list(expressway.PARSER.parse(io.BytesIO(("junk\n" * 3 + text).encode()), ctx))
    assert len(events) == 1
    assert ctx.warnings == ["line 1: lines outside any record (3 lines)", "line 8: lines outside any record"]
    assert ctx.skipped == 4


# --- the registry's facts ---------------------------------------------------------------------
def test_entries_of_one_source_agree_on_clock_and_year():
    for source in SOURCES:
        facts = {(e.clock, e.yearless) for e in REGISTRY if e.name == source}
        assert len(facts) == 1, source


def test_role_is_the_parsers_not_the_sources():
    """UccApi and the SIP stack trace share the source `sfb`, not the box that writes them."""
    keys = [e.key for e in REGISTRY]
    assert len(set(keys)) == len(keys)
    assert ROLES["sfb_uccapi"] == "SfB client" and ROLES["sfb_snooper"] == "SfB server"
    assert ROLES["expressway"] == ROLES["xconfig"] == "Expressway" and ROLES["cms"] == "CMS"


def test_stages_read_the_registry():
    assert "cms" in YEARLESS and "expressway" not in YEARLESS
    known = [s for s in CLOCK_ORDER if s in ("expressway", "pcap", "sfb", "cms", "sip")]
    assert known == ["expressway", "pcap", "sfb", "cms", "sip"]  # the TURN server's clock first
    assert set(CLOCK_ORDER) == set(SOURCES)
    assert "pcap" not in ROLES and "siptext" not in ROLES
