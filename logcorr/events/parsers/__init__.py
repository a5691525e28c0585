"""The one registry of parsers, most specific first: the first whose `sniff` says yes reads the file.

Each entry also says what the later stages need to know of its source:

* ``yearless``: its stamps carry no year (the year comes from the other sources, else the file's
  time; see :mod:`logcorr.events.read`);
* ``clock``: preference for the reference clock, 1 first (:mod:`logcorr.calls.clocks`): the TURN
  server's own clock (its log, its capture) is the best reference;
* ``role``: the kind of box that writes the file (``CMS``, ``Expressway``, ``SfB server`` for an
  Edge or Front End's SIP stack trace, ``SfB client`` for a client's UccApi log), used to name the
  logging hosts' addresses (:mod:`logcorr.calls.hosts`); empty when the file is not a box's own log.
  It is the parser's, not the source's: two parsers of one source (``sfb``) read the logs of
  different boxes. Each event names its parser in the ``parser`` column (:attr:`Entry.key`).

Entries of one source agree on its clock and year (a test checks it).
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
    def key(self) -> str:
        """The parser's own name (its module's: `sfb_uccapi`), the `parser` column of its events."""
        return type(self.parser).__module__.rsplit(".", 1)[-1]

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
    Entry(sfb_snooper.PARSER, clock=3, role="SfB server"),
    Entry(sfb_uccapi.PARSER, clock=3, role="SfB client"),
    Entry(cms.PARSER, clock=4, role="CMS", yearless=True),
    Entry(siptext.PARSER, clock=5),
)

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.name for e in REGISTRY))
YEARLESS: frozenset[str] = frozenset(e.name for e in REGISTRY if e.yearless)
CLOCK_ORDER: tuple[str, ...] = tuple(sorted(SOURCES, key=lambda s: min(e.clock for e in REGISTRY if e.name == s)))
# parser key -> the role of the box whose log it reads
ROLES: dict[str, str] = {e.key: e.role for e in REGISTRY if e.role}


def identify(head: bytes) -> Entry | None:
    for entry in REGISTRY:
        if entry.sniff(head):
            return entry
    return None


__all__ = ["CLOCK_ORDER", "REGISTRY", "ROLES", "SNIFF_BYTES", "SOURCES", "YEARLESS", "Entry",
           "ParseContext", "Parser", "identify"]
