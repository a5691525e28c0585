"""Packet captures (pcap, pcapng): STUN, TURN, ICE, SIP and TCP connection events.

The work is done in :mod:`logcorr.events.capture`; this module is the parser interface around it.
Event keys are listed in :mod:`logcorr.events.capture.decode`.
"""
from __future__ import annotations

from typing import BinaryIO, Iterator

from logcorr.events.capture import pcapfile
from logcorr.events.capture.decode import decode
from logcorr.events.parsers.base import ParseContext


def _basename(path: str) -> str:
    inner = path.rsplit("!", 1)[-1]
    return inner.replace("\\", "/").rsplit("/", 1)[-1]


class PcapParser:
    name = "pcap"

    def sniff(self, head: bytes) -> bool:
        return pcapfile.kind(head) is not None

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        ctx.pos_unit = "frame"
        records = pcapfile.records(stream, ctx.warn)
        yield from decode(records, _basename(ctx.file), ctx.file, ctx.warn)


PARSER = PcapParser()
