"""The diagnosis as typed objects: what each stage hands to the next and every report reads.

bytes -> events (`ReadResult`, `SourceReport`) -> calls (`Clock`, `Host`, `Call` with its `Step`s)
-> findings (`Finding` with its `Evidence`) -> `Diagnosis`. Times are pandas Timestamps in UTC (or
None) throughout; only the reports turn them into text (`iso`).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from typing import TYPE_CHECKING, Literal, get_args

import pandas as pd

if TYPE_CHECKING:  # type names only: the model imports no stage
    from .intake.archive import Skipped
    from .rules.model import RuleSet


class Severity(StrEnum):
    """How bad a finding is; ordered info < warning < error, equal to its name as text."""

    info = "info"
    warning = "warning"
    error = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other):
        return self.rank < Severity(other).rank

    def __le__(self, other):
        return self.rank <= Severity(other).rank

    def __gt__(self, other):
        return self.rank > Severity(other).rank

    def __ge__(self, other):
        return self.rank >= Severity(other).rank


_RANK = {s: i for i, s in enumerate(Severity)}

# The presentation-sharing flow (CONTRACT.md): step names in order, with what shows each.
FLOW = (
    ("invite", "INVITE with m=applicationsharing reaches CMS"),
    ("allocate", "CMS sends a TCP Allocate Request to the TURN server"),
    ("allocate-challenge", "401 Allocate Error Response with NONCE and REALM"),
    ("allocate-auth", "Allocate Request with USERNAME, REALM, NONCE, MESSAGE-INTEGRITY"),
    ("allocate-success", "Allocate Success Response with XOR-RELAYED-ADDRESS"),
    ("refresh", "Refresh Request and its Success Response"),
    ("answer-relay", "CMS's 200 OK whose SDP holds the relayed address as a typ relay candidate"),
    ("ack", "the ACK of that 200 OK"),
    ("connection-attempt", "ConnectionAttempt Indication with XOR-PEER-ADDRESS and CONNECTION-ID"),
    ("connection-bind", "ConnectionBind Request with that CONNECTION-ID on a new TCP connection"),
    ("connection-bind-success", "ConnectionBind Success Response"),
    ("ice-checks", "Binding Request and Binding Success Response in each direction on the bound connection"),
    ("reinvite", "the re-INVITE that moves media to the chosen pair"),
)
FLOW_STEPS = tuple(name for name, _ in FLOW)

StepState = Literal["seen", "missing", "not observable"]
CallState = Literal["ok", "failed", "incomplete"]
FindingRole = Literal["cause", "consequence", "context"]
HostRole = Literal["CMS", "Expressway-E", "Expressway-C", "SfB Edge", "SfB Front End", "SfB client",
                   "CUCM", "unknown"]
HOST_ROLES: tuple[str, ...] = get_args(HostRole)


def iso(ts) -> str | None:
    """ISO 8601 UTC with milliseconds and a Z, as the contract shows; None for no time (a time
    without a zone is taken as UTC)."""
    if not isinstance(ts, pd.Timestamp):  # (NaT is not one)
        if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
            return None
        ts = pd.Timestamp(ts)
    seconds, ns = divmod(ts.value, 1_000_000_000)  # since the epoch, UTC (the wall time when naive)
    days, second = divmod(seconds, 86_400)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}.{ns // 1_000_000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH + dt.timedelta(days=days)).isoformat()


_EPOCH = dt.date(1970, 1, 1)


def tool_version() -> str:
    """The installed package's version (its metadata), else the source tree's."""
    try:
        return metadata.version("logcorr")
    except metadata.PackageNotFoundError:
        from . import __version__

        return __version__


# ------------------------------------------------------------------------------ events
@dataclass
class SourceReport:
    """What reading one file gave: its events, and what was skipped or odd in it."""

    file: str
    kind: str
    events: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)  # why records were skipped, counted
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0


@dataclass
class ReadResult:
    """The events stage's output: the event table and what each file gave."""

    input: str
    events: pd.DataFrame
    sources: list[SourceReport]
    skipped: list[Skipped]
    notes: list[str]


# ------------------------------------------------------------------------------- calls
DAY_S = 86400.0


@dataclass
class Clock:
    """One source's clock (per source and logging host) against the reference clock."""

    source: str
    host: str
    offset_s: float | None  # how far this clock runs ahead of the reference; None = unaligned
    pairs: int
    reference: str  # the reference clock's host
    basis: str  # how the offset was found: reference, sip, same host, none
    # unaligned: the other unaligned clocks it agrees with (messages seen by both, one archive)
    group: tuple[str, ...] = ()

    def summary(self) -> str:
        name = f"{self.source} clock ({self.host})" if self.host else f"{self.source} clock (no host named in its log)"
        if self.offset_s is None and self.group:
            return (f"{name}: unaligned, aligned with {', '.join(self.group)} but not with the reference "
                    f"({self.reference}): no message seen by them and a source on its clock")
        if self.offset_s is None:
            return f"{name}: unaligned, no message seen by it and another source"
        if self.basis == "reference":
            return f"{name}: the reference"
        if self.basis == "same host":
            return f"{name}: same clock as {self.reference} (captured by that host)"
        off = self.offset_s
        how = "ahead of" if off > 0 else "behind"
        text = f"{name} is {abs(off):.3f} s {how} {self.reference}, from {self.pairs} message(s) seen by both"
        if abs(off) > DAY_S:  # more than any zone and any drift: a date, not a clock, is wrong
            text += f" ({abs(off) / DAY_S:.1f} days: a wrong date on that box, or a wrong year for stamps without one)"
        return text


@dataclass
class Host:
    """A box the bundle shows, by its addresses (an Expressway with two LAN interfaces has two)."""

    address: str  # its primary address (the first LAN interface's, when its configuration says)
    role: HostRole = "unknown"
    name: str = ""  # the host name its own log gives, if any
    label: str = ""  # how the reports title it (`Expressway-E expe01`, `Expressway-E (TURN server)`)
    addresses: list[str] = field(default_factory=list)  # every address, the primary one first

    def __post_init__(self) -> None:
        self.addresses = [self.address] + [a for a in dict.fromkeys(self.addresses) if a != self.address]


def host_labels(hosts: list[Host]) -> dict[str, str]:
    """Every address of a host -> its label, and its host name -> the same label (traces name
    their peers by FQDN)."""
    labels: dict[str, str] = {}
    for h in hosts:
        for address in h.addresses:
            labels.setdefault(address, h.label or h.role)
    for h in hosts:
        if h.name:
            labels.setdefault(h.name, labels[h.address])
    return labels


@dataclass
class Evidence:
    """An event a step or a finding cites: where it is, and what it is."""

    file: str
    pos: int | None
    summary: str


@dataclass
class Step:
    """One step of the presentation-sharing flow, as seen in one call."""

    name: str
    state: StepState = "missing"
    ts: pd.Timestamp | None = None
    evidence: list[Evidence] = field(default_factory=list)
    note: str = ""


# Steps whose absence stops nothing once a later step was seen: the keep-alive Refresh is only due
# some time after the allocation, so a share that fails early has none yet.
GAP_STEPS = frozenset({"refresh"})


def stop_index(steps: list[Step]) -> int | None:
    """Where the flow stopped: its first missing step, unless that is a keep-alive (GAP_STEPS)
    with a seen step after it. Other steps keep their order even when later messages came anyway
    (CMS ACKs an answer that has no relay candidate: the failure is still the missing Allocate)."""
    for i, step in enumerate(steps):
        if step.state != "missing":
            continue
        if step.name in GAP_STEPS and any(later.state == "seen" for later in steps[i + 1:]):
            continue
        return i
    return None


@dataclass
class CallVerdict:
    """How one call went: ok, failed at `step` (because of rule `cause`), or incomplete."""

    state: CallState
    step: str = ""
    cause: str = ""  # the rule id of the finding that explains the failure
    summary: str = ""


@dataclass
class Call:
    """A SIP dialog (one Call-ID) seen by any source; a presentation call has the flow's steps."""

    call_id: str
    media: str = ""  # comma-joined media types of its INVITEs' SDP
    start: pd.Timestamp | None = None
    sources: list[str] = field(default_factory=list)
    conversation_id: str = ""
    stage: str = ""  # the last step seen before the flow stopped (stop_index)
    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    allocations: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # Call-IDs of the same conversation
    verdict: CallVerdict | None = None
    event_keys: set[tuple[str, int]] = field(default_factory=set, repr=False)  # (file, pos) of its events

    @property
    def presentation(self) -> bool:
        return "applicationsharing" in self.media.split(",")

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


# ---------------------------------------------------------------------------- findings
@dataclass
class Finding:
    """A rule that fired: what it means, how to fix it, and the events that show it."""

    rule: str
    severity: Severity
    title: str
    call_id: str
    ts: pd.Timestamp | None
    explanation: str
    fix: str
    evidence: list[Evidence]
    detail: str = ""
    role: FindingRole | None = None
    explained_by: str | None = None  # on a consequence: the rule id of its cause
    fact: str = ""  # the rule's `fact`: what was seen, shown instead of the explanation on a consequence


# ---------------------------------------------------------------------------- diagnosis
@dataclass
class Verdict:
    """The diagnosis in one line: the worst severity found and what it comes to."""

    severity: Severity | None
    summary: str

    @classmethod
    def of(cls, calls: list[Call], findings: list[Finding]) -> Verdict:
        """The worst finding's severity; the first presentation call that stopped, else the worst
        finding, else the furthest any presentation call got."""
        worst = max((f.severity for f in findings), default=None)
        stopped = next((c for c in calls if stop_index(c.steps) is not None), None)
        if stopped is not None:
            return cls(worst, f"call {stopped.call_id}: {stopped.summary}")
        top = next((f for f in findings if f.severity == worst), None)
        if top is not None:
            return cls(worst, f"{top.rule}: {top.title}")
        shared = next((c for c in calls if c.steps), None)
        if shared is not None:
            return cls(None, f"call {shared.call_id}: {shared.summary}")
        return cls(None, "no known failure found")


@dataclass
class Diagnosis:
    """Everything `diagnose` found; the reports render it."""

    read: ReadResult
    clocks: list[Clock]
    hosts: list[Host]
    calls: list[Call]
    findings: list[Finding]
    rules: RuleSet
    verdict: Verdict
    version: str = field(default_factory=tool_version)

    @property
    def events(self) -> pd.DataFrame:
        return self.read.events

    @property
    def roles(self) -> dict[str, str]:
        return host_labels(self.hosts)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)
