"""Clock offsets from messages seen twice, robust to outliers; host roles from what events say."""
import pandas as pd

from logcorr.calls import clocks
from logcorr.calls import hosts
from logcorr.events import schema
from logcorr.model import Clock

T0 = pd.Timestamp("2026-11-24T14:53:41Z")


def sip(source, host, call, cseq, event, t, direction, src="", dst=""):
    return {"ts": T0 + pd.Timedelta(seconds=t), "source": source, "host": host, "proto": "sip",
            "event": event, "call_id": call, "cseq": str(cseq), "direction": direction, "src": src, "dst": dst,
            "method": event.split()[-1]}


def test_offset_is_the_median_and_counts_pairs():
    rows = []
    for i in range(9):  # cms runs 2.0 s ahead; one pair is an outlier (a retransmission logged late)
        rows.append(sip("expressway", "expe01", f"c{i}", 1, "INVITE", i, "out"))
        rows.append(sip("cms", "cms01", f"c{i}", 1, "INVITE", i + 2.0 + (30 if i == 4 else 0), "in"))
    rows.append(sip("sfb", "edge", "other", 1, "INVITE", 0, "in"))  # shares nothing
    got = {c.source: c for c in clocks.estimate(schema.to_frame(rows))}
    assert got["expressway"].offset_s == 0.0 and got["expressway"].basis == "reference"
    assert abs(got["cms"].offset_s - 2.0) < 1e-6 and got["cms"].pairs == 9
    assert "2.000 s ahead of expe01, from 9 message(s) seen by both" in got["cms"].summary()
    assert got["sfb"].offset_s is None and "unaligned" in got["sfb"].summary()


def test_transit_time_cancels_between_directions():
    rows = []
    for i in range(4):  # requests reach cms 20 ms after expe logs them, answers 20 ms before
        rows.append(sip("expressway", "expe01", f"c{i}", 1, "INVITE", i, "out"))
        rows.append(sip("cms", "cms01", f"c{i}", 1, "INVITE", i + 0.020, "in"))
        rows.append(sip("cms", "cms01", f"c{i}", 1, "200 INVITE", i + 0.5, "out"))
        rows.append(sip("expressway", "expe01", f"c{i}", 1, "200 INVITE", i + 0.520, "in"))
    got = {c.source: c for c in clocks.estimate(schema.to_frame(rows))}
    assert abs(got["cms"].offset_s) < 0.001


def test_a_group_tied_only_to_itself_says_so():
    """A cluster's peer 2: its log and its capture see the same messages, none of which the
    reference's side saw. Both stay unaligned, each naming the other; a lone clock says it has none."""
    rows = [sip("expressway", "peer2", "o", 1, "OPTIONS", 5, "in"), sip("sfb", "edge", "x", 1, "BYE", 0, "in")]
    for i in range(5):  # peer 1 sees the most messages with others: the reference
        rows += [sip("expressway", "peer1", f"c{i}", 1, "INVITE", i, "out"),
                 sip("cms", "cms01", f"c{i}", 1, "INVITE", i + 1, "in")]
    for i in range(3):
        rows.append({"ts": T0 + pd.Timedelta(seconds=i), "source": "expressway", "host": "peer2", "proto": "stun",
                     "event": "Allocate Request", "txn_id": f"{i:024x}", "direction": "in"})
        rows.append({"ts": T0 + pd.Timedelta(seconds=i + 0.5), "source": "pcap", "host": "peer2.pcap",
                     "proto": "stun", "event": "Allocate Request", "txn_id": f"{i:024x}"})
    for r in rows:  # each peer's diagnostic archive holds its log (and peer 2's, its capture)
        r["file"] = {"peer1": "b.zip!diag1/log.txt", "peer2": "b.zip!diag2/log.txt",
                     "peer2.pcap": "b.zip!diag2/cap.pcap"}.get(r["host"], f"b.zip!{r['host']}.log")
    got = {c.host: c for c in clocks.estimate(schema.to_frame(rows))}
    assert got["peer2"].offset_s is None and got["peer2.pcap"].offset_s is None
    assert got["peer2"].summary() == (
        "expressway clock (peer2): unaligned, aligned with pcap clock (peer2.pcap) but not with the "
        "reference (peer1): no message seen by them and a source on its clock")
    assert "aligned with expressway clock (peer2) but not with the reference" in got["peer2.pcap"].summary()
    assert got["edge"].summary() == "sfb clock (edge): unaligned, no message seen by it and another source"


def test_a_clock_whose_log_names_no_host_says_so():
    text = Clock("sfb", "", -1.5, 4, "expe01", "sip").summary()
    assert text == "sfb clock (no host named in its log) is 1.500 s behind expe01, from 4 message(s) seen by both"


def test_a_clock_days_off_says_a_date_is_wrong():
    text = Clock("cms", "cms01", -31489199.995, 8, "expe01", "sip").summary()
    assert text.endswith("behind expe01, from 8 message(s) seen by both (364.5 days: a wrong date on that box, "
                         "or a wrong year for stamps without one)")
    assert "days" not in Clock("cms", "cms01", 46800.0, 8, "expe01", "sip").summary()  # a zone: +13 h


def test_align_shifts_only_aligned_clocks():
    events = schema.to_frame([sip("expressway", "e", "c", 1, "INVITE", 0, "out"),
                              sip("cms", "c", "c", 1, "INVITE", 5, "in")])
    cl = clocks.estimate(events)
    aligned = clocks.align(events, cl)
    assert aligned[0] == aligned[1] == T0


def test_roles():
    rows = [
        sip("cms", "cms01", "c", 1, "INVITE", 0, "in", "10.0.0.2:5061", "10.0.0.3:5061"),
        {"ts": T0, "source": "pcap", "host": "cap", "proto": "stun", "event": "Allocate Request",
         "src": "10.0.0.3:40000", "dst": "10.0.0.9:3478"},
        {"ts": T0, "source": "pcap", "host": "cap", "proto": "stun", "event": "ConnectionAttempt Indication",
         "src": "10.0.0.9:3478", "dst": "10.0.0.3:40000", "peer": "192.168.1.252:51001"},
    ]
    labels = hosts.roles(schema.to_frame(rows))
    assert labels["10.0.0.3"] == "CMS cms01"
    assert labels["10.0.0.9"].startswith("Expressway-E")
    assert labels["192.168.1.252"] == "SfB Edge"
    assert hosts.ip_of("[2001:db8::1]:5061") == "2001:db8::1" and hosts.ip_of("1.2.3.4:5") == "1.2.3.4"


def test_two_captures_align_on_stun_transactions():
    rows = []
    for i in range(5):
        for host, skew in (("expe.pcap", 0.0), ("cms.pcap", -1.25)):
            rows.append({"ts": T0 + pd.Timedelta(seconds=i + skew), "source": "pcap", "host": host,
                         "proto": "stun", "event": "Allocate Request", "txn_id": f"{i:024x}"})
    got = {c.host: c for c in clocks.estimate(schema.to_frame(rows))}
    ref, other = (got["cms.pcap"], got["expe.pcap"]) if got["cms.pcap"].basis == "reference" else (got["expe.pcap"], got["cms.pcap"])
    assert abs(abs(other.offset_s) - 1.25) < 1e-6 and other.pairs == 5


def test_an_expressway_configuration_names_its_address():
    rows = [{"ts": None, "source": "expressway", "host": "expe01", "proto": "log", "event": "xconfiguration",
             "summary": "Ethernet 1 IP V4 Address: 10.48.54.229"},
            {"ts": T0, "source": "pcap", "host": "cap", "proto": "stun", "event": "Allocate Request",
             "src": "10.48.54.230:40000", "dst": "10.48.54.229:3478"}]
    assert hosts.roles(schema.to_frame(rows))["10.48.54.229"] == "Expressway-E expe01"
