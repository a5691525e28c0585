"""The SVG sequence diagram of a call: the geometry of a ladder.Diagram, drawn by the template.

One lifeline per lane (host and role), one row per message in aligned time (its time at the left,
its step at the right), colour per protocol, rows cited by a finding drawn thick in the finding's
colour, and the message the failing step waited for drawn dashed where it should have come.
Only numbers and texts are computed here; the template writes the SVG elements (escaped).
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from .ladder import Diagram

LEFT = 96  # the time column
LANE = 158  # between two lifelines
TOP = 58  # lane titles
ROW = 24
RIGHT = 150  # step names
ROWS_MAX = 400  # rows drawn per call; the workbook's Ladder sheet has them all

PROTOCOL = {"sip": "SIP", "stun": "STUN/TURN", "tcp": "TCP"}
COLOUR = {"sip": "#1d5fbf", "stun": "#1b7f3b", "tcp": "#7a7a7a"}
SEVERITY = {"error": "#c62828", "warning": "#b26a00", "info": "#5b6b7b"}
MISSING = "#c62828"


def _time(ts) -> str:
    if ts is None or pd.isna(ts):
        return "?"
    return pd.Timestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def _arrow(x1: float, x2: float, y: float, size: float = 7) -> str:
    """The points of an arrow head at x2 pointing away from x1."""
    d = size if x2 > x1 else -size
    return f"{x2:.0f},{y:.0f} {x2 - d:.0f},{y - size / 2:.0f} {x2 - d:.0f},{y + size / 2:.0f}"


def layout(diagram: Diagram, message_id: Callable[[str, int], str | None]) -> dict:
    """What the template draws: the size, the lanes, the rows and the missing message.
    `message_id(file, pos)` names the embedded full text of a row (None when not embedded)."""
    lanes = diagram.lanes
    xs = {lane.label: LEFT + LANE * (i + 0.5) for i, lane in enumerate(lanes)}
    rows = diagram.rows[:ROWS_MAX]
    missing = diagram.missing if diagram.missing is not None and diagram.missing.after < len(rows) else None
    drawn, y = [], TOP + ROW
    for i, r in enumerate(rows):
        drawn.append(_row(r, xs, y, message_id))
        y += ROW
        if missing is not None and i == missing.after:
            y += ROW  # room for the dashed arrow
    gap = None
    if missing is not None:
        gap = _missing(missing, xs, TOP + ROW * (missing.after + 2))
    width = LEFT + LANE * len(lanes) + RIGHT
    return {"width": int(width), "height": int(y + ROW // 2), "top": TOP, "left": LEFT, "right": width - RIGHT,
            "lanes": [{"x": xs[lane.label], "label": lane.label, "role": lane.role, "unseen": lane.unseen}
                      for lane in lanes],
            "rows": drawn, "missing": gap, "cut": max(len(diagram.rows) - ROWS_MAX, 0),
            "protocols": [(PROTOCOL[p], COLOUR[p]) for p in PROTOCOL if any(r["proto"] == p for r in rows)]}


def _row(r: dict, xs: dict, y: float, message_id) -> dict:
    x1, x2 = xs[r["from"]], xs[r["to"]]
    colour = SEVERITY.get(r["severity"], COLOUR.get(r["proto"], "#333"))
    loop = x1 == x2
    label = r["what"] + (f"  {r['detail']}" if r["detail"] and abs(x2 - x1) > LANE * 1.5 else "")
    return {"y": y, "x1": x1, "x2": x2 if not loop else x1 + 24, "loop": loop, "colour": colour,
            "head": _arrow(x1, x2, y) if not loop else _arrow(x1 + 24, x1 + 2, y + 8),
            "label": label, "label_x": min(x1, x2) + 6 if not loop else x1 + 30, "time": _time(r["ts"]),
            "title": "  ".join(b for b in (f"{r['from']} -> {r['to']}: {r['what']}", r["detail"],
                                           r["mark"], r["where"]) if b),
            "step": r["step"], "flagged": bool(r["severity"]), "mark": r["mark"],
            "proto": r["proto"], "msg": message_id(r["file"], r["pos"])}


def _missing(m, xs: dict, y: float) -> dict:
    x1, x2 = xs[m.src], xs[m.dst]
    return {"y": y, "x1": x1, "x2": x2, "head": _arrow(x1, x2, y), "colour": MISSING,
            "label": f"missing: {m.what}", "label_x": min(x1, x2) + 6,
            "step": f"{m.number}. {m.step}"}
