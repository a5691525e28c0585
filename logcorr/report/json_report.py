"""`diagnose --json`: the Diagnosis as the contract's JSON document (docs/CONTRACT.md).

The only place that turns the model into JSON: times become ISO 8601 UTC text, severities their
names, and the fields only the stages need (a call's own events) are left out.
"""
from __future__ import annotations

import json

from ..model import (Call, CallVerdict, Clock, Diagnosis, Evidence, Finding, Host, SourceReport, Step,
                     Verdict, iso)


def render(d: Diagnosis) -> str:
    return json.dumps(document(d), indent=2, ensure_ascii=False)


def document(d: Diagnosis) -> dict:
    return {
        "version": d.version,
        "input": d.read.input,
        "verdict": verdict(d.verdict),
        "sources": [source(s) for s in d.read.sources],
        "clocks": [clock(c) for c in d.clocks],
        "hosts": [host(h) for h in d.hosts],
        "calls": [call(c) for c in d.calls],
        "findings": [finding(f) for f in d.findings],
    }


def verdict(v: Verdict) -> dict:
    return {"severity": _severity(v.severity), "summary": v.summary}


def source(s: SourceReport) -> dict:
    return {"file": s.file, "kind": s.kind, "events": s.events, "skipped": s.skipped,
            "skip_reasons": dict(s.skip_reasons), "warnings": list(s.warnings)}


def clock(c: Clock) -> dict:
    return {"source": c.source, "host": c.host,
            "offset_s": None if c.offset_s is None else round(c.offset_s, 3),
            "pairs": c.pairs, "reference": c.reference, "summary": c.summary()}


def host(h: Host) -> dict:
    return {"address": h.address, "role": h.role, "name": h.name, "addresses": list(h.addresses)}


def call(c: Call) -> dict:
    return {
        "call_id": c.call_id,
        "media": c.media,
        "start": iso(c.start),
        "sources": list(c.sources),
        "conversation_id": c.conversation_id,
        "stage": c.stage,
        "steps": [step(s) for s in c.steps],
        "summary": c.summary,
        "allocations": list(c.allocations),
        "related": list(c.related),
        "verdict": call_verdict(c.verdict) if c.verdict is not None else None,
    }


def call_verdict(v: CallVerdict) -> dict:
    return {"state": v.state, "step": v.step or None, "cause": v.cause or None, "summary": v.summary}


def step(s: Step) -> dict:
    out = {"step": s.name, "state": s.state, "ts": iso(s.ts), "evidence": [evidence(e) for e in s.evidence]}
    if s.note:
        out["note"] = s.note
    return out


def finding(f: Finding) -> dict:
    out = {
        "rule": f.rule,
        "severity": _severity(f.severity),
        "title": f.title,
        "call_id": f.call_id,
        "ts": iso(f.ts),
        "explanation": f.explanation,
        "fix": f.fix,
        "evidence": [evidence(e) for e in f.evidence],
    }
    if f.detail:
        out["detail"] = f.detail
    out["role"] = f.role
    out["explained_by"] = f.explained_by
    return out


def evidence(e: Evidence) -> dict:
    return {"file": e.file, "pos": e.pos, "summary": e.summary}


def _severity(s) -> str | None:
    return None if s is None else str(s)
