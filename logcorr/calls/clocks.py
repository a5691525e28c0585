"""Put every source on one clock.

Each source's clock (one per source and logging host) is compared with a reference through
messages seen by both: the same SIP message (Call-ID, CSeq number and method or status) logged by
two hosts, or the same STUN message (transaction id and type) in two captures. The offset is the median of the differences, so a few odd pairs do not move it; it is
reported with the number of pairs that support it. A capture found in the same diagnostic archive
as an Expressway log was taken by that Expressway, on its clock. A source with no pair and no such
tie stays unaligned, and the report says so.
"""
from __future__ import annotations

import pandas as pd

from ..events.parsers import CLOCK_ORDER
from ..model import Clock

# Which clock to prefer as the reference: the TURN server's own (its log and its capture); each
# parser's registry entry says its source's rank.
REFERENCE_ORDER = CLOCK_ORDER
MIN_PAIRS = 1


def clock_key(events: pd.DataFrame) -> pd.Series:
    return events["source"].astype(object) + "|" + events["host"].astype(object)


def _shared_keys(events: pd.DataFrame) -> pd.DataFrame:
    """A key per message that two sources can both have seen: a SIP message (Call-ID, CSeq,
    method or status) or a STUN message (transaction id and type, e.g. in two captures)."""
    sip = events[(events["proto"] == "sip") & (events["call_id"] != "") & events["ts"].notna()]
    stun = events[(events["proto"] == "stun") & (events["txn_id"] != "") & events["ts"].notna()]
    out = pd.DataFrame({
        "clock": pd.concat([clock_key(sip), clock_key(stun)]),
        "key": pd.concat([sip["call_id"] + "|" + sip["cseq"] + "|" + sip["event"].astype(object),
                          "stun|" + stun["txn_id"] + "|" + stun["event"].astype(object)]),
        "ts": pd.concat([sip["ts"], stun["ts"]]),
        "dir": pd.concat([sip["direction"], stun["direction"]]),
    })
    # a proxy logs a message twice (received, then sent on): every occurrence is kept
    return out.sort_values("ts", kind="stable")


def estimate(events: pd.DataFrame) -> list[Clock]:
    """One Clock per (source, host) of the table."""
    if events.empty:
        return []
    clocks = sorted(set(clock_key(events)))
    keys = _shared_keys(events)
    by_clock = {c: g.set_index("key")[["ts", "dir"]] for c, g in keys.groupby("clock")}
    first = {c: g[~g.index.duplicated()] for c, g in by_clock.items()}

    def pair_stats(a: str, b: str) -> tuple[float | None, int]:
        if a not in by_clock or b not in by_clock:
            return None, 0
        rough = _offset(pd.merge(first[a], first[b], left_index=True, right_index=True, suffixes=("_a", "_b")))
        if rough is None:
            return None, 0
        # Where a host logged the message twice (a proxy: in, then out), the occurrence nearest the
        # other host's is the hop between them: take, per message, the pair closest to the rough
        # offset, then estimate again.
        every = pd.merge(by_clock[a], by_clock[b], left_index=True, right_index=True, suffixes=("_a", "_b"))
        every["d"] = (every["ts_a"] - every["ts_b"]).dt.total_seconds()
        every["gap"] = (every["d"] - rough).abs()
        nearest = every.sort_values("gap", kind="stable")
        nearest = nearest[~nearest.index.duplicated()]
        return _offset(nearest), len(nearest)

    def rank(c: str) -> tuple:
        source = c.split("|", 1)[0]
        links = sum(pair_stats(c, o)[1] for o in clocks if o != c)
        order = REFERENCE_ORDER.index(source) if source in REFERENCE_ORDER else len(REFERENCE_ORDER)
        return (order, -links)

    reference = min(clocks, key=rank)
    ref_source, ref_host = reference.split("|", 1)
    offsets: dict[str, Clock] = {reference: Clock(ref_source, ref_host, 0.0, 0, ref_host, "reference")}
    _same_host_captures(events, offsets)
    # breadth-first: a clock tied to an aligned clock gets aligned through it
    changed = True
    while changed:
        changed = False
        for c in clocks:
            if c in offsets:
                continue
            best = None
            for known, clock in list(offsets.items()):
                if clock.offset_s is None or clock.basis == "same host":
                    continue
                off, n = pair_stats(c, known)
                if off is not None and (best is None or n > best[1]):
                    best = (off + clock.offset_s, n)
            if best is not None:
                source, host = c.split("|", 1)
                offsets[c] = Clock(source, host, best[0], best[1], ref_host, "sip")
                changed = True
    _same_host_captures(events, offsets)
    apart = [c for c in clocks if c not in offsets]
    ties = {(a, b) for a in apart for b in apart if a < b and pair_stats(a, b)[1]}
    ties |= {tuple(sorted(t)) for t in _archive_ties(events) if set(t) <= set(apart)}
    for c, group in _groups(apart, ties).items():
        source, host = c.split("|", 1)
        offsets[c] = Clock(source, host, None, 0, ref_host, "none", group=group)
    return [offsets[c] for c in clocks]


def _groups(apart: list[str], ties: set[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each unaligned clock and the others tied to it (messages seen by both, or a capture in a
    log's archive), directly or through one another: a group that agrees within itself while
    nothing ties it to the reference."""
    out: dict[str, tuple[str, ...]] = {}
    for c in apart:
        seen, todo = {c}, [c]
        while todo:
            a = todo.pop()
            for b in apart:
                if b not in seen and tuple(sorted((a, b))) in ties:
                    seen.add(b)
                    todo.append(b)
        out[c] = tuple(_display(o) for o in apart if o in seen and o != c)
    return out


def _display(key: str) -> str:
    source, host = key.split("|", 1)
    return f"{source} clock ({host})"


def _offset(joined: pd.DataFrame) -> float | None:
    """The offset of clock a from pairs (ts_a, ts_b, dir_a). Messages a received arrive late by the
    transit time, messages it sent leave early by it: the mean of the two medians cancels the
    transit (as NTP does); with one direction only, the median."""
    if len(joined) < MIN_PAIRS:
        return None
    diffs = (joined["ts_a"] - joined["ts_b"]).dt.total_seconds()
    received, sent = diffs[joined["dir_a"] == "in"], diffs[joined["dir_a"] == "out"]
    if len(received) and len(sent):
        return float((received.median() + sent.median()) / 2)
    return float(diffs.median())


def _archive_ties(events) -> list[tuple[str, str]]:
    """(capture clock, Expressway log clock) of each capture found in an Expressway's diagnostic
    archive."""
    files = events.drop_duplicates(["source", "host", "file"])[["source", "host", "file"]]
    folder = lambda f: f.rsplit("/", 1)[0] if "/" in f else f.rsplit("!", 1)[0]
    logs = {folder(r.file): f"expressway|{r.host}" for r in files.itertuples() if r.source == "expressway"}
    return [(f"pcap|{r.host}", logs[folder(r.file)]) for r in files.itertuples()
            if r.source == "pcap" and folder(r.file) in logs]


def _same_host_captures(events, offsets) -> None:
    """A capture inside an Expressway diagnostic archive runs on that Expressway's clock."""
    for key, owner in _archive_ties(events):
        if key in offsets:
            continue
        if owner in offsets and offsets[owner].offset_s is not None:
            host = owner.split("|", 1)[1]
            offsets[key] = Clock("pcap", key.split("|", 1)[1], offsets[owner].offset_s, 0, host, "same host")


def aligned(events: pd.DataFrame) -> tuple[list[Clock], pd.DataFrame]:
    """Each source's clock, and the table with `ts_aligned` (its time on the reference clock),
    ordered by it."""
    clocks = estimate(events)
    table = events.assign(ts_aligned=align(events, clocks))
    return clocks, table.sort_values("ts_aligned", kind="stable").reset_index(drop=True)


def align(events: pd.DataFrame, clocks: list[Clock]) -> pd.Series:
    """`ts_aligned`: each event's time on the reference clock (unaligned clocks are left as is)."""
    offset = {f"{c.source}|{c.host}": (c.offset_s or 0.0) for c in clocks}
    shift = clock_key(events).map(offset).fillna(0.0)
    return events["ts"] - pd.to_timedelta(shift, unit="s")
