"""Where identifying values are found: first where the grammar says what a value is (the event
table's address, host and STUN columns, SIP headers and URIs, SDP lines, CMS and Expressway log
fields, certificate subjects), then a careful pattern pass over any text (IPv4, IPv6, FQDNs,
`user@domain`, URIs, `+` phone numbers)."""
from __future__ import annotations

import ipaddress
import re

import numpy as np
import pandas as pd

from ...events import rawtext
from .vocabulary import Vocabulary

ADDRESS_COLUMNS = ("src", "dst", "mapped", "relayed", "peer")
DEFAULT_REALMS = {"tandberg", "sip communications service", "rtcmediarelay"}
GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
TOKEN = re.compile(r"^(?=.*[A-Fa-f\-])[0-9A-Fa-f\-]{16,}$")
NUMBER = re.compile(r"^\+?[\d().\- ]*\d[\d().\- ]*$")

IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                  r"(?!\w|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![\w:])")
URI = re.compile(r"\b(sips?|tel|im|pres):([^\s<>\"',]+)", re.I)
USER_AT = re.compile(r"(?<![\w.+\-:%])([A-Za-z0-9+][\w.+\-%]*)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][\w\-]*(?:\.[\w\-]+)*)")
FQDN = re.compile(r"(?<![\w.@\-+])((?:[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,62})\.)+[A-Za-z]{2,24})(?![\w\-]|\.[A-Za-z0-9])")
WORDS = re.compile(r"[^\s<>\"',()]*[.:@+][^\s<>\"',()]*")  # words that can hold an address
PHONE = re.compile(r"(?<![\w+])\+\d{7,15}(?!\w)")
NOT_TLD = {  # dotted words that are not host names: file names, log modules, syslog facilities
    "txt", "log", "logs", "pcap", "pcapng", "cap", "zip", "gz", "tgz", "tar", "xz", "bz2", "json",
    "jsonl", "csv", "xml", "html", "htm", "cfg", "conf", "ini", "yaml", "yml", "etl", "md", "py",
    "exe", "dll", "evtx", "xlsx", "docx", "pdf", "png", "jpg", "bin", "dat", "out", "trace", "old",
    "bak", "tmp", "sip", "tcp", "udp", "tls", "h323", "info", "notice", "debug", "err", "error",
    "warning", "warn", "crit", "alert", "emerg", "parquet", "instance",
}
SYSLOG_FACILITY = re.compile(r"^(?:user|local\d|kern|daemon|auth|authpriv|syslog|mail|cron|news|uucp|lpr|ftp|network|developer)\.", re.I)

# (pattern, kind): group 1 is the value; a `prefix`/`suffix` group binds a short value to its context
FIELDS = (  # (a word the text must hold, or words one of which, the pattern, the kind)
    ("participant", re.compile(r'participant "([^"\n]+)"'), "alias"),
    (('named "', 'conference "'), re.compile(r'(?:named|conference) "([^"\n]+)"'), "space"),
    ("name '", re.compile(r"name '([^'\n]+)'"), "name"),
    ("space", re.compile(r"space '([^'\n]+)'"), "space"),
    ("space", re.compile(rf"space {GUID} \(([^()\n]+)\)"), "space"),
    (("conference ", "space ", "Space GUID: ", "call "), re.compile(rf"(?:conference|space|Space GUID:|call)\s+({GUID})"), "conference"),
    (("Src-alias=", "Dst-alias="), re.compile(r'(?:Src|Dst)-alias="?([^"\s]+)'), "alias"),
    (('User="', 'URI="', 'Alias="'), re.compile(r'(?:User|Source-URI|Destination-URI|Alias)="([^"\n]+)"'), "alias"),
    (('Name="', 'name="'), re.compile(r'(?:Display-?[Nn]ame|Name)="([^"\n]+)"'), "name"),
    ("Host", re.compile(r'(?:Hostname|Host)="([\w.\-]+)"'), "host"),
    ("SystemUnit", re.compile(r"SystemUnit Name: ([\w.\-]+)"), "host"),
    ("epid", re.compile(r"epid[=:]([\w\-.]+)"), "epid"),
    (";gr=", re.compile(r";gr=([^;>\s\",]+)"), "gruu"),
    ("sip.instance", re.compile(r"sip\.instance=\"?<?urn:uuid:([0-9A-Fa-f\-]+)"), "gruu"),
    ("conf:", re.compile(r"conf:[\w\-]+:id:([\w\-]+)"), "conference"),
    ("CN=", re.compile(r"\b(?:CN|OU|O|L|ST|DC|emailAddress|GN|SN)=([^,/\"\n+;]+)"), "subject"),
    ("a=ice-ufrag:", re.compile(r"a=ice-ufrag:(\S+)"), "ufrag"),
    ("a=ice-pwd:", re.compile(r"a=ice-pwd:(\S+)"), "pwd"),
    ("inline:", re.compile(r"inline:([A-Za-z0-9+/=]+)"), "key"),
    ("o=", re.compile(r"(?m)^o=([^\s-]\S*) "), "user"),
    (('username="', 'targetname="'), re.compile(r"(?:username|targetname)=\"([^\"\n]+)\""), "turn-user"),
    ('realm="', re.compile(r"realm=\"([^\"\n]+)\""), "realm"),
)
LEGACY_CANDIDATE = re.compile(r"a=candidate:(\S+) \d+ (\S+) (?:UDP|TCP) \d\.\d")
DISPLAY_QUOTED = re.compile(r'"((?:[^"\\\n<>]|\\.){1,80})"\s*<(?:sips?|tel):', re.I)
HEADER = re.compile(r"(?im)(?:^|: )(From|To|Contact|P-Asserted-Identity|P-Preferred-Identity|Referred-By|"
                    r"Remote-Party-ID|Diversion|History-Info|Reply-To|Refer-To|Subject)[ \t]*:[ \t]*(.*)$|"
                    r"^(f|t|m)[ \t]*:[ \t]*(.*)$")
DISPLAY_BARE = re.compile(r"(?:^|,)\s*([^\",<>;]*[^\",<>;\s])\s*<")


def roles(v: Vocabulary, labels: dict[str, str]) -> None:
    """Host names from the roles (`cms01` -> `CMS cms01`), so their pseudonyms say the role."""
    for key, label in labels.items():
        if _ip(key) or not key:
            continue
        role = label[: -len(key)].strip() if label.endswith(key) else label
        word = re.sub(r"\s*\(.*\)", "", role).strip().lower().replace(" ", "-") or "host"
        v.roles.setdefault(key.lower(), "expressway-e" if word == "turn-server" else word)
        host(v, key)


def bundle(v: Vocabulary, label: str) -> None:
    """The path the bundle was read from names a customer or an engineer: the whole path reads
    `bundle-1.zip`, and its name inside member names likewise."""
    name = re.split(r"[\\/]", label.rstrip("/\\"))[-1]
    stem, dot, ext = name.partition(".")
    if not stem:
        return
    suffix = dot + ext
    v.add(stem, "bundle", force=True)
    v.add(stem, "bundle", suffix=suffix, force=True)
    if label != name:
        v.alias(label, stem, suffix)


def events(v: Vocabulary, table: pd.DataFrame) -> set[str]:
    """The event table's columns whose grammar is known; the Call-IDs, which keep their form."""
    for col in ADDRESS_COLUMNS:
        for value in _unique(table, col):
            if value:
                host(v, value)
    if "host" in table and "source" in table:
        for source, name in table[["source", "host"]].drop_duplicates().itertuples(index=False):
            if source != "pcap":  # a capture's "host" is its file name
                host(v, name)
    for name in _unique(table, "username"):
        stun_username(v, name)
    for realm in _unique(table, "realm"):
        if realm.lower() not in DEFAULT_REALMS:
            v.add(realm, "realm")
    if "proto" in table and ("raw" in table or rawtext.stored(table)):
        sip = np.flatnonzero(table["proto"].to_numpy(dtype=object) == "sip")
        for _, texts in rawtext.batches(table, sip):
            for raw in dict.fromkeys(texts):
                sip_message(v, raw)
    ids = set(_unique(table, "call_id"))
    return ids | {c.split("@", 1)[0] + "@" for c in ids if "@" in c}


def _unique(table: pd.DataFrame, col: str) -> list[str]:
    return [x for x in table[col].unique() if isinstance(x, str) and x] if col in table else []


def stun_username(v: Vocabulary, name: str) -> None:
    """ICE checks name `remote-ufrag:local-ufrag` (RFC 8445 7.2.2); TURN, a user of the server."""
    if ":" in name:
        for part in name.split(":"):
            v.add(part, "ufrag")
    else:
        v.add(name, "turn-user")


def sip_message(v: Vocabulary, raw: str) -> None:
    for line in re.finditer(r"(?im)^Via:\s*SIP/2\.0/\w+\s+(\[[^\]]+\]|[^\s;:]+)", raw):
        host(v, line.group(1))


def text(v: Vocabulary, s: str, call_ids: set[str] = frozenset()) -> None:
    """The pass over any text: known fields first, then the patterns."""
    if not s or not any(c in s for c in ".:@=\"'+("):
        return
    fields(v, s)
    addresses(v, s, call_ids)


def fields(v: Vocabulary, s: str) -> None:
    """Values named by what precedes them: display names, log fields, SDP lines, parameters."""
    for m in DISPLAY_QUOTED.finditer(s):
        v.add(m.group(1), "name")
    for m in HEADER.finditer(s) if ":" in s else ():
        name, value = (m.group(1) or m.group(3)).lower(), m.group(2) or m.group(4) or ""
        if name == "subject":
            v.add(value, "meeting")
            continue
        for d in DISPLAY_BARE.finditer(value):
            v.add(d.group(1).strip().strip('"'), "name")
    for needles, pattern, kind in FIELDS:
        if not any(n in s for n in ((needles,) if isinstance(needles, str) else needles)):
            continue
        for m in pattern.finditer(s):
            _field(v, kind, m.group(1), s[max(m.start(1) - 1, 0):m.start(1)], s[m.end(1):m.end(1) + 1])
    for m in LEGACY_CANDIDATE.finditer(s) if "a=candidate:" in s else ():
        v.add(m.group(1), "ufrag")
        v.add(m.group(2), "pwd")


def addresses(v: Vocabulary, s: str, call_ids: set[str]) -> None:
    """The patterns (URIs, `user@domain`, IPv4, IPv6, FQDNs, `+` phone numbers), run on each
    word of the text once per run: the same words come back in message after message."""
    for word in WORDS.findall(s):
        if word not in v.seen:
            v.seen.add(word)
            _word(v, word, call_ids)


def _word(v: Vocabulary, s: str, call_ids: set[str]) -> None:
    for m in URI.finditer(s):
        uri(v, m.group(1), m.group(2))
    for m in USER_AT.finditer(s) if "@" in s else ():
        if m.group(1) + "@" not in call_ids:
            user(v, m.group(1), "@")  # a Call-ID's left part is kept: only its host is hidden
        host(v, m.group(2), domain=m.group(0) not in call_ids)
    for m in IPV4.finditer(s):
        v.add(m.group(0), "ip4")
    for m in IPV6.finditer(s) if "::" in s or s.count(":") > 6 else ():
        if _ip(m.group(0)) == 6:
            v.add(m.group(0), "ip6")
    for m in FQDN.finditer(s):
        fqdn(v, m.group(1))
    for m in PHONE.finditer(s) if "+" in s else ():
        v.add(m.group(0), "number")


def fqdn(v: Vocabulary, name: str) -> None:
    while name.rsplit(".", 1)[-1].lower() in NOT_TLD and "." in name:
        name = name.rsplit(".", 1)[0]  # `cms01.corp.lab.log` names cms01.corp.lab
    if "." in name and not SYSLOG_FACILITY.match(name):
        host(v, name)


def _field(v: Vocabulary, kind: str, value: str, before: str, after: str) -> None:
    if kind == "alias":
        alias(v, value)
    elif kind == "host":
        host(v, value)
    elif kind == "realm" and value.lower() in DEFAULT_REALMS:
        return
    elif kind in ("space", "name") and before in "('\"" and after in ")'\"":
        v.add(value, kind, prefix=before, suffix=after)  # `(9999)`, `'9999'`: short names too
    else:
        v.add(value, kind)


def alias(v: Vocabulary, value: str) -> None:
    """An alias as a log names it: a URI, `user@domain`, a number, a name."""
    value = value.strip().strip("<>\"'")
    m = URI.match(value)
    if m:
        uri(v, m.group(1), m.group(2))
    elif "@" in value:
        name, _, where = value.rpartition("@")
        user(v, name, "@")
        host(v, where, domain=True)
    elif NUMBER.match(value):
        v.add(value, "number", prefix='"', suffix='"')
        v.add(value, "number", prefix="=")
    else:
        v.add(value, "name")


def uri(v: Vocabulary, scheme: str, rest: str) -> None:
    """A SIP/SIPS/tel URI in full: user, host (or domain), port kept."""
    rest = re.split(r"[;?>]", rest, maxsplit=1)[0]
    if scheme.lower() == "tel":
        v.add(rest, "number", prefix=scheme + ":")
        return
    if "@" in rest:
        name, _, where = rest.rpartition("@")
        user(v, name.split(":", 1)[0], "@")
        host(v, where, domain=True)
    else:
        host(v, rest)


def user(v: Vocabulary, name: str, suffix: str) -> None:
    if "=" in name or TOKEN.match(name):
        return  # a Content-ID's or Expressway's route token, not a person
    if NUMBER.match(name):
        v.add(name, "number", suffix=suffix)
    else:
        v.add(name, "user")


def address(v: Vocabulary, value: str) -> None:
    """`ip:port`, `[v6]:port`, `host:port` as the event table writes them."""
    if value:
        host(v, value)


def host(v: Vocabulary, name: str, domain: bool = False) -> None:
    """A host part: an address, a host name, an FQDN (host + domain), or a URI's domain."""
    name = _strip_port(name.strip().strip("<>\"'"))
    version = _ip(name)
    if version:
        v.add(name, f"ip{version}")
        return
    if not name or not re.match(r"^[\w\-]+(?:\.[\w\-]+)*$", name):
        return
    labels = name.split(".")
    if len(labels) == 1:
        v.add(name, "host")
    elif domain or len(labels) == 2:
        v.add(name, "domain")
    else:
        v.add(labels[0], "host")
        v.add(".".join(labels[1:]), "domain")
        v.add(name, "fqdn")


def _strip_port(name: str) -> str:
    if name.startswith("["):
        return name[1:].split("]", 1)[0]
    if name.count(":") == 1:
        return name.split(":", 1)[0]
    return name


def _ip(value: str) -> int:
    try:
        return ipaddress.ip_address(value.split("%", 1)[0]).version
    except ValueError:
        return 0
