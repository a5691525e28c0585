"""Log records as they reach a support case: Expressway SIPMSG blocks without their marks, cluster
peers in one file, cluster/replication/alarm records, CMS traces relayed by a syslog collector."""
from __future__ import annotations

import re

import golden
from logcorr.events.schema import to_frame
from logcorr.events.parsers.base import ParseContext

DATA = golden.DATA
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \S+ ", re.M)


def frame(rel: str):
    path = DATA / rel
    (entry,) = golden.sniffing(path.read_bytes()[:65536])
    ctx = ParseContext(file=rel, year=golden.YEAR)
    with path.open("rb") as stream:
        return to_frame(entry.parse(stream, ctx)), ctx


def test_expressway_sipmsg_without_marks_is_the_full_message():
    df, ctx = frame("expressway/fixture-sipmsg-unmarked.txt")
    assert ctx.skipped == 0 and not ctx.warnings
    sip_ev = df[df.proto == "sip"]
    assert list(sip_ev.event) == ["INVITE", "100 INVITE", "INVITE"]
    assert list(sip_ev.direction) == ["in", "out", "out"]
    # fields only the full message has: the INFO summary alone carries none of them
    assert sip_ev.user_agent.iloc[0].startswith("UCCAPI/16.0")
    assert sip_ev.conversation_id.iloc[0] == "AddGG2s7YlL2dbn8RM2qbYHgPUL8TA=="
    assert sip_ev.user_agent.iloc[1] == "TANDBERG/4352 (X12.7.1)"
    assert sip_ev.raw.str.match(r"^(SIP/2\.0 |INVITE )").all()
    # the INFO record came first for the first message, the DEBUG one for the second
    assert list(sip_ev.pos) == [5, 21, 31]


def test_expressway_every_cluster_replication_alarm_record_is_one_event():
    rel = "expressway/fixture-cluster-alarms-replication.txt"
    text = (DATA / rel).read_text()
    records = RECORD_START.findall(text)
    sip_records = text.count('Module="network.sip"')
    df, ctx = frame(rel)
    assert ctx.skipped == 0
    assert len(df) == len(records) - sip_records // 2  # an INFO/DEBUG pair is one message
    log = df[df.proto == "log"]
    assert list(log.event.astype(object).value_counts().sort_index().items()) == [
        ("alarm", 1), ("alarm-lowered", 1), ("alarm-raised", 2), ("cluster", 3),
        ("replication", 3), ("system-configuration-changed", 1)]
    failed = log[log.summary.str.contains("connection refused")]
    assert list(failed.event) == ["replication"] and "ERROR" in failed.summary.iloc[0]


def test_expressway_cluster_peers_never_merge_one_msg_hash():
    df, _ = frame("expressway/fixture-cluster-alarms-replication.txt")
    options = df[df.event == "OPTIONS"]
    assert list(options.host) == ["expc01", "expc02"]
    assert list(options.dst) == ["10.15.13.30:5060", "10.15.13.31:5060"]
    assert options.raw.str.startswith("OPTIONS sip:").all()  # each with its own full message


def test_cms_trace_relayed_by_a_collector_keeps_both_directions():
    df, ctx = frame("cms/fixture-remote-collector-sip-trace.txt")
    assert ctx.skip_reasons == {"not a CMS log line": 6}  # the six comment lines, nothing else
    assert not [w for w in ctx.warnings if "direction unknown" in w]
    sip_ev = df[df.proto == "sip"].sort_values("pos")
    assert list(sip_ev.event) == ["INVITE", "100 INVITE", "180 INVITE", "200 INVITE", "ACK"]
    assert list(sip_ev.direction) == ["in", "out", "out", "out", "in"]
    cms, gateway = "10.48.54.76:5061", "10.48.54.75:45169"
    # the outgoing records name only the remote side: CMS's own address is the connection's
    assert list(sip_ev.src) == [gateway, cms, cms, cms, gateway]
    assert list(sip_ev.dst) == [cms, gateway, gateway, gateway, cms]
    assert set(sip_ev.call_id) == {"364ac547-7bb3-4073-bb41-00f4bcd018d6"}
    assert set(sip_ev.transport) == {"TLS"}
    # the CMS stamp (10:18, no zone: UTC assumed), not the collector's own receive time (03:18)
    assert sip_ev.ts.iloc[0].isoformat() == "2024-06-07T10:18:20+00:00"
    assert "h323_gateway" in set(df.event)
