"""Cisco Expressway / VCS diagnostic log (``loggingsnapshot_<host>_<time>.txt``) and syslog copies.

A record starts with ``<ISO time with offset> <host> [<program>[[pid]]: ]<body>`` and runs until the
next line that starts with such a stamp (SIPMSG blocks, H.323 PDU dumps and media-session dumps span
lines). Accepted variants of the prefix: a remote syslog server's BSD stamp
(``Nov 18 19:55:58 host tvcs: ...``, local time without year: UTCTime decides), RFC 5424 remote syslog (``<166>2020-11-18T19:55:58Z host
tvcs: tvcs: ...``, the tag repeated), Notepad++ "Find All" copies (``Line 190: ``), stamps without
a fraction or with ``Z``. Web copies that joined several records on one physical line are cut again
at each embedded stamp. Lines starting with ``#`` end the current record and are ignored.

Time: ``UTCTime="YYYY-MM-DD HH:MM:SS,mmm"`` is UTC and is the event time; the prefix (local time with
its offset) is the fallback; a prefix without offset is read in ``ctx.tz``.

Events (``source`` = ``expressway``):

* ``proto=sip``: one per SIP message. The ``network.sip`` INFO summary and the DEBUG record with its
  `` SIPMSG:`` block share a ``Msg-Hash`` and make one event (time and ``pos`` of the first of the
  two, fields from the full message when there is one, else from the INFO ``Detail``). Records of
  the ``b2bua`` program are separate legs and never merge with ``tvcs`` records, nor do records of
  two cluster peers logged into one file. The block is read with or without its `` |`` marks
  (copies of logs often lose them): then the message starts at the first SIP start line after
  ``SIPMSG:`` and runs to the end of the record.
  ``direction`` from ``Action`` (Received -> in, Sent -> out); ``src``/``dst`` from ``Src-``/
  ``Dst-``/``Local-`` ip and port.
* ``proto=log`` with these ``event`` keys:

  - event-log records (``Event="<name>" ... Level="1"``, web audit, alarms): the event name in lower
    case with hyphens, e.g. ``call-attempted``, ``call-connected``, ``call-rejected``,
    ``call-disconnected``, ``search-attempted``, ``search-completed``, ``alarm-raised``,
    ``alarm-lowered``, ``external-server-communications-failure``. ``reason`` from ``Reason``
    (else ``Detail``), ``status`` from ``Response-code``, ``src``/``dst`` from ``Src-``/``Dst-ip``
    and port; ``call_id`` is the SIP Call-ID of the call when the parser could tie the
    ``Call-serial-number`` to one (the INVITE received from the same ``Src-ip:Src-port`` just before
    ``Call Attempted``); ``summary`` carries ``Call-serial-number``, ``Detail`` and alarm ``Id``.
  - ``network.mediarouting`` routes: ``turn-route-creating`` / ``turn-route-deleting`` when one side
    is a TURN relay (``Allowed Peer List``), else ``media-route-creating`` / ``media-route-deleting``;
    ``src`` = where packets come from (else the receiving local address), ``dst`` = where they go
    (else the sending local address), ``relayed`` = the relay address for TURN routes.
  - ``network.sip`` ERROR / WARN records that carry no message: ``sip-error`` / ``sip-warning``
    with the ``Detail`` as summary.
  - ``network.tcp`` connection records: ``tcp-connecting``, ``tcp-connection-established``,
    ``tcp-connection-closed`` (the ``Detail`` in lower case with hyphens), ``reason`` from ``Reason``.
  - cluster, replication and alarm-manager records, one event each: ``cluster``
    (``developer.clusterdb.*``, ``developer.cdbtable.*``, often written without a program tag),
    ``replication`` (``developer.replication*`` or the ``replication`` program) and ``alarm``
    (``developer.diagnostics.alarm*``); ``summary`` is ``<Module> <Level> <Detail>``, ``reason``
    the ``Detail``.

Other records (other developer.*, licensemanager, H.323, ...) are read past without events or
warnings.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict, deque
from typing import Iterator

from logcorr.events import sip
from logcorr.events.scrape import unjoin_sip
from logcorr.events.parsers.base import MONTHS, ParseContext, local_date, syslog_year, utc
from logcorr.events.parsers.text import LineReader, TextParser

NAME = "expressway"
PENDING_WINDOW = 500  # records after which an unpaired INFO/DEBUG network.sip record is final
INVITE_SOURCES = 1000  # the INVITE sources remembered (the last ones)

# 2017-03-02T08:10:46.240+01:00 vcse tvcs: UTCTime="..."   (optional "Line 190: " and "<166>1 ")
RECORD_START = re.compile(
    r"^(?:Line \d+:\s*)?(?:<\d{1,3}>(?:1 )?)?"
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(Z|[+-]\d\d:?\d\d)?"
    r"[ \t]+(\S+)[ \t]+(.*)$"
)
# Nov 18 19:55:58 expe01 tvcs: UTCTime="..."   (a remote syslog server's BSD stamp, local time)
BSD_START = re.compile(
    r"^(?:<\d{1,3}>)?(" + "|".join(MONTHS) + r") {1,2}(\d{1,2}) "
    r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?[ \t]+(\S+)[ \t]+(.*)$"
)
# The same stamp inside a physical line, where a web copy joined two records.
EMBEDDED_START = re.compile(
    r" (?=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,6})?(?:Z|[+-]\d\d:?\d\d) \S+ "
    r"(?:[A-Za-z][\w.-]*(?:\[\d+\])?: |UTCTime=|Event=))"
)
# tvcs:   httpd[15060]:   (a program tag; a second one may follow: "tvcs: tvcs:", "httpd[1]: web:")
PROGRAM_TAG = re.compile(r"^([A-Za-z][\w.-]*)(?:\[\d+\])?:(?:[ \t]+|$)")
KEY_VALUE = re.compile(r'([A-Za-z][\w.-]*)="([^"]*)"')
# Detail="Receive Request Method=INVITE, CSeq=100, Request-URI=..., Call-ID=..., ..."
DETAIL_FIELD = re.compile(r"(?:^|[,\s])\s*([A-Za-z][A-Za-z-]*)=([^,]*)")
ROUTE = re.compile(
    r"Route:\s*(Creating|Deleting):\s*Packets Rxd on (\S+)\s+\(socket [^)]*\)\s+from (.+?)\s+"
    r"Txd on (\S+)\s+\(socket [^)]*\)\s+to (.+?)\s*$"
)
SIP_TROUBLE = {"ERROR": "sip-error", "WARN": "sip-warning", "WARNING": "sip-warning"}
ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d+$")


def sniff(head: bytes) -> bool:
    """An Expressway record (`Module="` or `Event="` fields) after an ISO stamp and host, or after
    a BSD stamp when it carries its own `UTCTime="`."""
    if b'UTCTime="' not in head and b"tvcs:" not in head:
        return False
    for line in head.decode("utf-8", "replace").splitlines()[:400]:
        m = RECORD_START.match(line)
        if m and ('Module="' in m.group(10) or 'Event="' in m.group(10)):
            return True
        m = BSD_START.match(line)  # remote syslog copy: only with the product's own UTCTime
        if m and 'UTCTime="' in m.group(8) and ('Module="' in m.group(8) or 'Event="' in m.group(8)):
            return True
    return False


def _ms(frac: str | None) -> int:
    return int((frac or "0")[:6].ljust(6, "0"))


def _offset(text: str | None, ctx: ParseContext) -> dt.tzinfo:
    if not text:
        return ctx.tz
    if text == "Z":
        return dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def utc_time(value: str) -> dt.datetime | None:
    """`2017-03-02 07:10:46,240` (or without milliseconds) as an aware UTC datetime; None when
    it is not a time the event table can hold."""
    v = value.strip()
    try:
        base = dt.datetime(int(v[0:4]), int(v[5:7]), int(v[8:10]), int(v[11:13]), int(v[14:16]),
                           int(v[17:19]), tzinfo=dt.timezone.utc)
    except (ValueError, IndexError):
        return None
    if len(v) > 20 and v[19] in ",.":
        frac = v[20:26]
        if frac.isascii() and frac.isdigit():
            base = base.replace(microsecond=_ms(frac))
    return utc(base)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _addr(ip: str, port: str) -> str:
    ip, port = ip.strip(), port.strip()
    if not ip:
        return ""
    return sip.join_address(ip, port or None)


class _Record:
    __slots__ = ("pos", "ts", "host", "program", "body", "more", "zone_assumed")

    def __init__(self, pos, ts, host, program, body):
        self.pos, self.ts, self.host, self.program, self.body = pos, ts, host, program, body
        self.more: list[str] = []


class _Slot:
    """An event waiting in the output queue; network.sip ones may still get their pair."""

    __slots__ = ("event", "key", "kinds", "born")

    def __init__(self, event, key=None, kind=None, born=0):
        self.event, self.key, self.born = event, key, born
        self.kinds = {kind} if kind else set()


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.state = _State(ctx)
        self.record: _Record | None = None

    def line(self, pos: int, line: str) -> Iterator[dict]:
        for piece in _cut(line):
            m = RECORD_START.match(piece) or BSD_START.match(piece)
            if m:
                yield from self._take()
                self.record = _start(m, pos, self.ctx)
            elif piece.startswith("#"):
                yield from self._take()
            elif self.record is not None:
                self.record.more.append(piece)
            elif piece.strip():
                self.stray("lines outside any record")

    def _take(self) -> Iterator[dict]:
        if self.record is not None:
            record, self.record = self.record, None
            yield from self.state.take(record)

    def end(self) -> Iterator[dict]:
        yield from self._take()
        yield from self.state.flush()

    def carry(self) -> tuple:
        """The open record and the output queue: each waiting event, whether it still waits for
        its pair, and how many records ago it came."""
        st, rec = self.state, self.record
        queue = tuple((_settled(s.event), tuple(sorted(s.kinds)), s.key, st.count - s.born,
                       s.key is not None and st.pending.get(s.key) is s) for s in st.queue)
        return (rec.pos, rec.body, tuple(rec.more)) if rec else None, queue

    def log_ops(self) -> None:
        self.state.log = []

    def ops(self) -> list:
        return self.state.log or []

    def take_tables(self, tables) -> None:
        if tables is not None:
            self.state.invite_from, self.state.serial_call = OrderedDict(tables[0]), dict(tables[1])


def _settled(event: dict) -> tuple:
    """An event as a piece sees it, but for the Call-ID of an event record (set by the tables)."""
    return tuple(sorted(kv for kv in event.items() if kv[0] != "call_id" or event.get("proto") != "log"))


def cut_here(line: bytes) -> bool:
    """A line that starts a record (an ISO stamp, host and body)."""
    return RECORD_START.match(line.decode("utf-8", "replace")) is not None


def replay(tables, ops: list):
    """The INVITE-source and serial-number tables after a piece's operations, and the Call-ID
    each event record with a serial number gets from them (by line: {pos: {"call_id": ...}})."""
    invite_from, serial_call = tables
    patches = {}
    for op, key, value in ops:
        if op == "inv":
            _lru_put(invite_from, key, value)
            continue
        serial, src = value
        call_id = serial_call.get(serial, "")
        if not call_id and src is not None and src in invite_from:
            call_id = serial_call[serial] = invite_from[src]
        patches[key] = {"call_id": call_id}
    return (invite_from, serial_call), patches


def _lru_put(table: OrderedDict, key: str, value: str) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > INVITE_SOURCES:
        table.popitem(last=False)


class ExpresswayParser(TextParser):
    name = NAME
    what = "an Expressway log"
    reader = _Reader
    sniff = staticmethod(sniff)
    cut_here = staticmethod(cut_here)
    warm_bytes = 2 * 1024 * 1024  # well over the records of two pairing windows
    replay = staticmethod(replay)

    @staticmethod
    def new_tables():
        return OrderedDict(), {}


def _start(m: re.Match, lineno: int, ctx: ParseContext) -> _Record:
    if m.re is BSD_START:  # no year, no zone: UTCTime usually says it all
        mon, d, hh, mi, ss, frac, host, rest = m.groups()
        year = ctx.year or (syslog_year(MONTHS[mon], int(d), local_date(ctx.mtime, ctx.tz)) if ctx.mtime else None)
        y, mo, off = str(year or 1), str(MONTHS[mon]), None
    else:
        y, mo, d, hh, mi, ss, frac, off, host, rest = m.groups()
    try:
        ts = utc(dt.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), _ms(frac),
                             tzinfo=_offset(off, ctx)))
    except ValueError:
        ts = None
    program = ""
    body = rest
    while True:
        t = PROGRAM_TAG.match(body)
        if not t:
            break
        program = program or t.group(1)
        body = body[t.end():]
    record = _Record(lineno, ts, host, program, body)
    record.zone_assumed = not off
    cut = body.find(" SIPMSG:")
    if cut > 0:  # a web copy joined the SIPMSG block onto the record's first line
        record.body = body[:cut]
        record.more.append(body[cut:])
    return record


class _State:
    """Everything one file's records need to know about the ones before."""

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.queue: deque[_Slot] = deque()
        self.pending: dict[tuple[str, str], _Slot] = {}
        self.count = 0
        self.invite_from: OrderedDict[str, str] = OrderedDict()  # src address -> last INVITE Call-ID
        self.serial_call: dict[str, str] = {}
        self.log: list | None = None  # operations on the two tables, when reading a piece

    # --- output queue -------------------------------------------------------------------------
    def take(self, rec: _Record) -> Iterator[dict]:
        self.count += 1
        self._read(rec)
        yield from self._drain()

    def _drain(self, final: bool = False) -> Iterator[dict]:
        while self.queue:
            head = self.queue[0]
            if head.key is not None and not final and self.count - head.born < PENDING_WINDOW:
                break
            self.queue.popleft()
            if head.key is not None and self.pending.get(head.key) is head:
                del self.pending[head.key]
            yield head.event

    def flush(self) -> Iterator[dict]:
        yield from self._drain(final=True)

    def _emit(self, event: dict, key=None, kind=None) -> None:
        slot = _Slot(event, key, kind, self.count)
        self.queue.append(slot)
        if key is not None:
            self.pending[key] = slot

    # --- records ------------------------------------------------------------------------------
    def _read(self, rec: _Record) -> None:
        fields = {k: v.strip() for k, v in KEY_VALUE.findall(rec.body)}
        ts = None
        if "UTCTime" in fields:
            ts = utc_time(fields["UTCTime"])
        if ts is None:
            ts = rec.ts
            if ts is not None and rec.zone_assumed and self.ctx.tz_assumed:
                self.ctx.note(f"Expressway stamps without offset read as {self.ctx.tz} (use --tz)")
        if ts is None or ts.year < 1970:
            self.ctx.skip(rec.pos, "no usable time stamp (no UTCTime, no year)")
            return
        base = {"ts": ts, "source": NAME, "host": rec.host, "file": self.ctx.file, "pos": rec.pos}
        module = fields.get("Module", "")
        if module == "network.sip":
            self._sip(rec, fields, base)
        elif module == "network.mediarouting":
            self._route(rec, fields, base)
        elif module == "network.tcp":
            self._tcp(rec, fields, base)
        elif not module and "Event" in fields:
            self._event_log(rec, fields, base)
        else:
            key = _housekeeping_key(module, rec.program)
            if key:
                self._housekeeping(rec, fields, base, key)

    def _sip(self, rec: _Record, f: dict, base: dict) -> None:
        action = f.get("Action", "")
        local = _addr(f.get("Local-ip", ""), f.get("Local-port", ""))
        if action == "Received":
            direction, src, dst = "in", _addr(f.get("Src-ip", ""), f.get("Src-port", "")), local
        elif action == "Sent":
            direction, src, dst = "out", local, _addr(f.get("Dst-ip", ""), f.get("Dst-port", ""))
        else:
            direction = ""
            src = _addr(f.get("Src-ip", ""), f.get("Src-port", "")) or local
            dst = _addr(f.get("Dst-ip", ""), f.get("Dst-port", ""))
        text = sipmsg_text(rec.more)
        detail = f.get("Detail", "")
        msg_hash = f.get("Msg-Hash", "")
        if not msg_hash and detail:
            msg_hash = detail_fields(detail).get("Msg-Hash", "").strip()
        if text is not None:
            msg = sip.parse_message(unjoin_sip(text))
            fields = sip.event_fields(msg, raw=text)
            kind = "full"
            if msg.defects and not msg.start_line:
                self.ctx.warn(rec.pos, "SIPMSG block without a SIP message")
        elif detail:
            fields = info_fields(detail)
            if fields is None:
                key = SIP_TROUBLE.get(f.get("Level", "").upper())
                if key:
                    self._emit(dict(base, proto="log", event=key, direction=direction, src=src,
                                    dst=dst, summary=detail, raw=_raw(rec)))
                return  # other network.sip notes: nothing a rule needs
            kind = "info"
        else:
            return  # other network.sip records (e.g. connection notes): nothing to tell
        event = dict(base, direction=direction, src=src, dst=dst, **fields)
        if event.get("method") == "INVITE" and event.get("status") is None and direction == "in":
            self._remember_invite(src, event.get("call_id", ""))
        key = (rec.host, rec.program, msg_hash) if msg_hash else None
        if key is not None:
            slot = self.pending.get(key)
            if slot is not None and kind not in slot.kinds:
                self._merge(slot, event, kind)
                del self.pending[key]
                return
        self._emit(event, key, kind)

    @staticmethod
    def _merge(slot: _Slot, event: dict, kind: str) -> None:
        """The pair of one message: the full text wins, time and position stay with the first."""
        old = slot.event
        first, second = (event, old) if kind == "full" else (old, event)
        merged = dict(first, ts=old["ts"], pos=old["pos"])
        for k, v in second.items():
            if merged.get(k) in (None, "") and v not in (None, ""):
                merged[k] = v
        slot.event = merged
        slot.kinds.add(kind)
        slot.key = None

    def _remember_invite(self, src: str, call_id: str) -> None:
        if src and call_id:
            _lru_put(self.invite_from, src, call_id)
            if self.log is not None:
                self.log.append(("inv", src, call_id))

    def _event_log(self, rec: _Record, f: dict, base: dict) -> None:
        name = f.get("Event", "")
        key = _slug(name)
        if not key:
            self.ctx.skip(rec.pos, "event record without a name")
            return
        src = _addr(f.get("Src-ip", ""), f.get("Src-port", ""))
        dst = _addr(f.get("Dst-ip", ""), f.get("Dst-port", ""))
        serial = f.get("Call-serial-number", "")
        call_id = ""
        if serial:
            call_id = self.serial_call.get(serial, "")
            if not call_id and key == "call-attempted" and src in self.invite_from:
                call_id = self.invite_from[src]
                self.serial_call[serial] = call_id
            if self.log is not None:
                self.log.append(("get", rec.pos, (serial, src if key == "call-attempted" else None)))
        status = f.get("Response-code", "")
        parts = [name]
        for k in ("Id", "Severity", "Service", "Protocol", "Src-alias", "Dst-alias", "Detail",
                  "Reason", "Response-code", "Call-serial-number"):
            if f.get(k):
                parts.append(f"{k}={f[k]}")
        event = dict(base, proto="log", event=key, direction="", src=src, dst=dst,
                     transport=_transport(f.get("Protocol", "")), call_id=call_id,
                     reason=f.get("Reason", "") or f.get("Detail", ""),
                     status=sip.decimal(status),
                     summary=" ".join(parts), raw=_raw(rec))
        self._emit(event)

    def _housekeeping(self, rec: _Record, f: dict, base: dict, key: str) -> None:
        """One cluster, replication or alarm-manager record: one event."""
        detail = f.get("Detail", "") or _free_text(rec.body)
        module, level = f.get("Module", "") or rec.program, f.get("Level", "")
        summary = " ".join(p for p in (module, level, detail) if p)
        self._emit(dict(base, proto="log", event=key, direction="", reason=detail,
                        summary=summary, raw=_raw(rec)))

    def _route(self, rec: _Record, f: dict, base: dict) -> None:
        m = ROUTE.search(f.get("Detail", ""))
        if not m:
            return
        verb, rxd_on, rx_from, txd_on, tx_to = m.groups()
        turn = "Allowed Peer List" in rx_from or "Allowed Peer List" in tx_to
        key = ("turn-route-" if turn else "media-route-") + verb.lower()
        src = rx_from if ADDRESS.match(rx_from) else rxd_on
        dst = tx_to if ADDRESS.match(tx_to) else txd_on
        relayed = ""
        if turn:
            relayed = txd_on if "Allowed Peer List" in tx_to else rxd_on
        summary = f"{verb} route: rxd on {rxd_on} from {rx_from}, txd on {txd_on} to {tx_to}"
        if relayed:
            summary += f"; relay {relayed}"
        self._emit(dict(base, proto="log", event=key, direction="", src=src, dst=dst,
                        relayed=relayed, summary=summary, raw=_raw(rec)))

    def _tcp(self, rec: _Record, f: dict, base: dict) -> None:
        detail = f.get("Detail", "")
        if not detail.startswith("TCP"):
            return
        src = _addr(f.get("Src-ip", ""), f.get("Src-port", ""))
        dst = _addr(f.get("Dst-ip", ""), f.get("Dst-port", ""))
        summary = detail + (f" ({f['Reason']})" if f.get("Reason") else "")
        self._emit(dict(base, proto="log", event=_slug(detail), direction="", src=src, dst=dst,
                        transport="TCP", reason=f.get("Reason", ""), summary=summary,
                        raw=_raw(rec)))


def _cut(line: str) -> list[str]:
    """One physical line as records: web copies joined several records with one space."""
    if line.startswith(" ") or len(line) < 60:
        return [line]
    m = RECORD_START.match(line)
    cuts = [c.start() for c in EMBEDDED_START.finditer(line, m.start(10) if m else 1)]
    if not cuts:
        return [line]
    bounds = [0, *cuts, len(line)]
    return [line[a:b].strip(" ") if i else line[a:b] for i, (a, b) in
            enumerate(zip(bounds, bounds[1:]))]


HOUSEKEEPING = (("developer.clusterdb", "cluster"), ("developer.cdbtable", "cluster"),
                ("developer.replication", "replication"), ("developer.diagnostics.alarm", "alarm"))


def _housekeeping_key(module: str, program: str) -> str:
    """`cluster`, `replication` or `alarm` for the records of those families, else ""."""
    for prefix, key in HOUSEKEEPING:
        if module.startswith(prefix):
            return key
    if not module and program in ("replication", "clusterdb", "alarm"):
        return "cluster" if program == "clusterdb" else program
    return ""


def _free_text(body: str) -> str:
    """A record body without its key="value" fields (a replication note written as plain text)."""
    return " ".join(KEY_VALUE.sub(" ", body).split()).strip(": ")


def _transport(protocol: str) -> str:
    p = protocol.strip().upper()
    return p if p in ("UDP", "TCP", "TLS") else ""


def _raw(rec: _Record) -> str:
    return "\n".join([rec.body, *rec.more]).rstrip()


def sipmsg_text(lines: list[str]) -> str | None:
    """The SIP message of a SIPMSG block: from the line after ` |`, one leading space removed from
    each line, the lone-space line as the blank line, up to the closing ` |`."""
    for i, line in enumerate(lines):
        if line.strip().startswith("SIPMSG:"):
            break
    else:
        return None
    rest = lines[i].strip()[len("SIPMSG:"):].strip()  # a web copy may join the start line on
    if rest.startswith("|"):
        first, body = rest[1:], lines[i + 1:]
    elif i + 1 < len(lines) and lines[i + 1].lstrip().startswith("|"):
        first, body = lines[i + 1].lstrip()[1:], lines[i + 2:]
    else:
        found = _unmarked_start(rest, lines[i + 1:])
        if found is None:
            return None
        first, body = found
    out = [first]
    for line in body:
        if line.strip() == "|":
            break
        out.append(line[1:] if line.startswith(" ") else line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def _unmarked_start(rest: str, lines: list[str]) -> tuple[str, list[str]] | None:
    """(start line, lines after it) of a SIPMSG block copied without its ` |` marks: the start
    line is on the SIPMSG line itself or the first line that is not blank."""
    if rest:
        return (rest, lines) if sip.looks_like_sip(rest) else None
    for j, line in enumerate(lines):
        if line.strip():
            start = line.strip()
            return (start, lines[j + 1:]) if sip.looks_like_sip(start) else None
    return None


def detail_fields(detail: str) -> dict[str, str]:
    return {k: v.strip() for k, v in DETAIL_FIELD.findall(detail)}


def info_fields(detail: str) -> dict | None:
    """Event columns from the INFO summary: `Receive Request Method=INVITE, CSeq=100, ...` or
    `Sending Response Code=408, Method=SERVICE, CSeq=4616, ...`."""
    d = detail_fields(detail)
    method = d.get("Method", "")  # a token, as sent
    if not method:
        return None
    code = d.get("Code", "")
    status = sip.decimal(code)
    event = f"{status} {method}" if status is not None else method
    target = d.get("Request-URI", "") or d.get("To", "")
    summary = f"{method} {target}" if status is None else f"{status} ({method})"
    return {"proto": "sip", "event": event, "call_id": d.get("Call-ID", ""),
            "cseq": d.get("CSeq", ""), "method": method, "status": status, "summary": summary,
            "raw": detail}


PARSER = ExpresswayParser()
