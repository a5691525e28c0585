"""Each block type, firing and not firing, and the finding it makes."""
from __future__ import annotations

import pandas as pd

from logcorr.model import Call, Evidence, Step
from logcorr.report.json_report import finding as finding_json
from logcorr.rules import evaluate, load_rules
from rules_helpers import BASE, events, write_rule


def run(tmp_path, body, evs, calls=None, rule_id="t-rule"):
    write_rule(tmp_path, rule_id, body=body)
    return evaluate(load_rules([tmp_path]), evs, calls)


# ------------------------------------------------------------------------------ match
def test_match_fires_per_event_and_cites_it(tmp_path):
    evs = events(
        {"t": 1, "proto": "stun", "event": "Refresh Error Response", "error_code": 437, "summary": "437!"},
        {"t": 2, "proto": "stun", "event": "Refresh Error Response", "error_code": 401},
        {"t": 3, "proto": "stun", "event": "Allocate Error Response", "error_code": 437},
    )
    found = run(tmp_path, "match:\n  where: {proto: stun, error_code: 437}\n", evs)
    assert [f.evidence[0].pos for f in found] == [1, 3]
    d = finding_json(found[0])
    assert d["ts"] == "2024-03-01T10:00:01.000Z"
    assert d["evidence"] == [{"file": "f.log", "pos": 1, "summary": "437!"}]
    assert d["explanation"] == "it happened at f.log"
    assert set(d) == {"rule", "severity", "title", "call_id", "ts", "explanation", "fix", "evidence",
                      "role", "explained_by"}
    assert d["call_id"] == ""


def test_match_operators_any_not_and_once_per(tmp_path):
    body = """\
        detail: "{status} {why}"
        extract:
          why: {from: ms_diagnostics, regex: 'reason="([^"]*)"'}
        match:
          where:
            proto: sip
            status: {ge: 400}
            any:
              - {ms_diagnostics: {contains: ASMCU}}
              - {reason: {regex: '^Not Acc'}}
            not: {status: 487}
          once_per: [call_id]
        """
    evs = events(
        {"proto": "sip", "status": 403, "call_id": "A", "ms_diagnostics": '21002;reason="no share";component="ASMCU"'},
        {"proto": "sip", "status": 403, "call_id": "A", "ms_diagnostics": '21002;reason="no share";component="ASMCU"'},
        {"proto": "sip", "status": 488, "call_id": "B", "reason": "Not Acceptable Here"},
        {"proto": "sip", "status": 487, "call_id": "C", "reason": "Not Acceptable"},
        {"proto": "sip", "status": 200, "call_id": "D", "ms_diagnostics": "ASMCU"},
    )
    found = run(tmp_path, body, evs)
    assert [(f.call_id, f.detail) for f in found] == [("A", "403 no share"), ("B", "488")]


def test_match_first_per_having_looks_only_at_the_first_event(tmp_path):
    body = """\
        match:
          where: {proto: sip, source: cms, direction: out}
          first_per: [call_id]
          having: {relay_candidates: {exists: false}}
        """
    evs = events(
        {"t": 0, "proto": "sip", "source": "cms", "direction": "out", "call_id": "A"},
        {"t": 1, "proto": "sip", "source": "cms", "direction": "out", "call_id": "A", "relay_candidates": "1.2.3.4:5/TCP"},
        {"t": 0, "proto": "sip", "source": "cms", "direction": "out", "call_id": "B", "relay_candidates": "1.2.3.4:5/TCP"},
        {"t": 1, "proto": "sip", "source": "cms", "direction": "out", "call_id": "B"},
    )
    assert [f.call_id for f in run(tmp_path, body, evs)] == ["A"]


def test_hex_any_reads_a_number_in_text(tmp_path):
    body = """\
        match:
          where:
            raw: {hex_any: {pattern: 'ICEWarn=(0x[0-9a-f]+)', bits: [0x200]}}
        """
    evs = events({"raw": "x ICEWarn=0x320 y"}, {"raw": "ICEWarn=0x120"}, {"raw": "ICEWarn=zz"}, {"raw": ""})
    assert [f.evidence[0].pos for f in run(tmp_path, body, evs)] == [1]


# --------------------------------------------------------------------------- sequence
SEQ = """\
    detail: "{relay} {offer.call_id}"
    sequence:
      steps:
        - name: alloc
          where: {proto: stun, event: Allocate Success Response}
          keys: {relay: relayed}
        - name: offer
          where: {proto: sip}
          keys: {relay: {column: relay_candidates, split: ";", regex: '^(.+)/TCP$'}}
          within: 10s
    """


def test_sequence_joins_on_aliased_keys_inside_lists(tmp_path):
    evs = events(
        {"t": 0, "proto": "stun", "event": "Allocate Success Response", "relayed": "10.0.0.1:24000"},
        {"t": 1, "proto": "sip", "call_id": "X", "relay_candidates": "10.0.0.2:1/UDP;10.0.0.1:24000/TCP"},
    )
    found = run(tmp_path, SEQ, evs)
    assert len(found) == 1
    f = found[0]
    assert f.call_id == "X"  # the SIP evidence names the call
    assert [e.pos for e in f.evidence] == [1, 2]
    assert f.ts == BASE + __import__("pandas").Timedelta(seconds=1)
    assert f.detail == "10.0.0.1:24000 X"
    assert finding_json(f)["detail"] == "10.0.0.1:24000 X"


def test_sequence_does_not_fire_on_other_key_wrong_order_or_too_late(tmp_path):
    evs = events(
        {"t": 0, "proto": "stun", "event": "Allocate Success Response", "relayed": "10.0.0.1:24000"},
        {"t": 1, "proto": "sip", "call_id": "X", "relay_candidates": "10.0.0.1:24000/UDP"},  # UDP, not TCP
        {"t": 2, "proto": "sip", "call_id": "Y", "relay_candidates": "10.0.0.9:24000/TCP"},  # other address
        {"t": 20, "proto": "sip", "call_id": "Z", "relay_candidates": "10.0.0.1:24000/TCP"},  # too late
        {"t": 30, "proto": "sip", "call_id": "W", "relay_candidates": "10.0.0.3:24000/TCP"},  # before its alloc
        {"t": 31, "proto": "stun", "event": "Allocate Success Response", "relayed": "10.0.0.3:24000"},
    )
    assert run(tmp_path, SEQ, evs) == []


def test_sequence_after_is_a_minimum_gap(tmp_path):
    body = """\
        sequence:
          join: [connection_id]
          steps:
            - {name: a, where: {event: ConnectionAttempt Indication}}
            - {name: b, where: {event: ConnectionBind Request}, after: 30s}
        """
    late = events({"t": 0, "event": "ConnectionAttempt Indication", "connection_id": 5},
                  {"t": 31, "event": "ConnectionBind Request", "connection_id": 5})
    early = events({"t": 0, "event": "ConnectionAttempt Indication", "connection_id": 5},
                   {"t": 1, "event": "ConnectionBind Request", "connection_id": 5})
    assert len(run(tmp_path, body, late)) == 1
    assert run(tmp_path, body, early) == []


# ----------------------------------------------------------------------------- absent
ABSENT = """\
    absent:
      join: [connection_id]
      steps:
        - {name: attempt, where: {event: ConnectionAttempt Indication}}
      not_followed_by: {name: bind, where: {event: ConnectionBind Request}, within: 30s}
    """


def test_absent_fires_when_nothing_follows_in_time(tmp_path):
    evs = events(
        {"t": 0, "event": "ConnectionAttempt Indication", "connection_id": 1},
        {"t": 0.1, "event": "ConnectionBind Request", "connection_id": 1},
        {"t": 1, "event": "ConnectionAttempt Indication", "connection_id": 2},
        {"t": 40, "event": "ConnectionBind Request", "connection_id": 2},
        {"t": 2, "event": "ConnectionAttempt Indication", "connection_id": 3},
        {"t": 3, "event": "ConnectionBind Request", "connection_id": 4},
    )
    found = run(tmp_path, ABSENT, evs)
    assert sorted(f.evidence[0].pos for f in found) == [3, 5]


def test_absent_with_unordered_pair_keys(tmp_path):
    body = """\
        absent:
          steps:
            - {name: bound, where: {event: ConnectionBind Success Response}, keys: {conn: {pair: [src, dst]}}}
          not_followed_by:
            name: check
            where: {event: Binding Request}
            keys: {conn: {pair: [src, dst]}}
            within: 30s
        """
    ok = events({"t": 0, "event": "ConnectionBind Success Response", "src": "A:1", "dst": "B:2"},
                {"t": 1, "event": "Binding Request", "src": "A:1", "dst": "B:2"})
    reverse = events({"t": 0, "event": "ConnectionBind Success Response", "src": "A:1", "dst": "B:2"},
                     {"t": 1, "event": "Binding Request", "src": "B:2", "dst": "A:1"})
    other = events({"t": 0, "event": "ConnectionBind Success Response", "src": "A:1", "dst": "B:2"},
                   {"t": 1, "event": "Binding Request", "src": "C:3", "dst": "A:1"})
    assert run(tmp_path, body, ok) == []
    assert run(tmp_path, body, reverse) == []
    assert len(run(tmp_path, body, other)) == 1


def test_requires_keeps_a_rule_quiet_without_its_kind_of_data(tmp_path):
    body = """\
        requires: {proto: stun}
        absent:
          steps: [{name: invite, where: {proto: sip, event: INVITE}}]
          not_followed_by: {name: alloc, where: {event: Allocate Request}, within: 5s}
        """
    sip_only = events({"t": 0, "proto": "sip", "event": "INVITE", "call_id": "Q"})
    with_stun = events({"t": 0, "proto": "sip", "event": "INVITE", "call_id": "Q"},
                       {"t": 9, "proto": "stun", "event": "Binding Request"})
    assert run(tmp_path, body, sip_only) == []
    assert [f.call_id for f in run(tmp_path, body, with_stun)] == ["Q"]


# ------------------------------------------------------------------------------ count
def test_count_at_least_within_a_window_per_key(tmp_path):
    body = """\
        count:
          where: {error_code: 401}
          keys: {client: dst}
          within: 10s
          at_least: 3
        """
    evs = events(
        *[{"t": t, "error_code": 401, "dst": "A"} for t in (0, 1, 2, 3)],
        *[{"t": t, "error_code": 401, "dst": "B"} for t in (0, 20, 40)],
        *[{"t": t, "error_code": 401, "dst": "C"} for t in (0, 1)],
    )
    found = run(tmp_path, body, evs)
    assert len(found) == 1
    assert [e.pos for e in found[0].evidence] == [1, 2, 3, 4]


def test_count_at_most_with_for_each(tmp_path):
    body = """\
        count:
          for_each:
            where: {event: Binding Request}
            keys: {a: src, b: dst}
          where: {event: Binding Success Response}
          keys: {a: dst, b: src}
          within: 5s
          at_most: 0
        """
    evs = events(
        {"t": 0, "event": "Binding Request", "src": "X", "dst": "Y"},
        {"t": 0.1, "event": "Binding Success Response", "src": "Y", "dst": "X"},
        {"t": 1, "event": "Binding Request", "src": "Y", "dst": "X"},
        {"t": 1.5, "event": "Binding Request", "src": "Y", "dst": "X"},
        {"t": 1.2, "event": "Binding Success Response", "src": "Y", "dst": "X"},  # wrong direction
    )
    found = run(tmp_path, body, evs)
    assert len(found) == 1 and found[0].evidence[0].pos == 3
    body2 = body.replace("at_most: 0", "at_most: 1")
    evs2 = events(
        {"t": 0, "event": "Binding Request", "src": "X", "dst": "Y"},
        {"t": 0.1, "event": "Binding Success Response", "src": "Y", "dst": "X"},
        {"t": 0.2, "event": "Binding Success Response", "src": "Y", "dst": "X"},
        {"t": 9, "event": "Binding Request", "src": "X", "dst": "Z"},
        {"t": 9.1, "event": "Binding Success Response", "src": "Z", "dst": "X"},
    )
    found = run(tmp_path / "2", body2, evs2)
    assert [f.evidence[0].pos for f in found] == [4]


# ------------------------------------------------------------------------------- call
CALL = """\
    call:
      where: {media: {contains: applicationsharing}}
      seen: [ice-checks]
      missing: [reinvite]
    """


def _call(reinvite_state, media="applicationsharing", call_id="C1"):
    checks = Evidence(file="c.pcap", pos=7, summary="Binding Success Response")
    return Call(call_id=call_id, media=media, start=pd.Timestamp("2024-03-01T10:00:00Z"), stage="ice-checks",
                steps=[Step("ice-checks", "seen", pd.Timestamp("2024-03-01T10:00:05Z"), [checks]),
                       Step("reinvite", reinvite_state)])


def test_call_block_reads_call_objects(tmp_path):
    evs = events()
    calls = [_call("missing"), _call("seen", call_id="C2"), _call("missing", "audio", call_id="C3")]
    found = run(tmp_path, CALL, evs, calls=calls)
    assert len(found) == 1
    f = found[0]
    assert f.call_id == "C1" and f.ts == pd.Timestamp("2024-03-01T10:00:05Z")
    assert f.evidence == [Evidence(file="c.pcap", pos=7, summary="Binding Success Response")]
    assert finding_json(f)["ts"] == "2024-03-01T10:00:05.000Z"
    assert run(tmp_path, CALL, evs, calls=None) == []


def test_call_block_without_a_step_time_takes_the_call_start(tmp_path):
    call = _call("missing")
    call.steps[0].ts = None
    (f,) = run(tmp_path, CALL, events(), calls=[call])
    assert f.ts == call.start


def test_empty_and_partial_event_tables(tmp_path):
    import pandas as pd

    from logcorr.events.schema import empty_frame

    write_rule(tmp_path, "t-rule", body=ABSENT)
    rs = load_rules([tmp_path])
    assert evaluate(rs, empty_frame()) == []
    partial = pd.DataFrame({"ts": [BASE], "event": ["ConnectionAttempt Indication"], "connection_id": [9]})
    (f,) = evaluate(rs, partial)
    assert f.ts == BASE and f.evidence[0].file == ""
