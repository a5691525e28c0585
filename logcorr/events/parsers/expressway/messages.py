"""The SIP message of a record: the SIPMSG block of a DEBUG record (with or without its `` |``
marks), or the fields of an INFO record's ``Detail`` summary."""
from __future__ import annotations

import re

from logcorr.events import sip

# Detail="Receive Request Method=INVITE, CSeq=100, Request-URI=..., Call-ID=..., ..."
DETAIL_FIELD = re.compile(r"(?:^|[,\s])\s*([A-Za-z][A-Za-z-]*)=([^,]*)")


def sipmsg_text(lines: list[str]) -> str | None:
    """The SIP message of a SIPMSG block: from the line after ` |`, one leading space removed from
    each line, the lone-space line as the blank line, up to the closing ` |`."""
    for i, line in enumerate(lines):
        if line.strip().startswith("SIPMSG:"):
            break
    else:
        return None
    rest = lines[i].strip()[len("SIPMSG:"):].strip()  # a web copy may join the start line on
    if rest.startswith("|"):
        first, body = rest[1:], lines[i + 1:]
    elif i + 1 < len(lines) and lines[i + 1].lstrip().startswith("|"):
        first, body = lines[i + 1].lstrip()[1:], lines[i + 2:]
    else:
        found = _unmarked_start(rest, lines[i + 1:])
        if found is None:
            return None
        first, body = found
    return _message(first, body)


def _message(first: str, body: list[str]) -> str:
    """`first` and the lines of `body` up to the closing `|`, one leading space removed from each,
    without the blank lines at the end; ends with a line end. The lines are joined once."""
    block = "\n".join(body)
    close = _closing(block)
    if close >= 0:
        kept = close > 0  # the closing line is not the first
        block = block[:close - 1]
    else:
        kept = bool(body)
    text = first
    if kept:
        text += "\n" + (block[1:] if block.startswith(" ") else block).replace("\n ", "\n")
    end = len(text.rstrip())
    if not end:
        return "\n"
    cut = text.find("\n", end)
    return (text if cut < 0 else text[:cut]) + "\n"


def _closing(block: str) -> int:
    """Where the first line of `block` that closes a SIPMSG block starts (`|` alone, white space
    around it), -1 when none does: only the lines holding a `|` are looked at."""
    at = block.find("|")
    while at >= 0:
        start = block.rfind("\n", 0, at) + 1
        end = block.find("\n", at)
        if end < 0:
            end = len(block)
        if block[start:end].strip() == "|":
            return start
        at = block.find("|", end)
    return -1


def _unmarked_start(rest: str, lines: list[str]) -> tuple[str, list[str]] | None:
    """(start line, lines after it) of a SIPMSG block copied without its ` |` marks: the start
    line is on the SIPMSG line itself or the first line that is not blank."""
    if rest:
        return (rest, lines) if sip.looks_like_sip(rest) else None
    for j, line in enumerate(lines):
        if line.strip():
            start = line.strip()
            return (start, lines[j + 1:]) if sip.looks_like_sip(start) else None
    return None


def detail_fields(detail: str) -> dict[str, str]:
    return {k: v.strip() for k, v in DETAIL_FIELD.findall(detail)}


def info_fields(detail: str, d: dict[str, str] | None = None) -> dict | None:
    """Event columns from the INFO summary: `Receive Request Method=INVITE, CSeq=100, ...` or
    `Sending Response Code=408, Method=SERVICE, CSeq=4616, ...` (`d`: its fields, when known)."""
    if d is None:
        d = detail_fields(detail)
    method = d.get("Method", "")  # a token, as sent
    if not method:
        return None
    code = d.get("Code", "")
    status = sip.decimal(code)
    event = f"{status} {method}" if status is not None else method
    target = d.get("Request-URI", "") or d.get("To", "")
    summary = f"{method} {target}" if status is None else f"{status} ({method})"
    return {"proto": "sip", "event": event, "call_id": d.get("Call-ID", ""),
            "cseq": d.get("CSeq", ""), "method": method, "status": status, "summary": summary,
            "raw": detail}

