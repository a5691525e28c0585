"""The HTML report: one self-contained file (inline CSS, JS and SVG; nothing from the network).

The verdict, then per call its steps and an SVG sequence diagram (presentation calls), the
findings (causes, then the consequences they explain) with explanation, fix and evidence. Every
piece of evidence and every arrow opens the full message beside it: the text `logcorr show` prints,
fetched once per record and embedded once. Written from Jinja2 templates with autoescaping, so
whatever the bundle holds (a display name `<script>`) stays text.

* :func:`render` - the page of a diagnosis and the full texts already fetched.
* :func:`write` - fetch the texts from the bundle, redact when asked, render, write;
  :func:`fetch`, :func:`redacted` and :func:`write_page` are its parts, for a caller that redacts
  the page with the redactor of its other outputs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..model import Call, Diagnosis, Finding, Severity, Verdict, iso
from . import html_ladder, show
from .ladder import STEP_TEXT, Ladder
from .redact import Redactor

MESSAGES_MAX = 3000  # records embedded, the findings' and steps' evidence first
MESSAGES_BYTES = 3_000_000  # and at most this much of their text

Position = tuple[str, int]

_env = Environment(loader=PackageLoader("logcorr.report", "templates"), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@dataclass
class Page:
    """The embedded texts by position, and the id each has in the page."""

    texts: dict[Position, str]
    left_out: int = 0

    def __post_init__(self) -> None:
        self.ids = {p: f"m{i}" for i, p in enumerate(self.texts, 1)}

    def id(self, file: str, pos: int | None) -> str | None:
        return self.ids.get((file, pos)) if pos is not None else None


def presentation_calls(d: Diagnosis) -> list[Call]:
    return [c for c in d.calls if c.presentation]


def positions(d: Diagnosis) -> list[Position]:
    """Every record the page can open, most wanted first: the findings' evidence, the steps',
    then the messages of the diagrams."""
    out: dict[Position, None] = {}
    for f in sorted(d.findings, key=lambda f: -f.severity.rank):
        out.update(((e.file, e.pos), None) for e in f.evidence if e.pos is not None)
    for c in d.calls:
        out.update(((e.file, e.pos), None) for s in c.steps for e in s.evidence if e.pos is not None)
    drawing = Ladder(d.events, d.roles, d.findings)
    for c in presentation_calls(d):
        out.update(((r["file"], r["pos"]), None) for r in drawing.rows(c)[: html_ladder.ROWS_MAX])
    return list(out)[:MESSAGES_MAX]


def _budget(texts: dict[Position, str]) -> tuple[dict[Position, str], int]:
    kept, size = {}, 0
    for p, t in texts.items():
        size += len(t)
        if size > MESSAGES_BYTES:
            break
        kept[p] = t
    return kept, len(texts) - len(kept)


def render(d: Diagnosis, texts: dict[Position, str], redacted: bool = False) -> str:
    """The page: `texts` are the full records by (file, pos), as the diagnosis names them."""
    kept, left_out = _budget(texts)
    page = Page(kept, left_out)
    verdict = d.verdict if isinstance(d.verdict, Verdict) else Verdict.of(d.calls, d.findings)
    drawing = Ladder(d.events, d.roles, d.findings)
    calls = [_call(c, drawing, page) for c in sorted(d.calls, key=lambda c: not c.presentation)]
    return _env.get_template("report.html.j2").render(
        title=f"logcorr: {Path(d.read.input).name}", input=d.read.input, version=d.version,
        verdict={"severity": str(verdict.severity or "none"), "summary": verdict.summary},
        hosts=d.hosts, clocks=[c.summary() for c in d.clocks], calls=calls,
        groups=_groups(d.findings, page), counts=_counts(d), redacted=redacted,
        messages=[{"id": page.ids[p], "where": f"{p[0]}:{p[1]}", "text": t} for p, t in kept.items()],
        left_out=left_out)


def fetch(d: Diagnosis, path: str | Path, tz: str | None = None) -> dict[Position, str]:
    """The full text of every record the page opens, from the bundle at `path` (the one `d` was read from)."""
    return show.texts(path, positions(d), tz=tz)


def redacted(texts: dict[Position, str], r: Redactor | None) -> dict[Position, str]:
    """The fetched texts as `r` rewrites them (file names included); as they are without `r`."""
    if r is None:
        return texts
    return {(r.text(f), p): r.text(t) for (f, p), t in texts.items()}


def write(d: Diagnosis, path: str | Path, out: str | Path, tz: str | None = None, redact: bool = False) -> Path:
    """Fetch the full text of every record the page opens, then write the page to `out`. With
    `redact` one redactor learns the diagnosis and those texts, then rewrites both, so a host has
    the same pseudonym everywhere."""
    texts = fetch(d, path, tz)
    r = None
    if redact:
        r = Redactor()
        r.learn(d)
        for text in texts.values():
            r.learn(text)
        d = r.copy(d)
    return write_page(d, redacted(texts, r), out, redacted=redact)


def write_page(d: Diagnosis, texts: dict[Position, str], out: str | Path, redacted: bool = False) -> Path:
    """Write the page of `d` (already redacted when `redacted`) and its fetched texts to `out`."""
    out = Path(out)
    out.write_text(render(d, texts, redacted=redacted), encoding="utf-8")
    return out


# -- the parts of the page --------------------------------------------------------------------
def _evidence(evidence, page: Page) -> list[dict]:
    """Each piece of evidence: where it is in full (a tooltip), its member's own name and position
    (what a reader scans), its summary, and the id of its embedded text."""
    out = []
    for e in evidence:
        where = f"{e.file}:{e.pos}" if e.pos is not None else e.file
        out.append({"where": where, "short": re.split(r"[!/]", where)[-1], "summary": e.summary,
                    "msg": page.id(e.file, e.pos)})
    return out


def _state(c: Call, failing: str) -> tuple[str, str]:
    if c.verdict is not None:
        return c.verdict.state, c.verdict.summary or c.summary
    if not c.steps:
        return "", c.summary
    return ("failed" if failing else "ok"), c.summary


def _call(c: Call, drawing: Ladder, page: Page) -> dict:
    diagram = drawing.diagram(c) if c.presentation else None
    failing = diagram.failing if diagram is not None else ""
    state, summary = _state(c, failing)
    steps = [{"number": i, "name": s.name, "text": STEP_TEXT.get(s.name, ""), "state": s.state,
              "time": iso(s.ts), "note": s.note, "failing": s.name == failing,
              "evidence": _evidence(s.evidence, page)} for i, s in enumerate(c.steps, 1)]
    return {"id": c.call_id, "media": c.media, "start": iso(c.start), "summary": summary, "state": state,
            "sources": c.sources, "steps": steps, "related": c.related,
            "ladder": html_ladder.layout(diagram, page.id) if diagram is not None and diagram.rows else None}


def _finding(f: Finding, page: Page) -> dict:
    return {"rule": f.rule, "severity": str(f.severity), "title": f.title, "call": f.call_id, "time": iso(f.ts),
            "detail": f.detail, "explanation": f.explanation, "fix": f.fix, "role": f.role or "",
            "explained_by": f.explained_by or "", "evidence": _evidence(f.evidence, page)}


def _groups(findings: list[Finding], page: Page) -> list[dict]:
    """Causes first, then consequences (each naming its cause), then the rest; worst first."""
    ordered = sorted(findings, key=lambda f: -f.severity.rank)
    heads = (("cause", "Causes"), ("consequence", "Consequences"), ("context", "Context"))
    groups = [{"title": title, "findings": [_finding(f, page) for f in ordered if f.role == role]}
              for role, title in heads]
    rest = [_finding(f, page) for f in ordered if f.role not in dict(heads)]
    groups.append({"title": "Findings" if len(rest) == len(findings) else "Other findings", "findings": rest})
    return [g for g in groups if g["findings"]]


def _counts(d: Diagnosis) -> dict:
    by = {str(s): sum(f.severity == s for f in d.findings) for s in Severity}
    return {"sources": len(d.read.sources), "events": len(d.events), "calls": len(d.calls),
            "presentation": len(presentation_calls(d)), "findings": by}
