"""Records into events: what each kind of record says, the INFO and DEBUG records of one SIP
message paired within a window, and the tables that tie an event record's call serial number to
a Call-ID (replayed in file order when the file is read in pieces)."""
from __future__ import annotations

import re
from collections import OrderedDict, deque

from logcorr.events import sip
from logcorr.events.parsers.base import ParseContext
from logcorr.events.scrape import unjoin_sip
from .lines import _Record, utc_time
from .messages import detail_fields, info_fields, sipmsg_text

NAME = "expressway"
PENDING_WINDOW = 500  # records after which an unpaired INFO/DEBUG network.sip record is final
INVITE_SOURCES = 1000  # the INVITE sources remembered (the last ones)

KEY_VALUE = re.compile(r'([A-Za-z][\w.-]*)="([^"]*)"')
ROUTE = re.compile(
    r"Route:\s*(Creating|Deleting):\s*Packets Rxd on (\S+)\s+\(socket [^)]*\)\s+from (.+?)\s+"
    r"Txd on (\S+)\s+\(socket [^)]*\)\s+to (.+?)\s*$"
)
SIP_TROUBLE = {"ERROR": "sip-error", "WARN": "sip-warning", "WARNING": "sip-warning"}
ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d+$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _addr(ip: str, port: str) -> str:
    ip, port = ip.strip(), port.strip()
    if not ip:
        return ""
    return sip.join_address(ip, port or None)


class _Slot:
    """An event waiting in the output queue; network.sip ones may still get their pair."""

    __slots__ = ("event", "key", "kinds", "born")

    def __init__(self, event, key=None, kind=None, born=0):
        self.event, self.key, self.born = event, key, born
        self.kinds = {kind} if kind else set()


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
    def take(self, rec: _Record, out: list) -> None:
        """Read one record; the events that are final now go to `out`."""
        self.count += 1
        self._read(rec)
        self._drain(out)

    def _drain(self, out: list, final: bool = False) -> None:
        queue, pending = self.queue, self.pending
        while queue:
            head = queue[0]
            if head.key is not None:
                if not final and self.count - head.born < PENDING_WINDOW:
                    break
                if pending.get(head.key) is head:
                    del pending[head.key]
            queue.popleft()
            out.append(head.event)

    def flush(self, out: list) -> None:
        self._drain(out, final=True)

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
            ts = rec.time(self.ctx)
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
        summary = None  # the Detail's fields, read once
        if not msg_hash and detail:
            summary = detail_fields(detail)
            msg_hash = summary.get("Msg-Hash", "").strip()
        if text is not None:
            msg = sip.parse_message(unjoin_sip(text))
            fields = sip.event_fields(msg, raw=text)
            kind = "full"
            if msg.defects and not msg.start_line:
                self.ctx.warn(rec.pos, "SIPMSG block without a SIP message")
        elif detail:
            fields = info_fields(detail, summary)
            if fields is None:
                key = SIP_TROUBLE.get(f.get("Level", "").upper())
                if key:
                    self._emit(dict(base, proto="log", event=key, direction=direction, src=src,
                                    dst=dst, summary=detail, raw=_raw(rec)))
                return  # other network.sip notes: nothing a rule needs
            kind = "info"
        else:
            return  # other network.sip records (e.g. connection notes): nothing to tell
        event = {**base, "direction": direction, "src": src, "dst": dst, **fields}
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
        merged = first  # neither is held elsewhere: the first takes on the second's values
        merged["ts"], merged["pos"] = old["ts"], old["pos"]
        for k, v in second.items():
            if v not in (None, "") and merged.get(k) in (None, ""):
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


