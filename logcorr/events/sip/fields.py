"""The event columns a SIP message fills."""
from __future__ import annotations

import re

from .. import msdiag
from .message import SipMessage, cseq_parts
from .sdp import Sdp, sdp_columns

DIAGNOSTIC_HEADERS = ("ms-diagnostics", "ms-diagnostics-public", "ms-client-diagnostics")
VIA_TRANSPORT = re.compile(r"SIP/2\.0/([A-Za-z]+)", re.IGNORECASE)


def via_transport(msg: SipMessage) -> str:
    return _transport(msg.header("Via"))


def _transport(via: str) -> str:
    m = VIA_TRANSPORT.search(via)
    return m.group(1).upper() if m else ""


def via_hops(msg: SipMessage) -> list[tuple[str, str]]:
    """(sent-by, parameters) of every Via entry, top first (a header may hold several)."""
    return _hops(msg.index().get("via", ()))


def _hops(values) -> list[tuple[str, str]]:
    hops = []
    for value in values:
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
    return _diagnostics(msg, msg.index())


def _diagnostics(msg: SipMessage, index: dict[str, list[str]]) -> str:
    if _DIAGNOSTIC_NAMES.isdisjoint(index):
        return ""
    return ";".join(v for n, v in msg.headers if n.lower() in _DIAGNOSTIC_NAMES)


_NO_SDP = Sdp()
_NO_VIA = ("", "", "")
# columns worked out once per text: a dialog's messages repeat their Via values (a response
# echoes its request's), an answer or a refresh its SDP; strings only, so nothing is shared
_SDP_SEEN: dict[str, tuple[str, str, str, str, str]] = {}
_VIA_SEEN: dict[tuple[str, ...], tuple[str, str, str]] = {}
_SEEN_MAX = 2048
KEPT_SDP_CHARS, KEPT_VIA_CHARS = 8192, 1024  # longer texts are worked out each time (a few MB at most)


def event_fields(msg: SipMessage, raw: str | None = None) -> dict:
    """The event columns a SIP message fills (source, time and addresses are the caller's)."""
    index = msg.index()
    number, cseq_method = cseq_parts((index.get("cseq") or ("",))[0])
    if msg.is_request:
        event, summary = msg.method, f"{msg.method} {msg.uri}"
    else:
        event = f"{msg.status} {cseq_method}".strip() if msg.status is not None else "unparsed"
        summary = f"{msg.status} {msg.reason} ({cseq_method})".replace("  ", " ")
    media, relays, ufrags, pwds, candidates = _sdp_columns(msg)
    diags = _diagnostics(msg, index)
    vias = index.get("via")
    transport, via, expressway_via = _via_columns(tuple(vias)) if vias else _NO_VIA
    if media:
        summary += f" sdp: {media}"
    if relays:
        summary += f" relay: {relays}"
    if diags:
        summary += f" ms-diagnostics: {diags}"
        icewarn = msdiag.describe(diags)
        if icewarn:
            summary += f" {icewarn}"
    first = msg.first_values()
    return {
        "proto": "sip",
        "event": event,
        "call_id": first.get("call-id", ""),
        "cseq": number,
        "method": msg.method,
        "reason": msg.reason,
        "status": msg.status,
        "sdp_media": media,
        "relay_candidates": relays,
        "ms_diagnostics": diags,
        "transport": transport,
        "ice_ufrag": ufrags,
        "ice_pwd": pwds,
        "candidates": candidates,
        "conversation_id": (first.get("ms-conversation-id", "").split() or [""])[0],
        "user_agent": first.get("user-agent") or first.get("server", ""),
        "via": via,
        "expressway_via": expressway_via,
        "summary": summary,
        "raw": raw if raw is not None else _render(msg),
    }


def _sdp_columns(msg: SipMessage) -> tuple[str, str, str, str, str]:
    """sdp_media, relay_candidates, ice_ufrag, ice_pwd and candidates of the message's SDP."""
    if msg._sdp is not None:  # already read in full
        return _columns_of(msg._sdp)
    text = msg.sdp_text
    if text is None:
        return _columns_of(_NO_SDP)
    if len(text) > KEPT_SDP_CHARS:
        return _columns_of(sdp_columns(text))
    found = _SDP_SEEN.get(text)
    if found is None:
        if len(_SDP_SEEN) >= _SEEN_MAX:
            _SDP_SEEN.clear()
        found = _SDP_SEEN[text] = _columns_of(sdp_columns(text))  # without reading every attribute
    return found


def _columns_of(sdp: Sdp) -> tuple[str, str, str, str, str]:
    ice = _ice_columns(sdp)
    return (",".join(sdp.media_types), ";".join(sdp.relay_candidates()), ice["ice_ufrag"], ice["ice_pwd"],
            ";".join(sdp.candidates()))


def _via_columns(vias: tuple[str, ...]) -> tuple[str, str, str]:
    """transport (of the top Via), via and expressway_via."""
    found = _VIA_SEEN.get(vias)
    if found is None:
        found = _via_of(vias)
        if sum(map(len, vias)) <= KEPT_VIA_CHARS:
            if len(_VIA_SEEN) >= _SEEN_MAX:
                _VIA_SEEN.clear()
            _VIA_SEEN[vias] = found
    return found


def _via_of(vias: tuple[str, ...]) -> tuple[str, str, str]:
    hops = _hops(vias)
    return (_transport(vias[0]), ";".join(hop for hop, _ in hops),
            ";".join(hop for hop, params in hops if EXPRESSWAY_VIA_PARAMS.search(params)))


def _ice_columns(sdp: Sdp) -> dict:
    """ice_ufrag and ice_pwd, one entry per m= line in sdp_media's order; empty without ICE."""
    if not any(m.ice_ufrag or m.ice_pwd for m in sdp.media):
        return {"ice_ufrag": "", "ice_pwd": ""}
    return {"ice_ufrag": ",".join(m.ice_ufrag for m in sdp.media),
            "ice_pwd": ",".join("yes" if m.ice_pwd else "no" for m in sdp.media)}


def _render(msg: SipMessage) -> str:
    head = [msg.start_line] + [f"{n}: {v}" for n, v in msg.headers]
    return "\n".join(head) + "\n\n" + msg.body
