"""Host roles from every signal of a bundle, combined; a box with several addresses is one host."""
import shutil
from pathlib import Path

import lxml.html
import openpyxl
import pandas as pd

from logcorr import api
from logcorr.calls import hosts
from logcorr.events import schema
from logcorr.events.read import read_bundle
from logcorr.model import host_labels
from logcorr.report import excel, html, json_report, terminal

T0 = pd.Timestamp("2026-03-02T08:15:00Z")
SFB_UA = "UCCAPI/16.0.5387.1000 OC/16.0.5387.1000 (Skype for Business)"

# a lab unlike the cases': CMS 172.20.8.40, Expressway-C 172.20.8.30, Expressway-E inside 172.20.9.5
# outside 203.0.113.17, its cluster peer 172.20.9.6, SfB Edge 198.51.100.40, Front End 10.60.0.11,
# SfB client 10.60.4.77, CUCM 172.20.8.10
PATH_VIA = "172.20.8.30:5061;172.20.9.5:7001;198.51.100.40:5061;10.60.0.11:5061;10.60.4.77:50917"


def sip(parser, source, host, event, direction, src="", dst="", via="", xvia="", agent="", t=0.0, call="c1"):
    status = int(event.split()[0]) if event[0].isdigit() else None
    return {"ts": T0 + pd.Timedelta(seconds=t), "source": source, "parser": parser, "host": host,
            "proto": "sip", "event": event, "method": event.split()[-1], "status": status, "call_id": call,
            "cseq": "1", "direction": direction, "src": src, "dst": dst, "via": via, "expressway_via": xvia,
            "user_agent": agent}


def xconf(host, *settings):
    return [{"ts": None, "source": "expressway", "parser": "xconfig", "host": host, "proto": "log",
             "event": "xconfiguration", "summary": s} for s in settings]


def stun(event, src, dst, **kw):
    return {"ts": T0, "source": "pcap", "parser": "pcap", "host": "cap.pcap", "proto": "stun", "event": event,
            "src": src, "dst": dst, **kw}


def survey(rows) -> dict[str, object]:
    return {h.address: h for h in hosts.survey(schema.to_frame(rows))}


def roles(rows) -> dict[str, str]:
    return {a: h.role for a, h in survey(rows).items()}


def uccapi_rows(parser, via="10.60.4.77:50917"):
    """A client's UccApi log (or, with another parser, an SfB server's trace) of the same messages."""
    return [sip(parser, "sfb", "", "INVITE", "out", "10.60.4.77:50917", "198.51.100.40:5061",
                via=via, agent=SFB_UA),
            sip(parser, "sfb", "", "200 INVITE", "in", "198.51.100.40:5061", "10.60.4.77:50917",
                via=via, agent="Acano CallBridge")]


def test_a_uccapi_log_is_the_clients_own():
    got = roles(uccapi_rows("sfb_uccapi"))
    assert got["10.60.4.77"] == "SfB client"
    assert got["198.51.100.40"] == "SfB Edge"  # the server the client talks to


def test_the_same_messages_in_a_server_trace_name_the_server():
    got = roles(uccapi_rows("sfb_snooper", via="10.60.4.77:5061;10.60.0.11:5061;10.60.4.12:50917"))
    assert got["10.60.4.77"] == "SfB Edge" and got["10.60.4.12"] == "SfB client"


def test_a_real_uccapi_log_read_from_a_bundle_names_the_client(tmp_path, data_dir):
    shutil.copy(data_dir / "sfb" / "fixture-client-uccapi.txt", tmp_path)
    events = read_bundle(tmp_path).events
    assert set(events["parser"]) == {"sfb_uccapi"} and set(events["source"]) == {"sfb"}
    got = {h.address: h.role for h in hosts.survey(events)}
    assert got["192.168.103.35"] == "SfB client"  # its `From Local Address`, not an Edge


def test_a_dual_homed_expressway_is_one_host_with_two_addresses():
    rows = xconf("expe-ams", "SystemUnit Name: expe-ams", "Ethernet 1 IP V4 Address: 172.20.9.5",
                 "Ethernet 2 IP V4 Address: 203.0.113.17", "Ethernet 2 IP V4 StaticNAT Mode: On",
                 "Ethernet 2 IP V4 StaticNAT Address: 192.0.2.17", "Traversal Server TURN Mode: On",
                 "Traversal Server TURN Port: 443")
    rows.append(stun("Allocate Request", "172.20.8.40:50000", "203.0.113.17:443"))
    rows.append(stun("Allocate Success Response", "203.0.113.17:443", "172.20.8.40:50000",
                     relayed="203.0.113.17:61000"))
    found = hosts.survey(schema.to_frame(rows))
    edge = next(h for h in found if h.role == "Expressway-E")
    assert (edge.address, edge.addresses, edge.name) == (
        "172.20.9.5", ["172.20.9.5", "203.0.113.17", "192.0.2.17"], "expe-ams")  # LAN 1 first, then LAN 2, its NAT
    assert [h.address for h in found if "203.0.113.17" in h.addresses] == ["172.20.9.5"]  # not a second host
    assert len(found) == 2  # the Expressway-E and the CMS that asked it for a relay
    labels = host_labels(found)
    assert labels["172.20.9.5"] == labels["203.0.113.17"] == labels["expe-ams"] == "Expressway-E expe-ams"
    assert roles(rows)["172.20.8.40"] == "CMS"  # it sent the Allocate


def test_each_cluster_peer_is_an_expressway_e_and_the_relay_may_be_on_the_second():
    rows = xconf("expe-a", "SystemUnit Name: expe-a", "Ethernet 1 IP V4 Address: 172.20.9.5",
                 "Alternates Peer 1 Address: 172.20.9.5", "Alternates Peer 2 Address: 172.20.9.6",
                 "Zones Zone 3 Type: TraversalServer")
    rows.append(stun("Allocate Request", "172.20.8.40:50000", "172.20.9.6:3478"))
    got = survey(rows)
    assert got["172.20.9.5"].role == got["172.20.9.6"].role == "Expressway-E"
    assert got["172.20.9.5"].addresses == ["172.20.9.5"] and got["172.20.9.6"].addresses == ["172.20.9.6"]
    assert got["172.20.9.5"].name == "expe-a" and got["172.20.9.6"].name == ""


def test_an_expressway_c_says_so_in_its_configuration():
    rows = xconf("expc-ams", "Ethernet 1 IP V4 Address: 172.20.8.30", "Zones Zone 2 Type: TraversalClient")
    assert roles(rows)["172.20.8.30"] == "Expressway-C"


def test_via_order_places_every_box_of_the_path_without_a_capture():
    """CMS's log alone: the share INVITE came through C, E, the SfB Edge and Front End from the client."""
    rows = [sip("cms", "cms", "cms-ams", "INVITE", "in", "172.20.8.30:27747", "172.20.8.40:5061",
                via=PATH_VIA, xvia="172.20.8.30:5061;172.20.9.5:7001", agent=SFB_UA),
            sip("cms", "cms", "cms-ams", "OPTIONS", "in", "172.20.8.10:40031", "172.20.8.40:5060",
                via="172.20.8.10:5060", agent="Cisco-CUCM14.0", call="o1")]
    assert roles(rows) == {"172.20.8.40": "CMS", "172.20.8.30": "Expressway-C", "172.20.9.5": "Expressway-E",
                           "198.51.100.40": "SfB Edge", "10.60.0.11": "SfB Front End",
                           "10.60.4.77": "SfB client", "172.20.8.10": "CUCM"}


def test_an_expressway_e_log_without_capture_or_configuration_is_not_called_c():
    """Its own log: the SfB side's INVITE reaches it, it sends it on to the other Expressway."""
    rows = [sip("expressway", "expressway", "expe-ams", "INVITE", "in", "198.51.100.40:50289", "172.20.9.5:5061",
                via="198.51.100.40:5061;10.60.0.11:5061;10.60.4.77:50917", agent=SFB_UA),
            sip("expressway", "expressway", "expe-ams", "INVITE", "out", "172.20.9.5:7001", "172.20.8.30:25647",
                via="172.20.9.5:7001;198.51.100.40:5061;10.60.0.11:5061;10.60.4.77:50917",
                xvia="172.20.9.5:7001", agent=SFB_UA, t=0.1)]
    got = survey(rows)
    assert got["172.20.9.5"].role == "Expressway-E" and got["172.20.9.5"].name == "expe-ams"
    assert got["198.51.100.40"].role == "SfB Edge" and got["10.60.4.77"].role == "SfB client"


def test_the_expressway_next_to_cms_in_an_outgoing_request_is_c():
    """A request CMS sends out: at the Edge its Via reads E, C, CMS (bottom); no Expressway log at all."""
    rows = [sip("sfb_snooper", "sfb", "edge-ams", "INVITE", "in", "172.20.9.5:5061", "198.51.100.40:5061",
                via="172.20.9.5:5061;172.20.8.30:5061;172.20.8.40:5061",
                xvia="172.20.9.5:5061;172.20.8.30:5061", agent="Acano CallBridge")]
    got = roles(rows)
    assert (got["172.20.8.40"], got["172.20.8.30"], got["172.20.9.5"]) == ("CMS", "Expressway-C", "Expressway-E")
    assert got["198.51.100.40"] == "SfB Edge"


def test_the_relay_peer_is_the_sfb_edge_and_the_relay_holder_the_expressway_e():
    rows = [stun("ConnectionAttempt Indication", "203.0.113.17:443", "172.20.8.40:50000",
                 peer="198.51.100.40:51001"),
            stun("Allocate Success Response", "203.0.113.17:443", "172.20.8.40:50000", relayed="203.0.113.18:61000")]
    got = roles(rows)
    assert got["198.51.100.40"] == "SfB Edge"
    assert got["203.0.113.17"] == got["203.0.113.18"] == "Expressway-E"


def test_a_case_bundle_keeps_its_roles_without_its_capture_or_its_configuration():
    events = read_bundle(Path(__file__).parent / "cases" / "share-ok" / "share-ok.zip").events
    want = {"10.48.54.229": "Expressway-E", "10.48.54.230": "CMS", "192.168.1.252": "SfB Edge",
            "10.48.54.228": "Expressway-C", "10.1.1.20": "SfB Front End", "172.16.30.15": "SfB client"}
    for kept in (events, events[events["source"] != "pcap"],
                 events[(events["source"] != "pcap") & (events["parser"] != "xconfig")]):
        got = {h.address: h.role for h in hosts.survey(kept)}
        assert {a: got.get(a) for a in want} == want


def test_reports_show_every_address_of_a_box(tmp_path):
    d = api.diagnose(Path(__file__).parent / "cases" / "share-ok" / "share-ok.zip")
    edge = next(h for h in d.hosts if h.role == "Expressway-E")
    edge.addresses = [edge.address, "203.0.113.17"]
    text = terminal.render(d)
    assert any("10.48.54.229, 203.0.113.17" in line and "Expressway-E expe01" in line for line in text.splitlines())
    book = openpyxl.load_workbook(excel.write(d, tmp_path / "r.xlsx"))
    cells = [c for row in book["Summary"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "10.48.54.229, 203.0.113.17 (expe01)" in cells
    page = lxml.html.fromstring(html.render(d, {}))
    row = next(tr for tr in page.xpath("//section[@class='hosts']//tr") if "Expressway-E" in tr.text_content())
    assert row.xpath(".//code/text()") == ["10.48.54.229", "203.0.113.17"]
    assert json_report.document(d)["hosts"][0]["addresses"][:1] == [json_report.document(d)["hosts"][0]["address"]]
    assert d.roles["203.0.113.17"] == d.roles["10.48.54.229"] == "Expressway-E expe01"


def test_a_100_trying_names_its_sender_by_its_server_header():
    """Seen in a capture only (no box's own log): the hop answering 100 is the one its Server names."""
    rows = [sip("pcap", "pcap", "cap.pcap", "100 INVITE", "", "172.20.8.30:5061", "172.20.9.5:7001",
                via="172.20.9.5:7001", agent="TANDBERG/4352 (X14.3.2)"),
            sip("pcap", "pcap", "cap.pcap", "100 INVITE", "", "172.20.8.40:5061", "172.20.8.30:5061",
                via="172.20.8.30:5061", agent="Acano CallBridge", call="c2"),
            sip("pcap", "pcap", "cap.pcap", "200 INVITE", "", "172.20.8.30:5061", "172.20.9.5:7001",
                via="172.20.9.5:7001", agent="Acano CallBridge")]  # forwarded: says nothing of its sender
    got = roles(rows)
    assert got["172.20.8.30"] == "Expressway-C" and got["172.20.8.40"] == "CMS"


def test_an_sfb_edge_asking_for_a_relay_stays_the_sfb_edge():
    rows = [sip("sfb_snooper", "sfb", "edge-ams", "INVITE", "out", "198.51.100.40:5061", "203.0.113.17:5061",
                via="198.51.100.40:5061;10.60.4.77:50917", agent=SFB_UA),
            stun("Allocate Request", "198.51.100.40:50000", "203.0.113.17:3478")]
    got = roles(rows)
    assert got["198.51.100.40"] == "SfB Edge" and got["203.0.113.17"].startswith("Expressway-E")


def test_the_addresses_one_log_calls_its_own_are_one_box():
    """No configuration dump: the Expressway-E's log shows it receiving on both of its interfaces."""
    rows = [sip("expressway", "expressway", "expe-ams", "INVITE", "in", "198.51.100.40:50289", "203.0.113.17:5061",
                via="198.51.100.40:5061;10.60.4.77:50917", agent=SFB_UA),
            sip("expressway", "expressway", "expe-ams", "INVITE", "out", "172.20.9.5:7001", "172.20.8.30:25647",
                via="172.20.9.5:7001;198.51.100.40:5061;10.60.4.77:50917", xvia="172.20.9.5:7001", agent=SFB_UA)]
    found = hosts.survey(schema.to_frame(rows))
    edge = next(h for h in found if "203.0.113.17" in h.addresses)
    assert (edge.role, edge.name, sorted(edge.addresses)) == ("Expressway-E", "expe-ams", ["172.20.9.5", "203.0.113.17"])
    assert sum("172.20.9.5" in h.addresses for h in found) == 1
    found = hosts.survey(schema.to_frame(rows + xconf("expe-ams", "Ethernet 1 IP V4 Address: 172.20.9.5",
                                                      "Ethernet 2 IP V4 Address: 203.0.113.17")))
    assert [h.addresses for h in found if h.name == "expe-ams"] == [["172.20.9.5", "203.0.113.17"]]  # LAN 1 first
