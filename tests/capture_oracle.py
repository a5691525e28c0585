"""Reading tshark's oracle CSV files (tests/data/captures/*.stun.csv) for the comparison tests."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class OracleFrame:
    frame: int
    messages: list[tuple[int, str]]  # (message type, transaction id)
    error_codes: set[int]
    addresses: set[str]
    channels: list[int] = field(default_factory=list)


def _split(value: str) -> list[str]:
    return [v for v in value.split("|") if v != ""] if value else []


def read_oracle(path: Path) -> list[OracleFrame]:
    out = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            types = [int(t, 16) for t in _split(row["stun.type"])]
            ids = _split(row["stun.id"])
            classes = _split(row["stun.att.error.class"])
            numbers = _split(row["stun.att.error"])
            errors = {int(c) * 100 + int(n) for c, n in zip(classes, numbers)}
            ips = _split(row["stun.att.ipv4"]) + [f"[{v}]" for v in _split(row["stun.att.ipv6"])]
            ports = _split(row["stun.att.port"])
            addresses = {f"{ip}:{port}" for ip, port in zip(ips, ports)}
            channels = [int(c, 16) for c in _split(row["stun.channel"])]
            out.append(OracleFrame(int(row["frame.number"]), list(zip(types, ids)), errors, addresses, channels))
    return out
