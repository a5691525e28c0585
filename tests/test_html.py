"""The HTML report: parsed back with lxml, it holds one SVG sequence diagram per presentation call,
the findings with their evidence, each cited record's full text once, nothing from the network,
hostile text as text, and with --redact no original address or host."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from typer.testing import CliRunner

import redact_case
from logcorr import api
from logcorr.cli import app
from logcorr.model import Evidence
from logcorr.report import html, ladder, show

CASES = Path(__file__).parent / "cases"
NO_BIND = CASES / "no-connectionbind" / "bundle.zip"
SHARE_OK = CASES / "share-ok" / "share-ok.zip"
runner = CliRunner()


@pytest.fixture(scope="module")
def no_bind(tmp_path_factory):
    d = api.diagnose(NO_BIND)
    out = html.write(d, NO_BIND, tmp_path_factory.mktemp("html") / "r.html")
    return d, out.read_text(encoding="utf-8")


def parse(text: str):
    return lxml_html.document_fromstring(text)


def messages(doc) -> dict[str, str]:
    return {pre.get("id"): pre.text_content() for pre in doc.xpath("//div[@id='messages']/pre")}


def test_one_diagram_per_presentation_call_with_lanes_steps_and_the_missing_message(no_bind):
    d, text = no_bind
    doc = parse(text)
    svgs = doc.xpath("//svg")
    presentation = [c for c in d.calls if c.presentation]
    assert len(svgs) == len(presentation) == 1
    svg = svgs[0]
    lanes = [t.text_content() for t in svg.xpath(".//text[@class='lane-label']")]
    assert lanes[-2:] == ["Expressway-C", "CMS cms01"] and "Expressway-E expe01" in lanes
    assert lanes.index("SfB Edge sfbedge01") < lanes.index("Expressway-E expe01")
    rows = svg.xpath(".//g[contains(@class, 'row')]")
    drawn = ladder.Ladder(d.events, d.roles, d.findings).rows(presentation[0])
    assert len(rows) == len(drawn)
    assert {r.get("class").split()[1] for r in rows} == {"proto-sip", "proto-stun"}
    missing = svg.xpath(".//g[@class='missing']")[0].text_content()
    assert "missing: ConnectionBind Request" in missing and "10. connection-bind" in missing
    # the dashed arrow comes right after the ConnectionAttempt it answers, drawn from CMS to the relay
    line = svg.xpath(".//g[@class='missing']/line")[0]
    arrows = sorted((float(g.xpath("./line|./path")[0].get("y1") or g.xpath("./text")[0].get("y")),
                     g.xpath(".//text[contains(@class, 'msg-label')]")[0].text_content()) for g in rows)
    above = [what for y, what in arrows if y < float(line.get("y1"))]
    assert above[-1].startswith("ConnectionAttempt Indication") and len(above) < len(arrows)
    lane_x = {t.text_content(): float(t.get("x")) for t in svg.xpath(".//text[@class='lane-label']")}
    assert (float(line.get("x1")), float(line.get("x2"))) == (lane_x["CMS cms01"], lane_x["Expressway-E expe01"])
    # the step table marks where the flow stopped
    failing = doc.xpath("//tr[contains(@class, 'failing')]")
    assert len(failing) == 1 and "connection-bind" in failing[0].text_content()


def test_findings_carry_explanation_fix_and_openable_evidence(no_bind):
    d, text = no_bind
    doc = parse(text)
    shown = messages(doc)
    for f in d.findings:
        article = doc.xpath(f"//article[contains(@class, 'finding')][.//code[@class='rule' and text()='{f.rule}']]")
        assert len(article) == 1, f.rule
        body = article[0].text_content()
        assert f.explanation in body and f.fix in body and f.title in body
        links = article[0].xpath(".//a[@data-m]")
        assert len(links) == len(f.evidence)
        for a, e in zip(links, f.evidence):
            assert a.get("title") == f"{e.file}:{e.pos}" and a.text_content().endswith(f":{e.pos}")
            assert a.get("href") == "#" + a.get("data-m") and a.get("data-m") in shown
    cause = d.findings[0]
    attempt = shown[doc.xpath(f"//article[.//code[text()='{cause.rule}']]//a/@data-m")[0]]
    assert "ConnectionAttempt Indication" in attempt and "CONNECTION-ID: 0x5688b600" in attempt


def test_every_arrow_opens_a_message_embedded_once_as_show_prints_it(no_bind):
    d, text = no_bind
    doc = parse(text)
    shown = messages(doc)
    where = [pre.get("data-where") for pre in doc.xpath("//div[@id='messages']/pre")]
    assert len(where) == len(set(where)) == len(shown)  # one record, one text
    opened = set(doc.xpath("//*[@data-m]/@data-m"))
    assert opened <= set(shown)
    arrows = doc.xpath("//svg//g[contains(@class, 'row')]")
    assert all(g.get("data-m") in shown for g in arrows)
    first = next(p for p in html.positions(d) if p[0].endswith("syslog"))
    expected = show.texts(NO_BIND, [first])[first]
    pre = doc.xpath(f"//pre[@data-where='{first[0]}:{first[1]}']")[0]
    assert pre.text_content() == expected and "Call-ID:" in expected


def test_nothing_is_loaded_from_the_network(no_bind):
    _, text = no_bind
    doc = parse(text)
    assert not doc.xpath("//@src")
    assert all(h.startswith("#") for h in doc.xpath("//@href"))
    assert not re.search(r"url\(|@import|<link\b", text)
    assert "default-src 'none'" in text  # and the page tells the browser so
    assert len(text) < 1_000_000


def test_hostile_text_stays_text(tmp_path):
    d = copy.deepcopy(api.diagnose(NO_BIND))
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    cms = next(h for h in d.hosts if h.role == "CMS")
    cms.label = evil
    d.findings[0].title = evil
    d.findings[0].evidence.append(Evidence(file=evil, pos=1, summary=evil))
    d.calls[0].summary = evil
    page = html.render(d, {(evil, 1): "</pre>" + evil}, redacted=False)
    doc = parse(page)
    assert len(doc.xpath("//script")) == 1 and not doc.xpath("//img")  # only the page's own script
    assert evil in doc.xpath("//svg//text[@class='lane-label']/text()")
    assert evil in [t.text_content().strip() for t in doc.xpath("//span[@class='ev-summary']")]
    assert "</pre>" + evil in messages(doc).values()


def test_redacted_page_holds_no_original(tmp_path):
    bundle = redact_case.build(tmp_path)
    out = tmp_path / "shared.html"
    r = runner.invoke(app, ["report", str(bundle), "--html", str(out), "--redact"])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    low = page.lower()
    for kind, secrets in redact_case.SECRETS.items():
        for secret in secrets:
            found = secret in page if kind in redact_case.CASE_SENSITIVE else secret.lower() in low
            assert not found, f"{kind} {secret!r} left in the page"
    doc = parse(page)
    assert doc.xpath("//svg") and messages(doc)
    assert set(doc.xpath("//*[@data-m]/@data-m")) <= set(messages(doc))  # evidence keys were redacted alike


def test_show_redact_hides_hosts_named_by_file_names_and_agrees_with_the_diagnosis():
    r = runner.invoke(app, ["show", str(SHARE_OK), "pcap:83", "--redact"])
    assert r.exit_code == 0, r.output
    for secret in ("expe01", "cms01", "10.48.54.229", "10.48.54.230", "share-ok"):
        assert secret not in r.stdout
    ladder_text = runner.invoke(app, ["ladder", str(SHARE_OK), "--redact"]).stdout
    relay = re.search(r"Frame 83: .*\n\s+IPv4 (\S+) ->", r.stdout).group(1)
    assert f"relayed {relay}:" in ladder_text  # the Expressway-E has one pseudonym in both


def test_report_command_errors_are_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["report", str(empty), "--html", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "nothing readable" in r.output
    assert not (tmp_path / "x.html").exists()


def test_diagram_model_without_a_failure_has_no_missing_message():
    d = api.diagnose(SHARE_OK)
    call = next(c for c in d.calls if c.presentation)
    g = ladder.Ladder(d.events, d.roles, d.findings).diagram(call)
    assert g.failing == "" and g.missing is None
    assert [lane.role for lane in g.lanes] == ["unknown", "SfB Edge", "Expressway-E", "Expressway-C", "CMS"]
    steps = {r["step"] for r in g.rows}
    assert {"allocate", "connection-bind", "ice-checks", "reinvite"} <= steps


def test_diagnose_writes_the_page_beside_the_text(tmp_path):
    out = tmp_path / "case.html"
    r = runner.invoke(app, ["diagnose", str(NO_BIND), "--no-xlsx", "--html", str(out)])
    assert r.exit_code == 0, r.output
    assert f"HTML report: {out}" in r.stdout and "turn-missing-connectionbind" in out.read_text()
    again = runner.invoke(app, ["diagnose", str(NO_BIND), "--no-xlsx", "--html", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    r = runner.invoke(app, ["diagnose", str(SHARE_OK), "--no-xlsx", "--redact", "--force", "--html", str(out)])
    assert r.exit_code == 0 and "expe01" not in out.read_text() and "10.48.54.230" not in out.read_text()


def test_diagnose_redacts_the_page_and_the_text_with_one_vocabulary(tmp_path):
    bundle = redact_case.build(tmp_path)
    out = tmp_path / "shared.html"
    r = runner.invoke(app, ["diagnose", str(bundle), "--no-xlsx", "--redact", "--html", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    for kind, secrets in redact_case.SECRETS.items():
        for secret in secrets:
            for text, where in ((r.stdout, "text"), (page, "page")):
                found = secret in text if kind in redact_case.CASE_SENSITIVE else secret.lower() in text.lower()
                assert not found, f"{kind} {secret!r} left in the {where}"
    hosts = r.stdout.split("\nHosts:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    addresses = {line.split()[0].rstrip(",") for line in hosts}
    assert addresses and all(a in page for a in addresses), (addresses, hosts)  # the same pseudonyms
