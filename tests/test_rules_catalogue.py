"""The shipped catalogue: every rule valid, every example holds, contract ids present."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from logcorr.report.json_report import finding as finding_json
from logcorr.rules import check_rules, default_rules_dir, evaluate, load_rules
from rules_helpers import write_rule

SHIPPED = Path(__file__).resolve().parent.parent / "rules"

CONTRACT_IDS = {
    "presenter-rights": "error", "turn-missing-connectionbind": "error",
    "turn-connectionbind-late": "error", "turn-connectionbind-failed": "error",
    "sdp-no-relay-candidate": "error", "turn-no-allocation": "error", "turn-auth-failed": "error",
    "turn-wrong-credentials": "error", "turn-allocation-quota": "error",
    "turn-insufficient-capacity": "error", "turn-allocation-mismatch": "warning",
    "turn-no-peer-connection": "error", "ice-checks-one-way": "error", "ice-no-checks": "warning",
    "no-reinvite-after-ice": "warning", "share-invite-rejected": "error",
    "sfb-client-ice-warning": "warning", "cms-ice-failure": "error",
}


def test_default_rules_dir_is_the_repository_catalogue():
    assert default_rules_dir().resolve() == SHIPPED


def test_every_shipped_rule_loads_and_every_example_holds():
    assert check_rules([SHIPPED]) == []


def test_contract_ids_and_severities():
    rs = load_rules([SHIPPED])
    got = {r.id: r.severity for r in rs.rules}
    for rule_id, severity in CONTRACT_IDS.items():
        assert got.get(rule_id) == severity, rule_id
    assert len(rs.rules) > len(CONTRACT_IDS)  # plus the extras
    for r in rs.rules:
        assert r.references and r.explanation and r.fix and r.tags, r.id


def test_check_rules_reports_a_wrong_example(tmp_path):
    shutil.copy(SHIPPED / "turn-wrong-credentials.yaml", tmp_path)
    path = tmp_path / "turn-wrong-credentials.yaml"
    text = path.read_text()
    assert "  - name: success response\n    expect: 0" in text
    path.write_text(text.replace("  - name: success response\n    expect: 0",
                                 "  - name: success response\n    expect: 2"))
    failures = check_rules([tmp_path])
    assert len(failures) == 1
    assert "example 'success response' expected 2 finding(s), got 0" in failures[0]
    assert failures[0].startswith(str(path) + ":")


def test_check_rules_reports_load_errors_too(tmp_path):
    write_rule(tmp_path, "broken", body="match:\n  where: {nosuch: 1}\n")
    (failure,) = check_rules([tmp_path])
    assert "unknown column 'nosuch'" in failure


def test_override_by_id_changes_what_fires(tmp_path):
    """--rules DIR style: a local rule with a shipped id replaces the shipped one."""
    write_rule(tmp_path, "turn-allocation-mismatch",
               header=(SHIPPED / "turn-allocation-mismatch.yaml").read_text().split("match:")[0]
               .replace("severity: warning", "severity: info"))
    rs = load_rules([SHIPPED, tmp_path])
    assert rs.get("turn-allocation-mismatch").severity == "info"
    assert rs.ids.count("turn-allocation-mismatch") == 1


def test_seed_flow_raises_nothing_and_the_seed_failure_is_named():
    """The seed capture's good flow (CONTRACT step names 1-13) gives no finding at all."""
    t0 = pd.Timestamp("2017-08-17T06:03:51.900Z")
    cms, exp = "10.48.54.230", "10.48.54.229"
    rows = [
        (0.000, dict(source="cms", proto="sip", direction="in", event="INVITE", method="INVITE", call_id="as@sfb", sdp_media="applicationsharing")),
        (0.066, dict(source="pcap", proto="stun", transport="TCP", event="Allocate Request", src=f"{cms}:50001", dst=f"{exp}:3478", txn_id="1" * 24)),
        (0.068, dict(source="pcap", proto="stun", transport="TCP", event="Allocate Error Response", error_code=401, realm="TANDBERG", src=f"{exp}:3478", dst=f"{cms}:50001", txn_id="1" * 24)),
        (0.069, dict(source="pcap", proto="stun", transport="TCP", event="Allocate Request", username="turn", realm="TANDBERG", src=f"{cms}:50001", dst=f"{exp}:3478", txn_id="2" * 24)),
        (0.185, dict(source="pcap", proto="stun", transport="TCP", event="Allocate Success Response", relayed=f"{exp}:24000", lifetime=600, src=f"{exp}:3478", dst=f"{cms}:50001", txn_id="2" * 24)),
        (0.186, dict(source="pcap", proto="stun", transport="TCP", event="Refresh Request", username="turn", src=f"{cms}:50001", dst=f"{exp}:3478", txn_id="3" * 24)),
        (0.273, dict(source="pcap", proto="stun", transport="TCP", event="Refresh Success Response", src=f"{exp}:3478", dst=f"{cms}:50001", txn_id="3" * 24)),
        (0.300, dict(source="cms", proto="sip", direction="out", event="200 INVITE", method="INVITE", status=200, call_id="as@sfb", sdp_media="applicationsharing", relay_candidates=f"{exp}:24000/TCP")),
        (0.400, dict(source="cms", proto="sip", direction="in", event="ACK", method="ACK", call_id="as@sfb")),
        (0.668, dict(source="pcap", proto="stun", transport="TCP", event="ConnectionAttempt Indication", peer="192.168.1.252:53577", connection_id=3187, src=f"{exp}:3478", dst=f"{cms}:50001", txn_id="4" * 24)),
        (0.719, dict(source="pcap", proto="stun", transport="TCP", event="ConnectionBind Request", connection_id=3187, username="turn", src=f"{cms}:50002", dst=f"{exp}:3478", txn_id="5" * 24)),
        (0.773, dict(source="pcap", proto="stun", transport="TCP", event="ConnectionBind Success Response", src=f"{exp}:3478", dst=f"{cms}:50002", txn_id="5" * 24)),
        (1.000, dict(source="pcap", proto="stun", transport="TCP", event="Binding Request", username="cmsU:skyU", src=f"{exp}:3478", dst=f"{cms}:50002", txn_id="6" * 24)),
        (1.010, dict(source="pcap", proto="stun", transport="TCP", event="Binding Success Response", src=f"{cms}:50002", dst=f"{exp}:3478", txn_id="6" * 24)),
        (1.020, dict(source="pcap", proto="stun", transport="TCP", event="Binding Request", username="skyU:cmsU", src=f"{cms}:50002", dst=f"{exp}:3478", txn_id="7" * 24)),
        (1.050, dict(source="pcap", proto="stun", transport="TCP", event="Binding Success Response", src=f"{exp}:3478", dst=f"{cms}:50002", txn_id="7" * 24)),
        (2.000, dict(source="cms", proto="sip", direction="out", event="INVITE", method="INVITE", call_id="as@sfb", sdp_media="applicationsharing")),
    ]
    records = [dict(ts=t0 + pd.Timedelta(seconds=t), file="seed", pos=i + 1, **r) for i, (t, r) in enumerate(rows)]
    from logcorr.events.schema import to_frame

    rs = load_rules([SHIPPED])
    assert evaluate(rs, to_frame(records)) == []
    # drop the ConnectionBind and everything after it: the seed-named failure appears
    broken = to_frame(records[:10])
    ids = {f.rule for f in evaluate(rs, broken)}
    assert ids == {"turn-missing-connectionbind"}


def _one(rule_id: str, *rows: dict):
    from logcorr.events.schema import to_frame

    rs = load_rules([SHIPPED])
    t0 = pd.Timestamp("2017-08-17T06:03:52Z")
    recs = [dict(ts=t0 + pd.Timedelta(seconds=r.pop("t", 0)), file="bundle.zip!cms/log", pos=10 + i, **r)
            for i, r in enumerate(rows)]
    return [f for f in evaluate(rs, to_frame(recs)) if f.rule == rule_id]


def test_icewarn_bits_are_decoded_in_the_finding():
    raw = ('ms-client-diagnostics: 24; reason="Call failed to establish due to a media connectivity '
           'failure when both endpoints are remote";CallerMediaDebug="application-sharing:ICEWarn=0x80200,LocalSite=1.2.3.4:5"')
    (f,) = _one("sfb-client-ice-warning", dict(source="sfb", proto="sip", event="BYE", call_id="c9", raw=raw))
    assert f.detail == ("ICEWarn 0x80200: 0x200 TCP allocate on TURN failed; "
                        "0x80000 TCP TURN connectivity failed")
    assert "media application-sharing" in f.explanation
    assert f.call_id == "c9"


def test_missing_connectionbind_finding_as_json():
    (f,) = _one("turn-missing-connectionbind",
                dict(t=0.568, source="pcap", proto="stun", event="ConnectionAttempt Indication",
                     peer="192.168.1.252:53577", connection_id=3187, summary="ConnectionAttempt Indication XOR-PEER-ADDRESS: 192.168.1.252:53577"))
    d = finding_json(f)
    assert d["ts"] == "2017-08-17T06:03:52.568Z"
    assert d["severity"] == "error" and d["call_id"] == ""
    assert d["evidence"] == [{"file": "bundle.zip!cms/log", "pos": 10,
                              "summary": "ConnectionAttempt Indication XOR-PEER-ADDRESS: 192.168.1.252:53577"}]
    assert d["detail"] == "CONNECTION-ID 0xc73, peer 192.168.1.252:53577"
    assert "{" not in d["explanation"] and "0xc73" in d["explanation"]


def test_presenter_rights_quotes_the_reason_and_names_the_call():
    diag = '21002;reason="Attendees cannot share in this conference";component="ASMCU"'
    (f,) = _one("presenter-rights", dict(source="cms", proto="sip", event="403 INVITE", status=403,
                                         call_id="as@sfb", ms_diagnostics=diag))
    assert f.call_id == "as@sfb"
    assert '"Attendees cannot share in this conference"' in f.explanation
