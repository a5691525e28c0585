"""Expressway configuration dump (`xconf_dump_<host>_<time>.txt` in a diagnostic archive, or the
output of `xConfiguration` on the command line): lines

    *c xConfiguration Traversal Server TURN Mode: On

Each setting becomes a ``log`` event with ``event`` = ``xconfiguration``, the setting's path and
value in ``summary`` (``Traversal Server TURN Mode: On``), ``source`` = ``expressway`` and ``host``
from ``SystemUnit Name``. The file carries no time, and its events have none (``ts`` empty): a
setting is a state, not an event of the call. Rules read the TURN settings from them (TURN service
off, TURN without TCP).
"""
from __future__ import annotations

import io
import re
from typing import BinaryIO, Iterator

from .base import ParseContext

NAME = "expressway"
LINE = re.compile(r'^\*c xConfiguration (?P<path>[^:]+?):\s*(?P<value>.*?)\s*$')


class XConfigParser:
    name = NAME

    def sniff(self, head: bytes) -> bool:
        lines = [l for l in head.decode("utf-8", "replace").splitlines()[:20] if l.strip()]
        return bool(lines) and sum(1 for l in lines if LINE.match(l)) >= max(1, len(lines) // 2)

    def parse(self, stream: BinaryIO, ctx: ParseContext) -> Iterator[dict]:
        host = ""
        for lineno, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8", errors="replace"), 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("*s") or line.strip() == "OK":
                continue
            m = LINE.match(line)
            if not m:
                ctx.skip(lineno, "not an xConfiguration line")
                continue
            path, value = m.group("path").strip(), m.group("value").strip().strip('"')
            if path == "SystemUnit Name":
                host = value
            yield {"ts": None, "source": NAME, "host": host, "file": ctx.file, "pos": lineno,
                   "proto": "log", "event": "xconfiguration", "summary": f"{path}: {value}",
                   "raw": line}


PARSER = XConfigParser()
