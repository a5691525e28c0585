"""CMS syslog, collector copies and WebAdmin event-log copies, on real public samples."""
import datetime as dt
import io
from collections import Counter

import pytest

from logcorr.events.parsers import cms, identify
from logcorr.events.parsers.base import ParseContext, syslog_year

NOV_2026 = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)


def run(path, **ctx_args):
    ctx = ParseContext(file=path.name, **ctx_args)
    with open(path, "rb") as fh:
        events = list(cms.parse(fh, ctx))
    return events, ctx


def run_text(text, **ctx_args):
    ctx = ParseContext(file="log", **ctx_args)
    return list(cms.parse(io.BytesIO(text.encode()), ctx)), ctx


def test_share_ok_syslog_sip_trace_reassembly(data_dir):
    events, ctx = run(data_dir / "cms" / "shareok-cms01-syslog.log", mtime=NOV_2026)
    assert (len(events), ctx.skipped, ctx.warning_count) == (84, 0, 0)
    kinds = Counter(e["proto"] for e in events)
    assert kinds == {"sip": 62, "log": 22}
    invite = next(e for e in events if e.get("call_id") == "b2a211220e344c0a909219a73ad9991d")
    assert invite["pos"] == 883 and invite["event"] == "INVITE" and invite["direction"] == "in"
    assert (invite["src"], invite["dst"], invite["transport"]) == ("10.48.54.228:27747", "10.48.54.230:5061", "TLS")
    assert invite["sdp_media"] == "applicationsharing"
    assert invite["ts"] == dt.datetime(2026, 11, 24, 14, 53, 41, 295000, tzinfo=dt.timezone.utc)
    answer = next(e for e in events if e.get("pos") == 965)
    assert answer["event"] == "200 INVITE" and answer["direction"] == "out"
    assert answer["relay_candidates"] == "10.48.54.229:24726/TCP"
    assert answer["src"] == "10.48.54.230:5061"
    call = next(e for e in events if e["event"] == "call-incoming" and "call 31:" in e["summary"])
    assert call["pos"] == 964
    assert any(e["event"] == "sip-connection-failure" for e in events)
    assert "UTC assumed" in " ".join(ctx.notes)


def test_joined_lines_of_a_scraped_copy_are_split(data_dir):
    events, ctx = run(data_dir / "cms" / "cisco-221729-cms-core-edge-syslog.txt", year=2024)
    assert (len(events), ctx.skipped) == (40, 2)  # the two '#' provenance lines
    assert Counter(e["event"] for e in events)["postgres"] == 2
    first = events[0]
    assert first["ts"] == dt.datetime(2024, 2, 23, 9, 2, 21, 588000, tzinfo=dt.timezone.utc)
    assert first["host"] == "CMS" and first["event"] == "client_backend"


def test_two_space_form_without_milliseconds(data_dir):
    events, ctx = run(data_dir / "cms" / "jasonneurohr-sipops-comment-sip-trace-read-failure.txt", year=2019)
    assert [e["event"] for e in events] == ["sip-connection-failure", "sip-connection-closed"]
    assert events[0]["ts"] == dt.datetime(2019, 11, 6, 9, 51, 50, tzinfo=dt.timezone.utc)


def test_webadmin_event_log_with_ice_failure(data_dir):
    events, ctx = run(data_dir / "cms" / "cisco-210800-turn-ice-failure.txt")
    assert len(events) == 4 and ctx.skipped == 5  # 2 provenance lines + 3 Wireshark rows
    ice = next(e for e in events if e["event"] == "ice-failure")
    assert ice["summary"] == "WARNING: call 7: ICE failure 4 (unauthorized - check credentials)"
    assert ice["ts"] == dt.datetime(2017, 4, 15, 10, 34, 56, 536000, tzinfo=dt.timezone.utc)


def test_event_log_copy_with_spaces_and_joined_entries(data_dir):
    events, ctx = run(data_dir / "cms" / "cisco-213552-webadmin-eventlog-bfcp.txt")
    assert (len(events), ctx.skipped) == (28, 2)
    assert Counter(e["event"] for e in events)["call-incoming"] == 3


def test_tz_option_converts_to_utc():
    line = "Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 31: ending; remote SIP teardown\n"
    events, ctx = run_text(line, tz=dt.timezone(dt.timedelta(hours=1)), tz_assumed=False, year=2026)
    assert events[0]["ts"] == dt.datetime(2026, 11, 24, 13, 53, 41, 295000, tzinfo=dt.timezone.utc)
    assert not ctx.notes or "UTC assumed" not in " ".join(ctx.notes)


def test_year_from_the_file_time_rolls_back_over_new_year():
    text = "Dec 31 23:59:59.000 user.info cms01 host:server:  INFO : call 1: ending\n" \
           "Jan  1 00:00:01.000 user.info cms01 host:server:  INFO : call 2: ending\n"
    mtime = dt.datetime(2027, 1, 1, 1, 0, tzinfo=dt.timezone.utc)
    events, _ = run_text(text, mtime=mtime)
    assert [e["ts"].year for e in events] == [2026, 2027]


@pytest.mark.parametrize("tz", [dt.timezone.utc, dt.timezone(dt.timedelta(hours=13))])
def test_year_of_a_box_already_in_the_new_year_while_the_file_time_is_not(tz):
    """Auckland at New Year: the box logs Dec 31 then Jan 1 while its file's time, in UTC, is
    still 31 December. With or without --tz, the Jan 1 lines are the next year's."""
    text = "Dec 31 23:59:59.000 user.info cms01 host:server:  INFO : call 1: ending\n" \
           "Jan  1 03:53:41.000 user.info cms01 host:server:  INFO : call 2: ending\n"
    mtime = dt.datetime(2026, 12, 31, 14, 56, tzinfo=dt.timezone.utc)
    events, _ = run_text(text, mtime=mtime, tz=tz, tz_assumed=False)
    assert [e["ts"].astimezone(tz).date() for e in events] == [dt.date(2026, 12, 31), dt.date(2027, 1, 1)]


@pytest.mark.parametrize("stamp, near, year", [
    ((1, 1), dt.date(2026, 12, 31), 2027),   # just after the reference's New Year
    ((12, 31), dt.date(2026, 12, 31), 2026),
    ((12, 20), dt.date(2026, 11, 24), 2026),  # a few weeks after: a clock ahead, a late line
    ((1, 5), dt.date(2026, 11, 24), 2026),    # long before: a log of the whole year
    ((11, 25), dt.date(2027, 1, 2), 2026),
    ((2, 29), dt.date(2028, 3, 1), 2028),
    ((2, 29), dt.date(2026, 3, 1), None),     # no leap year near
])
def test_syslog_year_nearest_the_reference(stamp, near, year):
    assert syslog_year(*stamp, near) == year


def test_remote_collector_prefix_and_trace_without_connection_record():
    text = (
        "2016-06-07 03:18:14               User.Info  acanosrv03               Jun  7 10:18:20 acanosrv03 host:server:  INFO : SIP trace: SIP/2.0 200 OK\n"
        "2016-06-07 03:18:14               User.Info  acanosrv03               Jun  7 10:18:20 acanosrv03 host:server:  INFO : SIP trace: Call-ID: x1\n"
        "2016-06-07 03:18:14               User.Info  acanosrv03               Jun  7 10:18:20 acanosrv03 host:server:  INFO : SIP trace: CSeq: 2 BYE\n"
    )
    events, ctx = run_text(text, year=2016)
    assert len(events) == 1 and events[0]["event"] == "200 BYE" and events[0]["host"] == "acanosrv03"
    assert ctx.warning_count == 1  # direction unknown


def test_garbage_is_counted_not_raised():
    events, ctx = run_text("\x00\x01binary\nJun 31 10:00:00 user.info h host:server: INFO : bad date\n", year=2020)
    assert events == [] and ctx.skipped == 2
    assert ctx.skip_reasons["impossible date"] == 1


@pytest.mark.parametrize("head, expected", [
    (b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: x\n", True),
    (b"2017-04-15\t10:34:56.536\tWarning\tcall 7: ICE failure 4 (unauthorized - check credentials)\n", True),
    (b"2017-03-02T08:10:46.240+01:00 expe01 tvcs: UTCTime=\"2017-03-02 07:10:46,240\" Module=\"network.sip\"\n", False),
    (b"TL_INFO(TF_PROTOCOL) [0]0AB4.0C50::03/02/2017-07:10:46.230.0000000b (SIPStack,SIPAdminLog::TraceProtocolRecord)$$begin_record\n", False),
    (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", False),
    (b"INVITE sip:a@b SIP/2.0\r\n", False),
])
def test_sniff(head, expected):
    assert cms.sniff(head) is expected


def test_registry_picks_cms(data_dir):
    head = (data_dir / "cms" / "shareok-cms01-syslog.log").read_bytes()[:65536]
    assert identify(head).name == "cms"
