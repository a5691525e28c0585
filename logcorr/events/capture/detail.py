"""One STUN/TURN message in full, like the detail pane of Wireshark: header fields, then every
attribute decoded (addresses de-XORed, CONNECTION-ID in hex, ERROR-CODE with its reason, the text
attributes quoted, MESSAGE-INTEGRITY and FINGERPRINT checked where that is possible, MS-TURN
attributes, unknown ones as hex). Also the frame line and a hex dump.

The attribute walk is :func:`logcorr.events.capture.stun.decode`'s (``StunMessage.attrs``); this
module only puts each value into words. Pure functions over ``bytes``.
"""
from __future__ import annotations

import struct
from typing import Callable

from . import link, stun

INDENT = "    "
MAX_TEXT = 200  # characters of a text attribute shown before it is cut


def hexdump(data: bytes, indent: str = "") -> list[str]:
    """``0000  00 01 00 58 21 12 a4 42  b7 e7 a7 01 bc 34 d6 86  ....!..B.....4..``"""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        out.append(f"{indent}{off:04x}  {left:<23}  {right:<23}  {text}")
    return out


def _text(value: bytes) -> str | None:
    """The value as text when it is printable UTF-8 (trailing NULs dropped), else None."""
    try:
        text = value.rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _quoted(value: bytes) -> str:
    """A text attribute in quotes (unless it brings its own); bytes that are not text as hex."""
    text = _text(value)
    if text is None:
        return f"{value.hex()} ({len(value)} bytes, not text)"
    shown = text[:MAX_TEXT] + ("..." if len(text) > MAX_TEXT else "")
    return shown if len(text) > 1 and text[0] == text[-1] == '"' else f'"{shown}"'


def _int(value: bytes, size: int = 4) -> int | None:
    return int.from_bytes(value[:size], "big") if len(value) >= size else None


def _address(msg: stun.StunMessage, atype: int, value: bytes, mask: bytes) -> str:
    xored = stun.ADDRESS_ATTRS[atype]
    if atype == stun.XOR_PEER_ADDRESS and msg.ms_turn and not msg.rfc5389_cookie:
        xored = False  # legacy MS-TURN REMOTE-ADDRESS
    addr = stun.decode_address(value, xored, mask)
    if addr is None:
        return f"malformed address ({value.hex()})"
    family = {1: "IPv4", 2: "IPv6"}.get(value[1], "?")
    if not xored:
        return f"{addr} ({family})"
    return f"{addr} ({family}; on the wire x-port 0x{value[2:4].hex()}, x-address 0x{value[4:].hex()})"


def _error_code(value: bytes) -> str:
    if len(value) < 4:
        return f"malformed ({value.hex()})"
    code = (value[2] & 0x07) * 100 + value[3]
    phrase = value[4:].rstrip(b"\x00").decode("utf-8", "replace")
    known = stun.ERROR_REASONS.get(code, "")
    text = f"{code} {phrase or known}".rstrip()
    if phrase and known and phrase.lower() != known.lower():
        text += f" (RFC reason: {known})"
    return text


def _fingerprint(value: bytes, whole: bytes) -> str:
    if len(value) != 4:
        return f"malformed ({value.hex()})"
    ok = stun.check_fingerprint(whole)
    return f"0x{value.hex()} ({'correct' if ok else 'INCORRECT: the CRC-32 of the message does not match'})"


def _integrity(msg: stun.StunMessage, value: bytes, whole: bytes, password: str | None) -> str:
    text = f"HMAC {value.hex()}"
    if password is None:
        return text + " (not checked: needs the password, --password)"
    keys = []
    try:
        keys.append(("short-term credential", stun.short_term_key(password)))
        if msg.username and msg.realm:
            keys.append(("long-term credential", stun.long_term_key(msg.username, msg.realm, password)))
    except ValueError as e:
        return text + f" (not checked: {e})"
    for label, key in keys:
        if stun.check_integrity(whole, key):
            return text + f" (correct with the given password, {label})"
    return text + " (INCORRECT with the given password)"


def _flag_list(value: bytes) -> str:
    types = [int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value) - 1, 2)]
    return ", ".join(f"0x{t:04x} {stun.ATTR_NAMES.get(t, '')}".rstrip() for t in types) or "(none)"


def _transport(value: bytes) -> str:
    if not value:
        return "malformed (empty)"
    return f"{stun.TRANSPORT_NAMES.get(value[0], 'protocol')} ({value[0]})"


def _nonce(value: bytes) -> str:
    return _quoted(value) if _text(value) is None else f"{_quoted(value)} ({len(value)} bytes)"


def _ms_sequence(value: bytes) -> str:
    if len(value) < 24:
        return f"malformed ({value.hex()})"
    return f"connection id {value[:20].hex()}, sequence number {int.from_bytes(value[20:24], 'big')}"


def _ms_service_quality(value: bytes) -> str:
    if len(value) < 4:
        return value.hex()
    stream, quality = struct.unpack_from("!HH", value, 0)
    return f"stream type {stream}, service quality {quality}"


def _number(unit: str = "", size: int = 4) -> Callable[[bytes], str]:
    def render(value: bytes) -> str:
        n = _int(value, size)
        return f"malformed ({value.hex()})" if n is None else f"{n}{unit}"
    return render


def _hex32(value: bytes) -> str:
    n = _int(value)
    return f"malformed ({value.hex()})" if n is None else f"0x{n:08x}"


def _hex_value(value: bytes) -> str:
    return "0x" + value.hex() if value else "(empty)"


# value renderers that need nothing but the value
SIMPLE: dict[int, Callable[[bytes], str]] = {
    stun.ERROR_CODE: _error_code,
    stun.USERNAME: _quoted,
    stun.SOFTWARE: _quoted,
    stun.PASSWORD: _quoted,
    stun.ALTERNATE_DOMAIN: _quoted,
    stun.MS_ALTERNATE_HOST_NAME: _quoted,
    stun.CANDIDATE_IDENTIFIER: _quoted,
    stun.LIFETIME: _number(" s"),
    stun.BANDWIDTH: _number(" kbit/s"),
    stun.PRIORITY: _number(),
    stun.MS_VERSION: _number(),
    stun.MS_IMPLEMENTATION_VERSION: _number(),
    stun.CONNECTION_ID: _hex32,
    stun.MAGIC_COOKIE_ATTR: _hex32,
    stun.CHANNEL_NUMBER: lambda v: f"0x{v[:2].hex()}" if len(v) >= 2 else f"malformed ({v.hex()})",
    stun.REQUESTED_TRANSPORT: _transport,
    stun.REQUESTED_ADDRESS_FAMILY: lambda v: {1: "IPv4", 2: "IPv6"}.get(v[0], f"family {v[0]}") if v else "(empty)",
    stun.EVEN_PORT: lambda v: f"R={v[0] >> 7}" if v else "(empty)",
    stun.ICE_CONTROLLING: lambda v: f"tie-breaker 0x{v.hex()}",
    stun.ICE_CONTROLLED: lambda v: f"tie-breaker 0x{v.hex()}",
    stun.UNKNOWN_ATTRIBUTES: _flag_list,
    stun.MS_SEQUENCE_NUMBER: _ms_sequence,
    stun.MS_SERVICE_QUALITY: _ms_service_quality,
    stun.USE_CANDIDATE: lambda v: "(flag)" if not v else f"0x{v.hex()}",
    stun.DONT_FRAGMENT: lambda v: "(flag)" if not v else f"0x{v.hex()}",
}


def attribute_name(msg: stun.StunMessage, atype: int) -> str:
    if msg.ms_turn and atype in (stun.REALM, stun.NONCE):
        return "NONCE" if atype == stun.REALM else "REALM"  # MS-TURN swaps the two numbers
    if msg.ms_turn and not msg.rfc5389_cookie and atype == stun.XOR_PEER_ADDRESS:
        return "REMOTE-ADDRESS"
    return stun.ATTR_NAMES.get(atype, f"attribute 0x{atype:04x}")


def attribute_value(msg: stun.StunMessage, atype: int, value: bytes, whole: bytes,
                    password: str | None = None) -> str:
    """One attribute's value in words."""
    name = attribute_name(msg, atype)
    if atype in stun.ADDRESS_ATTRS:
        return _address(msg, atype, value, whole[4:20])
    if name == "REALM":
        return _quoted(value)
    if name == "NONCE":
        return _nonce(value)
    if atype in (stun.MESSAGE_INTEGRITY, stun.MESSAGE_INTEGRITY_SHA256):
        return _integrity(msg, value, whole, password)
    if atype == stun.FINGERPRINT:
        return _fingerprint(value, whole)
    if atype == stun.DATA_ATTR:
        inner = stun.inner_stun(msg)
        if inner is not None:
            carried = stun.decode(inner)
            return f"{len(value)} bytes: {carried.name if carried else 'STUN'} (shown on its own below)"
        return f"{len(value)} bytes"
    render = SIMPLE.get(atype)
    if render is not None:
        return render(value)
    return _hex_value(value)


def describe(raw: bytes, password: str | None = None) -> list[str]:
    """The lines of the detail pane for one STUN message (``raw`` holds exactly the message)."""
    msg = stun.decode(raw)
    if msg is None:
        return ["not a STUN message: " + raw[:64].hex() + ("..." if len(raw) > 64 else "")]
    kind = "MS-TURN" if msg.ms_turn else "STUN"
    lines = [
        f"{kind} {msg.name}",
        f"{INDENT}Message Type: 0x{msg.msg_type:04x} (method {stun.METHOD_NAMES.get(msg.method, 'unknown')} "
        f"0x{msg.method:03x}, class {stun.CLASS_NAMES[msg.cls]})",
        f"{INDENT}Message Length: {msg.length}",
    ]
    if msg.rfc5389_cookie:
        lines.append(f"{INDENT}Magic Cookie: 0x{stun.MAGIC_COOKIE:08x}")
    lines.append(f"{INDENT}Transaction ID: {msg.txn_id}")
    lines.append(f"{INDENT}Attributes: {len(msg.attrs)}")
    for atype, value in msg.attrs:
        name = attribute_name(msg, atype)
        text = attribute_value(msg, atype, value, raw, password)
        known = "" if name.endswith(f"0x{atype:04x}") else f"type 0x{atype:04x}, "
        lines.append(f"{INDENT * 2}{name}: {text}  ({known}{len(value)} bytes)")
    for problem in msg.problems:
        lines.append(f"{INDENT}problem: {problem}")
    return lines


# -- the frame --------------------------------------------------------------------------------
TCP_FLAGS = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"))


def frame_layers(linktype: int, data: bytes) -> str:
    """``IPv4 10.0.0.1 -> 10.0.0.2, TCP 40557 -> 3478 [PSH ACK], 104 bytes of payload``"""
    off = link.ip_offset(linktype, data)
    layer = link.ip_layer(data, off) if off >= 0 else None
    if layer is None:
        return f"link type {linktype}, not IPv4 or IPv6"
    src = link.addr(layer.src, 0).rsplit(":", 1)[0]
    dst = link.addr(layer.dst, 0).rsplit(":", 1)[0]
    text = f"IPv{layer.version} {src} -> {dst}"
    if layer.fragment is not None:
        _, at, more = layer.fragment
        return text + f", fragment at offset {at}{' (more follow)' if more else ' (last)'}"
    l4, end = layer.l4, layer.end
    if layer.proto == link.IPPROTO_UDP and l4 + 8 <= end:
        sport, dport = struct.unpack_from("!HH", data, l4)
        text += f", UDP {sport} -> {dport}, {end - l4 - 8} bytes of payload"
        if stun.channel_data_len(data, l4 + 8, end):
            text += f" (TURN ChannelData 0x{data[l4 + 8 : l4 + 10].hex()})"
        return text
    if layer.proto == link.IPPROTO_TCP and l4 + 20 <= end:
        sport, dport, _seq, _ack, off_flags = struct.unpack_from("!HHIIH", data, l4)
        flags = " ".join(n for bit, n in TCP_FLAGS if off_flags & bit)
        payload = max(0, end - l4 - (off_flags >> 12) * 4)
        return text + f", TCP {sport} -> {dport} [{flags}], {payload} bytes of payload"
    return text + f", IP protocol {layer.proto}"
