"""`logcorr show`: the full record at a position of the case bundles and the test captures, the STUN
detail pane checked against tshark's decode, --hex, --call, and positions that name nothing."""
from __future__ import annotations

import csv
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from capture_build import attr, ethernet, ipv4, pcap_file, stun_message, tcp
from logcorr import api, cli
from logcorr.errors import UsageError
from logcorr.events import rawtext, records
from logcorr.events.capture import detail
from logcorr.events.schema import RAW_LIMIT
from logcorr.report import show

REPO = Path(__file__).parent.parent
SHARE_OK = REPO / "tests" / "cases" / "share-ok" / "share-ok.zip"
CAPTURES = REPO / "tests" / "data" / "captures"
PCAP = "tcpdump00_expe01_2026-11-24_14:54:28.pcap"
SNAPSHOT = "loggingsnapshot_expe01_2026-11-24_14:54:28.txt"
CMS_PWD, SKYPE_PWD = "cmsIcePassword0123456789", "skypeIcePassword98765432"  # the harness's ICE passwords


def one(path, spec: str, **kw) -> str:
    shown = show.show(path, [spec], **kw)
    assert not shown.errors, shown.errors
    assert len(shown.texts) == 1
    return shown.texts[0]


@pytest.fixture
def logcorr(capsys, monkeypatch):
    """The command line's entry point, in this process: (exit code, stdout, stderr)."""
    def run(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["logcorr", *map(str, args)])
        with pytest.raises(SystemExit) as e:
            cli.main()
        out = capsys.readouterr()
        return SimpleNamespace(returncode=e.value.code, stdout=out.out, stderr=out.err)
    return run


# -- log records --------------------------------------------------------------------------------
def test_cms_sip_trace_is_the_whole_message():
    text = one(SHARE_OK, "syslog:81")
    lines = text.splitlines()
    assert lines[0] == "== share-ok.zip!logbundle.tar.gz!syslog:81 =="
    assert "INVITE  cms01 (cms)  in  10.48.54.10:40031" in lines[1]
    assert lines[2] == "INVITE sip:standup@meet.corp.lab SIP/2.0"
    assert "Call-ID: 134b9c8d-78d1084a-1849b062-eb3525b3@10.48.54.10" in lines
    assert "Content-Length: 743" in lines
    body = lines[lines.index("") + 1:]
    assert body[0] == "v=0" and body[-1] == "a=floorid:2 mstrm:12"
    assert sum(len(b) + 2 for b in body) == 743  # the SDP, every byte of it (CRLF line ends)


def test_expressway_network_log_message():
    text = one(SHARE_OK, f"{SNAPSHOT}:683")
    lines = text.splitlines()
    assert "INVITE  expe01 (expressway)  in  192.168.1.252:50289 -> 10.48.54.229:5061  TLS" in lines[1]
    assert lines[2] == "INVITE sip:weekly.review@meet.corp.lab SIP/2.0"
    assert sum(1 for line in lines if line.startswith("Via: ")) == 3
    assert "m=applicationsharing 51001 TCP/RTP/AVP 127" in lines
    assert lines[-1] == "a=x-applicationsharing-contentflow:sendonly"


def test_a_line_without_event_is_shown_as_it_is():
    text = one(SHARE_OK, "syslog:184")
    assert "line 184 (no event was read from this line)" in text
    assert text.splitlines()[-1].endswith("SIP trace: a=setup:passive")


def test_a_record_longer_than_the_table_keeps_is_shown_in_full(tmp_path):
    sdp = [f"a=x-filler:{i:06d}-" + "x" * 60 for i in range(1500)]
    body = "\r\n".join(["v=0", *sdp]) + "\r\n"
    message = ["INVITE sip:big@cms.lab SIP/2.0", "Call-ID: big-1", "CSeq: 1 INVITE",
               "Content-Type: application/sdp", f"Content-Length: {len(body)}", "", "v=0", *sdp]
    prefix = "Nov 24 14:47:20.557 user.info cms01 host:server:  INFO : SIP trace: "
    log = [prefix + "connection 4: incoming SIP TCP data from 10.0.0.1:5060, size 9999:"]
    log += [prefix + line for line in message]
    log.append("Nov 24 14:47:21.000 user.info cms01 host:server:  INFO : call 1: ending")
    path = tmp_path / "syslog"
    path.write_text("\n".join(log) + "\n")
    table = api.read(path).events
    (raw,) = rawtext.texts(table, (table["call_id"] == "big-1").to_numpy().nonzero()[0])
    assert len(raw) == RAW_LIMIT  # the table keeps 64 KiB ...
    text = one(path, "syslog:1")
    assert text.splitlines()[-1] == sdp[-1]  # ... show prints the whole message from the file
    assert len(text) > 100_000


# -- capture frames -----------------------------------------------------------------------------
def test_stun_over_udp_matches_tshark():
    """Every STUN frame tshark decoded: the same transaction id, attributes in the same order,
    and the same de-XORed addresses."""
    rows = [r for r in csv.DictReader((CAPTURES / "a_udp_uclient.stun.csv").open()) if r["stun.id"]]
    assert len(rows) > 20
    shown = show.show(CAPTURES / "a_udp_uclient.pcap", [f":{r['frame.number']}" for r in rows])
    assert not shown.errors and len(shown.texts) == len(rows)
    for row, text in zip(rows, shown.texts):
        assert f"Transaction ID: {row['stun.id']}" in text
        types = [line.split("(type ", 1)[1][:6] for line in text.splitlines() if "(type 0x" in line]
        assert types == row["stun.att.type"].split("|"), row["frame.number"]
        for ip, port in zip(row["stun.att.ipv4"].split("|"), row["stun.att.port"].split("|")):
            if ip:
                assert f": {ip}:{port} (IPv4" in text
        assert "FINGERPRINT: 0x" in text and "(correct)" in text
        assert f"UDP {row['udp.srcport']} -> {row['udp.dstport']}" in text


def test_udp_allocate_integrity_checked_with_the_long_term_password():
    path = CAPTURES / "a_udp_uclient.pcap"
    challenge = one(path, ":2")
    assert "ERROR-CODE: 401 Unauthorized" in challenge
    assert 'REALM: "TANDBERG"' in challenge and 'NONCE: "e169fbe4c2de3cdc" (16 bytes)' in challenge
    signed = one(path, ":3", password="T4ndb3rg!")
    assert 'USERNAME: "turn"' in signed
    assert "correct with the given password, long-term credential" in signed
    assert "INCORRECT with the given password" in one(path, ":3", password="wrong")
    assert "not checked: needs the password" in one(path, ":3")


def test_turn_tcp_control_allocate_challenge():
    text = one(SHARE_OK, f"{PCAP}:64")
    assert "Frame 64: 2026-11-24T14:53:41.402459Z, 170 bytes captured" in text
    assert "IPv4 10.48.54.229 -> 10.48.54.230, TCP 3478 -> 40557 [PSH ACK], 104 bytes of payload" in text
    assert "TCP connection 10.48.54.229:3478 <-> 10.48.54.230:40557, opened by 10.48.54.230:40557 (SYN in frame 59)" in text
    assert "TURN control connection (Allocate Request in frame 62); relayed address 10.48.54.229:24726 (frame 67)" in text
    assert "Message Type: 0x0113 (method Allocate 0x003, class Error Response)" in text
    assert "Transaction ID: 5fe75edc095881a606272d96" in text
    assert "ERROR-CODE: 401 Unauthorized" in text and 'REALM: "TANDBERG"' in text
    assert "NONCE: " in text and "FINGERPRINT: 0xe23d4872 (correct)" in text


def test_turn_tcp_connection_attempt_and_bind():
    attempt, bind, bound = show.show(SHARE_OK, ["pcap:83", "pcap:88", "pcap:90"]).texts
    assert "CONNECTION-ID: 0x5688b600" in attempt
    assert "XOR-PEER-ADDRESS: 192.168.1.252:51001 (IPv4; on the wire x-port 0xe62b, x-address 0xe1baa5be)" in attempt
    assert "ConnectionBind Request  10.48.54.230:41325 -> 10.48.54.229:3478  TCP" in bind
    assert "CONNECTION-ID: 0x5688b600" in bind
    story = ("TURN data connection bound to CONNECTION-ID 0x5688b600 (ConnectionBind Request in frame 88); "
             "offered by the ConnectionAttempt Indication in frame 83 on 10.48.54.229:3478 <-> 10.48.54.230:40557 "
             "for peer 192.168.1.252:51001")
    assert story in bind and story in bound
    assert "opened by 10.48.54.230:41325 (SYN in frame 85)" in bind
    assert "reset by 10.48.54.229:3478 (RST in frame 165)" in bind
    assert "ConnectionBind Success Response" in bound and "CONNECTION-ID 0x5688b600 of the request" in bound


def test_framed_ice_check_on_the_bound_connection():
    relay_side, peer_side = show.show(SHARE_OK, ["pcap:94", "pcap:92"], password=CMS_PWD).texts
    assert "Binding Request  10.48.54.229:3478 -> 10.48.54.230:41325  TCP" in relay_side
    assert "RFC 4571 framed, bound connection CID 0x5688b600" in relay_side
    assert 'USERNAME: "cmsU:skyP"' in relay_side and "ICE-CONTROLLING: tie-breaker 0x" in relay_side
    assert "PRIORITY: 1845494271" in relay_side
    assert "correct with the given password, short-term credential" in relay_side
    # the same check on the peer's leg to the relayed address
    assert ("peer 192.168.1.252:51001 connected to the relayed address 10.48.54.229:24726 of the allocation on "
            "10.48.54.229:3478 <-> 10.48.54.230:40557; CONNECTION-ID 0x5688b600") in peer_side
    assert "Transaction ID: c2308ad03ca9ae40817f1e1d" in relay_side and "Transaction ID: c2308ad03ca9ae40817f1e1d" in peer_side
    answer = one(SHARE_OK, "pcap:99", password=SKYPE_PWD)
    assert 'USERNAME: "skyP:cmsU"' in answer and "correct with the given password" in answer


def test_sip_in_a_capture_and_a_frame_without_message():
    text = one(SHARE_OK, "pcap:7")
    assert "IPv4 198.51.100.73 -> 10.48.54.229, UDP 5088 -> 5060, 603 bytes of payload" in text
    assert "INVITE sip:9001197296736732@10.48.54.229 SIP/2.0" in text and "a=sendrecv" in text
    empty = one(SHARE_OK, "pcap:1")
    assert "no STUN, TURN or SIP message starts in this frame" in empty and "ChannelData" not in empty.split("\n")[2]


def test_ms_turn_attributes():
    text = one(CAPTURES / "ndpi_teams_msturn_subset.pcap", ":8")
    assert "MS-TURN Allocate Error Response" in text
    assert "MAGIC-COOKIE: 0x72c64bc6" in text and "MS-VERSION: 6" in text
    assert "ERROR-CODE: 401 The request did not contain a Message-Integrity attribute (RFC reason: Unauthorized)" in text
    assert 'REALM: "rtcmedia"  (type 0x0015' in text  # MS-TURN swaps REALM and NONCE
    assert "NONCE: 024ecbf8827a60d65306debfa77d87d14402dd5d (20 bytes, not text)  (type 0x0014" in text
    assert "XOR-MAPPED-ADDRESS: 80.181.206.72:57543" in text  # tshark: 80.181.206.72 57543
    request = one(CAPTURES / "ndpi_teams_msturn_subset.pcap", ":12")
    assert "attribute 0x8006: 0x00000001  (4 bytes)" in request  # unknown: as hex
    assert "MS-SERVICE-QUALITY: stream type 2, service quality 2" in request


def test_several_messages_in_one_segment():
    rows = list(csv.DictReader((CAPTURES / "public_ndpi_stun_tcp_multiple_msgs_same_pkt.auto.stun.csv").open()))
    row = next(r for r in rows if "|" in r["stun.id"])
    ids = row["stun.id"].split("|")
    text = one(CAPTURES / "ndpi_stun_tcp_multiple_msgs_same_pkt.pcap", f":{row['frame.number']}")
    assert text.count("Frame ") == 1 and len(ids) == 3
    assert text.count(f"Transaction ID: {ids[0]}") == len(ids)
    assert text.count("REQUESTED-TRANSPORT: UDP (17)") == len(ids)


# -- --hex ----------------------------------------------------------------------------------------
def test_hexdump_layout():
    lines = detail.hexdump(bytes(range(0x41, 0x41 + 20)))
    assert lines[0] == "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP"
    assert lines[1].startswith("0010  51 52 53 54 ") and lines[1].endswith("  QRST")


def test_hex_shows_the_frame_and_a_message_reassembled_from_segments(tmp_path):
    client, server = "10.0.0.20", "10.0.0.10"
    message = stun_message(0x0003, b"\x07" * 12, [attr(0x0019, b"\x06\0\0\0"), attr(0x0006, b"turn")])
    first, second = message[:24], message[24:]
    seq = 1000
    frames = [tcp(50000, 3478, seq, "S"), tcp(3478, 50000, 9000, "SA"), tcp(50000, 3478, seq + 1, "A"),
              tcp(50000, 3478, seq + 1, "PA", first), tcp(50000, 3478, seq + 1 + len(first), "PA", second)]
    data = pcap_file([(1_600_000_000_000_000_000 + i * 1000, ethernet(ipv4(client if i != 1 else server,
                                                                           server if i != 1 else client, 6, f)))
                      for i, f in enumerate(frames)])
    path = tmp_path / "split.pcap"
    path.write_bytes(data)
    text = one(path, ":4", hex=True)
    assert "Allocate Request  10.0.0.20:50000 -> 10.0.0.10:3478  TCP" in text
    assert f"{len(message)} bytes reassembled from TCP segments starting in this frame" in text
    assert "Frame bytes:" in text and "Allocate Request bytes (reassembled):" in text
    dump = text.split("Allocate Request bytes (reassembled):\n", 1)[1].splitlines()
    assert dump[0].strip().split("  ")[1] == message[:8].hex(" ")  # type, length, cookie
    assert "REQUESTED-TRANSPORT: TCP (6)" in text


def test_hex_of_a_udp_frame_holds_the_message():
    text = one(CAPTURES / "a_udp_uclient.pcap", ":2", hex=True)
    dump = text.split("Frame bytes:\n", 1)[1]
    assert "01 13 00 54 21 12" in dump  # Allocate Error Response, length 84, cookie
    assert "(reassembled)" not in text


# -- --call ---------------------------------------------------------------------------------------
def test_call_prints_every_message_in_aligned_time():
    text = show.call(SHARE_OK, "b2a21")
    head, *parts = text.split("\n\n== [")
    assert head.startswith("call b2a211220e344c0a909219a73ad9991d [applicationsharing]")
    assert len(parts) == int(head.rsplit("; ", 1)[1].split()[0])
    stamps = []
    for part in parts:
        line = next(line for line in part.splitlines()[1:] if "(aligned)" in line)
        stamps.append(line.split("Frame ", 1)[-1].split(": ", 1)[-1][:27])
    assert stamps == sorted(stamps)
    assert parts[0].startswith("1] share-ok.zip!sfbedge01_SIPStack_snooper.txt:472 ==")
    assert any("ConnectionBind Request" in p and "CONNECTION-ID: 0x5688b600" in p for p in parts)
    assert any("RFC 4571 framed" in p for p in parts)
    assert sum("INVITE sip:weekly.review@meet.corp.lab SIP/2.0" in p for p in parts) >= 3


def test_call_not_found_or_ambiguous():
    with pytest.raises(UsageError, match="no call 'nothing-like-it'"):
        show.call(SHARE_OK, "nothing-like-it")
    with pytest.raises(UsageError, match="ambiguous"):
        show.call(SHARE_OK, "")


# -- naming positions -----------------------------------------------------------------------------
NAMES = ["case.zip!logbundle.tar.gz!syslog", "case.zip!other.tar.gz!syslog", "case.zip!expe/log.txt",
         "case.zip!mysyslog"]


def test_resolve_full_name_and_unique_end():
    assert records.resolve("case.zip!logbundle.tar.gz!syslog:184", NAMES) == (NAMES[0], 184)
    assert records.resolve("logbundle.tar.gz!syslog:184", NAMES) == (NAMES[0], 184)
    assert records.resolve("log.txt:3", NAMES) == (NAMES[2], 3)
    assert records.resolve("x.pcap:8", ["d/x.pcap"]) == ("d/x.pcap", 8)
    assert records.resolve(":8", ["only.pcap"]) == ("only.pcap", 8)
    assert records.resolve("d:1:2:5", ["d:1:2"]) == ("d:1:2", 5)  # colons in the name


def test_resolve_ambiguous_lists_candidates():
    with pytest.raises(records.PositionError) as e:
        records.resolve("syslog:184", NAMES)
    assert "ambiguous" in str(e.value) and NAMES[0] in str(e.value) and NAMES[1] in str(e.value)
    assert NAMES[3] not in str(e.value)  # `mysyslog` does not end in `!syslog`


@pytest.mark.parametrize("spec", ["syslog", "syslog:", "syslog:x", "syslog:0", "nothing:3"])
def test_resolve_refuses(spec):
    with pytest.raises(records.PositionError):
        records.resolve(spec, NAMES)


def test_fetch_reads_each_file_once(monkeypatch):
    calls = []
    real = records.decode

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(records, "decode", counting)
    shown = show.show(SHARE_OK, ["pcap:64", "pcap:83", "pcap:88", "pcap:94"])
    assert len(shown.texts) == 4 and len(calls) == 1


# -- the command ----------------------------------------------------------------------------------
def test_cli_show_and_errors(tmp_path, logcorr):
    r = logcorr("show", SHARE_OK, "syslog:81", "pcap:83", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "INVITE sip:standup@meet.corp.lab SIP/2.0" in r.stdout and "CONNECTION-ID: 0x5688b600" in r.stdout
    assert list(tmp_path.iterdir()) == []  # nothing unpacked into the user's folder
    r = logcorr("show", SHARE_OK, "txt:4", "pcap:83", cwd=tmp_path)
    assert r.returncode == 2
    assert "CONNECTION-ID: 0x5688b600" in r.stdout  # what could be shown is shown
    assert "ambiguous" in r.stderr and "sfbedge01_SIPStack_snooper.txt" in r.stderr
    r = logcorr("show", SHARE_OK, "nothing.log:3", "pcap:999", "syslog:999999", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert "no file 'nothing.log'" in r.stderr and "has 179 frames" in r.stderr and "fewer than 999999 lines" in r.stderr
    assert "Traceback" not in r.stderr
    r = logcorr("show", SHARE_OK, cwd=tmp_path)
    assert r.returncode == 2 and "name a position" in r.stderr
    r = logcorr("show", SHARE_OK, "--call", "no-such-call", cwd=tmp_path)
    assert r.returncode == 2 and "no call 'no-such-call'" in r.stderr
    r = logcorr("show", "--help")
    assert "Example: logcorr show" in r.stdout


def test_cli_redact(tmp_path, logcorr):
    r = logcorr("show", SHARE_OK, "syslog:81", "pcap:88", "--redact", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "10.48.54.230" not in r.stdout and "10.48.54.10" not in r.stdout
    assert 'USERNAME: "turn"' in r.stdout  # the protocol's default user name is no customer value
    assert "Room 2001" not in r.stdout and "CONNECTION-ID: 0x5688b600" in r.stdout
    r = logcorr("show", SHARE_OK, "pcap:88", "--redact", "--hex", cwd=tmp_path)
    assert r.returncode == 2 and "cannot be redacted" in r.stderr


def test_texts_for_reports_embedding_evidence():
    table = api.read(SHARE_OK).events
    wanted = table[table["event"].isin(["ConnectionBind Request", "INVITE"])][["file", "pos"]]
    positions = list(wanted.itertuples(index=False, name=None))
    out = show.texts(SHARE_OK, positions, redact=show.redaction(True))
    assert set(out) == set(positions)
    assert all(text.startswith("== ") for text in out.values())
    assert not any("10.48.54.230" in text for text in out.values())


def test_a_refused_member_says_why(tmp_path):
    import zipfile
    bundle = tmp_path / "case.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("../evil.txt", "Nov 24 14:47:20.557 user.info cms01 host:server:  INFO : call 1: ending\n")
        zf.writestr("syslog", "Nov 24 14:47:20.557 user.info cms01 host:server:  INFO : call 1: ending\n")
    shown = show.show(bundle, ["evil.txt:1", "syslog:1"])
    assert len(shown.texts) == 1 and "call 1: ending" in shown.texts[0]
    assert len(shown.errors) == 1 and "case.zip!../evil.txt was not read" in shown.errors[0]


def test_readme_example_is_what_show_prints():
    readme = (REPO / "README.md").read_text()
    block = readme.split("$ logcorr show examples/presenter-rights.zip syslog:184\n", 1)[1].split("```", 1)[0]
    expected = [line.strip() for line in block.splitlines() if line.strip() and line.strip() != "..."]
    printed = one(REPO / "examples" / "presenter-rights.zip", "syslog:184").splitlines()
    assert all(line in printed for line in expected), expected


def test_a_later_channel_data_frame_is_named_in_its_layers():
    first, later = show.show(CAPTURES / "a_udp_uclient.pcap", [":27", ":31"]).texts  # tshark: ChannelData 0x75fe
    assert "ChannelData 0x75fe: 5 frames, 500 B" in first
    assert "UDP 33181 -> 3478, 104 bytes of payload (TURN ChannelData 0x75fe)" in later
    assert "ChannelData is counted at the first frame of its flow" in later
