"""The hostile corpus: inputs a bundle or a rule file can hold, each with the outcome expected of
the command line. Every case is generated into a folder by its `build` (nothing large is kept in
the repository); `tests/test_bad_corpus.py` runs each one through `logcorr`'s entry point.

An outcome is the exit code, texts that must appear on stdout or stderr, and, for exit 2, a
one-line reason. No case may print a traceback.
"""
from __future__ import annotations

import io
import lzma
import random
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import bombs
from .bombs import LOG

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
CMS_LOG = DATA / "cms" / "shareok-cms01-syslog.log"
RULE = (HERE.parent.parent / "rules" / "cms-ice-failure.yaml")


@dataclass
class Case:
    name: str
    build: Callable[[Path], list[str]]  # writes the input under a folder; returns the arguments
    exit: int
    stdout: tuple[str, ...] = ()
    stderr: tuple[str, ...] = ()
    note: str = ""  # what the case is, and why that outcome
    check: Callable[[Path], None] | None = field(default=None, repr=False)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _xz_bomb() -> bytes:
    return lzma.compress(b"\0" * (1 << 20), preset=9) * 100  # 100 MiB of zeros in 20 KiB


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1795000000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _utf8_flag_on_latin1(d: Path) -> list[str]:
    data = bytearray(bombs.zip_of({"b.log": LOG, "c.log": LOG}, zipfile.ZIP_STORED))
    for sig, flag_at, name_at in ((b"PK\x03\x04", 7, 30), (b"PK\x01\x02", 9, 46)):
        at = data.index(sig)
        data[at + flag_at] |= 0x08
        data[at + name_at] = 0xE9  # "é" in Latin-1, not UTF-8
    return ["diagnose", _write(d / "latin1.zip", bytes(data)), "--no-xlsx"]


FORMULAS = {
    b"From: <sip:": b'From: "=HYPERLINK(""http://evil.example/c"",""call"")" <sip:',
    b"User-Agent: ": b"User-Agent: =cmd|' /C calc'!A0 ",
    b"Call-ID: ": b"Call-ID: +",
}


def _formula_log(d: Path) -> Path:
    text = CMS_LOG.read_bytes()
    for old, new in FORMULAS.items():
        text = text.replace(old, new)
    return Path(_write(d / "=1+1.log", text))


def _formula_csv(d: Path) -> list[str]:
    return ["events", str(_formula_log(d)), "--format", "csv", "-o", str(d / "events.csv")]


def _no_formula_cell(d: Path) -> None:
    import csv
    with open(d / "events.csv", newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not live, live[:5]
    guarded = [c for c in cells if c.startswith(("'=", "'+"))]
    assert any(c.startswith("'=1+1.log") for c in guarded)  # the file name itself
    assert any("HYPERLINK" in c for c in guarded) or any(c.startswith("'+") for c in guarded)


def _rules_dir(d: Path, name: str, text: str) -> Path:
    folder = d / "rules"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return folder


def _laughs(d: Path) -> list[str]:
    lines = ["id: laughs", "title: t", "severity: info", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for c in "bcdefghi":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    return ["rules", "check", str(_rules_dir(d, "laughs", "\n".join(lines) + "\n"))]


def _rule_with(d: Path, name: str, regex: str, long_line: bool = False) -> Path:
    text = RULE.read_text().replace("id: cms-ice-failure", f"id: {name}")
    text = text.replace("summary: {regex: 'ICE failure \\d+'}", f"summary: {{regex: '{regex}'}}")
    if long_line:  # one more negative example: a line made for catastrophic backtracking
        text = text.replace("examples:\n", "examples:\n  - name: long line\n    expect: 0\n    events:\n"
                            f"      - {{t: 0, source: cms, proto: log, event: ice-failure, summary: {'a' * 50000}b}}\n", 1)
    return _rules_dir(d, name, text)


CASES: list[Case] = [
    Case("xz-bomb-beside-logs", lambda d: ["diagnose", _write(d / "case.zip", bombs.with_member(
        {"first.log": LOG, "payload.log.xz": _xz_bomb(), "last.log": LOG})), "--no-xlsx"],
         0, stdout=("Read 2 file(s)",), stderr=("payload.log.xz: expands more than 1000 times",),
         note="the xz member is refused once it passes 64 MiB at more than 1000:1; both logs are read"),
    Case("xz-bomb-alone", lambda d: ["diagnose", _write(d / "bomb.xz", _xz_bomb()), "--no-xlsx"],
         2, stderr=("nothing readable", "decompression bomb"),
         note="nothing else to read: exit 2 with the reason on one line"),
    Case("xz-huge-dictionary", lambda d: ["diagnose", _write(d / "d.zip", bombs.with_member(
        {"a.xz": bombs.xz_claiming_huge_dictionary(), "b.log": LOG})), "--no-xlsx"],
         0, stdout=("MiB to decompress, refused",), note="an xz header may not make the decoder allocate 4 GiB"),
    Case("fan-out-42", lambda d: ["diagnose", _write(d / "42.zip", bombs.fan_out(6, 6, 1 << 20)), "--no-xlsx"],
         2, stderr=("nothing readable",),
         note="42.zip's shape (6 levels of 6): the depth cap leaves the leaves unopened, the entry cap bounds the rest"),
    Case("overlapping-zip", lambda d: ["diagnose", _write(d / "o.zip", bombs.overlapping_zip(
        200, 1 << 20, good=LOG)), "--no-xlsx"],
         0, stdout=("Read 1 file(s)",), stderr=("an overlapping zip bomb",),
         note="200 entries sharing one kernel are refused unread; the honest member is read"),
    Case("tar-names-undecodable", lambda d: ["diagnose", _write(d / "n.tar.gz", _tar(
        {"caf\udce9.log": CMS_LOG.read_bytes(), "esc\x1b[2J.log": LOG}, "w:gz")), "--xlsx", str(d / "r.xlsx")],
         0, stdout=("n.tar.gz!caf\\xe9.log", "n.tar.gz!esc\\x1b[2J.log"),
         note="odd bytes in names are shown escaped; the workbook is written",
         check=lambda d: _workbook_opens(d / "r.xlsx")),
    Case("zip-utf8-flag-on-latin1-name", _utf8_flag_on_latin1, 0, stdout=("latin1.zip!\\xe9.log", "latin1.zip!c.log"),
         note="a name flagged UTF-8 that is not costs nothing: it is read, shown escaped"),
    Case("csv-formulas", _formula_csv, 0, check=_no_formula_cell,
         note="display names, User-Agent, Call-IDs and a file name that begin with = + - @ are written as text"),
    Case("empty-zip", lambda d: ["diagnose", _write(d / "e.zip", bombs.zip_of({})), "--no-xlsx"],
         2, stderr=("nothing readable",)),
    Case("cut-zip", lambda d: ["diagnose", _write(d / "c.zip", bombs.zip_of({"a.log": LOG * 50})[:200]), "--no-xlsx"],
         2, stderr=("damaged zip archive",)),
    Case("noise", lambda d: ["diagnose", _write(d / "n.bin", random.Random(1).randbytes(50_000)), "--no-xlsx"],
         2, stderr=("not a log or capture",)),
    Case("yaml-alias-bomb", _laughs, 1, stderr=("laughs.yaml:9: YAML refused: its aliases expand",),
         note="a billion laughs in a rule file is reported at its line, not expanded"),
    Case("regex-lookahead", lambda d: ["rules", "check", str(_rule_with(d, "ahead", "(?=ICE)ICE failure"))],
         1, stderr=("ahead.yaml:25: bad regex '(?=ICE)ICE failure': lookahead is not supported",),
         note="constructs that need backtracking are refused with file:line"),
    Case("regex-backtracking-shape", lambda d: ["rules", "check", str(_rule_with(
        d, "nested", "ICE failure \\d+|(a+)+$", True))],
         0, stdout=("is valid and its examples pass",),
         note="(a+)+$ against 50,000 a's and a b takes Python's engine longer than the age of the universe; "
              "under RE2 it is a valid pattern and the example runs in linear time"),
    Case("diagnose-with-bad-rules", lambda d: ["diagnose", str(CMS_LOG), "--no-xlsx", "--rules",
                                               str(_rule_with(d, "behind", "(?<=x)y"))],
         2, stderr=("behind.yaml:25: bad regex", "lookbehind is not supported"),
         note="diagnose refuses a rule folder with a bad rule, naming file and line"),
]


def _workbook_opens(path: Path) -> None:
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    assert "Timeline" in wb.sheetnames
