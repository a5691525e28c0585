"""Small helpers for the rule tests: write a rule file, build events."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from logcorr.events import schema

BASE = pd.Timestamp("2024-03-01T10:00:00Z")

HEADER = """\
id: {id}
title: A test rule
severity: error
description: for the tests
explanation: it happened at {{file}}
fix: do something
references: [RFC 0000]
tags: [test]
"""

EXAMPLES = """\
examples:
  - name: positive
    expect: 1
    events:
      - {t: 0, proto: stun, event: Allocate Error Response, error_code: 437}
  - name: negative
    expect: 0
    events:
      - {t: 0, proto: stun, event: Allocate Error Response, error_code: 401}
"""

MATCH_437 = """\
match:
  where: {proto: stun, error_code: 437}
"""


def write_rule(directory: Path, rule_id: str, body: str = MATCH_437, examples: str = EXAMPLES,
               header: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = (header if header is not None else HEADER.format(id=rule_id)) + textwrap.dedent(body) + examples
    path = directory / f"{rule_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def events(*rows: dict) -> pd.DataFrame:
    """Events with `t` seconds after BASE; file/pos filled so evidence can be checked."""
    recs = []
    for i, row in enumerate(rows):
        rec = {k: v for k, v in row.items() if k != "t"}
        rec.setdefault("ts", BASE + pd.Timedelta(seconds=row.get("t", i)))
        rec.setdefault("file", "f.log")
        rec.setdefault("pos", i + 1)
        recs.append(rec)
    return schema.to_frame(recs)
