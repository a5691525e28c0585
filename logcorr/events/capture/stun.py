"""STUN / TURN / ICE / MS-TURN messages: recognise, decode, check integrity and fingerprint.

Pure functions over ``bytes``; nothing here knows about packets or files.

* RFC 5389 / 8489 header: type (top two bits 0), length (multiple of 4, excludes the 20-byte
  header), magic cookie 0x2112A442, 96-bit transaction id (RFC 8489 section 5).
* Methods of RFC 5389 (Binding), RFC 5766 / 8656 (Allocate, Refresh, Send, Data, CreatePermission,
  ChannelBind) and RFC 6062 (Connect, ConnectionBind, ConnectionAttempt).
* MS-TURN ([MS-TURN] 2.2): the magic-cookie *attribute* 0x000F = 0x72C64BC6 is the first attribute;
  NONCE is 0x0014 and REALM 0x0015 (swapped against RFC 5389); 0x0004 is a Send request and 0x0115 a
  Data indication. Messages are marked ``MS-TURN`` in the summary.
* ChannelData (RFC 5766 section 11.4): 2-byte channel 0x4000-0x7FFF, 2-byte length.

Every length read from the message is checked against the bytes actually present.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import stringprep
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field

MAGIC_COOKIE = 0x2112A442
MAGIC_COOKIE_BYTES = b"\x21\x12\xa4\x42"
HEADER_LEN = 20
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 section 15.5
MS_MAGIC_COOKIE = 0x72C64BC6  # [MS-TURN] 2.2.2.15
MS_COOKIE_ATTR = b"\x00\x0f\x00\x04\x72\xc6\x4b\xc6"
MAX_STUN_LEN = 0xFFFF + HEADER_LEN
MS_MULTIPLEXED_CHANNEL = b"\xff\x10"  # [MS-TURN] multiplexed TURN ChannelData

# -- methods (RFC 5389 18.1, RFC 5766 13, RFC 6062 6.1) ------------------------------------------
BINDING = 0x001
SHARED_SECRET = 0x002  # RFC 3489, kept for naming
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009
CONNECT = 0x00A
CONNECTION_BIND = 0x00B
CONNECTION_ATTEMPT = 0x00C

METHOD_NAMES = {
    BINDING: "Binding",
    SHARED_SECRET: "SharedSecret",
    ALLOCATE: "Allocate",
    REFRESH: "Refresh",
    SEND: "Send",
    DATA: "Data",
    CREATE_PERMISSION: "CreatePermission",
    CHANNEL_BIND: "ChannelBind",
    CONNECT: "Connect",
    CONNECTION_BIND: "ConnectionBind",
    CONNECTION_ATTEMPT: "ConnectionAttempt",
}
MS_METHOD_NAMES = {0x006: "SetActiveDestination"}  # only on MS-TURN; Send is 0x004 there

# -- classes (RFC 5389 6) -----------------------------------------------------------------------
CLASS_REQUEST = 0
CLASS_INDICATION = 1
CLASS_SUCCESS = 2
CLASS_ERROR = 3
CLASS_NAMES = ("Request", "Indication", "Success Response", "Error Response")

# -- attributes ---------------------------------------------------------------------------------
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
TRANSPORT_NAMES = {6: "TCP", 17: "UDP"}

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


def method_of(msg_type: int) -> int:
    """The 12 method bits M0-M11 of a message type (RFC 5389 6, figure 3)."""
    return (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)


def class_of(msg_type: int) -> int:
    """The two class bits C0 (0x0010) and C1 (0x0100)."""
    return ((msg_type >> 4) & 1) | ((msg_type >> 7) & 2)


def is_stun(buf: bytes, offset: int = 0, end: int | None = None, exact: bool = False) -> int:
    """Length of the STUN message at ``offset`` (header + body), or 0 if it is not one.

    A message needs the RFC 5389 cookie, the top two type bits clear and a body length that is a
    multiple of 4 and fits in the bytes present. With ``exact`` the message must end at ``end``.
    """
    if end is None:
        end = len(buf)
    if end - offset < HEADER_LEN or buf[offset] & 0xC0:
        return 0
    if buf[offset + 4 : offset + 8] != MAGIC_COOKIE_BYTES:
        return 0
    length = (buf[offset + 2] << 8) | buf[offset + 3]
    if length & 3:
        return 0
    total = HEADER_LEN + length
    if offset + total > end or (exact and offset + total != end):
        return 0
    return total


def is_ms_turn(buf: bytes, offset: int = 0, end: int | None = None) -> int:
    """Length of an MS-TURN message (magic-cookie attribute first), or 0.

    MS-TURN follows the pre-RFC 5389 drafts: attributes are not padded, so the length need not be
    a multiple of 4, and the RFC 5389 cookie may be absent (a 128-bit transaction id instead).
    """
    if end is None:
        end = len(buf)
    if end - offset < HEADER_LEN + 8 or buf[offset] & 0xC0:
        return 0
    if buf[offset + 20 : offset + 28] != MS_COOKIE_ATTR:
        return 0
    total = HEADER_LEN + ((buf[offset + 2] << 8) | buf[offset + 3])
    if offset + total > end:
        return 0
    return total


def channel_data_len(buf: bytes, offset: int = 0, end: int | None = None, padded: bool = False) -> int:
    """Length of the ChannelData frame at ``offset`` (0 if none fits); ``padded`` for TCP (11.5)."""
    if end is None:
        end = len(buf)
    if end - offset < 4:
        return 0
    if (buf[offset] & 0xC0) != 0x40 and buf[offset : offset + 2] != MS_MULTIPLEXED_CHANNEL:
        return 0
    length = (buf[offset + 2] << 8) | buf[offset + 3]
    total = 4 + length
    if padded:
        total = (total + 3) & ~3
    if offset + total > end:
        # the last frame of a TCP stream may legitimately omit padding
        if padded and offset + 4 + length <= end:
            return end - offset
        return 0
    return total


@dataclass
class StunMessage:
    msg_type: int
    method: int
    cls: int
    txn_id: str
    length: int
    ms_turn: bool = False
    rfc5389_cookie: bool = True
    attrs: list[tuple[int, bytes]] = field(default_factory=list)
    addresses: list[tuple[int, str]] = field(default_factory=list)  # (attr type, "ip:port")
    error_code: int | None = None
    reason: str = ""
    lifetime: int | None = None
    realm: str = ""
    nonce: bytes | None = None
    username: str = ""
    software: str = ""
    connection_id: int | None = None
    requested_transport: int | None = None
    channel: int | None = None
    priority: int | None = None
    use_candidate: bool = False
    ice_role: str = ""  # "controlling" / "controlled"
    bandwidth: int | None = None
    ms_version: int | None = None
    ms_sequence: tuple[str, int] | None = None  # (connection id hex, sequence number)
    candidate_identifier: str = ""
    ms_implementation_version: int | None = None
    integrity: str = ""  # "", "MESSAGE-INTEGRITY", "MESSAGE-INTEGRITY-SHA256"
    fingerprint_ok: bool | None = None  # None: no FINGERPRINT
    data_len: int | None = None
    data: bytes = b""
    unknown: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``<Method> <Class>`` as Wireshark names it."""
        names = MS_METHOD_NAMES if self.ms_turn and self.method in MS_METHOD_NAMES else METHOD_NAMES
        if self.ms_turn and self.msg_type == 0x0115:
            return "Data Indication"
        if self.ms_turn and self.msg_type == 0x0004:
            return "Send Request"  # [MS-TURN] 2.2.1; Wireshark's "Auto" mode calls it Refresh
        method = names.get(self.method, f"Method-0x{self.method:03x}")
        return f"{method} {CLASS_NAMES[self.cls]}"

    def first(self, attr_type: int) -> str:
        for t, a in self.addresses:
            if t == attr_type:
                return a
        return ""

    @property
    def mapped(self) -> str:
        return self.first(XOR_MAPPED_ADDRESS) or self.first(MS_XOR_MAPPED_ADDRESS)

    @property
    def relayed(self) -> str:
        return self.first(XOR_RELAYED_ADDRESS)

    @property
    def peer(self) -> str:
        return self.first(XOR_PEER_ADDRESS)


def inner_stun(msg: StunMessage) -> bytes | None:
    """The STUN message carried in the DATA of a Send/Data indication (ICE checks through a
    TURN-UDP relay, RFC 5766 10), or ``None``."""
    if not msg.data or msg.method not in (SEND, DATA, REFRESH if msg.ms_turn else -1, 0x005 if msg.ms_turn else -1):
        return None
    n = is_stun(msg.data, 0, len(msg.data), exact=True) or is_ms_turn(msg.data)
    return msg.data[:n] if n else None


def format_addr(ip: str, port: int, v6: bool) -> str:
    return f"[{ip}]:{port}" if v6 else f"{ip}:{port}"


def decode_address(value: bytes, xored: bool, txn: bytes) -> str | None:
    """MAPPED-ADDRESS style value (RFC 5389 15.1/15.2); XOR with cookie (+ transaction id for v6)."""
    if len(value) < 8:
        return None
    family = value[1]
    port = (value[2] << 8) | value[3]
    if xored:
        port ^= MAGIC_COOKIE >> 16
    if family == 1:
        raw = int.from_bytes(value[4:8], "big")
        if xored:
            raw ^= MAGIC_COOKIE
        return format_addr(str(ipaddress.IPv4Address(raw)), port, False)
    if family == 2 and len(value) >= 20:
        raw = int.from_bytes(value[4:20], "big")
        if xored:
            raw ^= int.from_bytes(MAGIC_COOKIE_BYTES + txn, "big")
        return format_addr(str(ipaddress.IPv6Address(raw)), port, True)
    return None


def _text(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("utf-8", "replace")


def decode(buf: bytes) -> StunMessage | None:
    """Decode one STUN message (``buf`` holds exactly the message). ``None`` if it is not STUN."""
    n = len(buf)
    if n < HEADER_LEN or buf[0] & 0xC0:
        return None
    msg_type, length = struct.unpack_from("!HH", buf, 0)
    if HEADER_LEN + length > n:
        return None
    cookie_ok = buf[4:8] == MAGIC_COOKIE_BYTES
    ms = buf[20:28] == MS_COOKIE_ATTR
    if not cookie_ok and not ms:
        return None
    txn = buf[8:20]
    msg = StunMessage(
        msg_type=msg_type,
        method=method_of(msg_type),
        cls=class_of(msg_type),
        txn_id=txn.hex() if cookie_ok else buf[4:20].hex(),
        length=length,
        ms_turn=ms,
        rfc5389_cookie=cookie_ok,
    )
    end = HEADER_LEN + length
    # MS-TURN does not pad attributes; try that first for MS-TURN, padding otherwise
    pads = (False, True) if ms else (True,)
    for pad in pads:
        walk = _walk(buf, end, pad)
        if walk is not None or pad == pads[-1]:
            break
    if walk is None:
        walk = _walk(buf, end, True, lenient=True)
        msg.problems.append("an attribute runs past the message end")
    for atype, value, pos in walk:
        msg.attrs.append((atype, value))
        _apply(msg, atype, value, txn, buf, pos)
    return msg


def _walk(buf: bytes, end: int, pad: bool, lenient: bool = False) -> list | None:
    """(type, value, offset) of each attribute; ``None`` unless they end exactly at ``end``."""
    out = []
    pos = HEADER_LEN
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        vend = pos + 4 + alen
        if vend > end:
            return out if lenient else None
        out.append((atype, buf[pos + 4 : vend], pos))
        pos = pos + 4 + (((alen + 3) & ~3) if pad else alen)
    if pos != end and not lenient and not (pad and pos > end):
        return None
    return out


def _apply(msg: StunMessage, atype: int, value: bytes, txn: bytes, buf: bytes, attr_pos: int) -> None:
    ms = msg.ms_turn
    if atype in ADDRESS_ATTRS:
        xored = ADDRESS_ATTRS[atype]
        if atype == XOR_PEER_ADDRESS and ms and not msg.rfc5389_cookie:
            xored = False  # legacy MS-TURN: 0x0012 is REMOTE-ADDRESS, not XORed
        addr = decode_address(value, xored, txn)
        if addr is None:
            msg.problems.append(f"bad address in {ATTR_NAMES.get(atype, hex(atype))}")
        else:
            msg.addresses.append((atype, addr))
    elif atype == ERROR_CODE and len(value) >= 4:
        msg.error_code = (value[2] & 0x07) * 100 + value[3]
        msg.reason = _text(value[4:])
    elif atype == LIFETIME and len(value) >= 4:
        msg.lifetime = int.from_bytes(value[:4], "big")
    elif atype in (REALM, NONCE):
        if (atype == REALM) != ms:  # MS-TURN swaps the two numbers
            msg.realm = _text(value).strip('"')
        else:
            msg.nonce = value
    elif atype == USERNAME:
        msg.username = _text(value)
    elif atype == SOFTWARE:
        msg.software = _text(value)
    elif atype == CONNECTION_ID and len(value) >= 4:
        msg.connection_id = int.from_bytes(value[:4], "big")
    elif atype == REQUESTED_TRANSPORT and len(value) >= 1:
        msg.requested_transport = value[0]
    elif atype == CHANNEL_NUMBER and len(value) >= 2:
        msg.channel = int.from_bytes(value[:2], "big")
    elif atype == PRIORITY and len(value) >= 4:
        msg.priority = int.from_bytes(value[:4], "big")
    elif atype == USE_CANDIDATE:
        msg.use_candidate = True
    elif atype == ICE_CONTROLLED:
        msg.ice_role = "controlled"
    elif atype == ICE_CONTROLLING:
        msg.ice_role = "controlling"
    elif atype == BANDWIDTH and len(value) >= 4:
        msg.bandwidth = int.from_bytes(value[:4], "big")
    elif atype == MS_VERSION and len(value) >= 4:
        msg.ms_version = int.from_bytes(value[:4], "big")
    elif atype == MS_SEQUENCE_NUMBER and len(value) >= 24:
        msg.ms_sequence = (value[:20].hex(), int.from_bytes(value[20:24], "big"))
    elif atype == CANDIDATE_IDENTIFIER:
        msg.candidate_identifier = _text(value)
    elif atype == MS_IMPLEMENTATION_VERSION and len(value) >= 4:
        msg.ms_implementation_version = int.from_bytes(value[:4], "big")
    elif atype == MESSAGE_INTEGRITY:
        msg.integrity = "MESSAGE-INTEGRITY"
    elif atype == MESSAGE_INTEGRITY_SHA256:
        msg.integrity = "MESSAGE-INTEGRITY-SHA256"
    elif atype == FINGERPRINT:
        msg.fingerprint_ok = check_fingerprint(buf[: attr_pos + 4 + len(value)])
    elif atype == DATA_ATTR:
        msg.data_len = len(value)
        msg.data = value
    elif atype not in ATTR_NAMES and atype not in ADDRESS_ATTRS:
        msg.unknown.append(atype)


# -- integrity and fingerprint ------------------------------------------------------------------
def _with_length(buf: bytes, end: int) -> bytes:
    """The message up to ``end`` with its header length set as if it ended there."""
    return buf[:2] + (end - HEADER_LEN).to_bytes(2, "big") + buf[4:end]


def _find_attr(buf: bytes, wanted: int) -> tuple[int, int] | None:
    """(offset of the attribute header, value length) of the first ``wanted`` attribute."""
    if len(buf) < HEADER_LEN:
        return None
    end = min(len(buf), HEADER_LEN + int.from_bytes(buf[2:4], "big"))
    pos = HEADER_LEN
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        if pos + 4 + alen > end:
            return None
        if atype == wanted:
            return pos, alen
        pos += 4 + ((alen + 3) & ~3)
    return None


def check_fingerprint(buf: bytes) -> bool | None:
    """Verify FINGERPRINT (RFC 5389 15.5): CRC-32 of what precedes it, XOR 0x5354554E.

    ``buf`` is the message; ``None`` when it has no FINGERPRINT.
    """
    found = _find_attr(buf, FINGERPRINT)
    if not found or found[1] != 4:
        return None
    pos, _ = found
    expected = int.from_bytes(buf[pos + 4 : pos + 8], "big")
    crc = zlib.crc32(_with_length(buf, pos + 8)[:pos]) ^ FINGERPRINT_XOR
    return crc == expected


def check_integrity(buf: bytes, key: bytes) -> bool | None:
    """Verify MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 with ``key``.

    RFC 5389 15.4: the HMAC covers the message up to the attribute, with the header length
    counting up to the end of MESSAGE-INTEGRITY. ``None`` when there is no integrity attribute.
    """
    for attr, algo, size in ((MESSAGE_INTEGRITY, hashlib.sha1, 20), (MESSAGE_INTEGRITY_SHA256, hashlib.sha256, 32)):
        found = _find_attr(buf, attr)
        if not found:
            continue
        pos, alen = found
        if attr == MESSAGE_INTEGRITY and alen != size or alen < 16 or alen > size:
            return False
        mac = buf[pos + 4 : pos + 4 + alen]
        digest = hmac.new(key, _with_length(buf, pos + 4 + alen)[:pos], algo).digest()
        return hmac.compare_digest(digest[:alen], mac)
    return None


def saslprep(text: str) -> str:
    """SASLprep (RFC 4013): map, NFKC-normalise, reject prohibited and bidi-inconsistent text."""
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    out = unicodedata.normalize("NFKC", mapped)
    for c in out:
        if (
            stringprep.in_table_c12(c) or stringprep.in_table_c21_c22(c) or stringprep.in_table_c3(c)
            or stringprep.in_table_c4(c) or stringprep.in_table_c5(c) or stringprep.in_table_c6(c)
            or stringprep.in_table_c7(c) or stringprep.in_table_c8(c) or stringprep.in_table_c9(c)
            or stringprep.in_table_a1(c)
        ):
            raise ValueError(f"SASLprep: prohibited character U+{ord(c):04X}")
    if any(stringprep.in_table_d1(c) for c in out):
        if any(stringprep.in_table_d2(c) for c in out):
            raise ValueError("SASLprep: mixed bidirectional text")
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            raise ValueError("SASLprep: RandALCat text must start and end with RandALCat")
    return out


def short_term_key(password: str) -> bytes:
    """Short-term credential key (RFC 5389 15.4): SASLprep(password)."""
    return saslprep(password).encode("utf-8")


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """Long-term credential key (RFC 5389 15.4): MD5(username ":" realm ":" SASLprep(password))."""
    return hashlib.md5(f"{username}:{realm}:{saslprep(password)}".encode("utf-8")).digest()


# -- one human line, like Wireshark's Info column ------------------------------------------------
def summary(msg: StunMessage) -> str:
    parts = [msg.name]
    if msg.error_code is not None:
        parts.append(f"error-code: {msg.error_code} {msg.reason or ERROR_REASONS.get(msg.error_code, '')}".rstrip())
    if msg.requested_transport is not None:
        parts.append(TRANSPORT_NAMES.get(msg.requested_transport, f"transport {msg.requested_transport}"))
    legacy_ms = msg.ms_turn and not msg.rfc5389_cookie
    for atype, addr in msg.addresses:
        label = "REMOTE-ADDRESS" if legacy_ms and atype == XOR_PEER_ADDRESS else ATTR_NAMES.get(atype, hex(atype))
        parts.append(f"{label}: {addr}")
    if msg.connection_id is not None:
        parts.append(f"CONNECTION-ID: 0x{msg.connection_id:08x}")
    if msg.channel is not None:
        parts.append(f"channel: 0x{msg.channel:04x}")
    if msg.lifetime is not None:
        parts.append(f"lifetime: {msg.lifetime}")
    if msg.bandwidth is not None:
        parts.append(f"bandwidth: {msg.bandwidth}")
    if msg.username:
        parts.append(f"user: {msg.username}")
    if msg.realm:
        parts.append(f"realm: {msg.realm}")
    if msg.nonce is not None:
        parts.append("with nonce")
    if msg.use_candidate:
        parts.append("USE-CANDIDATE")
    if msg.ice_role:
        parts.append(f"ICE-{msg.ice_role.upper()}")
    if msg.data_len is not None:
        parts.append(f"data: {msg.data_len} B")
    if msg.integrity:
        parts.append(f"with {msg.integrity}")
    if msg.fingerprint_ok is False:
        parts.append("FINGERPRINT MISMATCH")
    if msg.ms_sequence is not None:
        parts.append(f"MS-SEQUENCE-NUMBER: {msg.ms_sequence[1]}")
    if msg.candidate_identifier:
        parts.append(f"CANDIDATE-IDENTIFIER: {msg.candidate_identifier}")
    if msg.ms_implementation_version is not None:
        parts.append(f"MS-IMPLEMENTATION-VERSION: {msg.ms_implementation_version}")
    if msg.ms_turn:
        parts.append("MS-TURN" + (f" (MS-VERSION {msg.ms_version})" if msg.ms_version is not None else ""))
    if msg.unknown:
        parts.append("unknown attributes: " + ",".join(f"0x{t:04x}" for t in msg.unknown))
    return " ".join(parts)
