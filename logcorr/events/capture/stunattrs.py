"""STUN attributes: numbers, names, and how each one fills a :class:`~logcorr.events.capture.stun.StunMessage`.

Numbers from RFC 3489 (classic STUN), RFC 5389 / 8489, RFC 5766 / 8656, RFC 6062, RFC 5245 (ICE),
RFC 5780 and [MS-TURN] 2.2.2 (MS-TURN swaps NONCE 0x0014 and REALM 0x0015; its 0x0012 is
REMOTE-ADDRESS, not XORed, when the message has no RFC 5389 cookie).
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Callable

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = b"\x21\x12\xa4\x42"

MAPPED_ADDRESS = 0x0001
RESPONSE_ADDRESS = 0x0002
CHANGE_REQUEST = 0x0003
SOURCE_ADDRESS = 0x0004
CHANGED_ADDRESS = 0x0005
USERNAME = 0x0006
PASSWORD = 0x0007
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
REFLECTED_FROM = 0x000B
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
MS_ALTERNATE_SERVER = 0x000E
MAGIC_COOKIE_ATTR = 0x000F
BANDWIDTH = 0x0010
DESTINATION_ADDRESS = 0x0011
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
PASSWORD_ALGORITHM = 0x001D
USERHASH = 0x001E
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
PRIORITY = 0x0024
USE_CANDIDATE = 0x0025
CONNECTION_ID = 0x002A
PASSWORD_ALGORITHMS = 0x8002
ALTERNATE_DOMAIN = 0x8003
MS_VERSION = 0x8008
MS_XOR_MAPPED_ADDRESS = 0x8020
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028
ICE_CONTROLLED = 0x8029
ICE_CONTROLLING = 0x802A
MS_ALTERNATE_HOST_NAME = 0x8032
MS_APP_ID = 0x8037
MS_SECURE_TAG = 0x8039
MS_SEQUENCE_NUMBER = 0x8050
CANDIDATE_IDENTIFIER = 0x8054
MS_SERVICE_QUALITY = 0x8055
MS_IMPLEMENTATION_VERSION = 0x8070
RESPONSE_ORIGIN = 0x802B  # RFC 5780
OTHER_ADDRESS = 0x802C  # RFC 5780
MS_ALT_MAPPED_ADDRESS = 0x8090
MS_MULTIPLEXED_TURN_SESSION_ID = 0x8095

ATTR_NAMES = {
    MAPPED_ADDRESS: "MAPPED-ADDRESS",
    RESPONSE_ADDRESS: "RESPONSE-ADDRESS",
    CHANGE_REQUEST: "CHANGE-REQUEST",
    SOURCE_ADDRESS: "SOURCE-ADDRESS",
    CHANGED_ADDRESS: "CHANGED-ADDRESS",
    PASSWORD: "PASSWORD",
    REFLECTED_FROM: "REFLECTED-FROM",
    USERNAME: "USERNAME",
    MESSAGE_INTEGRITY: "MESSAGE-INTEGRITY",
    ERROR_CODE: "ERROR-CODE",
    UNKNOWN_ATTRIBUTES: "UNKNOWN-ATTRIBUTES",
    CHANNEL_NUMBER: "CHANNEL-NUMBER",
    LIFETIME: "LIFETIME",
    MS_ALTERNATE_SERVER: "MS-ALTERNATE-SERVER",
    MAGIC_COOKIE_ATTR: "MAGIC-COOKIE",
    BANDWIDTH: "BANDWIDTH",
    DESTINATION_ADDRESS: "DESTINATION-ADDRESS",
    XOR_PEER_ADDRESS: "XOR-PEER-ADDRESS",
    DATA_ATTR: "DATA",
    REALM: "REALM",
    NONCE: "NONCE",
    XOR_RELAYED_ADDRESS: "XOR-RELAYED-ADDRESS",
    REQUESTED_ADDRESS_FAMILY: "REQUESTED-ADDRESS-FAMILY",
    EVEN_PORT: "EVEN-PORT",
    REQUESTED_TRANSPORT: "REQUESTED-TRANSPORT",
    DONT_FRAGMENT: "DONT-FRAGMENT",
    MESSAGE_INTEGRITY_SHA256: "MESSAGE-INTEGRITY-SHA256",
    XOR_MAPPED_ADDRESS: "XOR-MAPPED-ADDRESS",
    RESERVATION_TOKEN: "RESERVATION-TOKEN",
    PRIORITY: "PRIORITY",
    USE_CANDIDATE: "USE-CANDIDATE",
    CONNECTION_ID: "CONNECTION-ID",
    MS_VERSION: "MS-VERSION",
    MS_XOR_MAPPED_ADDRESS: "XOR-MAPPED-ADDRESS",
    SOFTWARE: "SOFTWARE",
    ALTERNATE_SERVER: "ALTERNATE-SERVER",
    FINGERPRINT: "FINGERPRINT",
    ICE_CONTROLLED: "ICE-CONTROLLED",
    ICE_CONTROLLING: "ICE-CONTROLLING",
    MS_ALTERNATE_HOST_NAME: "MS-ALTERNATE-HOST-NAME",
    MS_APP_ID: "MS-APP-ID",
    MS_SECURE_TAG: "MS-SECURE-TAG",
    MS_SEQUENCE_NUMBER: "MS-SEQUENCE-NUMBER",
    CANDIDATE_IDENTIFIER: "CANDIDATE-IDENTIFIER",
    MS_SERVICE_QUALITY: "MS-SERVICE-QUALITY",
    MS_IMPLEMENTATION_VERSION: "MS-IMPLEMENTATION-VERSION",
    MS_ALT_MAPPED_ADDRESS: "MS-ALT-MAPPED-ADDRESS",
    RESPONSE_ORIGIN: "RESPONSE-ORIGIN",
    OTHER_ADDRESS: "OTHER-ADDRESS",
    MS_MULTIPLEXED_TURN_SESSION_ID: "MS-MULTIPLEXED-TURN-SESSION-ID",
}

# Address attributes: (XORed?, label). MS-TURN 0x8020 is XOR-MAPPED-ADDRESS under an old number.
ADDRESS_ATTRS = {
    MAPPED_ADDRESS: False,
    RESPONSE_ADDRESS: False,  # RFC 3489
    SOURCE_ADDRESS: False,  # RFC 3489
    CHANGED_ADDRESS: False,  # RFC 3489
    REFLECTED_FROM: False,  # RFC 3489
    MS_ALTERNATE_SERVER: False,
    ALTERNATE_SERVER: False,
    DESTINATION_ADDRESS: False,
    MS_ALT_MAPPED_ADDRESS: False,
    RESPONSE_ORIGIN: False,
    OTHER_ADDRESS: False,
    XOR_PEER_ADDRESS: True,
    XOR_RELAYED_ADDRESS: True,
    XOR_MAPPED_ADDRESS: True,
    MS_XOR_MAPPED_ADDRESS: True,
}

ERROR_REASONS = {  # RFC 5389 15.6, RFC 5766 15, RFC 6062 6.3, RFC 3489
    300: "Try Alternate", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    420: "Unknown Attribute", 430: "Stale Credentials", 431: "Integrity Check Failure",
    432: "Missing Username", 433: "Use TLS", 434: "Missing Realm", 435: "Missing Nonce",
    436: "Unknown User", 437: "Allocation Mismatch", 438: "Stale Nonce",
    440: "Address Family not Supported", 441: "Wrong Credentials",
    442: "Unsupported Transport Protocol", 443: "Peer Address Family Mismatch",
    446: "Connection Already Exists", 447: "Connection Timeout or Failure",
    486: "Allocation Quota Reached", 487: "Role Conflict", 500: "Server Error",
    508: "Insufficient Capacity",
}


MS_STREAM_TYPES = {1: "audio", 2: "video", 3: "supplemental video", 4: "data"}  # [MS-TURN] 2.2.2.22
MS_SERVICE_LEVELS = {0: "best effort", 1: "reliable"}
CHANGE_REQUEST_BITS = ((4, "change IP"), (2, "change port"))  # RFC 3489 11.2.4


def format_addr(ip: str, port: int, v6: bool) -> str:
    return f"[{ip}]:{port}" if v6 else f"{ip}:{port}"


def decode_address(value: bytes, xored: bool, mask: bytes) -> str | None:
    """MAPPED-ADDRESS style value (RFC 5389 15.1/15.2). XORed ones are XORed with ``mask``, the
    16 bytes after the type and length: the cookie and transaction id (RFC 5389), or the 128-bit
    transaction id of a message without the cookie (the pre-RFC 5389 drafts MS-TURN follows, where
    the id's first 32 bits played the cookie's part)."""
    if len(value) < 8:
        return None
    family = value[1]
    port = (value[2] << 8) | value[3]
    if xored:
        port ^= int.from_bytes(mask[:2], "big")
    if family == 1:
        raw = int.from_bytes(value[4:8], "big")
        if xored:
            raw ^= int.from_bytes(mask[:4], "big")
        return f"{socket.inet_ntop(socket.AF_INET, raw.to_bytes(4, 'big'))}:{port}"  # as IPv4Address says it
    if family == 2 and len(value) >= 20:
        raw = int.from_bytes(value[4:20], "big")
        if xored:
            raw ^= int.from_bytes(mask, "big")
        return format_addr(str(ipaddress.IPv6Address(raw)), port, True)
    return None


def text(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("utf-8", "replace")


def _u32(value: bytes) -> int | None:
    return int.from_bytes(value[:4], "big") if len(value) >= 4 else None


def _address(msg, atype: int, value: bytes, mask: bytes) -> None:
    xored = ADDRESS_ATTRS[atype]
    if atype == XOR_PEER_ADDRESS and msg.ms_turn and not msg.rfc5389_cookie:
        xored = False  # legacy MS-TURN: 0x0012 is REMOTE-ADDRESS, not XORed
    addr = decode_address(value, xored, mask)
    if addr is None:
        msg.problems.append(f"bad address in {ATTR_NAMES.get(atype, hex(atype))}")
    else:
        msg.addresses.append((atype, addr))


def _error(msg, value: bytes) -> None:
    if len(value) >= 4:
        msg.error_code = (value[2] & 0x07) * 100 + value[3]
        msg.reason = text(value[4:])


def _realm_or_nonce(msg, atype: int, value: bytes) -> None:
    if (atype == REALM) != msg.ms_turn:  # MS-TURN swaps the two numbers
        msg.realm = text(value).strip('"')
    else:
        msg.nonce = value


def _ms_sequence(msg, value: bytes) -> None:
    if len(value) >= 24:
        msg.ms_sequence = (value[:20].hex(), int.from_bytes(value[20:24], "big"))


def _service_quality(msg, value: bytes) -> None:
    if len(value) >= 4:
        stream, level = int.from_bytes(value[:2], "big"), int.from_bytes(value[2:4], "big")
        msg.ms_service_quality = (
            f"{MS_STREAM_TYPES.get(stream, f'stream type {stream}')}, "
            f"{MS_SERVICE_LEVELS.get(level, f'level {level}')}"
        )


def _change_request(msg, value: bytes) -> None:
    flags = _u32(value) or 0
    msg.change_request = ", ".join(name for bit, name in CHANGE_REQUEST_BITS if flags & bit) or "none"


def _set(name: str, convert: Callable[[bytes], object]) -> Callable:
    def handler(msg, value: bytes) -> None:
        setattr(msg, name, convert(value))
    return handler


def _set_u32(name: str) -> Callable:
    def handler(msg, value: bytes) -> None:
        number = _u32(value)
        if number is not None:
            setattr(msg, name, number)
    return handler


# attribute type -> handler(msg, value); address, REALM/NONCE and FINGERPRINT attributes are
# handled by :func:`apply` itself
HANDLERS: dict[int, Callable] = {
    ERROR_CODE: _error,
    LIFETIME: _set_u32("lifetime"),
    USERNAME: _set("username", text),
    SOFTWARE: _set("software", text),
    CONNECTION_ID: _set_u32("connection_id"),
    REQUESTED_TRANSPORT: lambda msg, v: setattr(msg, "requested_transport", v[0]) if v else None,
    CHANNEL_NUMBER: lambda msg, v: setattr(msg, "channel", int.from_bytes(v[:2], "big")) if len(v) >= 2 else None,
    PRIORITY: _set_u32("priority"),
    USE_CANDIDATE: _set("use_candidate", lambda v: True),
    ICE_CONTROLLED: _set("ice_role", lambda v: "controlled"),
    ICE_CONTROLLING: _set("ice_role", lambda v: "controlling"),
    BANDWIDTH: _set_u32("bandwidth"),
    MS_VERSION: _set_u32("ms_version"),
    MS_SEQUENCE_NUMBER: _ms_sequence,
    MS_SERVICE_QUALITY: _service_quality,
    CANDIDATE_IDENTIFIER: _set("candidate_identifier", text),
    MS_IMPLEMENTATION_VERSION: _set_u32("ms_implementation_version"),
    MESSAGE_INTEGRITY: _set("integrity", lambda v: "MESSAGE-INTEGRITY"),
    MESSAGE_INTEGRITY_SHA256: _set("integrity", lambda v: "MESSAGE-INTEGRITY-SHA256"),
    CHANGE_REQUEST: _change_request,
    DATA_ATTR: lambda msg, v: (setattr(msg, "data_len", len(v)), setattr(msg, "data", v)),
}


def apply(msg, atype: int, value: bytes, mask: bytes) -> None:
    """Fill ``msg`` from one attribute (FINGERPRINT is the caller's: it needs the whole message);
    ``mask`` is the message's bytes 4-20 (see :func:`decode_address`)."""
    if atype in ADDRESS_ATTRS:
        _address(msg, atype, value, mask)
    elif atype in (REALM, NONCE):
        _realm_or_nonce(msg, atype, value)
    elif atype in HANDLERS:
        HANDLERS[atype](msg, value)
    elif atype not in ATTR_NAMES:
        msg.unknown.append(atype)
