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

from collections import OrderedDict
from typing import BinaryIO, Iterator

from logcorr.events.parsers.base import ParseContext
from logcorr.events.parsers.text import TextParser
from .lines import BSD_START, RECORD_START, cut_here
from .messages import detail_fields, info_fields, sipmsg_text
from .reader import _Reader
from .state import NAME, replay

__all__ = ["NAME", "PARSER", "ExpresswayParser", "detail_fields", "info_fields", "sipmsg_text", "sniff"]


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

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        return _Reader(ctx).read(stream, self.what)


PARSER = ExpresswayParser()
