"""STUN message decoding, FINGERPRINT and MESSAGE-INTEGRITY against the RFC 5769 test vectors."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from capture_build import attr, stun_message, xor_address
from logcorr.events.capture import stun

SAMPLES = Path(__file__).parent / "data" / "captures"


def rfc_hex(text: str) -> bytes:
    """The hex bytes of an RFC 5769 dump (each line: hex pairs, then a comment)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*((?:[0-9a-fA-F]{2} ){3}[0-9a-fA-F]{2})\b", line)
        if m:
            out.append(bytes.fromhex(m.group(1)))
    return b"".join(out)


# RFC 5769 2.1, as in tests/data/captures/rfc5769-2.1-sample-request.txt
REQUEST = (SAMPLES / "rfc5769-2.1-sample-request.txt").read_text()

# RFC 5769 2.2 Sample IPv4 Response (password "VOkJxbRl1RmTxUk/WvJxBt", 192.0.2.1:32853)
RESPONSE_V4 = """
     01 01 00 3c     Response type and message length
     21 12 a4 42     Magic cookie
     b7 e7 a7 01  }
     bc 34 d6 86  }  Transaction ID
     fa 87 df ae  }
     80 22 00 0b     SOFTWARE attribute header
     74 65 73 74  }
     20 76 65 63  }  UTF-8 server name
     74 6f 72 20  }
     00 20 00 08     XOR-MAPPED-ADDRESS attribute header
     00 01 a1 47     Address family (IPv4) and xor'd mapped port number
     e1 12 a6 43     Xor'd mapped IPv4 address
     00 08 00 14     MESSAGE-INTEGRITY attribute header
     2b 91 f5 99  }
     fd 9e 90 c3  }
     8c 74 89 f9  }  HMAC-SHA1 fingerprint
     2a f9 ba 53  }
     f0 6b e7 d7  }
     80 28 00 04     FINGERPRINT attribute header
     c0 7d 4c 96     CRC32 fingerprint
"""

# RFC 5769 2.3 Sample IPv6 Response (2001:db8:1234:5678:11:2233:4455:6677 port 32853)
RESPONSE_V6 = """
     01 01 00 48     Response type and message length
     21 12 a4 42     Magic cookie
     b7 e7 a7 01  }
     bc 34 d6 86  }  Transaction ID
     fa 87 df ae  }
     80 22 00 0b     SOFTWARE attribute header
     74 65 73 74  }
     20 76 65 63  }  UTF-8 server name
     74 6f 72 20  }
     00 20 00 14     XOR-MAPPED-ADDRESS attribute header
     00 02 a1 47     Address family (IPv6) and xor'd mapped port number
     01 13 a9 fa  }
     a5 d3 f1 79  }  Xor'd mapped IPv6 address
     bc 25 f4 b5  }
     be d2 b9 d9  }
     00 08 00 14     MESSAGE-INTEGRITY attribute header
     a3 82 95 4e  }
     4b e6 7b f1  }
     17 84 c9 7c  }  HMAC-SHA1 fingerprint
     82 92 c2 75  }
     bf e3 ed 41  }
     80 28 00 04     FINGERPRINT attribute header
     c8 fb 0b 4c     CRC32 fingerprint
"""

# RFC 5769 2.4 Sample Request with Long-Term Authentication
LONG_TERM = """
     00 01 00 60     Request type and message length
     21 12 a4 42     Magic cookie
     78 ad 34 33  }
     c6 ad 72 c0  }  Transaction ID
     29 da 41 2e  }
     00 06 00 12     USERNAME attribute header
     e3 83 9e e3  }
     83 88 e3 83  }
     aa e3 83 83  }  Username value (18 bytes) and padding (2 bytes)
     e3 82 af e3  }
     82 b9 00 00  }
     00 15 00 1c     NONCE attribute header
     66 2f 2f 34  }
     39 39 6b 39  }
     35 34 64 36  }
     4f 4c 33 34  }  Nonce value
     6f 4c 39 46  }
     53 54 76 79  }
     36 34 73 41  }
     00 14 00 0b     REALM attribute header
     65 78 61 6d  }
     70 6c 65 2e  }  Realm value (11 bytes) and padding (1 byte)
     6f 72 67 00  }
     00 08 00 14     MESSAGE-INTEGRITY attribute header
     f6 70 24 65  }
     6d d6 4a 3e  }
     02 b8 e0 71  }  HMAC-SHA1 fingerprint
     2e 85 c9 a2  }
     8c a8 96 66  }
"""
PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt"


def test_rfc5769_sample_request() -> None:
    raw = rfc_hex(REQUEST)
    assert len(raw) == 108
    msg = stun.decode(raw)
    assert msg.name == "Binding Request" and msg.txn_id == "b7e7a701bc34d686fa87dfae"
    assert msg.username == "evtj:h6vY" and msg.software == "STUN test client"
    assert msg.priority == 0x6E0001FF and msg.ice_role == "controlled"
    assert msg.fingerprint_ok is True
    assert stun.check_integrity(raw, stun.short_term_key(PASSWORD)) is True
    assert stun.check_integrity(raw, stun.short_term_key(PASSWORD + "x")) is False


@pytest.mark.parametrize("text, address", [
    (RESPONSE_V4, "192.0.2.1:32853"),
    (RESPONSE_V6, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"),
])
def test_rfc5769_sample_responses(text: str, address: str) -> None:
    raw = rfc_hex(text)
    msg = stun.decode(raw)
    assert msg.name == "Binding Success Response"
    assert msg.mapped == address and msg.software == "test vector"
    assert stun.check_fingerprint(raw) is True
    assert stun.check_integrity(raw, stun.short_term_key(PASSWORD)) is True
    damaged = bytearray(raw)
    damaged[30] ^= 1  # inside the mapped address
    assert stun.check_fingerprint(bytes(damaged)) is False
    assert stun.check_integrity(bytes(damaged), stun.short_term_key(PASSWORD)) is False
    assert stun.decode(bytes(damaged)).fingerprint_ok is False


def test_rfc5769_long_term_credentials() -> None:
    raw = rfc_hex(LONG_TERM)
    msg = stun.decode(raw)
    user = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9"
    assert msg.username == user and msg.realm == "example.org"
    assert msg.nonce == b"f//499k954d6OL34oL9FSTvy64sA"
    assert msg.fingerprint_ok is None  # no FINGERPRINT in this vector
    password = "The\u00adM\u00aatr\u2168"  # SASLprep: "TheMatrIX"
    assert stun.saslprep(password) == "TheMatrIX"
    assert stun.check_integrity(raw, stun.long_term_key(user, "example.org", password)) is True
    assert stun.check_integrity(raw, stun.long_term_key(user, "example.org", "TheMatrix")) is False


def test_saslprep_rejects_prohibited() -> None:
    with pytest.raises(ValueError):
        stun.saslprep("a\u0007b")  # control character (C.2.1)


def test_methods_classes_and_turn_attributes() -> None:
    txn = bytes(range(12))
    raw = stun_message(0x0103, txn, [
        attr(0x0016, xor_address("10.48.54.229", 24726, txn)),
        attr(0x0020, xor_address("2001:db8::7", 40557, txn)),
        attr(0x000D, (600).to_bytes(4, "big")),
        attr(0x8022, b"Expressway"),
    ])
    msg = stun.decode(raw)
    assert msg.name == "Allocate Success Response" and msg.lifetime == 600
    assert msg.relayed == "10.48.54.229:24726" and msg.mapped == "[2001:db8::7]:40557"
    assert stun.summary(msg) == (
        "Allocate Success Response XOR-RELAYED-ADDRESS: 10.48.54.229:24726 "
        "XOR-MAPPED-ADDRESS: [2001:db8::7]:40557 lifetime: 600"
    )
    names = {
        0x0001: "Binding Request", 0x0111: "Binding Error Response", 0x0011: "Binding Indication",
        0x0004: "Refresh Request", 0x0016: "Send Indication", 0x0017: "Data Indication",
        0x0108: "CreatePermission Success Response", 0x0009: "ChannelBind Request",
        0x000A: "Connect Request", 0x011B: "ConnectionBind Error Response",
        0x001C: "ConnectionAttempt Indication",
    }
    for t, name in names.items():
        assert stun.decode(stun_message(t, txn, [])).name == name


def test_error_code_connection_id_and_unknown_attribute() -> None:
    txn = b"\x01" * 12
    raw = stun_message(0x011B, txn, [
        attr(0x0009, b"\0\0\x04\x2f" + b"Connection Timeout or Failure"),
        attr(0x002A, (0x5688B600).to_bytes(4, "big")),
        attr(0x7777, b"xyz"),
    ])
    msg = stun.decode(raw)
    assert msg.error_code == 447 and msg.reason == "Connection Timeout or Failure"
    assert msg.connection_id == 0x5688B600 and msg.unknown == [0x7777]
    assert (0x7777, b"xyz") in msg.attrs
    assert "unknown attributes: 0x7777" in stun.summary(msg)


def test_lengths_are_bounded() -> None:
    txn = b"\x02" * 12
    raw = stun_message(0x0001, txn, [attr(0x0006, b"user")], fingerprint=False)
    assert stun.is_stun(raw) == len(raw)
    assert stun.is_stun(raw[:-1]) == 0  # the header promises more than is there
    cut = stun.decode(raw[:-1])  # decoded as far as it goes, and said to be damaged
    assert cut.malformed == ["STUN length runs past the bytes captured", "STUN attribute runs past the message end"]
    assert stun.summary(cut).endswith("malformed: STUN length runs past the bytes captured; "
                                      "STUN attribute runs past the message end")
    liar = bytearray(raw)
    liar[22:24] = (400).to_bytes(2, "big")  # attribute length past the message end
    msg = stun.decode(bytes(liar))
    assert msg.malformed == ["STUN attribute runs past the message end"] and msg.username == ""
    assert stun.decode(b"\x80" + raw[1:]) is None  # top bits set: not STUN
    assert stun.channel_data_len(b"\x40\x00\x00\x08abcd") == 0  # length beyond the bytes


def test_ms_turn_message() -> None:
    # [MS-TURN]: magic-cookie attribute first, no padding, 0x0014 NONCE / 0x0015 REALM
    body = (
        b"\x00\x0f\x00\x04\x72\xc6\x4b\xc6"
        + b"\x80\x08\x00\x04\x00\x00\x00\x06"
        + b"\x00\x14\x00\x03abc"
        + b"\x00\x15\x00\x0a\"rtcmedia\""
    )
    raw = b"\x01\x13" + len(body).to_bytes(2, "big") + b"\x21\x12\xa4\x42" + b"\x05" * 12 + body
    assert stun.is_stun(raw) == 0 and stun.is_ms_turn(raw) == len(raw)
    msg = stun.decode(raw)
    assert msg.ms_turn and msg.ms_version == 6
    assert msg.realm == "rtcmedia" and msg.nonce == b"abc"
    assert stun.summary(msg).endswith("MS-TURN (MS-VERSION 6)")
