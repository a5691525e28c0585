"""Inputs found by fuzzing that once raised instead of being skipped, minimised; one test each."""
import datetime as dt
import io
import random
import tarfile
import time
import zipfile

from logcorr.calls import flow as calls
from logcorr.events import msdiag
from logcorr.events import schema
from logcorr.events import sip
from logcorr.intake.archive import Bundle
from logcorr.events.capture.tcp import Half
from logcorr.events.parsers import REGISTRY
from logcorr.events.parsers.base import ParseContext

LOG = b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: ending\n"


def _zip(members: dict[str, bytes], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _read(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    with Bundle(path) as b:
        return [m.name for m in b.members], {s.name: s.reason for s in b.skipped}, b.members


# -- archives ------------------------------------------------------------------------------------
def test_zip_member_whose_local_name_is_not_utf8(tmp_path):
    data = bytearray(_zip({"bad.log": LOG, "good.log": LOG}))
    local = data.index(b"PK\x03\x04")  # first local header: set the UTF-8 flag, spoil the name
    data[local + 7] |= 0x08
    data[local + 30] = 0xFF
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "damaged member" in skipped["case.zip!bad.log"]


def test_zip_central_name_not_utf8_or_unknown_version(tmp_path):
    good = _zip({"a.log": LOG, "b.log": LOG})
    central = good.index(b"PK\x01\x02")
    spoiled = bytearray(good)
    spoiled[central + 9] |= 0x08  # UTF-8 flag on a name that is not UTF-8
    spoiled[central + 46] = 0xFF
    members, skipped, _ = _read(tmp_path, "a.zip", bytes(spoiled))
    assert members == ["a.zip!b.log"]  # the broken name costs that member only
    assert "name it differently" in skipped["a.zip!\\xff.log"]
    version = bytearray(good)
    version[central + 6] = 255  # "needs version 25.5 to extract": the method is known, so read
    members, skipped, _ = _read(tmp_path, "b.zip", bytes(version))
    assert members == ["b.zip!a.log", "b.zip!b.log"] and skipped == {}


def test_zip_member_without_a_name(tmp_path):
    data = bytearray(_zip({"good.log": LOG, "x": LOG}))
    local = data.index(b"PK\x03\x04", 1)  # the second member's local header: name "x" -> ""
    data[local + 26] = 0
    del data[local + 30]
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[central + 28] = 0
    del data[central + 46]
    end = data.index(b"PK\x05\x06")  # the central directory moved and shrank by one byte
    for at in (12, 16):
        value = int.from_bytes(data[end + at:end + at + 4], "little") - 1
        data[end + at:end + at + 4] = value.to_bytes(4, "little")
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "absolute path" in skipped["case.zip!"]


def test_zip_lzma_member_with_corrupt_data(tmp_path):
    data = bytearray(_zip({"bad.log": LOG * 20, "good.log": LOG}, zipfile.ZIP_LZMA))
    local = data.index(b"PK\x03\x04")
    start = local + 30 + len("bad.log") + 4  # past the name and the LZMA properties header
    data[start + 5:start + 25] = b"\xff" * 20
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "damaged member" in skipped["case.zip!bad.log"]


def test_corrupt_tar_xz_keeps_what_preceded_the_damage(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for name, data in (("first.log", LOG), ("noise.bin", random.Random(0).randbytes(20000)),
                           ("last.log", LOG)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    spoiled = bytearray(buf.getvalue())
    spoiled[10000:10004] = b"\xaa" * 4  # inside noise.bin's compressed bytes
    members, skipped, _ = _read(tmp_path, "case.tar.xz", bytes(spoiled))
    assert members == ["case.tar.xz!first.log"]
    assert skipped["case.tar.xz"].startswith("damaged tar archive")


def test_tar_member_time_out_of_range(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, mtime in (("far.log", 10**12), ("past.log", -10**10), ("now.log", 1795000000)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(LOG), mtime
            tf.addfile(info, io.BytesIO(LOG))
    _, _, members = _read(tmp_path, "case.tar", buf.getvalue())
    times = {m.name.rsplit("!", 1)[1]: m.mtime for m in members}
    assert times["far.log"] is None and times["past.log"] is None
    assert times["now.log"].year == 2026


# -- time stamps the event table cannot hold, impossible dates -------------------------------------
def _parse(kind: str, text: str, tz=None):
    ctx = ParseContext(file="f")
    if tz is not None:
        ctx.tz, ctx.tz_assumed = tz, False
    parser = next(p for p in REGISTRY if p.name == kind and p.sniff(text.encode()))
    events = list(parser.parse(io.BytesIO(text.encode()), ctx))
    schema.to_frame(events)  # the table takes every event
    return events, ctx


def test_cms_event_log_line_with_an_impossible_date():
    good = "2017-02-21  17:48:54.883  Warning  call 38: ICE failure 4 (x)\n"
    events, ctx = _parse("cms", good + good.replace("02-21", "13-45") + good.replace("2017", "0016"))
    assert len(events) == 1 and ctx.skip_reasons["impossible date"] == 2


def test_expressway_times_past_2262_and_a_fraction_that_is_no_number():
    line = ('2020-11-18T19:55:58Z expe02 tvcs: UTCTime="2020-11-18 19:55:58,980" Module="network.tcp" '
            'Level="INFO": Detail="TCP Connecting" Src-ip="10.0.0.9" Src-port="5060"\n')
    text = (line + line.replace('"2020', '"2417')  # UTCTime out of range: the prefix's time
            + line.replace('2020-11-18T19:55:58Z', '9999-12-31T23:59:58').replace(  # overflows
                'UTCTime="2020-11-18 19:55:58,980" ', "")
            + line.replace(",980", ",9\u00b28"))  # the fraction is dropped, not the record
    events, ctx = _parse("expressway", text, tz=dt.timezone(dt.timedelta(hours=-5)))
    assert [e["ts"].year for e in events] == [2020, 2020, 2020]
    assert ctx.skip_reasons == {"no usable time stamp (no UTCTime, no year)": 1}


def test_sfb_stamps_outside_the_table():
    head = "TL_INFO(TF_DIAG) [0]0A1C.0B24::11/24/2026-14:52:54.102.0006139A (SIPStack,x)$$begin_record\n"
    record = head + "LogType: diagnostic\nText: x\n$$end_record\n"
    events, ctx = _parse("sfb", record + record.replace("2026", "2826"))
    assert len(events) == 1 and ctx.skip_reasons["bad time stamp"] == 1
    packet = ("11/21/{y}|13:58:57.019 998:9AC INFO  :: Data Received - 10.0.0.9:5061 (To Local Address: "
              "10.0.0.1:20323) 30 bytes:\nSIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"
              "11/21/{y}|13:58:57.020 998:9AC INFO  :: End of Data Received\n")
    events, ctx = _parse("sfb", packet.format(y="2016") + packet.format(y="0001"),
                         tz=dt.timezone(dt.timedelta(hours=5)))
    assert len(events) == 1 and ctx.skip_reasons["bad time stamp"] == 1


def test_sngrep_stamp_in_year_one_read_in_a_zone_east_of_utc():
    text = "0001/01/01 00:00:01.000000 10.0.0.1:5060 -> 10.0.0.2:5060\nOPTIONS sip:a SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"
    events, _ = _parse("sip", text, tz=dt.timezone(dt.timedelta(hours=1)))
    assert len(events) == 1 and events[0]["ts"] is None


# -- numbers -------------------------------------------------------------------------------------
def test_numbers_that_str_isdigit_accepts_and_int_refuses():
    assert sip.decimal("\u00b2") is None and sip.decimal("\u0663") is None
    assert sip.decimal("9" * 5000) is None and sip.decimal(" 70 ") == 70
    sdp = sip.parse_sdp("v=0\r\nm=audio \u00b2 RTP/AVP 0\r\na=candidate:1 1 UDP 1 10.0.0.1 5000 typ host rport \u00b2\r\n")
    assert sdp.media[0].port is None and sdp.media[0].candidates[0].rport is None
    assert calls._num("\u00b2") == -1 and calls._num("12") == 12


def test_content_length_of_thousands_of_digits():
    messages, rest = sip.split_messages(b"INVITE sip:a SIP/2.0\r\nl: " + b"9" * 5000 + b"\r\n\r\nbody")
    assert len(messages) == 1 and rest == b""  # handed back whole, to be refused by the caller
    trace = ("Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: connection 1: "
             "incoming SIP TLS data from 10.0.0.9:5061, size 100:\n"
             "Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : SIP trace: {}\n")
    lines = ["OPTIONS sip:a SIP/2.0", "Content-Length: \u00b2", "", "x"]
    events, _ = _parse("cms", "".join(trace.format(l) if i == 0 else trace.split("\n", 1)[1].format(l)
                                      for i, l in enumerate(lines)))
    assert [e["event"] for e in events] == ["OPTIONS"]


def test_response_code_too_long_for_the_table():
    line = ('2020-11-18T19:55:58Z expe02 tvcs: UTCTime="2020-11-18 19:55:58,980" Event="Call Rejected" '
            'Response-code="{}" Level="1"\n')
    events, _ = _parse("expressway", line.format("404") + line.format("9" * 30) + line.format("\u00b2"))
    assert [e["status"] for e in events] == [404, None, None]


def test_icewarn_of_thousands_of_digits():
    assert msdiag.describe('ICEWarn="' + "9" * 5000 + '"') == ""
    assert msdiag.describe('ICEWarn="0x' + "f" * 100000 + '"') == ""
    assert msdiag.describe('ICEWarn="0x200"') == "ICEWarn 0x200: TCP allocate on TURN failed"


# -- speed: inputs that once made a parser quadratic -----------------------------------------------
def test_sip_text_of_many_start_line_like_lines_is_linear():
    text = "OPTIONS sip:a SIP/2.0\r\n" + "SIP/2.0 200 OK\r\n" * 19990  # was 24 s, each line rescanned
    started = time.perf_counter()
    events, _ = _parse("sip", text)
    assert time.perf_counter() - started < 2
    assert len(events) == 1  # one message: its header block never ended


def _feed_blocks(blocks: int, reverse: bool) -> tuple[Half, float]:
    half = Half("a", "b")
    half.start(0)
    started = time.perf_counter()
    for block in range(blocks):  # 511 segments waiting behind the first one of their block
        base = block * 512
        order = range(511, 0, -1) if reverse else range(1, 512)
        if not reverse:
            half.push(base, b"\xff", frame=0, ts=None)
        for i in order:
            half.push(base + i, bytes([i % 251]), frame=i, ts=None)
        if reverse:
            assert half.push(base, b"\xff", frame=0, ts=None)
    return half, time.perf_counter() - started


def test_tcp_segments_in_reverse_order_drain_in_linear_time():
    half, reverse = _feed_blocks(80, reverse=True)  # was a rescan of the store per segment
    _, in_order = _feed_blocks(80, reverse=False)
    assert reverse < 10 * in_order + 0.1
    assert len(half.buf) == 80 * 512 and not half.ooo
    assert bytes(half.buf[:4]) == b"\xff\x01\x02\x03" and half.frame_at(3) == (3, None)


def test_many_folded_header_lines_are_joined_once():
    text = "OPTIONS sip:a SIP/2.0\r\nVia: a\r\n b\r\n\tc\r\nX: y\r\nZ:\r\n q\r\n\r\nbody"
    assert sip.parse_message(text).headers == [("Via", "a b c"), ("Session-Expires", "y"), ("Z", " q")]
    long = "OPTIONS sip:a SIP/2.0\r\nX-Long: a\r\n" + " folded\r\n" * 200_000  # was 10 s: copied per line
    started = time.perf_counter()
    value = sip.parse_message(long).header("X-Long")
    assert time.perf_counter() - started < 2 and len(value) == 1 + 7 * 200_000


def test_sip_over_tcp_in_one_byte_segments_is_linear():
    from capture_build import ethernet, ipv4, pcap_file, tcp

    message = b"OPTIONS sip:a SIP/2.0\r\nCSeq: 1 OPTIONS\r\nX-Pad: " + b"a" * 20000 + b"\r\nContent-Length: 3\r\n\r\nabc"
    stream = message * 2
    packets = [ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 5061, 99, "S")),
               ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 5061, 100, "A", stream[:40]))]
    packets += [ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 5061, 100 + i, "A", stream[i:i + 1]))
                for i in range(40, len(stream))]
    data = pcap_file([(1795000000_000000 + i, ethernet(p)) for i, p in enumerate(packets)])
    started = time.process_time()  # was 6 s: the buffer copied and searched again per byte (CPU time: load-proof)
    events = list(REGISTRY[0].parse(io.BytesIO(data), ParseContext(file="c.pcap")))
    assert time.process_time() - started < 4
    assert [e["event"] for e in events] == ["open", "OPTIONS", "OPTIONS"]
    assert [e["pos"] for e in events[1:]] == [2, 3 + len(message) - 40]  # frame of the first byte


# -- rule files ------------------------------------------------------------------------------------
def test_rule_file_with_a_control_character(tmp_path):
    from logcorr.rules.loader import load_rule_file
    path = tmp_path / "ctl.yaml"
    path.write_text("id: ctl\ntitle: a\x1fb\n")
    rule, errors = load_rule_file(path)
    assert rule is None and errors == [f"{path}:2: YAML syntax: character #x001f: special characters are not allowed"]
