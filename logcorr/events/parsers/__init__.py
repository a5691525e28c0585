"""The one registry of parsers, most specific first: the first whose `sniff` says yes reads the file."""
from __future__ import annotations

from .base import SNIFF_BYTES, ParseContext, Parser
from . import cms, expressway, pcap, sfb_snooper, sfb_uccapi, siptext, xconfig

REGISTRY: tuple[Parser, ...] = (
    pcap.PARSER,
    expressway.PARSER,
    xconfig.PARSER,
    sfb_snooper.PARSER,
    sfb_uccapi.PARSER,
    cms.PARSER,
    siptext.PARSER,
)


def identify(head: bytes) -> Parser | None:
    for parser in REGISTRY:
        if parser.sniff(head):
            return parser
    return None


__all__ = ["REGISTRY", "SNIFF_BYTES", "ParseContext", "Parser", "identify"]
