"""--redact: replace user names, SIP URIs, phone numbers and IP addresses by stable pseudonyms.

The same value always gets the same pseudonym within one run, so addresses still join across
sources and a reader can still follow a call; ports are kept.
"""
from __future__ import annotations

import re

import pandas as pd

from ..events import schema

IPV4 = re.compile(r"(?<![\w.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\w.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])|(?<=\[)[0-9a-fA-F:]+(?=\])")
URI_USER = re.compile(r"\b((?:sips?|tel|im|pres):)([^@\s;>\"',]+)@", re.IGNORECASE)
TEL = re.compile(r"\b(tel:)(\+?[\d\-.()]{5,})", re.IGNORECASE)
DISPLAY = re.compile(r"\"([^\"<>]{1,80})\"\s*(?=<)")
PHONE = re.compile(r"(?<![\w.:])\+?\d{7,15}(?![\w.:])")
USERNAME_LINE = re.compile(r"(?im)^(\s*(?:user|username|participant)\s*[:=]\s*\"?)([^\s\"]+)")


class Redactor:
    def __init__(self) -> None:
        self._maps: dict[str, dict[str, str]] = {}

    def _alias(self, kind: str, value: str) -> str:
        table = self._maps.setdefault(kind, {})
        if value not in table:
            table[value] = f"{kind}-{len(table) + 1}"
        return table[value]

    def text(self, s: str) -> str:
        if not s:
            return s
        s = URI_USER.sub(lambda m: f"{m.group(1)}{self._alias('user', m.group(2))}@", s)
        s = TEL.sub(lambda m: f"{m.group(1)}{self._alias('phone', m.group(2).strip())}", s)
        s = DISPLAY.sub(lambda m: f"\"{self._alias('name', m.group(1))}\"", s)
        s = IPV4.sub(lambda m: self._alias("ip", m.group(0)), s)
        s = IPV6.sub(lambda m: self._alias("ip6", m.group(0)), s)
        s = PHONE.sub(lambda m: self._alias("phone", m.group(0)), s)
        s = USERNAME_LINE.sub(lambda m: f"{m.group(1)}{self._alias('user', m.group(2))}", s)
        return s

    def frame(self, events: pd.DataFrame) -> pd.DataFrame:
        out = events.copy()
        for col in schema.STR_COLUMNS:
            if col in ("source", "proto", "event", "direction", "transport", "txn_id", "method",
                       "sdp_media", "cseq"):
                continue
            if col == "username":  # STUN USERNAME: a credential or ICE fragments, aliased whole
                out[col] = out[col].map(lambda v: self._alias("user", v) if v else v)
            else:
                out[col] = out[col].map(self.text)
        return out
