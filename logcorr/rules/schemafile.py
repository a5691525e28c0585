"""The parts of rules/schema.json that follow the event table: the column names a rule may name,
the predicate keys, an example event's keys. Written by ``python -m logcorr.events.schema --write``."""
from __future__ import annotations

import json

from ..events import schema
from .loader import EXAMPLE_ONLY_FIELDS
from .predicates import COMBINATORS

CONDITION = {"$ref": "#/$defs/condition"}


def render(text: str) -> str:
    """rules/schema.json (its current text) with the column lists of :mod:`logcorr.events.schema`."""
    doc = json.loads(text)
    defs = doc["$defs"]
    defs["column"]["enum"] = list(schema.NAMES)
    predicate = defs["predicate"]["properties"]
    testable = [c.name for c in schema.COLUMNS if c.kind != "datetime"]
    defs["predicate"]["properties"] = {**{n: CONDITION for n in testable},
                                       **{k: predicate[k] for k in COMBINATORS}}
    events = defs["example"]["properties"]["events"]["items"]
    extra = {k: events["properties"].get(k, {}) for k in EXAMPLE_ONLY_FIELDS}
    events["properties"] = {**{n: {} for n in schema.NAMES}, **extra}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
