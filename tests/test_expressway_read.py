"""A whole Expressway log is read in chunks, the lines that continue a record taken in blocks; it
must give what the line-by-line loop gives (the one a file read in pieces uses): the same events in
the same order, the same skipped lines, warnings and notes, whatever the chunk size, the line ends,
stray lines, or a reading given up.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from logcorr.events.parsers import ParseContext, expressway
from logcorr.events.parsers.expressway import reader
from logcorr.events.parsers.text import TextLoop
from logcorr.events import scrape
from logcorr.events.scrape import unjoin_sip

DATA = Path(__file__).parent / "data" / "expressway"
MTIME = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc)
LOGS = sorted(p for p in DATA.glob("*.txt") if "xconf" not in p.name)


def _account(ctx: ParseContext) -> tuple:
    return ctx.skipped, dict(ctx.skip_reasons), ctx.warnings, ctx.warning_count, ctx.notes


def whole(data: bytes) -> tuple[list, tuple]:
    ctx = ParseContext(file="f", mtime=MTIME)
    return list(expressway.PARSER.parse(io.BytesIO(data), ctx)), _account(ctx)


def line_by_line(data: bytes) -> tuple[list, tuple]:
    ctx = ParseContext(file="f", mtime=MTIME)
    loop = TextLoop(expressway.PARSER, expressway.PARSER.reader(ctx), ctx)
    events = []
    for pos, text in enumerate(expressway.PARSER.lines(io.BytesIO(data)), 1):
        events.extend(loop.step(pos, text))
        if loop.gave_up:
            break
    events.extend(loop.finish())
    return events, _account(ctx)


def variants(data: bytes) -> dict[str, bytes]:
    lines = data.split(b"\n")
    return {
        "as is": data,
        "CR LF": data.replace(b"\n", b"\r\n"),
        "no end of line at the end": data.rstrip(b"\n"),
        "stray lines, a comment, blank lines": b"junk\n\n  \n" + b"\n".join(
            lines[:3] + [b"# cut here", b"stray", b" indented stray", b""] + lines[3:]),
        "given up after a comment": b"\n".join(lines[:5] + [b"# end"] + [b"junk", b" more", b""] * 120 + lines[5:]),
        "SIPMSG marks lost": data.replace(b" |", b" "),
        "records joined by a web copy": data.replace(b"\n20", b" 20", 3),
    }


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [1 << 20, 97, 1])
def test_whole_file_reads_as_line_by_line(path, chunk, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk)
    for name, data in variants(path.read_bytes()).items():
        events, account = whole(data)
        assert (events, account) == line_by_line(data), name


def test_the_variants_reach_what_they_are_for():
    data = (DATA / "share-ok-loggingsnapshot_expe01.txt").read_bytes()
    v = variants(data)
    events, (skipped, reasons, warnings, _, _) = whole(v["given up after a comment"])
    assert any("gave up" in w for w in warnings) and 0 < len(events) < len(whole(data)[0])
    assert whole(v["stray lines, a comment, blank lines"])[1][0] > 0
    assert whole(v["CR LF"])[0] == whole(data)[0]


UNTOUCHED = [
    "INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/TLS x\nCall-ID: 1\n\nv=0\no=- 1 1 IN IP4 1.2.3.4\n",
    "SIP/2.0 200 OK\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nSubject: re: that\r\n\r\n",
    "",
]


@pytest.mark.parametrize("text", [
    "SIP/2.0 504 Server time-out Via: SIP/2.0/TLS x CSeq: 1 INVITE From : <sip:a@b>\n",
    "INVITE sip:x SIP/2.0 Via: y\nSubject: see: this\n",
    "OPTIONS sip:a SIP/2.0\nContent-Type: application/sdp\n\nv=0 o=- 1 1 IN IP4 1.2.3.4 s=-\n",
    "OPTIONS sip:a SIP/2.0\nSubject: about Via: x\n",
] + UNTOUCHED)
def test_unjoin_sip_gives_what_the_line_by_line_repair_gives(text):
    """The one pass that says "nothing to cut" never leaves a joined message as it is."""
    assert unjoin_sip(text) == scrape._repair(text)
    assert scrape._untouched(text) == (text in UNTOUCHED)
