"""Move a lab bundle to another site: other addresses, host names, Call-IDs, clocks and time zones.

A `Relabel` rewrites every piece of a support bundle the same way, so that the result reads as if
another site had collected it:

* addresses and ports, consistently in log text, SIP and SDP, the Expressway configuration dump and
  the capture. An address may be split by port (`sides`): one lab address can become two host
  addresses, as on a dual-homed Expressway-E whose SIP 7001 and TURN face inward while its SIP 5061
  and relays face outward. In the capture this means IP headers (checksums recomputed), UDP SIP
  text, and STUN inside TCP/UDP (plain or RFC 4571 framed): XOR-MAPPED/XOR-RELAYED/XOR-PEER-ADDRESS
  (XORed with the magic cookie), CONNECTION-ID and transaction ids. Every MESSAGE-INTEGRITY is
  recomputed with the key that verified the original message (the lab's TURN and ICE passwords are
  known) and every FINGERPRINT after it, so the capture stays as valid as the original was. SIP
  over TCP is TLS in the lab and left as it is; frames other than Ethernet/IPv4 TCP/UDP are refused.
  Every SIP message whose body changed length (in a log or a datagram) gets its Content-Length moved.
* names (host names, domains, users): plain text replacements, longest first, also in file names.
* Call-IDs and Ms-Conversation-IDs: each replaced by a same-shaped value drawn from `seed`; CMS's
  own call numbers ("call 31:") moved by `cms_call_offset`.
* time: everything moved by `shift` seconds; each box writes its stamps as it would in its own zone
  (`zones`): CMS syslog in local time without a year, the Expressway's local ISO stamp with its offset
  beside its UTCTime, the client UccApi log in local time; the SfB Snooper trace stays UTC; capture
  timestamps are epoch seconds.

Everything is a pure function of the Relabel's fields: the same input gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import re
import socket
import struct
import tarfile
import zlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import dpkt

UTC = dt.timezone.utc
COOKIE = 0x2112A442
FINGERPRINT_XOR = 0x5354554E
MESSAGE_INTEGRITY, FINGERPRINT, CONNECTION_ID = 0x0008, 0x8028, 0x002A
XOR_ADDRESSES = {0x0012, 0x0016, 0x0020, 0x8020}  # XOR-PEER, XOR-RELAYED, XOR-MAPPED (and its old number)
PLAIN_ADDRESSES = {0x0001, 0x0004, 0x0005}  # MAPPED-ADDRESS and its classic siblings

# The keys that signed the lab's STUN: TURN long-term user `turn` (realm TANDBERG), the ICE passwords
# of CMS and of the SfB side (see the lab's README).
LAB_KEYS = (
    hashlib.md5(b"turn:TANDBERG:T4ndb3rg!").digest(),
    b"cmsIcePassword0123456789",
    b"skypeIcePassword98765432",
)

LAB_ZONES = {"expressway": "Europe/Brussels"}  # the lab's other boxes write UTC

SIP_START = re.compile(rb"^(?:[A-Z]+ \S+ SIP/2\.0\r?\n|SIP/2\.0 \d{3} )")
IPV4 = r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])"
ADDRESS = re.compile(IPV4 + r"(?:(:| )(\d{1,5})(?!\d)|(;rport=)(\d{1,5}))?")
RADDR = re.compile(r"raddr " + IPV4 + r" rport (\d{1,5})")
EXPRESSWAY_PAIR = re.compile(r'((?:Local|Src|Dst)-ip=")' + IPV4 + r'(" (?:Local|Src|Dst)-port=")(\d{1,5})')
M_LINE = re.compile(r"(m=\w+ )(\d{1,5})(?!\d)")
CALL_ID = re.compile(r"(?:Call-ID[:=] ?|SIP-Call-ID: ?)([^\s,@\"]+)")
CONVERSATION_ID = re.compile(r"Ms-Conversation-ID: ?(\S+)", re.I)
CMS_CALL = re.compile(r"\bcall (\d+)([:)])")

CMS_STAMP = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3})", re.M)
HTTP_DATE = re.compile(r"\b(\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d) GMT")
POSTGRES = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC")
ISO_PREFIX = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})([+-]\d\d:\d\d|Z)", re.M)
UTCTIME = re.compile(r'UTCTime="(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})"')
SNOOPER_STAMP = re.compile(r"::(\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\.\d{3})\.")
UCCAPI_STAMP = re.compile(r"^(\d\d/\d\d/\d{4}\|\d\d:\d\d:\d\d\.\d{3})", re.M)
NAME_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)_(\d\d)([_:])(\d\d)([_:])(\d\d)")
TZ_SETTING = re.compile(r'(xConfiguration Time TimeZone: ")[^"]*(")')


def _draw(seed: str, old: str) -> bytes:
    return hashlib.sha256(f"{seed}|{old}".encode()).digest() * 4


def same_shape(seed: str, old: str) -> str:
    """A value shaped like `old` (hex stays hex, digits digits, letters letters, case kept), drawn
    from `seed`."""
    pool, out = _draw(seed, old), []
    for i, ch in enumerate(old):
        b = pool[i % len(pool)]
        if ch in "0123456789abcdef" and any(c in "abcdef" for c in old.lower()) and old == old.lower():
            out.append("0123456789abcdef"[b % 16])
        elif ch.isdigit():
            out.append(str(b % 10) if i else str(1 + b % 9))
        elif ch.isalpha():
            letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if ch.isupper() else "abcdefghijklmnopqrstuvwxyz"
            out.append(letters[b % 26])
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Relabel:
    addresses: dict[str, str] = field(default_factory=dict)  # lab address -> new address
    sides: dict[tuple[str, int], str] = field(default_factory=dict)  # (lab address, port) -> new address
    ports: dict[tuple[str, int], int] = field(default_factory=dict)  # (lab address, port) -> new port
    names: dict[str, str] = field(default_factory=dict)  # lab text -> new text
    seed: str = ""  # Call-IDs, conversation ids, STUN transaction ids and CONNECTION-IDs come from it
    shift: float = 0.0  # seconds added to every time
    zones: dict[str, str] = field(default_factory=dict)  # "cms" / "expressway" / "client" -> IANA zone
    cms_call_offset: int = 0
    keys: tuple[bytes, ...] = LAB_KEYS

    # -- addresses ---------------------------------------------------------------------------------
    def endpoint(self, ip: str, port: int | None) -> tuple[str, int | None]:
        new_ip = self.sides.get((ip, port), self.addresses.get(ip, ip)) if port is not None \
            else self.addresses.get(ip, ip)
        new_port = self.ports.get((ip, port), port) if port is not None else None
        return new_ip, new_port

    def _address(self, m: re.Match) -> str:
        ip, sep, port, rsep, rport = m.groups()
        if rsep:
            sep, port = rsep, rport
        if port is None:
            return self.endpoint(ip, None)[0]
        new_ip, new_port = self.endpoint(ip, int(port))
        return f"{new_ip}{sep}{new_port}"

    def _pair(self, m: re.Match) -> str:
        new_ip, new_port = self.endpoint(m.group(2), int(m.group(4)))
        return f"{m.group(1)}{new_ip}{m.group(3)}{new_port}"

    def _raddr(self, m: re.Match) -> str:
        new_ip, new_port = self.endpoint(m.group(1), int(m.group(2)))
        return f"raddr {new_ip} rport {new_port}"

    def _m_line(self, m: re.Match) -> str:
        moved = {self.ports[k] for k in self.ports if k[1] == int(m.group(2))}
        return m.group(1) + (str(moved.pop()) if len(moved) == 1 else m.group(2))

    def addresses_in(self, text: str) -> str:
        text = EXPRESSWAY_PAIR.sub(self._pair, text)
        text = RADDR.sub(self._raddr, text)
        text = M_LINE.sub(self._m_line, text)
        return ADDRESS.sub(self._address, text)

    # -- identifiers and names ---------------------------------------------------------------------
    def id_map(self, texts: list[str]) -> dict[str, str]:
        """Call-IDs (the part before any '@') and Ms-Conversation-IDs of `texts`, each to its new value."""
        if not self.seed:
            return {}
        found: set[str] = set()
        for text in texts:
            found.update(m.group(1) for m in CALL_ID.finditer(text))
            found.update(m.group(1) for m in CONVERSATION_ID.finditer(text))
        return {old: same_shape(self.seed, old) for old in sorted(found) if len(old) >= 6}

    def names_in(self, text: str, ids: dict[str, str]) -> str:
        table = {**self.names, **ids}
        if not table:
            return text
        pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
        return pattern.sub(lambda m: table[m.group(0)], text)

    # -- time --------------------------------------------------------------------------------------
    def zone(self, box: str) -> dt.tzinfo:
        name = self.zones.get(box, LAB_ZONES.get(box))
        return ZoneInfo(name) if name else UTC

    def moved(self, when: dt.datetime) -> dt.datetime:
        return when + dt.timedelta(seconds=self.shift)

    def stamps_in(self, text: str, kind: str, year: int) -> str:
        ms = lambda t: f"{t.microsecond // 1000:03d}"
        if kind == "cms":
            def cms(m):
                t = dt.datetime.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S.%f").replace(tzinfo=UTC)
                t = self.moved(t).astimezone(self.zone("cms"))
                return t.strftime("%b %e %H:%M:%S.") + ms(t)
            text = CMS_STAMP.sub(cms, text)
            text = POSTGRES.sub(lambda m: self.moved(dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f"))
                                .strftime("%Y-%m-%d %H:%M:%S.") + m.group(1)[-3:] + " UTC", text)
        elif kind == "expressway":
            def iso(m):
                t = self.moved(dt.datetime.fromisoformat(m.group(1) + m.group(2).replace("Z", "+00:00")))
                t = t.astimezone(self.zone("expressway"))
                return t.strftime("%Y-%m-%dT%H:%M:%S.") + ms(t) + t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:]
            text = ISO_PREFIX.sub(iso, text)
            text = UTCTIME.sub(lambda m: 'UTCTime="' + self.moved(dt.datetime.strptime(
                m.group(1), "%Y-%m-%d %H:%M:%S")).strftime("%Y-%m-%d %H:%M:%S") + "," + m.group(2) + '"', text)
        elif kind == "snooper":
            def snooper(m):
                t = self.moved(dt.datetime.strptime(m.group(1), "%m/%d/%Y-%H:%M:%S.%f"))
                return "::" + t.strftime("%m/%d/%Y-%H:%M:%S.") + ms(t) + "."
            text = SNOOPER_STAMP.sub(snooper, text)
        elif kind == "uccapi":  # the lab's stamps are UTC; the client writes its own local time
            def ucc(m):
                t = dt.datetime.strptime(m.group(1), "%m/%d/%Y|%H:%M:%S.%f").replace(tzinfo=UTC)
                t = self.moved(t).astimezone(self.zone("client"))
                return t.strftime("%m/%d/%Y|%H:%M:%S.") + ms(t)
            text = UCCAPI_STAMP.sub(ucc, text)
        return HTTP_DATE.sub(lambda m: self.moved(dt.datetime.strptime(m.group(1), "%a, %d %b %Y %H:%M:%S"))
                             .strftime("%a, %d %b %Y %H:%M:%S") + " GMT", text)

    def file_name(self, name: str) -> str:
        """A member name with the new host names and its collection time moved."""
        def stamp(m):
            t = self.moved(dt.datetime.strptime(f"{m.group(1)} {m.group(2)}{m.group(4)}{m.group(6)}", "%Y-%m-%d %H%M%S"))
            return t.strftime(f"%Y-%m-%d_%H{m.group(3)}%M{m.group(5)}%S")
        return NAME_STAMP.sub(stamp, self.names_in(name, {}))

    # -- one text --------------------------------------------------------------------------------
    def line(self, line: str, kind: str, ids: dict[str, str]) -> str:
        line = self.names_in(line, ids)
        if kind == "cms" and self.cms_call_offset:
            line = CMS_CALL.sub(lambda m: f"call {int(m.group(1)) + self.cms_call_offset}{m.group(2)}", line)
        if kind == "xconf" and "expressway" in self.zones:
            line = TZ_SETTING.sub(lambda m: m.group(1) + self.zones["expressway"] + m.group(2), line)
        return self.addresses_in(line)

    def text(self, text: str, kind: str, ids: dict[str, str], year: int = 2026) -> str:
        """`text` of one bundle member (`kind`: cms, expressway, xconf, snooper, uccapi, sip). Every
        SIP message whose body changed length gets its Content-Length corrected."""
        text = self.stamps_in(text, kind, year)
        if kind == "sip":
            head, sep, body = text.partition("\r\n\r\n")
            new_head, new_body = self.line(head, kind, ids), self.line(body, kind, ids)
            return with_length(new_head, len(new_body.encode("latin-1")) - len(body.encode("latin-1"))) + sep + new_body
        old = text.split("\n")
        new = [self.line(line, kind, ids) for line in old]
        return "\n".join(fix_lengths(old, new, kind))

    # -- STUN ------------------------------------------------------------------------------------
    def _txn(self, txn: bytes) -> bytes:
        return _draw(self.seed, "txn" + txn.hex())[:12] if self.seed else txn

    def _connection_id(self, value: bytes) -> bytes:
        if not self.seed or len(value) != 4:
            return value
        return _draw(self.seed, "cid" + value.hex())[:3] + value[3:]  # coturn's server id stays last

    def _xor_address(self, value: bytes, txn: bytes) -> bytes:
        if len(value) != 8 or value[1] != 1:
            return value  # IPv6 is not in the lab
        port = struct.unpack("!H", value[2:4])[0] ^ (COOKIE >> 16)
        ip = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", value[4:8])[0] ^ COOKIE))
        new_ip, new_port = self.endpoint(ip, port)
        raw = struct.unpack("!I", socket.inet_aton(new_ip))[0] ^ COOKIE
        return value[:2] + struct.pack("!HI", new_port ^ (COOKIE >> 16), raw)

    def _plain_address(self, value: bytes) -> bytes:
        if len(value) != 8 or value[1] != 1:
            return value
        new_ip, new_port = self.endpoint(socket.inet_ntoa(value[4:8]), struct.unpack("!H", value[2:4])[0])
        return value[:2] + struct.pack("!H", new_port) + socket.inet_aton(new_ip)

    def _signing_key(self, msg: bytes) -> bytes | None:
        for pos, atype, _ in attributes(msg):
            if atype == MESSAGE_INTEGRITY:
                for key in self.keys:
                    if integrity(msg, pos, key) == msg[pos + 4:pos + 24]:
                        return key
                return None
        return None

    def stun(self, msg: bytes, stats: dict) -> bytes:
        """One STUN message rewritten, same length, re-signed and re-fingerprinted."""
        key = self._signing_key(msg)
        out = bytearray(msg)
        out[8:20] = self._txn(msg[8:20])
        for pos, atype, value in attributes(msg):
            if atype in XOR_ADDRESSES:
                new = self._xor_address(value, msg[8:20])
            elif atype in PLAIN_ADDRESSES:
                new = self._plain_address(value)
            elif atype == CONNECTION_ID:
                new = self._connection_id(value)
            else:
                continue
            out[pos + 4:pos + 4 + len(new)] = new
        for pos, atype, _ in attributes(bytes(out)):
            if atype == MESSAGE_INTEGRITY:
                if key is not None:
                    out[pos + 4:pos + 24] = integrity(bytes(out), pos, key)
                    stats["resigned"] = stats.get("resigned", 0) + 1
                else:
                    stats["unsigned"] = stats.get("unsigned", 0) + 1
            elif atype == FINGERPRINT:
                head = bytes(out[:2]) + struct.pack("!H", pos + 8 - 20) + bytes(out[4:pos])
                out[pos + 4:pos + 8] = struct.pack("!I", (zlib.crc32(head) ^ FINGERPRINT_XOR) & 0xFFFFFFFF)
        return bytes(out)

    def stream_payload(self, data: bytes, stats: dict) -> bytes:
        """A TCP or UDP payload: STUN messages, plain or RFC 4571 framed, rewritten in place; other
        bytes (RTP, TLS) left alone."""
        out, p = bytearray(data), 0
        while p + 20 <= len(data):
            size = stun_size(data, p)
            if size:
                out[p:p + size] = self.stun(data[p:p + size], stats)
                p += size
                continue
            if p + 2 <= len(data):
                frame = struct.unpack("!H", data[p:p + 2])[0]
                if p + 2 + frame <= len(data) and frame:
                    inner = stun_size(data, p + 2)
                    if inner == frame:
                        out[p + 2:p + 2 + frame] = self.stun(data[p + 2:p + 2 + frame], stats)
                    p += 2 + frame
                    continue
            break
        return bytes(out)

    # -- the capture -------------------------------------------------------------------------------
    def pcap(self, data: bytes, ids: dict[str, str]) -> tuple[bytes, dict]:
        """The capture rewritten, and counts of the STUN messages re-signed (or left unsigned)."""
        reader = dpkt.pcap.Reader(io.BytesIO(data))
        out = io.BytesIO()
        writer = dpkt.pcap.Writer(out, snaplen=reader.snaplen, linktype=reader.datalink())
        stats: dict = {}
        for ts, buf in reader:
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                raise ValueError("relabel reads Ethernet IPv4 TCP/UDP frames only (the lab's)")
            writer.writepkt(self.frame(eth, ids, stats), ts=ts + self.shift)
        return out.getvalue(), stats

    def frame(self, eth: dpkt.ethernet.Ethernet, ids: dict[str, str], stats: dict) -> bytes:
        """One frame: addresses and ports, UDP SIP text, STUN in TCP or UDP; checksums recomputed."""
        ip, l4 = eth.data, eth.data.data
        udp = isinstance(l4, dpkt.udp.UDP)
        src, dst = (socket.inet_ntoa(ip.src), l4.sport), (socket.inet_ntoa(ip.dst), l4.dport)
        payload = bytes(l4.data)
        if udp and SIP_START.match(payload):
            payload = self.text(payload.decode("latin-1"), "sip", ids).encode("latin-1")
        elif payload:
            payload = self.stream_payload(payload, stats)  # SIP over TCP: TLS in the lab, left alone
        (sip_, sport), (dip, dport) = self.endpoint(*src), self.endpoint(*dst)
        ip.src, ip.dst = socket.inet_aton(sip_), socket.inet_aton(dip)
        l4.sport, l4.dport = sport, dport
        l4.data = payload
        if udp:
            l4.ulen = 8 + len(payload)
        no_checksum = udp and l4.sum == 0  # UDP may go without one
        l4.sum = 0  # dpkt recomputes both checksums
        ip.sum = 0
        ip.len = ip.hl * 4 + len(bytes(l4))
        frame = bytearray(bytes(eth))
        if no_checksum:
            at = len(frame) - len(bytes(ip)) + ip.hl * 4 + 6
            frame[at:at + 2] = b"\0\0"
        return bytes(frame)


LAB_YEAR = 2026  # the lab's CMS syslog stamps carry no year


def untar(data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        return [(m, tf.extractfile(m).read()) for m in tf.getmembers() if m.isfile()]


def retar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for info, data in members:
            info.size = len(data)
            info.pax_headers = {}  # an old long name's pax 'path' would win over info.name
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    raw[4:8] = b"\0\0\0\0"  # no gzip time: reproducible output
    return bytes(raw)


def kind_of(name: str) -> str:
    """Which box wrote a bundle member, by its name."""
    base = name.rsplit("/", 1)[-1].lower()
    if base.endswith(".pcap"):
        return "pcap"
    if base.startswith("xconf"):
        return "xconf"
    if base.startswith("loggingsnapshot"):
        return "expressway"
    if "snooper" in base:
        return "snooper"
    if base.endswith(".uccapilog"):
        return "uccapi"
    return "cms"


def texts_of(parts: dict[str, bytes]) -> list[str]:
    out = []
    for name, data in parts.items():
        if name.endswith(".tar.gz"):
            out += [blob.decode("latin-1") for info, blob in untar(data) if kind_of(info.name) != "pcap"]
        else:
            out.append(data.decode("latin-1"))
    return out


def bundle(parts: dict[str, bytes], r: Relabel) -> dict[str, bytes]:
    """Every member of a bundle (zip member name -> bytes; archives inside are opened) relabelled."""
    ids = r.id_map(texts_of(parts))
    out: dict[str, bytes] = {}
    for name, data in parts.items():
        if name.endswith(".tar.gz"):
            items = []
            for info, blob in untar(data):
                kind = kind_of(info.name)
                if kind == "pcap":
                    blob = r.pcap(blob, ids)[0]
                else:
                    blob = r.text(blob.decode("latin-1"), kind, ids, LAB_YEAR).encode("latin-1")
                info.name = r.file_name(info.name)
                info.mtime = int(info.mtime + r.shift)
                items.append((info, blob))
            out[r.file_name(name)] = retar(items)
        else:
            out[r.file_name(name)] = r.text(data.decode("latin-1"), kind_of(name), ids, LAB_YEAR).encode("latin-1")
    return out


def attributes(msg: bytes):
    """(position, type, value) of each attribute of a whole STUN message."""
    p, end = 20, 20 + struct.unpack("!H", msg[2:4])[0]
    while p + 4 <= end:
        atype, size = struct.unpack("!HH", msg[p:p + 4])
        yield p, atype, msg[p + 4:p + 4 + size]
        p += 4 + size + (-size % 4)


def stun_size(data: bytes, p: int) -> int:
    """The size of the RFC 5389 STUN message at `p`, or 0."""
    if len(data) < p + 20 or data[p] & 0xC0 or struct.unpack("!I", data[p + 4:p + 8])[0] != COOKIE:
        return 0
    size = 20 + struct.unpack("!H", data[p + 2:p + 4])[0]
    return size if size % 4 == 0 and p + size <= len(data) else 0


def integrity(msg: bytes, pos: int, key: bytes) -> bytes:
    """HMAC-SHA1 over the message up to MESSAGE-INTEGRITY at `pos`, the header's length counting up
    to the end of that attribute (RFC 5389 15.4)."""
    head = msg[:2] + struct.pack("!H", pos + 24 - 20) + msg[4:pos]
    return hmac.new(key, head, hashlib.sha1).digest()


# -- Content-Length of SIP messages in log text ----------------------------------------------------
CONTENT_LENGTH = re.compile(r"^(Content-Length|l)(\s*:\s*)(\d+)", re.I)
LENGTH_AT_END = re.compile(r"((?:Content-Length|\bl)\s*:\s*)(\d+)(?=\s*$)", re.I)
BODY_START = "Message-Body: "  # a Snooper record's body starts on this line


def sip_content(line: str, kind: str) -> str | None:
    """The SIP text a log line carries (without the format's own prefix), or None."""
    if kind == "cms":
        return line.split("SIP trace: ", 1)[1] if "SIP trace: " in line else None
    if kind == "expressway":
        return (line[2:] if line.startswith(" |") else line[1:]) if line.startswith(" ") else None
    if kind == "snooper" and line.startswith(BODY_START):
        return line[len(BODY_START):]
    return line.rstrip("\r")


def with_length(head: str, delta: int) -> str:
    if not delta:
        return head
    return re.sub(r"(?im)^(Content-Length|l)(\s*:\s*)(\d+)",
                  lambda m: m.group(1) + m.group(2) + str(int(m.group(3)) + delta), head, count=1)


def fix_lengths(old: list[str], new: list[str], kind: str) -> list[str]:
    """`new` (line for line the rewrite of `old`) with each SIP message's Content-Length moved by
    what its body lines gained or lost. A body is the lines after the header block (the first empty
    line after Content-Length; in a Snooper record the Message-Body line on), as many as the old
    Content-Length covers (CRLF line ends)."""
    out, i, length_at, length = list(new), 0, None, 0
    while i < len(old):
        content = sip_content(old[i], kind)
        if content is None:
            length_at, i = None, i + 1
            continue
        m = CONTENT_LENGTH.match(content)
        if m:
            length_at, length, i = i, int(m.group(3)), i + 1
            continue
        starts = old[i].startswith(BODY_START) if kind == "snooper" else content == ""
        if length_at is None or not starts:
            i += 1
            continue
        j = i if kind == "snooper" else i + 1
        used = delta = 0
        while j < len(old) and used < length:
            before, after = sip_content(old[j], kind), sip_content(new[j], kind)
            if before is None or after is None:
                break
            used += len(before.encode()) + 2
            delta += len(after.encode()) - len(before.encode())
            j += 1
        if delta:
            out[length_at] = LENGTH_AT_END.sub(lambda m: m.group(1) + str(int(m.group(2)) + delta), new[length_at])
        length_at, i = None, j
    return out
