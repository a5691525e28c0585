"""The identifying values of one run, each with a stable pseudonym readable by its kind.

Values are learned first (see learn.py), pseudonyms given once everything is known (so no
pseudonym is itself one of the originals), then every occurrence of every value in any text is
replaced in one pass of one compiled pattern, longest value first.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# Kinds whose values are compared without regard to case (names, addresses); credentials are exact.
CASELESS = {"ip4", "ip6", "host", "fqdn", "domain", "user", "name", "space", "conference", "alias",
            "subject", "bundle", "number"}
# Words never taken for a customer's value: they are the protocol's and the report's own words.
KEEP_WORDS = {
    "turn", "stun", "sip", "sips", "tel", "tcp", "udp", "tls", "dtls", "ice", "sdp", "rtp", "srtp",
    "cms", "expressway", "expressway-e", "expressway-c", "sfb", "edge", "lync", "skype", "server",
    "client", "user", "users", "admin", "administrator", "guest", "anonymous", "unknown", "invalid",
    "localhost", "localdomain", "default", "none", "null", "true", "false", "test", "conference",
    "meeting", "space", "call", "host", "info", "debug", "warning", "error", "tandberg",
    "rtcmediarelay", "relay", "focus", "phone", "local", "remote", "proxy", "registrar", "gruu",
    "audio", "video", "applicationsharing", "application", "data", "cisco", "microsoft", "ok",
    "inbound", "outbound", "presenter", "attendee", "organizer", "sharer", "viewer", "unset",
    "meet", "www", "dialin", "lyncdiscover", "lyncdiscoverinternal", "lyncweb", "webconf", "access",
    "pool", "av", "_sip", "_sips", "_sipinternal", "_sipinternaltls", "_sipfederationtls", "_tcp",
    "_tls", "_udp", "_turn", "_turns", "_stun", "_stuns", "_collab-edge", "_cisco-uds", "_h323cs",
    "_h323ls", "sip communications service", "session",
}
WORD = r"A-Za-z0-9"


@dataclass
class Entry:
    value: str  # the original
    kind: str
    pseudonym: str = ""


class Vocabulary:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}  # original -> entry, in the order learned
        self.literals: dict[str, tuple[str, str, str]] = {}  # literal -> (prefix, value, suffix)
        self.roles: dict[str, str] = {}  # host name (lower case) -> role word (cms, expressway-e, ...)
        self.seen: set[str] = set()  # words the pattern pass has looked at
        self._pattern: re.Pattern | None = None
        self._lookup: dict[str, str] = {}

    # -- learning ---------------------------------------------------------------------------
    def add(self, value: str, kind: str, prefix: str = "", suffix: str = "", force: bool = False) -> bool:
        """Learn `value` of `kind`. `prefix`/`suffix` also bind it to the context it was seen in,
        which is the only place a value too short to stand alone is replaced (`1001@`, `(9999)`).
        False when the value is not one to hide."""
        value = value.strip()
        bound = bool(prefix or suffix)
        if value in self.literals and (not bound or prefix + value + suffix in self.literals):
            return True  # known already
        alone = bool(value) and not bound and force or _worth_hiding(value, kind, False)
        if not alone and not (bound and (force or _worth_hiding(value, kind, True))):
            return False
        self.entries.setdefault(value, Entry(value, kind))
        if alone:
            self._literal(value, "", value, "")
        if bound:
            self._literal(prefix + value + suffix, prefix, value, suffix)
        return True

    def _literal(self, literal: str, prefix: str, value: str, suffix: str) -> None:
        if literal not in self.literals:
            self.literals[literal] = (prefix, value, suffix)
            self._pattern = None

    def alias(self, literal: str, value: str, suffix: str = "") -> None:
        """`literal` (a path, say) is written as the pseudonym of `value` + `suffix`."""
        if value in self.entries:
            self._literal(literal, "", value, suffix)

    # -- pseudonyms -------------------------------------------------------------------------
    def assign(self) -> None:
        """Give every learned value its pseudonym (idempotent; new values get the next ones)."""
        taken = {e.pseudonym for e in self.entries.values() if e.pseudonym}
        originals = {k.lower() for k in self.entries}
        counters: dict[str, int] = {}
        for e in self.entries.values():
            if e.pseudonym:
                counters[_family(e, self.roles)] = counters.get(_family(e, self.roles), 0) + 1
        for e in list(self.entries.values()):
            if e.pseudonym:
                continue
            if e.kind == "fqdn":
                continue  # composed below from its host and domain
            family = _family(e, self.roles)
            while True:
                counters[family] = counters.get(family, 0) + 1
                candidate = _render(e, family, counters[family])
                if candidate.lower() not in originals and candidate not in taken:
                    break
            e.pseudonym = candidate
            taken.add(candidate)
        for e in self.entries.values():
            if e.kind == "fqdn" and not e.pseudonym:
                host, _, domain = e.value.partition(".")
                e.pseudonym = f"{self.pseudonym(host) or host}.{self.pseudonym(domain) or domain}"

    def pseudonym(self, value: str) -> str:
        e = self.entries.get(value) or self._caseless().get(value.lower())
        return e.pseudonym if e else ""

    def _caseless(self) -> dict[str, Entry]:
        return {k.lower(): e for k, e in reversed(self.entries.items()) if e.kind in CASELESS}

    def table(self) -> list[tuple[str, str, str]]:
        """(pseudonym, kind, original) of every value, in the order learned."""
        self.assign()
        return [(e.pseudonym, e.kind, e.value) for e in self.entries.values()]

    # -- replacing --------------------------------------------------------------------------
    def text(self, s: str) -> str:
        """`s` with every learned value replaced by its pseudonym."""
        if not s or not self.literals:
            return s
        pattern = self._compiled()
        return pattern.sub(self._replace, s)

    def _replace(self, m: re.Match) -> str:
        found = m.group(0)
        key = self._lookup.get(found) or self._lookup.get(found.lower())
        if key is None:
            return found
        prefix, value, suffix = self.literals[key]
        pseudo = self.entries[value].pseudonym
        return prefix + pseudo + suffix

    def _compiled(self) -> re.Pattern:
        """One pattern: a trie per (case rule, edges); a literal is bounded only where its edge is a
        letter or digit, so `10.0.0.1` never matches inside `110.0.0.12` but `1001@` matches."""
        if self._pattern is None:
            self.assign()
            groups: dict[tuple[bool, bool, bool], list[str]] = {}
            self._lookup = {}
            for literal, (_, value, _) in self.literals.items():
                caseless = self.entries[value].kind in CASELESS
                key = literal.lower() if caseless else literal
                self._lookup.setdefault(key, literal)
                self._lookup.setdefault(literal, literal)
                edges = (caseless, literal[0].isalnum(), literal[-1].isalnum())
                groups.setdefault(edges, []).append(key)
            bounded, free = [], []  # arms whose literals start with a letter or digit, the others
            firsts = {c for words in groups.values() for w in words for c in (w[0], w[0].upper())}
            for (caseless, start, end), words in sorted(groups.items(), reverse=True):
                body = trie(words)
                body = (f"(?i:{body})" if caseless else f"(?:{body})") + (f"(?![{WORD}])" if end else "")
                (bounded if start else free).append(body)
            arms = ([f"(?<![{WORD}])(?:{'|'.join(bounded)})"] if bounded else []) + free
            head = "".join(re.escape(c) for c in sorted(firsts))  # lets the engine skip ahead fast
            self._pattern = re.compile(f"(?=[{head}])(?:{'|'.join(arms)})")
        return self._pattern


def trie(words: list[str]) -> str:
    """One regular expression matching any of `words`, the longest first at each position."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branch(root)


def _branch(node: dict) -> str:
    arms = [re.escape(ch) + _branch(child) for ch, child in sorted(node.items(), key=lambda kv: kv[0]) if ch]
    if not arms:
        return ""
    body = arms[0] if len(arms) == 1 else "(?:" + "|".join(arms) + ")"
    if "" in node:  # a word ends here: the longer words are tried first, greedily
        return f"(?:{body})?"
    return body


def _worth_hiding(value: str, kind: str, bound: bool) -> bool:
    if len(value) < 3 or value.lower() in KEEP_WORDS or "\n" in value:
        return False
    if kind in ("ip4", "ip6"):
        return _identifying_address(value)
    digits = value.lstrip("+").replace("-", "").replace(".", "")
    if digits.isdigit() and len(digits) < 7 and not bound:
        return False  # a short number is hidden only where it was seen: `1001@`, `(9999)`
    return bool(re.search(f"[{WORD}]", value))


def _identifying_address(value: str) -> bool:
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast:
        return False
    return not (ip.version == 4 and (value.startswith("255.") or value.endswith(".255")))


def _family(e: Entry, roles: dict[str, str]) -> str:
    if e.kind == "ip4":
        return "ip4-private" if ipaddress.ip_address(e.value).is_private else "ip4-public"
    if e.kind == "host":  # cms-1, expressway-e-1, sfb-edge-1, host-1
        return roles.get(e.value.lower(), "host")
    return e.kind


def _render(e: Entry, family: str, n: int) -> str:
    if family == "ip4-private":  # 10.0.0.1, 10.0.0.2, ...: still reads as a private address
        return f"10.{(n - 1) // 254 >> 8 & 255}.{(n - 1) // 254 & 255}.{(n - 1) % 254 + 1}"
    if e.kind == "host":
        return f"{family}-{n}"
    if family == "ip4-public":  # documentation ranges (RFC 5737), then benchmarking (RFC 2544)
        blocks = ("203.0.113", "198.51.100", "192.0.2")
        if n <= 254 * len(blocks):
            return f"{blocks[(n - 1) // 254]}.{(n - 1) % 254 + 1}"
        n -= 254 * len(blocks)
        return f"198.{18 + (n >> 16 & 1)}.{n >> 8 & 255}.{n & 255}"
    if e.kind == "ip6":
        return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8::")) + n))
    return f"{e.kind}-{n}"
