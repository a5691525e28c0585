"""The event columns a SIP message fills."""
from __future__ import annotations

import re

from .. import msdiag
from .message import SipMessage
from .sdp import Sdp

DIAGNOSTIC_HEADERS = ("ms-diagnostics", "ms-diagnostics-public", "ms-client-diagnostics")
VIA_TRANSPORT = re.compile(r"SIP/2\.0/([A-Za-z]+)", re.IGNORECASE)


def via_transport(msg: SipMessage) -> str:
    m = VIA_TRANSPORT.search(msg.header("Via"))
    return m.group(1).upper() if m else ""


def via_hops(msg: SipMessage) -> list[tuple[str, str]]:
    """(sent-by, parameters) of every Via entry, top first (a header may hold several)."""
    hops = []
    for value in msg.header_all("Via"):
        for entry in value.split(","):
            protocol, _, rest = entry.strip().partition(" ")
            sent_by, _, params = rest.strip().partition(";")
            if protocol.upper().startswith("SIP/") and sent_by.strip():
                hops.append((sent_by.strip(), params))
    return hops


# Via parameters an Expressway adds to the hops it inserts
EXPRESSWAY_VIA_PARAMS = re.compile(r"(?:^|;)\s*(?:egress-zone|proxy-call-id)\s*=", re.IGNORECASE)


_DIAGNOSTIC_NAMES = frozenset(n.lower() for n in DIAGNOSTIC_HEADERS)


def ms_diagnostics(msg: SipMessage) -> str:
    """The ms-diagnostics(-public) and ms-client-diagnostics values, in the order sent."""
    if not any(msg._values(n) for n in DIAGNOSTIC_HEADERS):
        return ""
    return ";".join(v for n, v in msg.headers if n.lower() in _DIAGNOSTIC_NAMES)


def event_fields(msg: SipMessage, raw: str | None = None) -> dict:
    """The event columns a SIP message fills (source, time and addresses are the caller's)."""
    number, cseq_method = msg.cseq
    if msg.is_request:
        event = msg.method
    elif msg.status is not None:
        event = f"{msg.status} {cseq_method}".strip()
    else:
        event = "unparsed"
    sdp = msg.sdp or Sdp()
    media = sdp.media_types
    relays = sdp.relay_candidates()
    diags = ms_diagnostics(msg)
    hops = via_hops(msg)
    if msg.is_request:
        summary = f"{msg.method} {msg.uri}"
    else:
        summary = f"{msg.status} {msg.reason} ({cseq_method})".replace("  ", " ")
    if media:
        summary += f" sdp: {','.join(media)}"
    if relays:
        summary += f" relay: {';'.join(relays)}"
    if diags:
        summary += f" ms-diagnostics: {diags}"
        icewarn = msdiag.describe(diags)
        if icewarn:
            summary += f" {icewarn}"
    return {
        "proto": "sip",
        "event": event,
        "call_id": msg.call_id,
        "cseq": number,
        "method": msg.method,
        "reason": msg.reason,
        "status": msg.status,
        "sdp_media": ",".join(media),
        "relay_candidates": ";".join(relays),
        "ms_diagnostics": diags,
        "transport": via_transport(msg),
        **_ice_columns(sdp),
        "candidates": ";".join(sdp.candidates()),
        "conversation_id": (msg.header("Ms-Conversation-ID").split() or [""])[0],
        "user_agent": msg.header("User-Agent") or msg.header("Server"),
        "via": ";".join(hop for hop, _ in hops),
        "expressway_via": ";".join(hop for hop, params in hops if EXPRESSWAY_VIA_PARAMS.search(params)),
        "summary": summary,
        "raw": raw if raw is not None else _render(msg),
    }


def _ice_columns(sdp: Sdp) -> dict:
    """ice_ufrag and ice_pwd, one entry per m= line in sdp_media's order; empty without ICE."""
    if not any(m.ice_ufrag or m.ice_pwd for m in sdp.media):
        return {"ice_ufrag": "", "ice_pwd": ""}
    return {"ice_ufrag": ",".join(m.ice_ufrag for m in sdp.media),
            "ice_pwd": ",".join("yes" if m.ice_pwd else "no" for m in sdp.media)}


def _render(msg: SipMessage) -> str:
    head = [msg.start_line] + [f"{n}: {v}" for n, v in msg.headers]
    return "\n".join(head) + "\n\n" + msg.body
