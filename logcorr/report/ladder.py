"""The ladder: a call as a sequence diagram, one column per host (by role), one row per message.

Rows come in aligned time. The same hop logged by two hosts is drawn once. Findings are marked on
the rows of their evidence. `Ladder.rows()` gives the data (the Excel report uses it); `render()`
draws it.
"""
from __future__ import annotations

import pandas as pd

from ..calls.hosts import ip_of
from ..model import Call

COL = 22  # characters per column


class Ladder:
    """The ladder rows of any call of one diagnosis; the table is indexed once, not per call."""

    def __init__(self, events: pd.DataFrame, labels: dict[str, str], findings=()):
        if "ts_aligned" not in events:
            events = events.assign(ts_aligned=events["ts"])
        self.events = events
        self.labels = labels
        self.cited: dict[tuple, list] = {}
        for f in findings:
            for e in f.evidence:
                marks = self.cited.setdefault((e.file, e.pos), [])
                if f not in marks:
                    marks.append(f)
        sip = events[(events["proto"] == "sip") & (events["call_id"] != "")]
        self.sip_rows = sip.groupby("call_id", sort=False).indices
        sip_index = sip.index
        self.sip_rows = {k: sip_index[v] for k, v in self.sip_rows.items()}
        wire = events[events["proto"].isin(("stun", "tcp"))]
        self.wire_rows = dict(zip(zip(wire["file"], wire["pos"]), wire.index))

    def rows(self, call: Call) -> list[dict]:
        """The messages of `call` as dicts: time, from, to, what, where (file:pos), mark."""
        picked = list(self.sip_rows.get(call.call_id, []))
        picked += [self.wire_rows[k] for k in call.event_keys if k in self.wire_rows]
        chosen = self.events.loc[sorted(set(picked))].sort_values("ts_aligned", kind="stable")
        out, drawn = [], set()
        for r in chosen.itertuples():
            src = _who(r.src, r.host, r.direction == "out", self.labels)
            dst = _who(r.dst, r.host, r.direction == "in", self.labels)
            key = (r.event, r.call_id, r.cseq, r.txn_id, src, dst)
            if key in drawn:
                continue
            drawn.add(key)
            marks = self.cited.get((r.file, r.pos), [])
            out.append({"ts": r.ts_aligned, "from": src, "to": dst, "what": r.event,
                        "detail": _detail(r), "where": f"{r.file}:{r.pos}",
                        "mark": ", ".join(f"{f.severity.upper()} {f.rule}" for f in marks)})
        return out


def _who(address: str, host: str, is_self: bool, labels: dict[str, str]) -> str:
    if address:
        ip = ip_of(address)
        return labels.get(ip) or labels.get(ip.split(".", 1)[0]) or ip
    if is_self or not address:
        for label in labels.values():
            if host and host in label:
                return label
        return host or "?"
    return "?"


def _detail(r) -> str:
    if r.proto == "sip":
        bits = [r.sdp_media and f"sdp {r.sdp_media}", r.relay_candidates and f"relay {r.relay_candidates}"]
        return " ".join(b for b in bits if b)
    bits = [r.relayed and f"relayed {r.relayed}", r.peer and f"peer {r.peer}",
            pd.notna(r.connection_id) and f"cid {r.connection_id:#x}", pd.notna(r.error_code) and f"error {r.error_code}",
            r.username and f"user {r.username}"]
    return " ".join(b for b in bits if b)


def render(rows_: list[dict], title: str = "") -> str:
    columns: list[str] = []
    for r in rows_:
        for who in (r["from"], r["to"]):
            if who not in columns:
                columns.append(who)
    head = " " * 13 + "".join(c[: COL - 2].center(COL) for c in columns)
    lines = [title, head, " " * 13 + "".join("|".center(COL) for _ in columns)] if title else [head]
    for r in rows_:
        a, b = columns.index(r["from"]), columns.index(r["to"])
        cells = ["|".center(COL) for _ in columns]
        line = list(" " * 13 + "".join(cells))
        lo, hi = sorted((a, b))
        start = 13 + lo * COL + COL // 2
        end = 13 + hi * COL + COL // 2
        if a == b:
            label = f"* {r['what']}"
            line[start + 1:start + 1 + len(label)] = label
        else:
            for i in range(start + 1, end):
                line[i] = "-"
            if b > a:
                line[end - 1] = ">"
            else:
                line[start + 1] = "<"
            label = r["what"][: max(end - start - 4, 4)]
            mid = start + 1 + max((end - start - len(label)) // 2, 1)
            line[mid:mid + len(label)] = label
        ts = pd.Timestamp(r["ts"]).strftime("%H:%M:%S.%f")[:-3] if pd.notna(r["ts"]) else "?"
        text = ts + "".join(line)[12:].rstrip()
        notes = " ".join(x for x in (r["detail"], r["mark"] and f"<== {r['mark']}") if x)
        lines.append(f"{text}   {notes}".rstrip())
    return "\n".join(lines)
