"""The Timeline sheet: the events in aligned time, one row each, that other sheets link to.

Bounded at TIMELINE_MAX rows: when there are more events, it keeps every event of the findings'
evidence, of the failed calls, of the calls a finding names and of the calls the Ladder draws, fills
up with the other calls' events and then the others in time order, and says how many were left out
(`logcorr events` writes them all). Its rows are chosen before any sheet is written, so that the
Findings and Ladder sheets can link to them.
"""
from __future__ import annotations

import pandas as pd

from ...calls.hosts import ip_of
from ...model import Call, Diagnosis
from .cells import BOLD, TOP, Sheet, plain_times

TIMELINE_MAX = 20_000
TITLE = "Timeline"
HEADER = ["#", "time (aligned, UTC)", "source", "host", "event", "from", "to", "call", "CONNECTION-ID",
          "summary", "file:pos", "file (full path)"]
WIDTHS = [6, 22, 10, 12, 26, 26, 26, 34, 13, 60, 30, 60]


class Timeline:
    """The chosen events, in aligned time, and the Timeline row of each (file, pos)."""

    def __init__(self, d: Diagnosis, limit: int | None = None, drawn: list[Call] = ()):
        limit = TIMELINE_MAX if limit is None else limit
        events = d.events
        self.cut = 0
        if len(events) > limit:
            chosen = _chosen(d, events, limit, drawn)
            events = events.loc[chosen]
            self.cut = len(d.events) - len(events)
        order = "ts_aligned" if "ts_aligned" in events else "ts"
        self.events = events.sort_values(order, kind="stable")
        self.time_column = order
        self.row_of = {key: i + 2 for i, key in enumerate(zip(self.events["file"], self.events["pos"]))}

    def link(self, file: str, pos) -> str | None:
        """The in-workbook address of the Timeline row of (file, pos), if it has one."""
        row = self.row_of.get((file, pos))
        return f"'{TITLE}'!A{row}" if row else None


def _chosen(d: Diagnosis, events: pd.DataFrame, limit: int, drawn: list[Call]) -> pd.Index:
    """The rows kept when there are more than `limit`: every event of the findings' evidence, of the
    failed calls, of the calls a finding names and of the calls `drawn` (the Ladder's); then the
    other calls' events, then the rest, each in time order, while there is room."""
    named = {f.call_id for f in d.findings if f.call_id}
    must = {(e.file, e.pos) for f in d.findings for e in f.evidence}
    rest: set = set()
    drawn_ids = {c.call_id for c in drawn}
    for c in d.calls:
        failed = c.verdict is not None and c.verdict.state == "failed"
        (must if failed or c.call_id in named or c.call_id in drawn_ids else rest).update(c.event_keys)
    keys = list(zip(events["file"], events["pos"]))
    rank = pd.Series([0 if k in must else 1 if k in rest else 2 for k in keys], index=events.index)
    chosen = events.index[rank == 0]
    for level in (1, 2):
        room = max(limit - len(chosen), 0)
        chosen = chosen.union(events.index[rank == level][:room])
    return chosen


def short_where(file: str, pos) -> str:
    """`syslog:184` for `bundle.zip!logbundle.tar.gz!syslog` line 184: the member's own name."""
    tail = str(file).rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    return f"{tail}:{pos}" if pos is not None and not pd.isna(pos) else tail


def hex_id(value) -> str:
    """A CONNECTION-ID as Wireshark shows it (`0x5688b600`); empty for none."""
    if value is None or pd.isna(value):
        return ""
    return f"0x{int(value):08x}"


def write(wb, d: Diagnosis, timeline: Timeline, case: str) -> None:
    s = Sheet(wb, TITLE, WIDTHS, case, freeze="C2")
    s.header(HEADER)
    ev = timeline.events
    cols = {c: ev[c].tolist() for c in ("source", "host", "event", "call_id", "connection_id", "summary", "file", "pos")}
    named: dict[str, str] = {}  # each address with its host's label, worked out once
    for a in set(ev["src"]).union(ev["dst"]):
        named[a] = _named(a, d.roles)
    times = plain_times(ev[timeline.time_column])
    for i, (src, dst) in enumerate(zip(ev["src"].tolist(), ev["dst"].tolist())):
        s.row([i + 1, times[i], cols["source"][i], cols["host"][i], cols["event"][i], named[src], named[dst],
               cols["call_id"][i], hex_id(cols["connection_id"][i]), s.cell(cols["summary"][i]),
               short_where(cols["file"][i], cols["pos"][i]), f"{cols['file'][i]}:{cols['pos'][i]}"], align=TOP)
    if timeline.cut:
        s.row([None, s.cell(f"{timeline.cut} more events left out of this sheet (it keeps every event of the "
                            "findings, of the failed calls, of the calls a finding names and of the calls in "
                            "the Ladder sheet, then the other calls' events and the rest in time order, up "
                            f"to {TIMELINE_MAX:,} rows): `logcorr events` writes "
                            "them all", font=BOLD)])
    s.autofilter()


def _named(address: str, labels: dict[str, str]) -> str:
    """`10.48.54.230:5061` with its host's label when the diagnosis knows it."""
    if not address:
        return ""
    label = labels.get(ip_of(address))
    return f"{address} ({label})" if label else address
