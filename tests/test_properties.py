"""Property-based tests on every entry point that reads bundle bytes: each parser, the STUN
decoder, the SIP grammar and the archive walk. Whatever the bytes, none raises (the archive walk
raises only IntakeError, for a bundle missing as a whole), and none takes more than linear time:
a shape repeated to 64 KiB is read well within a second.

Inputs are drawn three ways: arbitrary bytes; lines of the real samples in tests/data, cut,
joined and sprinkled with arbitrary text (so that each parser gets past its own sniffing); and
valid archives and STUN messages with bytes changed, cut or inserted. The example counts are
kept small so that the suite stays fast; `tests/fuzz/fuzz.py` runs the same properties for as
long as it is given.
"""
from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logcorr.events import sip
from logcorr.events.capture import stun
from logcorr.events.parsers import REGISTRY
from logcorr.events.parsers.base import ParseContext
from logcorr.intake.archive import Bundle, Limits

DATA = Path(__file__).parent / "data"
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
LINEAR_BUDGET = 1.5  # seconds for 64 KiB of one repeated shape
PARSERS = {f"{e.name}-{type(e.parser).__name__}": e.parser for e in REGISTRY}


def _sample_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(DATA.rglob("*")):
        if path.is_file() and path.suffix in (".log", ".txt") and path.stat().st_size < 400_000:
            lines += path.read_bytes().splitlines(keepends=True)[:400]
    return lines


LINES = _sample_lines()
CAPTURE = (DATA / "captures" / "c_tcp_passive_ice.pcap").read_bytes()

# -- strategies ---------------------------------------------------------------------------------
noise = st.binary(max_size=2048)
text_noise = st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass"))


@st.composite
def log_like(draw) -> bytes:
    """Real lines, some cut or joined, with arbitrary text between them."""
    parts = []
    for _ in range(draw(st.integers(1, 30))):
        line = draw(st.sampled_from(LINES))
        how = draw(st.integers(0, 5))
        if how == 1:
            line = line[: draw(st.integers(0, len(line)))]
        elif how == 2:
            line = line.rstrip(b"\r\n")  # joined to the next
        elif how == 3:
            line = draw(text_noise) + b"\n"
        elif how == 4:
            at = draw(st.integers(0, len(line)))
            line = line[:at] + draw(st.binary(max_size=8)) + line[at:]
        parts.append(line)
    return b"".join(parts)


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """`base` with a few bytes changed, a cut, or a piece inserted."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            data[at] = draw(st.integers(0, 255))
        elif kind == 1:
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == 2:
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            data = data[:at]
    return bytes(data)


STUN_ATTRS = [0x0001, 0x0006, 0x0008, 0x0009, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014, 0x0015,
              0x0016, 0x0019, 0x0020, 0x0022, 0x0024, 0x0025, 0x002A, 0x8008, 0x8022, 0x8028,
              0x8029, 0x802A, 0x8050, 0x8054, 0x8055, 0x8070, 0x0017]


@st.composite
def stun_like(draw) -> bytes:
    """A STUN header with the magic cookie (or MS-TURN's) and attributes of known types."""
    attrs = b""
    for _ in range(draw(st.integers(0, 8))):
        atype = draw(st.sampled_from(STUN_ATTRS) | st.integers(0, 0xFFFF))
        value = draw(st.binary(max_size=40))
        attrs += struct.pack("!HH", atype, len(value)) + value
        if draw(st.booleans()):
            attrs += b"\0" * (-len(value) % 4)
    length = draw(st.sampled_from([len(attrs)]) | st.integers(0, 0xFFFF))
    cookie = draw(st.sampled_from([stun.MAGIC_COOKIE_BYTES, b"\0\0\0\0"]))
    head = struct.pack("!HH", draw(st.integers(0, 0x3FFF)), length) + cookie + draw(st.binary(min_size=12, max_size=12))
    return head + attrs


def _sip_lines() -> list[str]:
    return [ln.decode("utf-8", "replace") for ln in LINES if b":" in ln][:3000] + [
        "INVITE sip:a@b SIP/2.0\r\n", "SIP/2.0 200 OK\r\n", "Content-Length: 99999999999999\r\n",
        "Content-Type: multipart/mixed;boundary=x\r\n", "\r\n", "--x\r\n", "a=candidate:1 1 UDP 1 1.2.3.4 5 typ relay\r\n",
        "m=applicationsharing 5060 TCP/RTP/AVP 127\r\n", " folded continuation\r\n", "v: SIP/2.0/TLS h;branch=z\r\n"]


SIP_LINES = _sip_lines()
sip_text = st.lists(st.sampled_from(SIP_LINES) | st.text(max_size=60), max_size=40).map("".join)


def _parse(parser, data: bytes) -> list[dict]:
    ctx = ParseContext(file="f")
    parser.sniff(data[:65536])
    events = list(parser.parse(io.BytesIO(data), ctx))
    assert all(isinstance(e, dict) for e in events)
    return events


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _repeat(unit: bytes, size: int = 64 * 1024) -> bytes:
    return (unit * (size // max(len(unit), 1) + 1))[:size] if unit else b""


# -- parsers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PARSERS)
@SETTINGS
@given(data=noise | log_like())
def test_parser_never_raises(name, data):
    _parse(PARSERS[name], data)


@pytest.mark.parametrize("name", PARSERS)
@settings(SETTINGS, max_examples=8)
@given(unit=log_like() | st.binary(min_size=1, max_size=64))
def test_parser_is_linear(name, unit):
    assert _timed(_parse, PARSERS[name], _repeat(unit)) < LINEAR_BUDGET


@SETTINGS
@given(data=mutated(CAPTURE[:6000]))
def test_capture_parser_on_damaged_pcap(data):
    _parse(PARSERS["pcap-PcapParser"], data)


# -- STUN ---------------------------------------------------------------------------------------
@settings(SETTINGS, max_examples=300)
@given(buf=stun_like() | st.binary(max_size=200))
def test_stun_decoder_never_raises(buf):
    msg = stun.decode(buf)
    if msg is not None:
        stun.summary(msg)
        stun.inner_stun(msg)
    stun.is_stun(buf)
    stun.is_ms_turn(buf)
    stun.channel_data_len(buf)


def test_stun_decoder_is_linear():
    body = b"".join(struct.pack("!HH", 0x8055, 0) for _ in range(16000))  # 16,000 empty attributes
    buf = struct.pack("!HH", 0x0001, len(body)) + stun.MAGIC_COOKIE_BYTES + b"\1" * 12 + body[:0xFFFF - 3]
    assert _timed(stun.decode, buf) < LINEAR_BUDGET


# -- SIP grammar --------------------------------------------------------------------------------
@settings(SETTINGS, max_examples=200)
@given(text=sip_text)
def test_sip_grammar_never_raises(text):
    msg = sip.parse_message(text)
    sip.event_fields(msg, text)
    sip.looks_like_sip(text)
    sip.parse_sdp(text)
    sip.split_messages(text.encode("utf-8", "surrogatepass"))


@settings(SETTINGS, max_examples=10)
@given(unit=st.lists(st.sampled_from(SIP_LINES), min_size=1, max_size=6).map("".join))
def test_sip_grammar_is_linear(unit):
    big = _repeat(unit.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")
    assert _timed(lambda: sip.event_fields(sip.parse_message(big), big)) < LINEAR_BUDGET
    assert _timed(sip.split_messages, big.encode()) < LINEAR_BUDGET


# -- the archive walk ---------------------------------------------------------------------------
LOG = b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: ending\n"


def _archives() -> dict[str, bytes]:
    import bz2
    import gzip
    import lzma
    import tarfile
    import zipfile
    out = {}
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as zf:
            zf.writestr("a/x.log", LOG * 3)
            zf.writestr("b.log.gz", gzip.compress(LOG))
        out[f"zip{method}"] = buf.getvalue()
    for mode in ("w", "w:gz", "w:bz2", "w:xz"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tf:
            for name in ("x.log", "y/z.log"):
                info = tarfile.TarInfo(name)
                info.size = len(LOG)
                tf.addfile(info, io.BytesIO(LOG))
        out[f"tar{mode}"] = buf.getvalue()
    out["gz"], out["bz2"], out["xz"] = gzip.compress(LOG), bz2.compress(LOG), lzma.compress(LOG)
    return out


ARCHIVES = _archives()
SMALL = Limits(ratio_floor=1 << 20, total_floor=8 << 20, max_members=200, max_seconds=10)


def _walk(tmp: Path, data: bytes) -> None:
    path = tmp / "bundle"
    path.write_bytes(data)
    with Bundle(path, SMALL) as b:
        for m in b.members:
            m.name.encode("utf-8")  # printable anywhere: no surrogate
            assert m.path.is_file()
        for s in b.skipped:
            s.name.encode("utf-8")
            assert isinstance(s.reason, str) and s.reason
        tmpdir = b._tmp
    assert not tmpdir.exists()


@SETTINGS
@given(data=st.sampled_from(sorted(ARCHIVES)).flatmap(lambda k: mutated(ARCHIVES[k])) | noise)
def test_archive_walk_never_raises(tmp_path_factory, data):
    _walk(tmp_path_factory.mktemp("w"), data)


def test_archive_walk_is_linear_in_members(tmp_path):
    from bad.bombs import many_members_zip
    small, big = many_members_zip(20), many_members_zip(200)
    t_small = min(_timed(_walk, tmp_path, small) for _ in range(3))
    t_big = min(_timed(_walk, tmp_path, big) for _ in range(3))
    assert t_big < 10 * t_small * 4 + 0.5  # 10 times the members: about 10 times the time
