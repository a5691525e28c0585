"""Benchmark: ~100 rules (the shipped catalogue, replicated with variations) over 1,000,000 events.

    python bench/bench_rules.py [--events 1000000] [--rules 100]

Events are synthetic presentation-sharing sessions (SIP from CMS, the TURN flow of the seed
capture, ICE checks on the bound connection, CMS log lines), with a few per cent broken in the ways
the catalogue knows (missing ConnectionBind, 401 to signed Allocates, 21002, one-way checks...).
Only `evaluate` is timed; building the events and loading the rules are reported apart.
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logcorr.events import schema  # noqa: E402
from logcorr.rules import default_rules_dir, evaluate, load_rules  # noqa: E402

T0 = pd.Timestamp("2024-03-01T08:00:00Z")
SIP_RAW = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.48.54.230:5061;branch=z9hG4bK{i}\r\n"
           "Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n"
           "v=0\r\nm=applicationsharing 50000 TCP/RTP/AVP 127\r\na=candidate:1 1 TCP-PASS 1 "
           "10.48.54.229 24000 typ relay raddr 10.48.54.230 rport 50001\r\n")


def _col(n, value):
    return np.full(n, value, dtype=object)


def make_events(n_events: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_session = 22
    n = n_events // per_session + 1
    i = np.arange(n)
    start = T0 + pd.to_timedelta(i * 0.05, unit="s")
    cid = pd.Series(i).map(lambda k: f"as-{k}@sfb.example").to_numpy(dtype=object)
    cms_port = (20000 + i % 40000).astype(str)
    cms = np.char.add("10.48.54.230:", cms_port).astype(object)
    cms2 = np.char.add("10.48.54.230:", (20001 + i % 40000).astype(str)).astype(object)
    exp = _col(n, "10.48.54.229:3478")
    relay = np.char.add("10.48.54.229:", (24000 + i % 6000).astype(str)).astype(object)
    txn = [pd.Series(i).map(lambda k, s=s: f"{s:02x}{k:022x}").to_numpy(dtype=object) for s in range(12)]
    conn = (i + 1000).astype(np.int64)
    u = rng.random(n)
    broken = {  # a few per cent of sessions fail in one known way
        "no_bind": u < 0.01, "auth": (u >= 0.01) & (u < 0.02), "asmcu": (u >= 0.02) & (u < 0.03),
        "oneway": (u >= 0.03) & (u < 0.04), "quota": (u >= 0.04) & (u < 0.045),
    }
    rows = []

    def add(offset, **cols):
        df = pd.DataFrame({"ts": start + pd.to_timedelta(offset, unit="s")})
        for k, v in cols.items():
            df[k] = v if isinstance(v, np.ndarray) else _col(n, v)
        rows.append(df)

    sip = dict(source="cms", proto="sip", transport="TLS", call_id=cid, file="cms/log")
    stun = dict(source="pcap", proto="stun", transport="TCP", file="cap.pcap")
    add(0.0, event="INVITE", method="INVITE", direction="in", sdp_media="applicationsharing", summary="INVITE", **sip)
    add(0.066, event="Allocate Request", src=cms, dst=exp, txn_id=txn[0], **stun)
    add(0.068, event="Allocate Error Response", error_code=401, realm="TANDBERG", src=exp, dst=cms, txn_id=txn[0], **stun)
    add(0.069, event="Allocate Request", username="turn", realm="TANDBERG", src=cms, dst=exp, txn_id=txn[1], **stun)
    auth_ev = np.where(broken["auth"], "Allocate Error Response",
                       np.where(broken["quota"], "Allocate Error Response", "Allocate Success Response")).astype(object)
    auth_code = np.where(broken["auth"], 401, np.where(broken["quota"], 486, np.nan))
    add(0.185, event=auth_ev, error_code=auth_code, relayed=relay, src=exp, dst=cms, txn_id=txn[1], lifetime=600, **stun)
    add(0.186, event="Refresh Request", username="turn", src=cms, dst=exp, txn_id=txn[2], **stun)
    add(0.273, event="Refresh Success Response", src=exp, dst=cms, txn_id=txn[2], lifetime=600, **stun)
    add(0.300, event="200 INVITE", method="INVITE", status=200, direction="out", sdp_media="applicationsharing",
        relay_candidates=np.char.add(relay.astype(str), "/TCP").astype(object),
        raw=pd.Series(i).map(lambda k: SIP_RAW.format(i=k, cid=f"as-{k}")).to_numpy(dtype=object), **sip)
    add(0.400, event="ACK", method="ACK", direction="in", **sip)
    add(0.668, event="ConnectionAttempt Indication", peer="192.168.1.252:53577", connection_id=conn,
        src=exp, dst=cms, txn_id=txn[3], **stun)
    bind_ev = np.where(broken["no_bind"], "Refresh Request", "ConnectionBind Request").astype(object)
    add(0.719, event=bind_ev, connection_id=conn, username="turn", src=cms2, dst=exp, txn_id=txn[4], **stun)
    add(0.773, event="ConnectionBind Success Response", src=exp, dst=cms2, txn_id=txn[4], **stun)
    add(1.000, event="Binding Request", username="cmsU:skyU", src=exp, dst=cms2, txn_id=txn[5], **stun)
    add(1.010, event="Binding Success Response", src=cms2, dst=exp, txn_id=txn[5], **stun)
    add(1.020, event="Binding Request", username="skyU:cmsU", src=cms2, dst=exp, txn_id=txn[6], **stun)
    back = np.where(broken["oneway"], "Binding Request", "Binding Success Response").astype(object)
    add(1.050, event=back, src=np.where(broken["oneway"], cms2, exp), dst=np.where(broken["oneway"], exp, cms2),
        txn_id=txn[6], **stun)
    add(1.5, source="cms", proto="log", event="call-info", file="cms/log",
        summary=pd.Series(i).map(lambda k: f"call {k}: new content stream").to_numpy(dtype=object))
    diag = np.where(broken["asmcu"], '21002;reason="Attendees cannot share in this conference";component="ASMCU"', "")
    add(2.0, event=np.where(broken["asmcu"], "403 INVITE", "INVITE").astype(object), method="INVITE",
        status=np.where(broken["asmcu"], 403, np.nan), direction="out", ms_diagnostics=diag.astype(object),
        sdp_media="applicationsharing", **sip)
    add(2.1, event="200 INVITE", method="INVITE", status=200, direction="in", **sip)
    add(2.2, event="ACK", method="ACK", direction="out", **sip)
    add(300.0, event="Refresh Request", username="turn", src=cms, dst=exp, txn_id=txn[7], **stun)
    add(300.1, event="Refresh Success Response", src=exp, dst=cms, txn_id=txn[7], **stun)
    df = pd.concat(rows, ignore_index=True).iloc[:n_events]
    df["pos"] = np.arange(1, len(df) + 1)
    df["host"] = np.where(df["source"] == "pcap", "cap.pcap", "cms01")
    return schema.coerce(df)


def _vary(rule: dict, k: int) -> dict:
    """A copy of a rule with its own id and an extra (never true) condition in its first predicate."""
    r = copy.deepcopy(rule)
    r["id"] = f"{r['id']}-v{k}"
    extra = {"not": {"host": f"bench-host-{k}"}}
    for kind in ("match", "count"):
        if kind in r:
            r[kind]["where"] = {"all": [r[kind]["where"], extra]}
    for kind in ("sequence", "absent"):
        if kind in r:
            step = r[kind]["steps"][0]
            step["where"] = {"all": [step["where"], extra]}
    return r


def make_rules(n_rules: int, tmp: Path) -> Path:
    shipped = sorted(default_rules_dir().glob("*.yaml"))
    docs = [yaml.safe_load(p.read_text()) for p in shipped]
    k = 0
    while k < n_rules:
        doc = _vary(docs[k % len(docs)], k)
        (tmp / f"{doc['id']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        k += 1
    return tmp


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--limit", type=float, default=10.0, help="seconds allowed for evaluate")
    args = ap.parse_args()
    t = time.perf_counter()
    events = make_events(args.events)
    t_events = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        ruleset = load_rules([make_rules(args.rules, Path(d))])
        t_load = time.perf_counter() - t
    t = time.perf_counter()
    findings = evaluate(ruleset, events)
    t_eval = time.perf_counter() - t
    by_rule = pd.Series([f.rule.rsplit("-v", 1)[0] for f in findings]).value_counts()
    print(f"events: {len(events):,} (built in {t_events:.1f} s)")
    print(f"rules: {len(ruleset.rules)} (loaded in {t_load:.2f} s)")
    print(f"findings: {len(findings):,}; per catalogue rule: {by_rule.to_dict()}")
    print(f"evaluate: {t_eval:.2f} s (limit {args.limit:.0f} s)")
    return 0 if t_eval < args.limit else 1


if __name__ == "__main__":
    raise SystemExit(main())
