"""CMS, Expressway, SfB (Snooper, UccApi) and plain SIP text parsers: sniffing, golden events, the
details each format needs (Msg-Hash pairs, B2BUA legs, UTCTime, ICEWarn, multipart fallback)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

import golden
from logcorr.events import msdiag, sip
from logcorr.events.parsers import expressway, sfb_snooper, sfb_uccapi, siptext
from logcorr.events.parsers.base import ParseContext
from logcorr.events.schema import NAMES, to_frame

DATA = golden.DATA
NEIGHBOURS = DATA / "neighbours"

SAMPLES = [f"{p.parent.name}/{p.name}" for p in golden.samples()]


def read(rel: str, tz: dt.tzinfo | None = None):
    path = DATA / rel
    (entry,) = golden.sniffing(path.read_bytes()[:65536])
    ctx = ParseContext(file=rel)
    if tz is not None:
        ctx.tz, ctx.tz_assumed = tz, False
    with path.open("rb") as stream:
        events = list(entry.parse(stream, ctx))
    return events, ctx


def frame(rel: str):
    events, ctx = read(rel)
    return to_frame(events), ctx


def test_every_source_folder_has_samples():
    assert {rel.split("/")[0] for rel in SAMPLES} >= {"cms", "expressway", "sfb", "sip"}
    # the published UccApi excerpt holds only the closing lines of its two packets: no message
    # to read, and the golden says why (two skipped lines, with their reason)
    said = golden.load(golden.expected_path(DATA / "sfb/msxfaq-uccapilog-packet-lines.txt"))
    assert said == [{"read": {"parser": "sfb_uccapi", "skipped": 2, "skip_reasons": {
        "end of a packet whose beginning is not in the file": 2}, "warnings": [
        "line 3: end of a packet whose beginning is not in the file",
        "line 4: end of a packet whose beginning is not in the file"]}}]


@pytest.mark.parametrize("rel", SAMPLES)
def test_sample_matches_golden(rel):
    """Sniffed by exactly one parser, the one the golden names; the same events, skips, warnings."""
    _, lines, _ = golden.parse(DATA / rel)
    assert lines == golden.load(golden.expected_path(DATA / rel)), "run python tests/regen_golden.py"


@pytest.mark.parametrize("rel", SAMPLES)
def test_events_are_schema_rows_in_utc(rel):
    events, ctx = read(rel)
    for event in events:
        assert set(event) <= set(NAMES)
        assert event["file"] == rel
        assert event["ts"] is None or event["ts"].utcoffset() == dt.timedelta(0)


# --- sniffing ---------------------------------------------------------------------------------
CMS_LINE = (b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: connection 31: "
            b"incoming SIP message from 10.48.54.228:27747\n")
PCAP_HEADS = {
    "pcap-le": bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"),
    "pcap-be": bytes.fromhex("a1b2c3d4000200040000000000000000" "0000ffff00000001"),
    "pcapng": bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"),
}
ALL = (expressway.PARSER, sfb_snooper.PARSER, sfb_uccapi.PARSER, siptext.PARSER)


@pytest.mark.parametrize("name", sorted(PCAP_HEADS) + ["cms-line", "empty", "cms-samples"])
def test_neighbours_sniff_negative(name):
    if name == "cms-samples":
        heads = [p.read_bytes()[:65536] for p in sorted(NEIGHBOURS.glob("*.txt"))]
        assert len(heads) >= 4
    else:
        heads = [dict(PCAP_HEADS, **{"cms-line": CMS_LINE * 50, "empty": b""})[name]]
    for head in heads:
        assert [p for p in ALL if p.sniff(head)] == []


# --- Expressway -------------------------------------------------------------------------------
def test_expressway_public_sample_each_sip_message_once():
    df, _ = frame("expressway/bluck7-expressway-mra-callflow-expe-diaglog.txt")
    sip_ev = df[df.proto == "sip"]
    got = list(zip(sip_ev.event, sip_ev.call_id, sip_ev.cseq, sip_ev.direction, sip_ev.src,
                   sip_ev.dst))
    cid = "e7e75ff9a67fb2435b25eab2a1498171"
    assert got == [
        ("INVITE", cid, "100", "in", "10.122.73.183:47177", "10.81.54.5:5061"),
        ("100 INVITE", cid, "100", "out", "10.81.54.5:5061", "10.122.73.183:47177"),
        ("INVITE", cid, "100", "out", "10.81.54.5:7002", "10.81.54.102:25017"),
    ]
    assert list(sip_ev.pos) == [11, 46, 94]  # the INFO record, first of each pair
    assert set(sip_ev.transport) == {"TLS"}


def test_expressway_msg_hash_pairs_make_one_event():
    text = (DATA / "expressway/share-ok-loggingsnapshot_expe01.txt").read_text()
    infos = len(re.findall(r'Module="network.sip" Level="INFO"', text))
    debugs = len(re.findall(r'Module="network.sip" Level="DEBUG"', text))
    assert infos == debugs == 42
    df, _ = frame("expressway/share-ok-loggingsnapshot_expe01.txt")
    sip_ev = df[df.proto == "sip"]
    assert len(sip_ev) == 42
    assert not sip_ev.duplicated(["event", "call_id", "cseq", "direction", "src", "dst"]).any()
    assert (sip_ev.raw.str.match(r"^(SIP/2\.0|[A-Z]+ \S+ SIP/2\.0)")).all()  # the full message


def test_expressway_b2bua_legs_stay_distinct():
    df, _ = frame("expressway/fixture-b2bua-legs-utctime.txt")
    sip_ev = df[df.proto == "sip"]
    assert list(sip_ev.call_id) == ["fixture-call-1", "fixture-call-1b", "fixture-call-1"]
    assert list(sip_ev.transport) == ["TLS", "TCP", "TLS"]
    # DEBUG first, INFO second: still one event, at the DEBUG record
    assert list(sip_ev.pos) == [2, 23, 36]


def test_expressway_utctime_is_the_time_and_prefix_the_fallback():
    df, _ = frame("expressway/fixture-b2bua-legs-utctime.txt")
    first = df.iloc[0]
    # prefix 08:03:51.960+02:00, UTCTime 06:03:51,966
    assert first.ts.isoformat() == "2017-08-17T06:03:51.966000+00:00"
    rejected = df[df.event == "call-rejected"].iloc[0]  # no UTCTime: prefix 08:04:01.000+02:00
    assert rejected.ts.isoformat() == "2017-08-17T06:04:01+00:00"
    assert (rejected.status, rejected.reason, rejected.call_id) == (403, "Forbidden", "fixture-call-1")
    df2, _ = frame("expressway/fixture-syslog-variants.txt")
    old = df2[df2.event == "registration-accepted"].iloc[0]  # X8.7: no fraction, +10:00
    assert old.ts.isoformat() == "2016-04-19T07:09:13+00:00"


def test_expressway_file_order_kept_for_equal_times():
    df, _ = frame("expressway/bluck7-proxyparser-comments-mediarouting-turn.txt")
    turn = df[df.event == "turn-route-creating"]
    assert list(turn.pos) == [9, 10] and turn.ts.nunique() == 1
    assert list(turn.relayed) == ["10.81.54.5:24012"] * 2
    assert list(turn.src) == ["10.122.73.161:19204", "10.81.54.5:24012"]


def test_expressway_syslog_variants():
    df, ctx = frame("expressway/fixture-syslog-variants.txt")
    assert list(df.host) == ["expe02", "expe02", "expc01", "expc01", "expc01", "expc01", "vcs01",
                             "expe03"]
    assert df.iloc[5].event == "cluster"  # a clusterdb record without a program tag
    assert list(df.event[:2]) == ["OPTIONS", "200 OPTIONS"]  # RFC 5424, tag repeated
    # "Line 191:" copy with two records joined on one physical line: both read, same line number
    assert list(df.event[3:5]) == ["call-attempted", "call-disconnected"]
    assert list(df.pos[3:5]) == [4, 4]
    assert df.iloc[2].reason == "gatekeeper timed out"  # padded values trimmed
    # BSD stamp of a remote syslog server: UTCTime gives the time; without it the year must be known
    assert df.iloc[7].ts.isoformat() == "2020-11-18T19:55:58.990000+00:00"
    assert ctx.warnings == ["line 8: no usable time stamp (no UTCTime, no year)"]
    ctx2 = ParseContext(file="x", year=2020, tz=dt.timezone(dt.timedelta(hours=1)), tz_assumed=False)
    with (DATA / "expressway/fixture-syslog-variants.txt").open("rb") as stream:
        last = list(expressway.PARSER.parse(stream, ctx2))[-1]
    assert (last["event"], last["ts"].isoformat()) == ("call-attempted", "2020-11-18T19:55:59+00:00")


def test_expressway_gives_up_on_foreign_text():
    ctx = ParseContext(file="x")
    junk = b"".join(b"line %d of something else\n" % i for i in range(500))
    assert list(expressway.PARSER.parse(io.BytesIO(junk), ctx)) == []
    assert any("gave up" in w for w in ctx.warnings)


# --- SfB --------------------------------------------------------------------------------------
def test_icewarn_words():
    assert msdiag.icewarn_words(0x200) == ["TCP allocate on TURN failed"]
    assert msdiag.describe('ICEWarn="0x80200"') == (
        "ICEWarn 0x80200: TCP allocate on TURN failed, TCP TURN server connectivity failed")
    quoted = (NEIGHBOURS / "ucsorted-ms-client-diagnostics-25-icewarn.txt").read_text()
    assert msdiag.icewarn_value(quoted) == 0x40003A0
    assert "TURN FQDN not resolved" in msdiag.icewarn_words(0x40003A0)
    assert msdiag.describe("21002;reason=\"x\"") == ""


def test_snooper_icewarn_in_summary_and_all_diagnostic_headers():
    df, _ = frame("sfb/fixture-snooper-icewarn-multipart.txt")
    resp = df[df.event == "488 INVITE"].iloc[0]
    assert "ICEWarn 0x80200: TCP allocate on TURN failed, TCP TURN server connectivity failed" in resp.summary
    assert "21002" in resp.ms_diagnostics and "ICEWarn" in resp.ms_diagnostics


def test_snooper_multipart_fallback_part_ignored():
    df, _ = frame("sfb/fixture-snooper-icewarn-multipart.txt")
    invite = df[df.event == "INVITE"].iloc[0]
    assert invite.relay_candidates == "192.168.1.252:51001/TCP"
    assert "51999" not in invite.relay_candidates


def test_snooper_diagnostic_tied_to_call_id():
    df, _ = frame("sfb/ms-support-test-csfederatedpartner-sipstack.txt")
    diag = df[df.proto == "log"].iloc[0]
    assert (diag.event, diag.call_id, diag.reason) == (
        "diagnostic", "c00bc6180f284b948be61febf274d05e", "SIPPROXY_E_ROUTING")
    sip_ev = df[df.proto == "sip"].iloc[0]
    assert (sip_ev.direction, sip_ev.src, sip_ev.transport) == ("in", "lyncservr.contoso.com:61182", "TLS")
    assert sip_ev.ts.isoformat() == "2012-01-18T05:00:43.101000+00:00"  # Snooper stamps are UTC


def test_snooper_with_pasted_client_lines_and_joined_fields():
    df, ctx = frame("sfb/fixture-edge-diag-and-client-504.txt")
    diag, resp = df.iloc[0], df.iloc[1]
    assert (diag.event, diag.host, diag.call_id, diag.cseq, diag.method) == (
        "diagnostic", "sfvedge", "f1b3ad5d-183b-4632-b210-c2f9bec71960", "2066245576", "INVITE")
    assert "SIPPROXY_E_CONNECTION_UNKNOWN_ERROR" == diag.reason
    assert "[INVITE sip:stejanss@skype.lab SIP/2.0]" in diag.summary
    assert (resp.event, resp.direction, resp.src, resp.dst) == (
        "504 INVITE", "in", "10.48.36.1:5061", "10.48.36.99:50123")
    assert resp.ms_diagnostics.startswith("1046;")
    assert ctx.warnings == ["line 1: lines outside any record"]


def test_uccapi_web_copy_with_joined_lines():
    events, ctx = read("sfb/fixture-client-uccapi-web-copy.txt")
    (ev,) = events
    assert (ev["event"], ev["call_id"], ev["cseq"], ev["src"], ev["dst"], ev["transport"]) == (
        "SERVICE", "0123456789abcdef", "1", "192.168.0.13:6966", "207.46.5.158:443", "TLS")


def test_uccapi_times_follow_tz():
    utc, ctx = read("sfb/fixture-client-uccapi.txt")
    assert any("--tz" in n for n in ctx.notes)
    local, ctx2 = read("sfb/fixture-client-uccapi.txt", tz=dt.timezone(dt.timedelta(hours=1)))
    assert not ctx2.notes
    assert [a["ts"] - b["ts"] for a, b in zip(utc, local)] == [dt.timedelta(hours=1)] * 3
    assert [e["direction"] for e in utc] == ["out", "in", "out"]
    assert "TCP allocate on TURN failed" in utc[1]["summary"]


def test_uccapi_host_is_the_client_user():
    """The log names no machine: each message names the client's user, on whichever side it is."""
    events, _ = read("sfb/fixture-client-uccapi.txt")
    assert [e["host"] for e in events] == ["alice@skype.lab"] * 3  # INVITE out, 488 in, ACK out
    invite = sip.parse_message("INVITE sip:alice@skype.lab SIP/2.0\r\nFrom: \"Bob\" <sip:bob@example.com>;tag=1\r\n"
                               "t: <sips:alice@skype.lab;gruu>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
    assert sfb_uccapi.own_user(invite, "in") == "alice@skype.lab"
    ok = sip.parse_message("SIP/2.0 200 OK\r\nFrom: <sip:bob@example.com>;tag=1\r\nTo: <sip:alice@skype.lab>;tag=2\r\n"
                           "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
    assert sfb_uccapi.own_user(ok, "out") == "alice@skype.lab"
    assert sfb_uccapi.own_user(sip.parse_message("SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n"), "in") == ""


# --- one call across sources ------------------------------------------------------------------
def test_call_ids_agree_across_sources():
    exp, _ = frame("expressway/share-ok-loggingsnapshot_expe01.txt")
    sfb, _ = frame("sfb/share-ok-sfbedge01_SIPStack_snooper.txt")
    cms_text = (NEIGHBOURS / "share-ok-cms-syslog.txt").read_text()
    share = "b2a211220e344c0a909219a73ad9991d"
    for df in (exp, sfb):
        calls = df[(df.proto == "sip") & (df.sdp_media == "applicationsharing") & (df.event == "INVITE")]
        assert set(calls.call_id) == {share}
    sfb_calls = set(sfb[sfb.event == "INVITE"].call_id)
    exp_from_edge = set(exp[(exp.event == "INVITE") & (exp.src.str.startswith("192.168.1.252"))].call_id)
    assert sfb_calls == exp_from_edge
    for call_id in sfb_calls:  # the CMS log of the same case carries them too
        assert f"Call-ID: {call_id}" in cms_text
    # Expressway event-log records of the share are tied to its Call-ID
    assert set(exp[exp.event.isin(["call-attempted", "call-connected", "call-disconnected"])
                   & (exp.call_id == share)].event) == {"call-attempted", "call-connected",
                                                         "call-disconnected"}


# --- web copies -------------------------------------------------------------------------------
def test_joined_sip_lines_cut_apart():
    from logcorr.events.scrape import unjoin_sip

    joined = ("INVITE sip:a@b SIP/2.0 Via: SIP/2.0/TLS 10.0.0.1:5061 Call-ID: abc "
              "CSeq: 1 INVITE From : <sip:x@y >;tag=1\n\nv=0 o=- 0 0 IN IP4 10.0.0.1 s=x t=0 0 "
              "m=applicationsharing 5000 TCP/RTP/AVP 127")
    assert unjoin_sip(joined).split("\r\n")[:6] == [
        "INVITE sip:a@b SIP/2.0", "Via: SIP/2.0/TLS 10.0.0.1:5061", "Call-ID: abc",
        "CSeq: 1 INVITE", "From : <sip:x@y >;tag=1", ""]
    assert unjoin_sip(joined).endswith("m=applicationsharing 5000 TCP/RTP/AVP 127")
    clean = "OPTIONS sip:a SIP/2.0\r\nSubject: meet me\r\nCall-ID: x\r\n\r\n"
    assert unjoin_sip(clean) is clean


def test_expressway_web_copy_start_line_joined_with_via():
    df, _ = frame("expressway/cisco-212383-network-sip-504-sipmsg.txt")
    (ev,) = df.itertuples()
    assert (ev.event, ev.reason, ev.cseq, ev.call_id, ev.direction) == (
        "504 INVITE", "Server time-out", "2066245576", "f1b3ad5d-183b-4632-b210-c2f9bec71960", "in")
    assert ev.raw.startswith("SIP/2.0 504 Server time-out Via:")  # raw stays as read


def test_expressway_sniffs_bsd_copies_only_with_utctime():
    line = (DATA / "expressway/fixture-syslog-variants.txt").read_bytes().split(b"\n")[6]
    assert line.startswith(b"Nov 18 ") and expressway.PARSER.sniff(line)
    assert not expressway.PARSER.sniff(line.replace(b'UTCTime="', b'Time="'))
    assert not expressway.PARSER.sniff(CMS_LINE)
