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

import re
from typing import Iterator

from .base import ParseContext
from .text import LineReader, TextParser

NAME = "expressway"
LINE = re.compile(r'^\*c xConfiguration (?P<path>[^:]+?):\s*(?P<value>.*?)\s*$')


class _Reader(LineReader):
    def __init__(self, ctx: ParseContext):
        super().__init__(ctx)
        self.host = ""

    def line(self, pos: int, line: str) -> Iterator[dict]:
        if not line.strip() or line.startswith("*s") or line.strip() == "OK":
            return
        m = LINE.match(line)
        if not m:
            self.stray("not an xConfiguration line")
            return
        path, value = m.group("path").strip(), m.group("value").strip().strip('"')
        if path == "SystemUnit Name":
            self.host = value
        yield {"ts": None, "source": NAME, "host": self.host, "file": self.ctx.file, "pos": pos,
               "proto": "log", "event": "xconfiguration", "summary": f"{path}: {value}", "raw": line}


class XConfigParser(TextParser):
    name = NAME
    what = "an xConfiguration dump"
    reader = _Reader

    def sniff(self, head: bytes) -> bool:
        lines = [l for l in head.decode("utf-8", "replace").splitlines()[:20] if l.strip()]
        return bool(lines) and sum(1 for l in lines if LINE.match(l)) >= max(1, len(lines) // 2)


PARSER = XConfigParser()
