"""--redact: every identifying value of a case is replaced in every output, by a stable pseudonym
readable by its kind, and the diagnosis is the same as without it."""
from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

import redact_case
from logcorr import api
from logcorr.cli import app
from logcorr.events import schema
from logcorr.events.read import ReadResult, SourceReport
from logcorr.events.capture import stun
from logcorr.report.redact import Redactor, redact

runner = CliRunner()


def run(*args) -> str:
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Every command and format run once on the planted bundle, with and without --redact."""
    folder = tmp_path_factory.mktemp("redact")
    bundle = redact_case.build(folder)
    out = {"map": folder / "map.csv"}
    out["text"] = run("diagnose", bundle, "--redact", "--xlsx", folder / "r.xlsx", "--redact-map", out["map"])
    out["json"] = run("diagnose", bundle, "--redact", "--json", "--no-xlsx")
    out["plain_json"] = run("diagnose", bundle, "--json", "--no-xlsx")
    run("events", bundle, "--redact", "-o", folder / "e.csv")
    run("events", bundle, "--redact", "--format", "jsonl", "-o", folder / "e.jsonl")
    run("events", bundle, "-o", folder / "plain.csv")
    out["plain_csv"] = (folder / "plain.csv").read_text(encoding="utf-8")
    out["csv"] = (folder / "e.csv").read_text(encoding="utf-8")
    out["jsonl"] = (folder / "e.jsonl").read_text(encoding="utf-8")
    out["ladder"] = run("ladder", bundle, "--redact")
    out["plain_ladder"] = run("ladder", bundle)
    with zipfile.ZipFile(folder / "r.xlsx") as zf:
        out["xlsx"] = "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml"))
    out["bundle"] = bundle
    return out


SHARED = ("text", "json", "csv", "jsonl", "ladder", "xlsx")


@pytest.mark.parametrize("kind", sorted(redact_case.SECRETS))
def test_no_original_in_any_output(case, kind):
    for secret in redact_case.SECRETS[kind]:
        assert secret in case["plain_csv"] + case["plain_json"], f"{secret!r} was not planted"
        for name in SHARED:
            text = case[name]
            if kind in redact_case.CASE_SENSITIVE:
                assert secret not in text, f"{kind} {secret!r} in {name}"
            else:
                assert secret.lower() not in text.lower(), f"{kind} {secret!r} in {name}"


def test_the_json_unescaped_holds_no_original_either(case):
    text = json.dumps(json.loads(case["json"]), ensure_ascii=False)
    assert "Zoë" not in text and "2a02:" not in text


def test_diagnosis_is_the_same_with_and_without_redact(case):
    plain, shared = json.loads(case["plain_json"]), json.loads(case["json"])
    assert [f["rule"] for f in plain["findings"]] == [f["rule"] for f in shared["findings"]]
    assert [f["severity"] for f in plain["findings"]] == [f["severity"] for f in shared["findings"]]
    assert [c["stage"] for c in plain["calls"]] == [c["stage"] for c in shared["calls"]]
    assert [[(s["step"], s["state"], s["ts"]) for s in c["steps"]] for c in plain["calls"]] == \
           [[(s["step"], s["state"], s["ts"]) for s in c["steps"]] for c in shared["calls"]]
    share = next(c for c in shared["calls"] if c["media"] == "applicationsharing")
    assert share["stage"] == "reinvite"  # the ICE USERNAMEs still match the SDPs' ufrags
    ice = next(s for s in share["steps"] if s["step"] == "ice-checks")
    assert "match the SDPs" in ice["note"] and "ufrag-" in ice["note"]
    assert len(case["plain_ladder"].splitlines()) == len(case["ladder"].splitlines())


def test_pseudonyms_are_readable_by_role_and_stable(case):
    text = case["text"]
    assert "CMS cms-1" in text and "Expressway-E expressway-e-1" in text and "SfB Edge sfb-edge-1" in text
    assert "logcorr diagnosis of bundle-1.zip" in text
    assert "user-" in case["csv"] and "@domain-" in case["csv"]
    # the same relay address in the step note, the ladder and the event table
    relay = next(line for line in text.splitlines() if "allocate-success" in line).split("relayed ")[1]
    assert relay in case["ladder"] and relay in case["csv"]
    head = case["ladder"].splitlines()[1]
    assert "CMS cms-1" in head and "SfB Edge sfb-edge-1" in head and "Expressway-E" in head


def test_records_keep_their_form(case):
    events = pd.read_csv(io.StringIO(case["csv"]), keep_default_na=False)
    cms = events[(events["source"] == "cms") & (events["proto"] == "log")]
    assert cms["raw"].str.match(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{3} ").all()
    assert cms["raw"].str.contains(r"postgres\[55485\]: \[6-1\] 2026-11-24 14:47:37\.502 UTC \[55485\]").any()
    assert (events["call_id"] == "b2a211220e344c0a909219a73ad9991d").any()
    assert events["cseq"].str.match(r"^\d*$").all()
    assert set(events["event"]) >= {"Allocate Request", "ConnectionBind Request", "INVITE"}
    sip = events[(events["proto"] == "sip") & (events["call_id"] == "b2a211220e344c0a909219a73ad9991d")]
    assert sip["raw"].str.contains(r"\nCSeq: \d+ INVITE", regex=True).any()


def test_the_map_names_every_original_and_is_not_shared(case):
    table = pd.read_csv(case["map"], keep_default_na=False)
    originals = set(table["original"])
    for kind in ("ipv4", "host", "user", "ice"):
        for secret in redact_case.SECRETS[kind]:
            assert secret in originals
    assert table.loc[table["original"] == "cms01", "pseudonym"].item() == "cms-1"
    assert "'+4915201234567" in originals  # a spreadsheet does not take it for a formula
    assert "pseudonym" not in case["text"] and str(case["map"]) not in case["text"]


def test_stun_messages_are_rewritten_not_dropped(case):
    events = pd.read_json(io.StringIO(case["jsonl"]), lines=True, dtype=False)
    wire = events[(events["proto"] == "stun") & events["file"].str.endswith("_turn.pcap")]
    decoded = [stun.decode(bytes.fromhex(h)) for h in wire["raw"]]
    assert all(m is not None for m in decoded)
    allocate, success, check = decoded
    assert allocate.username.startswith("turn-user-") and allocate.realm.startswith("realm-")
    assert success.relayed.startswith("[2001:db8::") and success.mapped == wire["mapped"].iloc[1]
    assert check.username == wire["username"].iloc[2] and check.username.startswith("ufrag-")


# -- one test per kind of value, on the text as the sources write it ------------------------------
def redacted(*texts: str, events: pd.DataFrame | None = None) -> list[str]:
    r = Redactor()
    for t in texts:
        r._learn_text(t)
    if events is not None:
        r._learn_frame(events)
    return [r.text(t) for t in texts]


def test_ipv4_addresses_keep_their_ports_and_nothing_else_changes():
    line = "Nov 24 14:53:41.302 local0.info cms01 postgres[1234]: from 10.48.54.228:5061 to 10.48.54.2 (110.48.54.22) v9.14.1.1"
    out, = redacted(line)
    assert "10.48.54.228" not in out and ":5061" in out
    assert out.startswith("Nov 24 14:53:41.302 ") and "postgres[1234]" in out
    assert "v9.14.1.1" in out
    first, second = out.split("from ")[1].split(" to ")
    assert first.split(":")[0] != second.split(" ")[0]  # two addresses, two pseudonyms
    assert "255.255.255.0" in redacted("mask 255.255.255.0 of 10.1.1.1")[0]


def test_ipv6_addresses_in_every_spelling():
    out, = redacted("Via: SIP/2.0/TLS [2a02:1234:5678:9abc::45]:5061 c=IN IP6 2a02:1234:5678:9abc:0:0:0:46 "
                    "fe80::21c:7fff:fe22:3e4b at 14:53:41 ::1")
    assert "2a02:" not in out and "fe80::21c" not in out
    assert "]:5061" in out and "[2001:db8::" in out
    assert "14:53:41" in out and "::1" in out


def test_host_names_and_domains_read_as_their_role():
    r = Redactor()
    events = schema.to_frame([{"source": "cms", "host": "cms01", "proto": "sip", "event": "INVITE", "direction": "in",
                               "src": "expe01.corp.lab:5061", "dst": "10.48.54.230:5061"}])
    r.learn(ReadResult(input="case.zip", events=events, sources=[], skipped=[], notes=[]))
    assert r.text("cms01 got it from expe01.corp.lab") == "cms-1 got it from host-1.domain-1"
    assert r.text("CMS01") == "cms-1"


def test_sip_uris_in_full_and_bare_aliases():
    out = redacted('Src-alias="alice@skype.lab" Dst-alias="sip:weekly.review@meet.corp.lab;transport=tls"',
                   'participant "2001@corp.lab" joined',
                   "To: <sips:bob@skype.lab:5061>", "Contact: <sip:10.48.54.230:5060;transport=tcp>")
    text = "\n".join(out)
    for original in ("alice", "skype.lab", "weekly.review", "corp.lab", "2001@", "bob", "10.48.54.230"):
        assert original not in text
    assert "sips:user-" in text and ":5061>" in text and ";transport=tls" in text


def test_call_ids_keep_their_form():
    out, = redacted("Call-ID: 134b9c8d-78d1084a-1849b062-eb3525b3@10.48.54.10\nFrom: <sip:alice@skype.lab>")
    assert "Call-ID: 134b9c8d-78d1084a-1849b062-eb3525b3@10.0.0.1" in out


def test_display_names_quoted_and_bare():
    out = "\n".join(redacted('From: "Alice Martin"<sip:alice@skype.lab>;tag=1',
                             "P-Asserted-Identity: Lukas Brandt <sip:lb@skype.lab>"))
    assert "Alice Martin" not in out and "Lukas Brandt" not in out and '"name-1"<sip:' in out


def test_phone_numbers_long_and_short():
    out = "\n".join(redacted("P-Asserted-Identity: <tel:+4915201234567>", "calling +4930555123 now",
                             "Src-alias=sip:1001@10.1.1.1 CSeq: 1001 INVITE port 1001"))
    assert "4915201234567" not in out and "4930555123" not in out
    assert "sip:number-" in out and "CSeq: 1001 INVITE port 1001" in out  # a short number only where it was seen


def test_meeting_and_space_names_and_conference_ids():
    out = "\n".join(redacted('conference 5b7c1e2a-9d3f-4a6b-8c2d-1e0f9a8b7c6d named "Board Review Q4"',
                             "participant \"x@y.lab\" joined space 5b7c1e2a-9d3f-4a6b-8c2d-1e0f9a8b7c6d (9999)",
                             "INVITE sip:conf@skype.lab;gruu;opaque=app:conf:focus:id:7QK4R2ZD SIP/2.0"))
    assert "Board Review" not in out and "5b7c1e2a" not in out and "9999" not in out and "7QK4R2ZD" not in out
    assert "(space-" in out


def test_ice_credentials_of_sdp_and_stun():
    sdp = "a=ice-ufrag:skyP\r\na=ice-pwd:skypeIcePassword98765432\r\na=candidate:4ND7 1 PWD9+xy UDP 0.830 10.1.1.1 5000"
    events = schema.to_frame([{"source": "pcap", "proto": "stun", "event": "Binding Request", "username": "cmsU:skyP",
                               "summary": "Binding Request user: cmsU:skyP"}])
    r = Redactor()
    r._learn_frame(events)
    r._learn_text(sdp)
    out = r.text(sdp) + r.frame(events)["summary"][0]
    assert "skyP" not in out and "cmsU" not in out and "skypeIcePassword" not in out and "PWD9+xy" not in out
    assert r.text("cmsU:skyP") == r.frame(events)["username"][0]


def test_turn_user_names_and_realms_but_not_the_defaults():
    events = schema.to_frame([{"source": "pcap", "proto": "stun", "event": "Allocate Request", "username": "acme-turn",
                               "realm": "acme.example"},
                              {"source": "pcap", "proto": "stun", "event": "Allocate Request", "username": "x",
                               "realm": "TANDBERG"}])
    r = Redactor()
    r._learn_frame(events)
    out = r.frame(events)
    assert list(out["username"]) == ["turn-user-1", "x"] and out["realm"][1] == "TANDBERG"
    assert "acme" not in out["realm"][0]


def test_gruus_epids_and_srtp_keys():
    out, = redacted("Contact: <sip:a@b.lab;opaque=user:epid:ZZ34NAF8kEdFoMlocbuXstAA;gruu>;+sip.instance=\"<urn:uuid:8f2d0a4e-5b6c-4d7e-9f10-112233445566>\""
                    "\nFrom: <sip:a@b.lab>;tag=1;epid=8d38e8ee7c\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:37F2nSDQO0QtCtqv67T7n7TYjpZxf9kugKw53wYc|2^31|1:1")
    assert "ZZ34NAF8" not in out and "8f2d0a4e" not in out and "8d38e8ee7c" not in out and "37F2nSDQ" not in out
    assert "inline:key-1|2^31|1:1" in out and "+sip.instance" in out


def test_certificate_subjects():
    out, = redacted('peer certificate subject "CN=edge01.contoso.example, O=Contoso GmbH, OU=UC, L=Springfield"')
    assert "Contoso" not in out and "contoso" not in out and "Springfield" not in out and "edge01" not in out


def test_file_names_and_the_bundle_path():
    events = schema.to_frame([{"source": "cms", "host": "cms01", "file": "ACME-4711.zip!cms01/syslog", "proto": "log",
                               "event": "x"}])
    result = ReadResult(input="/home/jdoe/cases/ACME-4711.zip", events=events, notes=[], skipped=[],
                        sources=[SourceReport(file="ACME-4711.zip!cms01/syslog", kind="cms")])
    shared, _ = redact(result)
    assert shared.input == "bundle-1.zip" and shared.sources[0].file == "bundle-1.zip!host-1/syslog"
    assert shared.events["file"][0] == shared.sources[0].file and result.events["file"][0].startswith("ACME")


def test_the_analysis_reads_the_original_data():
    d = api.diagnose(redact_case.SHARE_OK)
    shared, r = redact(d)
    assert d.events["host"].isin(["cms01"]).any() and not shared.events["host"].isin(["cms01"]).any()
    assert [f.rule for f in d.findings] == [f.rule for f in shared.findings]
    share = next(i for i, c in enumerate(d.calls) if c.steps)
    assert shared.rules is d.rules and shared.calls[share].steps != d.calls[share].steps
    assert [s.name for s in shared.calls[share].steps] == [s.name for s in d.calls[share].steps]


def test_a_map_that_cannot_be_written_is_one_line(tmp_path):
    r = runner.invoke(app, ["events", str(redact_case.SHARE_OK), "-o", str(tmp_path / "e.csv"),
                            "--redact-map", str(tmp_path / "missing" / "map.csv")])
    assert r.exit_code != 0 and "cannot write the redaction map" in str(r.exception or r.output)
