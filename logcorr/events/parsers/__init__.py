"""The one registry of parsers, most specific first: the first whose `sniff` says yes reads the file.

Each entry also says what the later stages need to know of its source:

* ``yearless``: its stamps carry no year (the year comes from the other sources, else the file's
  time; see :mod:`logcorr.events.read`);
* ``clock``: preference for the reference clock, 1 first (:mod:`logcorr.calls.clocks`): the TURN
  server's own clock (its log, its capture) is the best reference;
* ``role``: the kind of box whose log it is (``CMS``, ``Expressway``, ``SfB``), used to name the
  logging hosts' addresses (:mod:`logcorr.calls.hosts`); empty when the file is not a box's own log.

Entries of one source say the same (a test checks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator

from .base import SNIFF_BYTES, ParseContext, Parser
from . import cms, expressway, pcap, sfb_snooper, sfb_uccapi, siptext, xconfig


@dataclass(frozen=True)
class Entry:
    parser: Parser
    clock: int
    role: str = ""
    yearless: bool = False

    @property
    def name(self) -> str:
        """The source it reads (the `source` column of its events)."""
        return self.parser.name

    def sniff(self, head: bytes) -> bool:
        return self.parser.sniff(head)

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        return self.parser.parse(stream, ctx)


REGISTRY: tuple[Entry, ...] = (
    Entry(pcap.PARSER, clock=2),
    Entry(expressway.PARSER, clock=1, role="Expressway"),
    Entry(xconfig.PARSER, clock=1, role="Expressway"),
    Entry(sfb_snooper.PARSER, clock=3, role="SfB"),
    Entry(sfb_uccapi.PARSER, clock=3, role="SfB"),
    Entry(cms.PARSER, clock=4, role="CMS", yearless=True),
    Entry(siptext.PARSER, clock=5),
)

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.name for e in REGISTRY))
YEARLESS: frozenset[str] = frozenset(e.name for e in REGISTRY if e.yearless)
CLOCK_ORDER: tuple[str, ...] = tuple(sorted(SOURCES, key=lambda s: min(e.clock for e in REGISTRY if e.name == s)))
ROLES: dict[str, str] = {e.name: e.role for e in REGISTRY if e.role}


def identify(head: bytes) -> Entry | None:
    for entry in REGISTRY:
        if entry.sniff(head):
            return entry
    return None


__all__ = ["CLOCK_ORDER", "REGISTRY", "ROLES", "SNIFF_BYTES", "SOURCES", "YEARLESS", "Entry",
           "ParseContext", "Parser", "identify"]
