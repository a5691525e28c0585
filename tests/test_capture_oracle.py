"""Real captures (coturn + clients, and public ones) against Wireshark's own decode of them.

tests/data/captures/ holds each capture with its tshark oracle (``*.stun.csv``); see the README
there. Every STUN message tshark decodes must come out of our decoder with the same type,
transaction id, error code and addresses; what tshark misses (ICE checks inside RFC 4571 framing
on a bound TURN-TCP data connection) must come out too.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from capture_oracle import read_oracle
from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.pcap import PARSER
from logcorr.events.schema import NAMES, to_frame

DATA = Path(__file__).parent / "data" / "captures"
ORACLES = sorted(DATA.glob("*.stun.csv"))


def capture_for(oracle: Path) -> Path:
    stem = oracle.name.split(".")[0].removeprefix("public_")
    (found,) = [p for p in DATA.iterdir() if p.name in (f"{stem}.pcap", f"{stem}.pcapng")]
    return found


def decode(path: Path) -> tuple[list[dict], ParseContext]:
    ctx = ParseContext(file=f"bundle.zip!captures/{path.name}")
    with open(path, "rb") as fh:
        events = list(PARSER.parse(fh, ctx))
    return events, ctx


def msg_type(event: dict) -> int:
    return int(event["raw"][:4], 16)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_every_stun_message_tshark_decodes_is_ours_too(oracle: Path) -> None:
    events, ctx = decode(capture_for(oracle))
    stun = [e for e in events if e["proto"] == "stun" and e.get("txn_id")]
    frames = read_oracle(oracle)
    assert frames, "empty oracle"
    checked = 0
    for of in frames:
        ours = []
        for mtype, txn in of.messages:
            match = [e for e in stun if e["txn_id"] == txn and msg_type(e) == mtype and e["pos"] <= of.frame]
            assert match, f"frame {of.frame}: type 0x{mtype:04x} txn {txn} missing"
            # pos is the frame of the first byte; tshark names the frame that completes the PDU
            best = max(match, key=lambda e: e["pos"])
            assert of.frame - best["pos"] <= 2, (of.frame, best["pos"])
            ours.append(best)
            checked += 1
        if not of.messages:
            continue
        errors = {e["error_code"] for e in ours if e.get("error_code") is not None}
        assert errors == of.error_codes, f"frame {of.frame}"
        text = " ".join(e["summary"] for e in ours)
        for address in of.addresses:
            assert address in text, f"frame {of.frame}: {address} not in {text}"
        for e in ours:
            for column in ("mapped", "relayed", "peer"):
                if e.get(column):
                    assert e[column] in of.addresses, f"frame {of.frame}: {column} {e[column]}"
    assert checked == sum(len(f.messages) for f in frames) > 0


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_channel_data_counted_per_channel_as_tshark_sees_it(oracle: Path) -> None:
    events, _ = decode(capture_for(oracle))
    want = Counter(ch for f in read_oracle(oracle) for ch in f.channels)
    got = Counter()
    for e in events:
        if e["event"] == "ChannelData":
            m = re.match(r"ChannelData 0x([0-9a-f]{4}): (\d+) frames", e["summary"])
            got[int(m.group(1), 16)] += int(m.group(2))
    assert got == want


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_events_fit_the_schema(oracle: Path) -> None:
    events, ctx = decode(capture_for(oracle))
    assert events
    for e in events:
        assert set(e) <= set(NAMES)
        assert e["source"] == "pcap" and e["direction"] == ""
        assert e["host"] == capture_for(oracle).name
        assert e["file"] == ctx.file
    frame = to_frame(events)
    assert str(frame["ts"].dtype) == "datetime64[ns, UTC]"
    assert frame["ts"].notna().all()


def test_fingerprint_mismatch_is_a_warning_where_tshark_says_bad() -> None:
    # public stun.pcap frame 195: tshark's stun.att.crc32.status is 0 (bad); all others good
    _, ctx = decode(DATA / "ndpi_stun.pcap")
    assert ctx.warning_count == 1
    assert ctx.warnings[0].startswith("frame 195: ") and "FINGERPRINT" in ctx.warnings[0]


def truth_ids() -> list[str]:
    text = (DATA / "c_tcp_passive_ice.truth.txt").read_text()
    return sorted(set(re.findall(r"tid=([0-9a-f]{24})", text)))


def test_ice_checks_on_the_bound_data_leg_that_tshark_misses() -> None:
    events, ctx = decode(DATA / "c_tcp_passive_ice.pcap")
    oracle_frames = {f.frame for f in read_oracle(DATA / "c_tcp_passive_ice.stun.csv")}
    tids = truth_ids()
    assert len(tids) == 4
    data_leg = {"127.0.0.20:41325", "127.0.0.10:3478"}
    peer_leg = {"127.0.0.30:51001", "127.0.0.10:24726"}
    for tid in tids:
        mine = [e for e in events if e.get("txn_id") == tid]
        assert len(mine) == 4, tid  # request and response, on each leg
        on_data = [e for e in mine if {e["src"], e["dst"]} == data_leg]
        on_peer = [e for e in mine if {e["src"], e["dst"]} == peer_leg]
        assert len(on_data) == 2 and len(on_peer) == 2
        assert {e["event"] for e in on_data} == {"Binding Request", "Binding Success Response"}
        for e in on_data:
            assert e["pos"] not in oracle_frames  # Wireshark shows these as plain TCP data
            assert "RFC 4571 framed, bound connection CID 0x5688b600" in e["summary"]
        for e in on_peer:
            assert e["pos"] in oracle_frames
    # both directions succeed on the data leg: CMS answers Skype, Skype answers CMS
    responses = [e for e in events if e["event"] == "Binding Success Response" and {e["src"], e["dst"]} == data_leg]
    assert {e["mapped"] for e in responses} == {"127.0.0.30:51001", "127.0.0.10:24726"}
    assert ctx.warning_count == 0


def test_connection_bind_on_a_new_connection_is_visible() -> None:
    events, _ = decode(DATA / "c_tcp_passive_ice.pcap")
    by = {(e["proto"], e["event"], e["src"]): e for e in events}
    attempt = next(e for e in events if e["event"] == "ConnectionAttempt Indication")
    assert attempt["peer"] == "127.0.0.30:51001" and attempt["connection_id"] == 0x5688B600
    opened = by[("tcp", "open", "127.0.0.20:41325")]
    bind = by[("stun", "ConnectionBind Request", "127.0.0.20:41325")]
    ok = by[("stun", "ConnectionBind Success Response", "127.0.0.10:3478")]
    assert attempt["pos"] < opened["pos"] < bind["pos"] < ok["pos"]
    assert bind["connection_id"] == ok["connection_id"] == 0x5688B600
    assert (ok["ts"] - bind["ts"]).total_seconds() < 0.001
    relayed = next(e for e in events if e["event"] == "Allocate Success Response")
    assert relayed["relayed"] == "127.0.0.10:24726" and relayed["lifetime"] == 600
    assert relayed["summary"] == (
        "Allocate Success Response XOR-RELAYED-ADDRESS: 127.0.0.10:24726 "
        "XOR-MAPPED-ADDRESS: 127.0.0.20:40557 lifetime: 600 with MESSAGE-INTEGRITY"
    )
    media = [e for e in events if e["event"] == "media"]
    assert len(media) == 4 and all("3 frames, 96 B" in e["summary"] for e in media)
    resets = [e for e in events if e["event"] == "reset"]
    assert {e["src"] for e in resets} == {"127.0.0.10:3478", "127.0.0.10:24726"}


def test_active_connect_flow_pairs_each_connection_id() -> None:
    events, _ = decode(DATA / "b_tcp_relay_uclient.pcap")
    binds = {e["src"]: e["connection_id"] for e in events if e["event"] == "ConnectionBind Request"}
    assert binds == {"127.0.0.20:46827": 0x95E0FE00, "127.0.0.20:37685": 0x83F26601}
    connect_ok = next(e for e in events if e["event"] == "Connect Success Response")
    assert connect_ok["connection_id"] == 0x95E0FE00
    data = [e for e in events if e["event"] == "data"]
    assert len(data) == 4 and all("300 B" in e["summary"] for e in data)


def test_error_responses_of_the_failure_captures() -> None:
    events, _ = decode(DATA / "d2_wrong_password.pcap")
    codes = [e.get("error_code") for e in events if e["event"].endswith("Error Response")]
    assert codes.count(401) >= 3 and 441 in codes
    wrong = next(e for e in events if e.get("error_code") == 441)
    assert "Wrong Credentials" in wrong["summary"] and "\x00" not in wrong["summary"]
    events, _ = decode(DATA / "d4b_quota_486_uclient.pcap")
    quota = [e for e in events if e.get("error_code") == 486]
    assert len(quota) == 1 and quota[0]["pos"] == 20


def test_ms_turn_is_decoded_and_marked() -> None:
    events, _ = decode(DATA / "ndpi_teams_msturn_subset.pcap")
    first_error = next(e for e in events if e["pos"] == 8)
    assert first_error["event"] == "Allocate Error Response" and first_error["error_code"] == 401
    assert first_error["realm"] == "rtcmedia"  # MS-TURN: REALM is 0x0015
    assert "MS-TURN" in first_error["summary"] and "with nonce" in first_error["summary"]
    assert first_error["mapped"] == "80.181.206.72:57543"
    ms = [e for e in events if "MS-TURN" in e["summary"]]
    plain = [e for e in events if e["proto"] == "stun" and "MS-TURN" not in e["summary"]]
    assert len(ms) >= 20 and plain  # the ICE checks are ordinary STUN


def test_several_messages_in_one_segment() -> None:
    events, _ = decode(DATA / "ndpi_stun_tcp_multiple_msgs_same_pkt.pcap")
    in_five = [e for e in events if e["pos"] == 5 and e["event"] == "Allocate Request"]
    assert len(in_five) == 3  # three copies of one request (same transaction id)
    assert all(e["txn_id"] == "704b6e453952586746596c59" for e in in_five)


def test_direct_ice_tcp_framing_in_a_public_capture() -> None:
    events, _ = decode(DATA / "ndpi_stun.pcap")
    framed = [e for e in events if "(RFC 4571 framed)" in e["summary"]]
    assert framed and all(e["transport"] == "TCP" for e in framed)
    assert {e["pos"] for e in framed} >= set(range(3, 15)) & {e["pos"] for e in framed}
    assert min(e["pos"] for e in framed) <= 4


def test_ice_checks_inside_send_and_data_indications() -> None:
    events, _ = decode(DATA / "ndpi_stun.pcap")
    at79 = [e for e in events if e["pos"] == 79]
    assert [e["event"] for e in at79] == ["Data Indication", "Binding Request"]
    assert at79[1]["username"] == "XpJs:kSty"
    assert at79[1]["summary"].endswith("(inside Data Indication from peer 185.170.139.1:12176)")


def test_legacy_ms_turn_remote_address_is_not_xored() -> None:
    events, _ = decode(DATA / "ndpi_teams_msturn_subset.pcap")
    data46 = next(e for e in events if e["pos"] == 46 and e["event"] == "Data Indication")
    # the peer that answers in frame 48 is 93.71.110.205:16332
    assert "REMOTE-ADDRESS: 93.71.110.205:16332" in data46["summary"]
    assert data46["peer"] == "93.71.110.205:16332"
    assert next(e for e in events if e["pos"] == 48)["src"] == "93.71.110.205:16332"
