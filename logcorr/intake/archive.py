"""Bundle intake: walk a case bundle safely and hand out its files.

PATH may be a folder, one file, or a `.zip`, `.tar` (plain, gzip, bzip2 or xz compressed), `.gz`,
`.bz2` or `.xz`; archives inside archives are opened too, recognised by their first bytes, and
named `outer.zip!inner.tar.gz!log`.

Nothing in a bundle is trusted: member names are never used as paths (each extracted file gets a
numbered name inside a private temporary folder that :class:`Bundle` removes on exit) and are
shown with any odd byte escaped; absolute names, `..`, links and special files are refused; what
decompression produces, the number of entries, the nesting depth and the time taken are capped
(see :mod:`.budget`), and zip members that share their bytes are refused. Whatever is refused or
skipped is reported with its reason, and the rest is still read.
"""
from __future__ import annotations

import datetime as dt
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from . import zipread
from .budget import Budget, Limits, Refused, Spent
from .names import check_name, shown
from .streams import SUFFIX, Inflow, codec_of

__all__ = ["Bundle", "IntakeError", "Limits", "Member", "Refused", "Skipped", "archive_kind"]

CHUNK = 1024 * 1024

# What reading damaged bytes raises, beside the readers' own errors: the decompressors' errors
# (zlib.error, LZMAError; bzip2 raises OSError), truncation (EOFError), and tarfile's.
DAMAGE = (OSError, EOFError, zipread.ZipDamage, tarfile.TarError, zlib.error, lzma.LZMAError,
          UnicodeError, ValueError)
# A file time outside these years is damage, not a time (the event table ends in 2262).
PLAUSIBLE_YEARS = (1970, 2261)


@dataclass
class Member:
    """A readable file of the bundle."""

    name: str  # display path, `!` between archive levels, odd bytes escaped
    path: Path  # where its bytes are (the original file, or a file in the temporary folder)
    size: int
    mtime: dt.datetime | None = None


@dataclass
class Skipped:
    name: str
    reason: str


class IntakeError(Exception):
    """The bundle as a whole cannot be read (missing path, not readable)."""


@dataclass
class Bundle:
    """`with Bundle(path) as b:` gives `b.members` and `b.skipped`; the temp folder goes on exit."""

    path: Path
    limits: Limits = field(default_factory=Limits)
    members: list[Member] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    _tmp: Path | None = None
    _count: int = 0
    budget: Budget | None = None

    def __enter__(self) -> "Bundle":
        self.path = Path(self.path)
        if not self.path.exists():
            raise IntakeError(f"{shown(str(self.path))}: no such file or folder")
        self.budget = Budget(self.limits)
        self._tmp = Path(tempfile.mkdtemp(prefix="logcorr-"))
        try:
            self._walk_top()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _skip(self, name: str, reason: str) -> None:
        self.skipped.append(Skipped(name, reason))

    # -- walking ---------------------------------------------------------------------------
    def _walk_top(self) -> None:
        top = self.path
        if top.is_dir():
            for root, dirs, files in os.walk(top, followlinks=False):
                dirs.sort()
                for d in list(dirs):
                    if os.path.islink(os.path.join(root, d)):
                        self._skip(_rel(top, Path(root, d)), "link, not followed")
                        dirs.remove(d)
                for f in sorted(files):
                    self._take_given(_rel(top, Path(root, f)), Path(root, f))
        elif top.is_file():
            self._take_given(shown(top.name), top)
        else:
            raise IntakeError(f"{shown(str(top))}: not a file or folder")

    def _take_given(self, name: str, p: Path) -> None:
        """A file of the bundle as given: its size is what archives in it may expand from."""
        if p.is_symlink() and p != self.path:
            self._skip(name, "link, not followed")
        elif not p.is_file():
            self._skip(name, "not a regular file")
        else:
            try:
                self.budget.add_input(p.stat().st_size)
            except OSError:
                pass
            self._take(name, p, _file_mtime(p), depth=0)

    def _take(self, name: str, path: Path, mtime: dt.datetime | None, depth: int) -> None:
        """A file found at `name`: open it if it is an archive, else keep it as a member."""
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(512)
        except OSError as e:
            self._skip(name, f"cannot read: {e.strerror or e}")
            return
        if size == 0:
            self._skip(name, "empty file")
            return
        kind, codec = archive_kind(head, path, self.budget)
        if kind is None:
            self.members.append(Member(name, path, size, mtime))
            return
        if depth >= self.limits.max_depth:
            self._skip(name, f"archive nested deeper than {self.limits.max_depth} levels")
            return
        if self.budget.spent:
            self._skip(name, self.budget.spent)
            return
        try:
            if kind == "zip":
                self._open_zip(name, path, depth + 1)
            elif kind == "tar":
                self._open_tar(name, path, codec, depth + 1)
            else:
                self._open_stream(name, path, codec, mtime, depth + 1)
        except Refused as e:
            self._skip(name, str(e))
        except DAMAGE as e:
            what = f"{codec} file" if kind == "stream" else f"{kind} archive"
            self._skip(name, f"damaged {what}: {e}")

    def _open_zip(self, name: str, path: Path, depth: int) -> None:
        size = path.stat().st_size
        room = self.limits.max_members - self.budget.entries + 1
        with open(path, "rb") as fh:
            entries, more = zipread.read_directory(fh, size, max(room, 1))
            if any(e.raw_name == b"[Content_Types].xml" for e in entries):
                self._skip(name, "an Office document, not read")  # xlsx, docx: not logs
                return
            zipread.locate(fh, entries, size)
            for entry in entries:
                if not self._zip_member(name, fh, entry, depth):
                    return
        if more:
            self.budget.entry()  # past the cap: says so and stops

    def _zip_member(self, name: str, fh: IO[bytes], e: zipread.Entry, depth: int) -> bool:
        """Read one member; False once the bundle's allowance is spent."""
        inner = f"{name}!{shown(e.name)}"
        try:
            self.budget.entry()
            if e.is_dir:
                return True
            check_name(e.name)
            if e.problem:
                raise Refused(e.problem)
            if stat.S_ISLNK(e.mode):
                raise Refused("link inside the archive, refused")
            if e.flags & (zipread.FLAG_ENCRYPTED | zipread.FLAG_STRONG_ENCRYPTION):
                raise Refused("encrypted member, not read")
            if e.method not in zipread.METHODS:
                raise Refused(f"compression method {e.method} not supported, not read")
            fh.seek(e.start)
            out = self._extract(Inflow(fh, zipread.METHODS[e.method], self.budget, e.compressed),
                                expect=(e.size, e.crc))
        except Spent as err:
            self._skip(inner, str(err))
            return False
        except Refused as err:
            self._skip(inner, str(err))
            return True
        except DAMAGE as err:
            self._skip(inner, f"damaged member: {err}")
            return True
        self._take(inner, out, e.mtime, depth)
        return True

    def _open_tar(self, name: str, path: Path, codec: str | None, depth: int) -> None:
        with open(path, "rb") as raw:
            src = Inflow(raw, codec, self.budget) if codec else raw
            with tarfile.open(fileobj=src, mode="r|", encoding="utf-8", errors="surrogateescape") as tf:
                for info in tf:
                    if not self._tar_member(name, tf, info, depth):
                        return

    def _tar_member(self, name: str, tf: tarfile.TarFile, info: tarfile.TarInfo, depth: int) -> bool:
        """Read one member; False once the bundle's allowance is spent."""
        inner = f"{name}!{shown(info.name)}"
        try:
            self.budget.entry()
            if info.isdir():
                return True
            check_name(info.name)
            if info.issym() or info.islnk():
                raise Refused("link inside the archive, refused")
            if not info.isfile():
                raise Refused("special file inside the archive, refused")
            src = tf.extractfile(info)
            if src is None:
                raise Refused("unreadable member")
            with src:
                out = self._extract(src)
        except Spent as err:
            self._skip(inner, str(err))
            return False
        except Refused as err:
            self._skip(inner, str(err))
            if getattr(getattr(tf, "fileobj", None), "fileobj", None) is not None \
                    and getattr(tf.fileobj.fileobj, "refused", None) is not None:
                # the compressed stream itself: nothing after this member can be read
                raise Refused(f"not read past {shown(info.name)}: {err}") from None
            return True
        self._take(inner, out, _epoch_time(info.mtime) if info.mtime else None, depth)
        return True

    def _open_stream(self, name: str, path: Path, codec: str, mtime: dt.datetime | None, depth: int) -> None:
        inner_name = PurePosixPath(name.rsplit("!", 1)[-1]).name
        for suffix in SUFFIX[codec]:
            if inner_name.lower().endswith(suffix):
                inner_name = inner_name[: -len(suffix)] + (".tar" if suffix.startswith(".t") else "")
                break
        else:
            inner_name += ".out"
        with open(path, "rb") as raw:
            out = self._extract(Inflow(raw, codec, self.budget))
        self._take(f"{name}!{inner_name}", out, mtime, depth)

    def _extract(self, src: IO[bytes], expect: tuple[int, int] | None = None) -> Path:
        """Copy a member's bytes to a fresh numbered file; `expect` is the (size, CRC) a zip
        directory gives, checked as the bytes come (a member may not outgrow its stated size)."""
        assert self._tmp is not None
        self._count += 1
        out = self._tmp / f"m{self._count:06d}"
        written, crc = 0, 0
        try:
            with open(out, "wb") as dst:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if expect is not None:
                        if written > expect[0]:
                            raise zipread.ZipDamage("member larger than its directory entry says")
                        crc = zlib.crc32(chunk, crc)
                    self.budget.check()
                    dst.write(chunk)
            if expect is not None and (written, crc) != expect:
                raise zipread.ZipDamage("size or CRC differs from the directory's" if written == expect[0]
                                        else "member shorter than its directory entry says")
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        return out


def archive_kind(head: bytes, path: Path | None = None, budget: Budget | None = None) -> tuple[str | None, str | None]:
    """(`zip` | `tar` | `stream` | None, compression or None) from a file's first bytes."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip", None
    codec = codec_of(head)
    if codec is not None:
        return ("tar" if path is not None and _holds_tar(path, codec, budget) else "stream"), codec
    if _tar_header(head):
        return "tar", None
    return None, None


def _holds_tar(path: Path, codec: str, budget: Budget | None) -> bool:
    try:
        with open(path, "rb") as raw:
            src = Inflow(raw, codec, budget or Budget(Limits()))
            block = b""
            while len(block) < 512 and (piece := src.read(512 - len(block))):
                block += piece
    except (Refused, *DAMAGE):
        return False
    return _tar_header(block)


def _tar_header(block: bytes) -> bool:
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        tarfile.TarInfo.frombuf(block[:512], "utf-8", "surrogateescape")
    except (tarfile.TarError, ValueError, UnicodeError):
        return False
    return True


def _rel(top: Path, p: Path) -> str:
    return shown(f"{top.name}/{p.relative_to(top).as_posix()}")


def _file_mtime(p: Path) -> dt.datetime | None:
    try:
        return _epoch_time(p.stat().st_mtime)
    except OSError:
        return None


def _epoch_time(seconds: float) -> dt.datetime | None:
    """A file time given in seconds since 1970 (tar headers, the file system), or None when it
    is implausible: a tar header may say anything, up to years past 9999."""
    try:
        t = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return t if PLAUSIBLE_YEARS[0] <= t.year <= PLAUSIBLE_YEARS[1] else None
