"""STUN / TURN / ICE / MS-TURN messages: recognise, decode leniently, flag what is malformed.

Pure functions over ``bytes``; nothing here knows about packets or files. Attribute numbers and
their meaning are in :mod:`logcorr.events.capture.stunattrs`, integrity and fingerprint in
:mod:`logcorr.events.capture.stunauth`.

* RFC 5389 / 8489 header: type (top two bits 0), length (multiple of 4, excludes the 20-byte
  header), magic cookie 0x2112A442, 96-bit transaction id (RFC 8489 section 5).
* Classic STUN (RFC 3489 11.1): the same header without the cookie, a 128-bit transaction id.
  Recognised on UDP only when the type is a Binding or Shared Secret one, the length matches the
  datagram and every attribute is an RFC 3489 one (:func:`is_classic`).
* Methods of RFC 5389 (Binding), RFC 5766 / 8656 (Allocate, Refresh, Send, Data, CreatePermission,
  ChannelBind) and RFC 6062 (Connect, ConnectionBind, ConnectionAttempt).
* MS-TURN ([MS-TURN] 2.2): the magic-cookie *attribute* 0x000F = 0x72C64BC6 is the first attribute;
  NONCE is 0x0014 and REALM 0x0015 (swapped against RFC 5389); 0x0004 is a Send request and 0x0115 a
  Data indication; attributes are not padded. Messages are marked ``MS-TURN`` in the summary.
* ChannelData (RFC 5766 section 11.4): 2-byte channel 0x4000-0x7FFF, 2-byte length.

Decoding is lenient, as Wireshark's: a message whose length is not a multiple of 4, runs past
the bytes present, or holds an attribute running past its end is decoded as far as it goes and
lists what is wrong in ``StunMessage.malformed`` (shown as ``malformed: ...`` in the summary).
Every length read from the message is checked against the bytes actually present.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from logcorr.events.capture.stunattrs import *  # noqa: F403 (the attribute numbers are part of this module's names)
from logcorr.events.capture.stunattrs import (
    ADDRESS_ATTRS, ATTR_NAMES, CHANGE_REQUEST, DESTINATION_ADDRESS, ERROR_REASONS, FINGERPRINT, MAGIC_COOKIE,
    MAGIC_COOKIE_BYTES, MS_XOR_MAPPED_ADDRESS, REFLECTED_FROM, SOFTWARE, XOR_MAPPED_ADDRESS, XOR_PEER_ADDRESS,
    HANDLERS, XOR_RELAYED_ADDRESS, apply, decode_address, format_addr,
)
from logcorr.events.capture.stunauth import (  # noqa: F401 (part of this module's interface)
    check_fingerprint, check_integrity, fingerprint_at, long_term_key, saslprep, short_term_key,
)

HEADER_LEN = 20
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 section 15.5
MS_MAGIC_COOKIE = 0x72C64BC6  # [MS-TURN] 2.2.2.15
MS_COOKIE_ATTR = b"\x00\x0f\x00\x04\x72\xc6\x4b\xc6"
MAX_STUN_LEN = 0xFFFF + HEADER_LEN
MS_MULTIPLEXED_CHANNEL = b"\xff\x10"  # [MS-TURN] multiplexed TURN ChannelData
TRANSPORT_NAMES = {6: "TCP", 17: "UDP"}

# what can be wrong with a message that is still decoded (``StunMessage.malformed``); each is also
# the reason it is counted under in the source's list
MALFORMED_LENGTH = "STUN length not a multiple of 4"
MALFORMED_PAST_END = "STUN length runs past the bytes captured"
MALFORMED_TRAILING = "bytes after the STUN message"
MALFORMED_ATTRIBUTE = "STUN attribute runs past the message end"
MALFORMED_AFTER_ATTRIBUTES = "bytes after the last STUN attribute"

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

# -- classes (RFC 5389 6) -----------------------------------------------------------------------
CLASS_REQUEST = 0
CLASS_INDICATION = 1
CLASS_SUCCESS = 2
CLASS_ERROR = 3
CLASS_NAMES = ("Request", "Indication", "Success Response", "Error Response")

# RFC 3489 11.1 message types, and the attributes of 11.2 (plus the comprehension-optional range)
CLASSIC_TYPES = frozenset((0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112))
CLASSIC_ATTRS = frozenset(range(0x0001, 0x000C)) | {XOR_MAPPED_ADDRESS, MS_XOR_MAPPED_ADDRESS, SOFTWARE}
MAX_CLASSIC_TCP = 2048  # body bytes awaited for a classic message on TCP (RFC 3489's are small)


def method_of(msg_type: int) -> int:
    """The 12 method bits M0-M11 of a message type (RFC 5389 6, figure 3)."""
    return (msg_type & 0x000F) | ((msg_type & 0x00E0) >> 1) | ((msg_type & 0x3E00) >> 2)


def class_of(msg_type: int) -> int:
    """The two class bits C0 (0x0010) and C1 (0x0100)."""
    return ((msg_type >> 4) & 1) | ((msg_type >> 7) & 2)


def is_stun(buf: bytes, offset: int = 0, end: int | None = None, exact: bool = False) -> int:
    """Length of the well-formed STUN message at ``offset`` (header + body), or 0.

    A message needs the RFC 5389 cookie, the top two type bits clear and a body length that is a
    multiple of 4 and fits in the bytes present. With ``exact`` the message must end at ``end``.
    (:func:`decode` is more forgiving; this test is for framing, where a wrong guess costs more.)
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


def is_classic(buf: bytes, offset: int = 0, end: int | None = None) -> int:
    """Length of a classic RFC 3489 message filling ``buf[offset:end]`` exactly, or 0.

    Without a cookie there is little to go on, so everything must fit: a Binding or Shared Secret
    type, a length that is a multiple of 4 and ends the datagram, and attributes of RFC 3489 that
    end exactly there.
    """
    if end is None:
        end = len(buf)
    if end - offset < HEADER_LEN + 4:
        return 0
    msg_type, length = struct.unpack_from("!HH", buf, offset)
    if msg_type not in CLASSIC_TYPES or length & 3 or offset + HEADER_LEN + length != end:
        return 0
    pos = offset + HEADER_LEN
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        if atype not in CLASSIC_ATTRS or alen & 3 or pos + 4 + alen > end:
            return 0
        pos += 4 + alen
    return end - offset if pos == end else 0


def classic_prefix(buf) -> int:
    """For a TCP stream (no framing): length of the classic RFC 3489 message starting ``buf``, as
    :func:`is_classic` accepts it; -1 while its header promises one whose bytes are still coming;
    0 when there is none."""
    if len(buf) < HEADER_LEN:
        return 0
    msg_type, length = struct.unpack_from("!HH", buf, 0)
    if msg_type not in CLASSIC_TYPES or length & 3 or length > MAX_CLASSIC_TCP:
        return 0
    if len(buf) < HEADER_LEN + length:
        return -1
    return is_classic(buf, 0, HEADER_LEN + length)


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
    classic: bool = False  # RFC 3489: no cookie, no MS-TURN cookie attribute
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
    ms_service_quality: str = ""  # "audio, best effort"
    change_request: str = ""  # RFC 3489 CHANGE-REQUEST flags
    candidate_identifier: str = ""
    ms_implementation_version: int | None = None
    integrity: str = ""  # "", "MESSAGE-INTEGRITY", "MESSAGE-INTEGRITY-SHA256"
    fingerprint_ok: bool | None = None  # None: no FINGERPRINT
    data_len: int | None = None
    data: bytes = b""
    unknown: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # what is wrong with the framing, decoded anyway

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
        return self.first(XOR_MAPPED_ADDRESS) or self.first(MS_XOR_MAPPED_ADDRESS) or (
            self.first(MAPPED_ADDRESS) if self.classic else ""  # noqa: F405
        )

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


def decode(buf: bytes, classic: bool = False) -> StunMessage | None:
    """Decode one STUN message from the start of ``buf`` (which should hold exactly the message).

    ``None`` if it is not STUN: the top type bits set, no cookie (RFC 5389 or MS-TURN; none is
    needed with ``classic``), or fewer than 20 bytes. Anything else is decoded as far as it goes,
    with ``malformed`` saying what does not fit.
    """
    n = len(buf)
    if n < HEADER_LEN or buf[0] & 0xC0:
        return None
    msg_type, length = struct.unpack_from("!HH", buf, 0)
    cookie_ok = buf[4:8] == MAGIC_COOKIE_BYTES
    ms = buf[20:28] == MS_COOKIE_ATTR
    if not cookie_ok and not ms and not classic:
        return None
    txn = buf[8:20]
    msg = StunMessage(
        msg_type=msg_type, method=method_of(msg_type), cls=class_of(msg_type),
        txn_id=txn.hex() if cookie_ok else buf[4:20].hex(), length=length,
        ms_turn=ms, rfc5389_cookie=cookie_ok, classic=not cookie_ok and not ms,
    )
    end = HEADER_LEN + length
    if end > n:
        msg.malformed.append(MALFORMED_PAST_END)
        end = n
    elif end < n:
        msg.malformed.append(MALFORMED_TRAILING)
    if length & 3 and not ms:
        msg.malformed.append(MALFORMED_LENGTH)
    mask = buf[4:20]
    attrs = msg.attrs
    fingerprint: list = []  # the first FINGERPRINT's verdict: a padded walk's later ones get the same
    for atype, value, pos in _attributes(msg, buf, end):
        attrs.append((atype, value))
        handler = HANDLERS.get(atype)
        if handler is not None:
            handler(msg, value)
        elif atype != FINGERPRINT:
            apply(msg, atype, value, mask)
        elif ms:  # walked unpadded, maybe: the verdict is found by the padded walk of its own
            msg.fingerprint_ok = check_fingerprint(buf[: pos + 4 + len(value)])
        else:
            if not fingerprint:
                fingerprint.append(fingerprint_at(buf, pos, value))
            msg.fingerprint_ok = fingerprint[0]
    return msg


def _attributes(msg: StunMessage, buf: bytes, end: int) -> list:
    """The attributes, walked the way the message was written (MS-TURN does not pad, so it is
    tried unpadded first); failing that, walked leniently with the damage noted."""
    for pad in ((False, True) if msg.ms_turn else (True,)):
        walk, _ = _walk(buf, end, pad)
        if walk is not None:
            return walk
    walk, problem = _walk(buf, end, True, lenient=True)
    msg.malformed.append(problem)
    return walk


def _walk(buf: bytes, end: int, pad: bool, lenient: bool = False) -> tuple[list | None, str]:
    """(type, value, offset) of each attribute; ``None`` unless they end exactly at ``end``
    (or, ``lenient``, as many as fit, with what went wrong)."""
    out = []
    pos = HEADER_LEN
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", buf, pos)
        vend = pos + 4 + alen
        if vend > end:
            problem = MALFORMED_ATTRIBUTE
            return (out, problem) if lenient else (None, problem)
        out.append((atype, buf[pos + 4 : vend], pos))
        pos = pos + 4 + (((alen + 3) & ~3) if pad else alen)
    if pos < end:
        problem = MALFORMED_AFTER_ATTRIBUTES
        return (out, problem) if lenient else (None, problem)
    return out, ""  # past ``end`` only when the last attribute lacks its padding: the length says so


# -- one human line, like Wireshark's Info column ------------------------------------------------
def _summary_fields(msg: StunMessage) -> list[str]:
    legacy_ms = msg.ms_turn and not msg.rfc5389_cookie
    parts = []
    if msg.error_code is not None:
        parts.append(f"error-code: {msg.error_code} {msg.reason or ERROR_REASONS.get(msg.error_code, '')}".rstrip())
    if msg.requested_transport is not None:
        parts.append(TRANSPORT_NAMES.get(msg.requested_transport, f"transport {msg.requested_transport}"))
    for atype, addr in msg.addresses:
        label = "REMOTE-ADDRESS" if legacy_ms and atype == XOR_PEER_ADDRESS else ATTR_NAMES.get(atype, hex(atype))
        parts.append(f"{label}: {addr}")
    if msg.change_request:
        parts.append(f"CHANGE-REQUEST: {msg.change_request}")
    if msg.connection_id is not None:
        parts.append(f"CONNECTION-ID: 0x{msg.connection_id:08x}")
    if msg.channel is not None:
        parts.append(f"channel: 0x{msg.channel:04x}")
    return parts


# (attribute of StunMessage, how it is shown) for the simple values, in summary order
_SHOWN = (
    ("lifetime", "lifetime: {}"), ("bandwidth", "bandwidth: {}"), ("username", "user: {}"),
    ("realm", "realm: {}"),
)
_SHOWN_MS = (
    ("candidate_identifier", "CANDIDATE-IDENTIFIER: {}"),
    ("ms_implementation_version", "MS-IMPLEMENTATION-VERSION: {}"),
    ("ms_service_quality", "MS-SERVICE-QUALITY: {}"),
)


def _shown(msg: StunMessage, table: tuple) -> list[str]:
    out = []
    for name, fmt in table:
        value = getattr(msg, name)
        if value is not None and value != "":
            out.append(fmt.format(value))
    return out


def _flags(msg: StunMessage) -> list[str]:
    parts = []
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
    return parts


def summary(msg: StunMessage, name: str | None = None) -> str:
    """The message in one line; ``name``: its :attr:`StunMessage.name`, when the caller has it."""
    parts = [name or msg.name, *_summary_fields(msg), *_shown(msg, _SHOWN), *_flags(msg), *_shown(msg, _SHOWN_MS)]
    if msg.ms_turn:
        parts.append("MS-TURN" + (f" (MS-VERSION {msg.ms_version})" if msg.ms_version is not None else ""))
    if msg.classic:
        parts.append("classic STUN (RFC 3489)")
    if msg.unknown:
        parts.append("unknown attributes: " + ",".join(f"0x{t:04x}" for t in msg.unknown))
    if msg.malformed:
        parts.append("malformed: " + "; ".join(msg.malformed))
    return " ".join(parts)
