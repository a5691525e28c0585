"""The one SIP message grammar every source uses (RFC 3261 text, RFC 4566 SDP, ICE candidates).

CMS traces, Expressway SIPMSG blocks, SfB Snooper records, UccApi packets, plain SIP files and
clear-text SIP in captures all end up here as text; :func:`parse_message` reads it and
:func:`event_fields` gives the event columns. Nothing here raises on bad input: what cannot be
read is left empty and listed in ``SipMessage.defects``.

The parts: :mod:`.message` (start line, headers, body), :mod:`.defects` (what RFC 3261 refuses),
:mod:`.sdp` (SDP and ICE candidates), :mod:`.fields` (the event columns), :mod:`.framing`
(messages cut out of a TCP stream), :mod:`.words` (tokens, numbers, addresses).
"""
from .defects import field_defects
from .fields import (DIAGNOSTIC_HEADERS, EXPRESSWAY_VIA_PARAMS, VIA_TRANSPORT, event_fields, ms_diagnostics,
                     via_hops, via_transport)
from .framing import _CONTENT_LENGTH, _HEADER_END, MAX_BODY_BYTES, MAX_HEADER_BYTES, split_messages
from .message import (CANONICAL, COMPACT_FORMS, REQUEST_LINE, START_LINE, STATUS_LINE, SipMessage,
                      canonical_header, looks_like_sip, parse_message)
from .sdp import (BOUNDARY, Candidate, CandidateText, Media, Sdp, parse_candidate, parse_sdp, pick_sdp_part,
                  read_candidates)
from .words import TOKEN, decimal, join_address

__all__ = [
    "BOUNDARY", "CANONICAL", "COMPACT_FORMS", "DIAGNOSTIC_HEADERS", "EXPRESSWAY_VIA_PARAMS", "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES", "REQUEST_LINE", "START_LINE", "STATUS_LINE", "TOKEN", "VIA_TRANSPORT", "Candidate",
    "CandidateText", "Media", "Sdp", "SipMessage", "canonical_header", "decimal", "event_fields", "field_defects",
    "join_address", "looks_like_sip", "ms_diagnostics", "parse_candidate", "parse_message", "parse_sdp",
    "pick_sdp_part", "read_candidates", "split_messages", "via_hops", "via_transport",
]
