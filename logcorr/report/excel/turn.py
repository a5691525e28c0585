"""The TURN sheet: allocations and permissions, RFC 6062 connections, ICE checks.

STUN messages are paired into transactions by their transaction id. Allocations, refreshes and
permissions give one row each with the relayed or peer address, the lifetime and the outcome; each
ConnectionAttempt gives its peer, its CONNECTION-ID (hex, as Wireshark shows it) and whether a
ConnectionBind took it and how that ended; ICE checks (Binding) are counted per direction.
"""
from __future__ import annotations

import pandas as pd

from ...model import Diagnosis
from .cells import BOLD, SEVERITY_FILL, STATE_FILL, Sheet, fill
from .timeline import Timeline, hex_id, short_where

TURN_MAX = 2_000
HEADER = ["what", "time (UTC)", "from", "to", "relayed / peer", "CONNECTION-ID", "lifetime", "outcome",
          "detail", "file:pos"]
WIDTHS = [20, 21, 21, 21, 21, 14, 9, 30, 30, 30]
SECTION_FILL = fill("D9E1F2")
ALLOCATION = ("Allocate", "Refresh", "CreatePermission", "ChannelBind")
STUN_COLUMNS = ("event", "txn_id", "file", "pos", "src", "dst", "relayed", "peer", "lifetime", "error_code", "reason",
                "username", "realm", "connection_id")  # what the sheet shows of a STUN event


def transactions(d: Diagnosis) -> list[dict]:
    """Each STUN transaction: its first request (or indication) and first response, in time order."""
    ev = d.events
    order = "ts_aligned" if "ts_aligned" in ev else "ts"
    stun = ev.loc[ev["proto"] == "stun", [order, *(c for c in STUN_COLUMNS if c != order)]]
    stun = stun.sort_values(order, kind="stable")
    out: dict[str, dict] = {}
    for r in stun.itertuples(index=False):
        method, _, kind = str(r.event).partition(" ")
        t = out.setdefault(r.txn_id or f"{r.file}:{r.pos}", {"method": method, "request": None, "response": None})
        if kind.endswith("Response"):
            t["response"] = t["response"] or r
        else:
            t["request"] = t["request"] or r
        t.setdefault("ts", getattr(r, order))
    return list(out.values())


def outcome(t: dict) -> str:
    resp = t["response"]
    if resp is None:
        return "no response" if t["request"] is not None and "Indication" not in t["request"].event else ""
    if "Error" in resp.event:
        code = "" if pd.isna(resp.error_code) else f"{int(resp.error_code)} "
        return f"error {code}{resp.reason}".strip()
    return "success"


def write(wb, d: Diagnosis, timeline: Timeline, case: str) -> None:
    s = Sheet(wb, "TURN", WIDTHS, case)
    s.header(HEADER)
    txns = transactions(d)
    rows = 0
    for title, part in (("Allocations and permissions", [t for t in txns if t["method"] in ALLOCATION]),
                        ("TCP connections (RFC 6062)", _connections(txns))):
        _section(s, title, len(part))
        for t in part[:TURN_MAX]:
            _transaction(s, t, timeline)
        rows += len(part)
        if len(part) > TURN_MAX:
            s.row([s.cell(f"{len(part) - TURN_MAX} more left out", font=BOLD)])
    checks = _checks(txns)
    _section(s, "ICE checks (Binding) per direction", len(checks))
    for (src, dst), c in list(checks.items())[:TURN_MAX]:
        answered = c["success"] + c["error"]
        tone = STATE_FILL["missing"] if c["requests"] and not c["success"] else None
        s.row(["Binding", c["ts"], src, dst, None, None, None,
               s.cell(f"{c['requests']} sent, {c['success']} answered ok, {c['error']} errors", fill_=tone),
               f"{answered} response(s)", None])
    if not txns:
        s.row(["no STUN or TURN message in the bundle's captures"])


def _section(s: Sheet, title: str, n: int) -> None:
    s.row([s.cell(f"{title}: {n}", font=BOLD, fill_=SECTION_FILL)] + [s.cell(None, fill_=SECTION_FILL)] * 9)


def _connections(txns: list[dict]) -> list[dict]:
    """ConnectionAttempts, each with the ConnectionBind that took its CONNECTION-ID, then the binds
    no attempt explains."""
    binds = [t for t in txns if t["method"] == "ConnectionBind"]
    by_cid = {}
    for t in binds:
        r = t["request"] or t["response"]
        if r is not None and not pd.isna(r.connection_id):
            by_cid.setdefault(int(r.connection_id), t)
    out, used = [], set()
    for t in txns:
        if t["method"] != "ConnectionAttempt":
            continue
        r = t["request"] or t["response"]
        cid = None if pd.isna(r.connection_id) else int(r.connection_id)
        bind = by_cid.get(cid)
        used.add(id(bind))
        out.append({**t, "bind": bind})
    out += [{**t, "bind": None} for t in binds if id(t) not in used]
    return out


def _transaction(s: Sheet, t: dict, timeline: Timeline) -> None:
    r = t["request"] or t["response"]
    resp = t["response"]
    address = (resp.relayed if resp is not None and resp.relayed else "") or r.relayed or r.peer
    lifetime = r.lifetime if resp is None or pd.isna(resp.lifetime) else resp.lifetime
    result = outcome(t)
    detail = " ".join(x for x in (r.username and f"user {r.username}", r.realm and f"realm {r.realm}") if x)
    if t["method"] == "ConnectionAttempt":
        bind = t.get("bind")
        result = "never bound (no ConnectionBind)" if bind is None else f"bound: ConnectionBind {outcome(bind) or 'sent'}"
    bad = result.startswith(("error", "never", "no response")) or "error" in result
    tone = SEVERITY_FILL["error"] if bad else STATE_FILL["seen"] if result else None
    s.row([t["method"], t["ts"], r.src, r.dst, address, hex_id(r.connection_id), lifetime,
           s.cell(result, fill_=tone), detail,
           s.cell(short_where(r.file, r.pos), link=timeline.link(r.file, r.pos))])


def _checks(txns: list[dict]) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for t in txns:
        if t["method"] != "Binding":
            continue
        r = t["request"] or t["response"]
        src, dst = (r.src, r.dst) if t["request"] is not None else (r.dst, r.src)
        c = out.setdefault((src, dst), {"ts": t["ts"], "requests": 0, "success": 0, "error": 0})
        c["requests"] += t["request"] is not None
        if t["response"] is not None:
            c["error" if "Error" in t["response"].event else "success"] += 1
    return out
