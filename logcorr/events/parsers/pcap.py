"""Packet captures (pcap, pcapng): STUN, TURN, ICE, SIP and TCP connection events.

The work is done in :mod:`logcorr.events.capture`; this module is the parser interface around it.
Event keys are listed in :mod:`logcorr.events.capture.decode`.
"""
from __future__ import annotations

from typing import BinaryIO, Iterator

from logcorr.events.capture import pcapfile
from logcorr.events.capture.decode import PURGE_MASK, decode
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
        records = pcapfile.records(stream, ctx.warn, media_mask=PURGE_MASK)  # media: see decode

        def count(frame: int | None, reason: str, n: int, skipped: bool) -> None:
            """Packets skipped count as skipped records; malformed STUN messages, decoded anyway,
            are listed among the reasons as ``decoded although malformed: ...``."""
            if skipped:
                ctx.skipped += n
                ctx.skip_reasons[reason] += n
                if reason.startswith("unsupported link type"):  # nothing of the file can be read
                    ctx.warn(frame, f"{reason}: its {n} packet(s) are skipped")
            else:
                ctx.skip_reasons[f"decoded although malformed: {reason}"] += n

        yield from decode(records, _basename(ctx.file), ctx.file, ctx.warn, count)


PARSER = PcapParser()
