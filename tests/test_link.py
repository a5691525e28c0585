"""Findings on their call through the links of calls/link.py (CONNECTION-ID <-> allocation <-> relay
candidate <-> Call-ID, CMS's call number <-> Call-ID, refused TURN connects <-> the call), on a
small generated event table and on the case bundles changed where each link matters; and the
`refresh` step, which a lifetime-0 Refresh does not make."""
from __future__ import annotations

import dpkt
import pandas as pd
import pytest

from logcorr import api, rules as rules_stage
from logcorr.calls import flow, link, verdict
from logcorr.events import schema
from logcorr.rules import check_rules, default_rules_dir, load_rules

from case_variant import rewrite_frames, tcp_frame, variant, with_frames

T0 = pd.Timestamp("2026-03-02 10:00:00", tz="UTC")
CMS, EXP, EDGE = "10.0.0.2", "10.0.0.5", "192.0.2.9"
CTRL, TURN, DATA = f"{CMS}:50001", f"{EXP}:3478", f"{CMS}:50002"
SHARE = "share-1"
SHIPPED = default_rules_dir()


def sip(t, pos, event, call_id=SHARE, **kw):
    row = dict(t=t, source="cms", host="cms01", file="syslog", pos=pos, proto="sip", event=event,
               call_id=call_id, cseq="1", method="INVITE")
    return {**row, **kw}


def cms_log(t, pos, event, number, summary):
    return dict(t=t, source="cms", host="cms01", file="syslog", pos=pos, proto="log", event=event,
                call_number=number, summary=summary)


def wire(t, pos, event, src, dst, **kw):
    return dict(t=t, source="pcap", host="cap", file="cap.pcap", pos=pos, proto="stun", event=event,
                src=src, dst=dst, transport="TCP", **kw)


def share_rows():
    """CMS answers a share INVITE with its relay; the relay is reached; the bind names another
    CONNECTION-ID and is refused; CMS logs an ICE failure under its own call number; one of CMS's
    first TCP connects to the TURN port was refused."""
    return [
        sip(0.0, 1, "INVITE", direction="in", src=f"{EXP}:5061", dst=f"{CMS}:5061", sdp_media="applicationsharing",
            candidates=f"{EDGE}:51001/TCP relay raddr 172.16.0.1", summary="INVITE sip:room@meet.lab sdp: applicationsharing"),
        cms_log(0.002, 2, "call-incoming", 9, 'call 9: incoming encrypted SIP call from "sip:alice@sfb.lab" '
                'to local URI "sip:room@meet.lab"'),
        dict(wire(0.05, 1, "refused", f"{CMS}:50000", TURN), proto="tcp"),
        wire(0.09, 9, "Allocate Request", CTRL, TURN, txn_id="9" * 24, lifetime=600),
        wire(0.091, 10, "Allocate Error Response", TURN, CTRL, txn_id="9" * 24, error_code=401),
        wire(0.1, 2, "Allocate Request", CTRL, TURN, txn_id="a" * 24, lifetime=600, username="cms"),
        wire(0.101, 3, "Allocate Success Response", TURN, CTRL, txn_id="a" * 24, relayed=f"{EXP}:24000"),
        sip(0.11, 3, "200 INVITE", direction="out", src=f"{CMS}:5061", dst=f"{EXP}:5061", status=200,
            sdp_media="applicationsharing", relay_candidates=f"{EXP}:24000/TCP",
            candidates=f"{EXP}:24000/TCP relay raddr {CMS}"),
        sip(0.12, 4, "ACK", direction="in", src=f"{EXP}:5061", dst=f"{CMS}:5061", method="ACK"),
        wire(0.5, 4, "ConnectionAttempt Indication", TURN, CTRL, connection_id=7, peer=f"{EDGE}:51001"),
        wire(0.6, 5, "ConnectionBind Request", DATA, TURN, connection_id=99, txn_id="b" * 24),
        wire(0.61, 6, "ConnectionBind Error Response", TURN, DATA, txn_id="b" * 24, error_code=400),
        cms_log(1.0, 5, "ice-failure", 9, "WARNING: call 9: ICE failure 4 (unauthorized - check credentials)"),
        dict(wire(300.0, 7, "refused", f"{CMS}:50009", TURN), proto="tcp"),  # minutes later: no call's
        wire(0.7, 8, "ConnectionBind Request", "10.9.9.9:40000", TURN, connection_id=98, txn_id="c" * 24),
    ]


def table(rows):
    for r in rows:
        r["ts"] = T0 + pd.Timedelta(seconds=r.pop("t"))
    events = schema.to_frame(rows)
    return events.assign(ts_aligned=events["ts"]).sort_values("ts_aligned", kind="stable")


def test_each_link_ties_its_events_to_the_call():
    events = table(share_rows())
    calls = flow.build(events)
    links = link.event_calls(events, calls)
    assert links[("cap.pcap", 5)] == SHARE and links[("cap.pcap", 6)] == SHARE  # bind with another CONNECTION-ID
    assert links[("syslog", 5)] == SHARE  # call 9's ICE failure
    assert links[("cap.pcap", 1)] == SHARE  # the refused connect
    assert ("cap.pcap", 7) not in links  # a connect minutes later
    assert ("cap.pcap", 8) not in links  # a bind from another address


def test_findings_without_a_cited_call_get_it_through_the_links():
    events = table(share_rows())
    calls = flow.build(events)
    ruleset = load_rules(api.rule_dirs())
    wanted = {"turn-connectionbind-failed", "cms-ice-failure", "turn-tcp-no-answer"}
    before = [f for f in rules_stage.apply(ruleset, events, calls) if f.rule in wanted]
    flow.attribute(before, calls)  # the flow's citations alone: none of them
    assert {f.rule for f in before if not f.call_id} == wanted
    after = [f for f in rules_stage.apply(ruleset, events, calls) if f.rule in wanted]
    flow.attribute(after, calls, events)
    assert {f.rule for f in after if f.call_id == SHARE} == wanted
    stranger = [f for f in after if any(e.pos == 8 and e.file == "cap.pcap" for e in f.evidence)]
    assert [f.call_id for f in stranger] == [""]  # the bind from another address stays on no call


def test_a_relayed_address_given_again_belongs_to_the_later_call_then():
    later = []
    for r in share_rows()[:9]:  # the same call 100 s later: another Call-ID, another control connection
        r = {**r, "t": r["t"] + 100, "pos": r["pos"] + 100}
        r.update({k: r[k].replace(CTRL, f"{CMS}:50101") for k in ("src", "dst") if k in r})
        if r["proto"] == "sip":
            r["call_id"] = "share-2"
        later.append(r)
    events = table(share_rows() + later)
    links = link.turn_links(events, flow.build(events))
    assert links[("cap.pcap", 3)] == SHARE and links[("cap.pcap", 103)] == "share-2"  # the two Allocate Successes


def test_a_call_number_given_again_belongs_to_the_new_call():
    rows = share_rows() + [
        sip(50.0, 10, "INVITE", call_id="share-2", direction="in", src=f"{EXP}:5061", dst=f"{CMS}:5061",
            summary="INVITE sip:other@meet.lab"),
        cms_log(50.001, 11, "call-incoming", 9, 'call 9: incoming SIP call from "sip:bob@sfb.lab" '
                'to local URI "sip:other@meet.lab"'),
        cms_log(51.0, 12, "call-ending", 9, "call 9: ending; remote SIP teardown - connected for 0:01"),
    ]
    events = table(rows)
    links = link.call_number_links(events, flow.build(events))
    assert links[("syslog", 5)] == SHARE and links[("syslog", 12)] == "share-2"


def test_the_local_uri_picks_the_invite_among_simultaneous_ones():
    rows = [
        sip(0.0, 1, "INVITE", call_id="a", direction="in", summary="INVITE sip:room@meet.lab"),
        sip(0.001, 2, "INVITE", call_id="b", direction="in", summary="INVITE sip:other@meet.lab"),
        cms_log(0.002, 3, "call-incoming", 4, 'call 4: incoming SIP call from "sip:x@y" to local URI "sip:room@meet.lab"'),
        cms_log(0.5, 4, "call", 4, "call 4: compensating for far end not matching payload types"),
    ]
    events = table(rows)
    assert link.call_number_links(events, flow.build(events))[("syslog", 4)] == "a"


def test_without_cms_sip_trace_the_invite_another_source_saw_to_the_local_uri():
    rows = [
        dict(sip(0.0, 1, "INVITE", call_id="a", direction="out", summary="INVITE sip:room@meet.lab"),
             source="expressway", host="expe01", file="expe.txt"),
        dict(sip(0.2, 2, "INVITE", call_id="b", direction="out", summary="INVITE sip:other@meet.lab"),
             source="expressway", host="expe01", file="expe.txt"),
        cms_log(0.4, 3, "call-incoming", 4, 'call 4: incoming SIP call from "sip:x@y" to local URI "sip:room@meet.lab"'),
        cms_log(3.0, 4, "ice-failure", 4, "WARNING: call 4: ICE failure 4 (unauthorized - check credentials)"),
    ]
    events = table(rows)
    assert link.call_number_links(events, flow.build(events))[("syslog", 4)] == "a"


# --- the links on the case bundles ---------------------------------------------------------------
WRONG_ID = 0x0BADC0DE


def other_connection_id(n: int, payload: bytes) -> bytes | None:
    """bind-failed's ConnectionBind Request (frame 88) names another CONNECTION-ID (0x002A)."""
    if n != 88:
        return None
    at = payload.index(b"\x00\x2a\x00\x04", 20)
    return payload[:at + 4] + WRONG_ID.to_bytes(4, "big") + payload[at + 8:]


def finding(d, rule):
    return next(f for f in d.findings if f.rule == rule)


def test_bind_with_another_connection_id_lands_on_its_call(tmp_path):
    d = api.diagnose(variant("bind-failed", tmp_path, pcap=rewrite_frames(other_connection_id)))
    share = next(c for c in d.calls if c.presentation)
    bind = share.step("connection-bind")
    assert bind.state == "missing"  # no bind names the attempt's CONNECTION-ID
    assert bind.note == ("the ConnectionBind from 10.48.54.230:41325 names CONNECTION-ID 0xbadc0de, "
                         "not the ConnectionAttempt's 0x5688b600")
    failed = finding(d, "turn-connectionbind-failed")
    assert failed.call_id == share.call_id
    cited = {(e.file, e.pos) for e in failed.evidence}
    assert any(pos == 90 for _, pos in cited)  # the Error Response to the bind
    assert not cited & share.event_keys  # the flow did not cite it: the link did


def test_cms_call_number_lands_on_its_call(tmp_path):
    line = ("Nov 24 14:53:42.100 user.info cms01 host:server:  WARNING : "
            "call 31: ICE failure 4 (unauthorized - check credentials)\n")

    def add_line(text: str) -> str:
        cut = text.index("Nov 24 14:53:42") if "Nov 24 14:53:42" in text else len(text)
        return text[:cut] + line + text[cut:]

    d = api.diagnose(variant("no-connectionbind", tmp_path, syslog=add_line))
    assert finding(d, "cms-ice-failure").call_id == "b2a211220e344c0a909219a73ad9991d"


def test_refused_turn_connect_lands_on_its_call(tmp_path):
    t = pd.Timestamp("2026-11-24 14:53:41.400", tz="UTC").timestamp()
    syn = tcp_frame(("10.48.54.230", 40001), ("10.48.54.229", 3478), dpkt.tcp.TH_SYN)
    rst = tcp_frame(("10.48.54.229", 3478), ("10.48.54.230", 40001), dpkt.tcp.TH_RST | dpkt.tcp.TH_ACK, seq=0, ack=1001)
    d = api.diagnose(variant("no-connectionbind", tmp_path, pcap=with_frames([(t, syn), (t + 0.0002, rst)])))
    refused = finding(d, "turn-tcp-no-answer")
    assert "refused" in refused.evidence[0].summary
    assert refused.call_id == "b2a211220e344c0a909219a73ad9991d"


# --- refresh: the Refresh that keeps the allocation, not the one that releases it -------------------
@pytest.mark.parametrize("lifetime, state", [(600, "seen"), (None, "seen"), (0, "missing")])
def test_refresh_step_is_the_keeping_refresh(lifetime, state):
    rows = share_rows()[:8] + [
        wire(0.3, 20, "Refresh Request", CTRL, TURN, txn_id="d" * 24, lifetime=lifetime),
        wire(0.301, 21, "Refresh Success Response", TURN, CTRL, txn_id="d" * 24, lifetime=lifetime),
    ]
    call = next(c for c in flow.build(table(rows)) if c.call_id == SHARE)
    step = call.step("refresh")
    assert step.state == state
    if state == "missing":
        assert "LIFETIME 0" in step.note


def test_refresh_of_the_share_ok_case_is_the_first_one():
    call = next(c for c in flow.build(api.events("tests/cases/share-ok/share-ok.zip").events) if c.presentation)
    assert call.step("refresh").state == "seen"
    assert [e.pos for e in call.step("refresh").evidence] == [155, 156]  # not 175/176, the LIFETIME 0 pair


# --- a consequence states its fact, not a cause of its own ------------------------------------------
def test_one_way_checks_after_a_missing_bind_do_not_blame_a_password():
    """No ConnectionBind names the attempt's CONNECTION-ID, so the peer's checks to the relay go
    unanswered: the one-way finding is a consequence and says only what was seen."""
    rows = [r for r in share_rows() if r["event"] not in ("refused", "ice-failure")] + [
        wire(0.3, 20, "Refresh Request", CTRL, TURN, txn_id="d" * 24, lifetime=600),
        wire(0.301, 21, "Refresh Success Response", TURN, CTRL, txn_id="d" * 24, lifetime=600),
        wire(0.8, 30, "Binding Request", f"{EDGE}:51001", f"{EXP}:24000", username="cmsU:skyU", txn_id="e" * 24),
        wire(1.3, 31, "Binding Request", f"{EDGE}:51001", f"{EXP}:24000", username="cmsU:skyU", txn_id="e" * 24),
    ]
    events = table(rows)
    calls = flow.build(events)
    ruleset = load_rules(api.rule_dirs())
    findings = rules_stage.apply(ruleset, events, calls)
    flow.attribute(findings, calls, events)
    findings, _ = verdict.decide(calls, findings, ruleset)
    share = next(c for c in calls if c.call_id == SHARE)
    assert share.verdict.cause == "turn-missing-connectionbind"
    one_way = next(f for f in findings if f.rule == "ice-checks-one-way")
    assert one_way.role == "consequence" and one_way.explained_by == "turn-missing-connectionbind"
    assert one_way.explanation.startswith(f"Binding Requests from {EDGE}:51001 to {EXP}:24000 got no Binding Success")
    assert "password" not in one_way.explanation and "This follows from turn-missing-connectionbind" in one_way.explanation


def test_a_consequence_shows_the_rules_fact_not_its_first_sentence():
    d = api.diagnose("tests/cases/no-allocation/bundle.zip")
    no_relay = next(f for f in d.findings if f.rule == "sdp-no-relay-candidate")
    assert no_relay.role == "consequence"
    assert no_relay.explanation.startswith("CMS's answer offered no TCP relay candidate for the share")
    assert "reaches CMS only through its Edge" not in no_relay.explanation  # the rule's own why


def test_rules_check_wants_a_fact_of_one_sentence(tmp_path):
    text = (SHIPPED / "turn-no-allocation.yaml").read_text()
    fact = next(line for line in text.splitlines() if line.startswith("fact: "))
    (tmp_path / "turn-no-allocation.yaml").write_text(text.replace(fact + "\n", ""))
    (problem,) = check_rules([tmp_path])
    assert "no 'fact'" in problem and problem.startswith(str(tmp_path / "turn-no-allocation.yaml"))
    (tmp_path / "turn-no-allocation.yaml").write_text(text.replace(fact, 'fact: "Nothing came. So it failed."'))
    (problem,) = check_rules([tmp_path])
    assert "fact: one sentence" in problem
