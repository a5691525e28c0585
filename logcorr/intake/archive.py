"""Bundle intake: walk a case bundle safely and hand out its files.

PATH may be a folder, one file, or a `.zip`, `.tar`, `.tar.gz`/`.tgz` or `.gz`; archives inside
archives are opened too, recognised by their first bytes, and named `outer.zip!inner.tar.gz!log`.

Nothing in a bundle is trusted: member names are never used as paths (each extracted file gets a
numbered name inside a private temporary folder that :class:`Bundle` removes on exit); absolute
names, `..`, links and special files are refused; the total size written, the nesting depth and
the expansion ratio of every member are capped. Whatever is refused or skipped is reported with
its reason.
"""
from __future__ import annotations

import datetime as dt
import gzip
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

CHUNK = 1024 * 1024

# What the standard library's archive readers raise on damaged bytes. Beside their own errors,
# zipfile decodes member names it is told are UTF-8 (UnicodeDecodeError), refuses unknown format
# versions and methods (NotImplementedError), and LZMA members or .tar.xz streams fail with
# LZMAError, which is none of the others.
DAMAGE = (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error,
          lzma.LZMAError, NotImplementedError, UnicodeDecodeError)
# A file time outside these years is damage, not a time (the event table ends in 2262).
PLAUSIBLE_YEARS = (1970, 2261)


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 32 * 1024**3  # everything extracted from archives, added up
    max_depth: int = 4  # archives inside archives
    max_ratio: int = 1000  # uncompressed / compressed size above which a member is a bomb
    ratio_floor: int = 64 * 1024**2  # ... once it has grown past this size
    max_members: int = 100_000


@dataclass
class Member:
    """A readable file of the bundle."""

    name: str  # display path, `!` between archive levels
    path: Path  # where its bytes are (the original file, or a file in the temporary folder)
    size: int
    mtime: dt.datetime | None = None


@dataclass
class Skipped:
    name: str
    reason: str


class IntakeError(Exception):
    """The bundle as a whole cannot be read (missing path, not readable)."""


class Refused(Exception):
    """One member is refused; the message says why."""


@dataclass
class Bundle:
    """`with Bundle(path) as b:` gives `b.members` and `b.skipped`; the temp folder goes on exit."""

    path: Path
    limits: Limits = field(default_factory=Limits)
    members: list[Member] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    _tmp: Path | None = None
    _written: int = 0
    _count: int = 0

    def __enter__(self) -> "Bundle":
        self.path = Path(self.path)
        if not self.path.exists():
            raise IntakeError(f"{self.path}: no such file or folder")
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

    # -- walking ---------------------------------------------------------------------------
    def _walk_top(self) -> None:
        top = self.path
        if top.is_dir():
            for root, dirs, files in os.walk(top, followlinks=False):
                dirs.sort()
                for d in list(dirs):
                    if os.path.islink(os.path.join(root, d)):
                        self.skipped.append(Skipped(_rel(top, Path(root, d)), "link, not followed"))
                        dirs.remove(d)
                for f in sorted(files):
                    p = Path(root, f)
                    name = _rel(top, p)
                    if p.is_symlink():
                        self.skipped.append(Skipped(name, "link, not followed"))
                    elif not p.is_file():
                        self.skipped.append(Skipped(name, "not a regular file"))
                    else:
                        self._take(name, p, _file_mtime(p), depth=0)
        elif top.is_file():
            self._take(top.name, top, _file_mtime(top), depth=0)
        else:
            raise IntakeError(f"{top}: not a file or folder")

    def _take(self, name: str, path: Path, mtime: dt.datetime | None, depth: int) -> None:
        """A file found at `name`: open it if it is an archive, else keep it as a member."""
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(512)
        except OSError as e:
            self.skipped.append(Skipped(name, f"cannot read: {e.strerror or e}"))
            return
        if size == 0:
            self.skipped.append(Skipped(name, "empty file"))
            return
        kind = archive_kind(head, path)
        if kind is None:
            self.members.append(Member(name, path, size, mtime))
            return
        if depth >= self.limits.max_depth:
            self.skipped.append(Skipped(name, f"archive nested deeper than {self.limits.max_depth} levels"))
            return
        try:
            if kind == "zip":
                self._open_zip(name, path, depth + 1)
            elif kind == "tar":
                self._open_tar(name, path, depth + 1)
            else:
                self._open_gzip(name, path, mtime, depth + 1)
        except Refused as e:
            self.skipped.append(Skipped(name, str(e)))
        except DAMAGE as e:
            self.skipped.append(Skipped(name, f"damaged {kind} archive: {e}"))

    def _open_zip(self, name: str, path: Path, depth: int) -> None:
        with zipfile.ZipFile(path) as zf:
            if "[Content_Types].xml" in zf.namelist():  # xlsx, docx, pptx: a document, not logs
                self.skipped.append(Skipped(name, "an Office document, not read"))
                return
            for info in zf.infolist():
                if info.filename.endswith("/"):  # a folder (an empty name is refused below)
                    continue
                inner = f"{name}!{info.filename}"
                try:
                    _check_name(info.filename)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        raise Refused("link inside the archive, refused")
                    if info.flag_bits & 0x1:
                        raise Refused("encrypted member, not read")
                    mtime = _zip_time(info.date_time)
                    with zf.open(info) as src:
                        out = self._extract(src, info.compress_size)
                except Refused as e:
                    self.skipped.append(Skipped(inner, str(e)))
                    continue
                except DAMAGE as e:
                    self.skipped.append(Skipped(inner, f"damaged member: {e}"))
                    continue
                self._take(inner, out, mtime, depth)

    def _open_tar(self, name: str, path: Path, depth: int) -> None:
        with tarfile.open(path, mode="r:*") as tf:
            compressed = path.stat().st_size
            for info in tf:
                if info.isdir():
                    continue
                inner = f"{name}!{info.name}"
                try:
                    _check_name(info.name)
                    if info.issym() or info.islnk():
                        raise Refused("link inside the archive, refused")
                    if not info.isfile():
                        raise Refused("special file inside the archive, refused")
                    src = tf.extractfile(info)
                    if src is None:
                        raise Refused("unreadable member")
                    with src:
                        out = self._extract(src, compressed)
                except Refused as e:
                    self.skipped.append(Skipped(inner, str(e)))
                    continue
                self._take(inner, out, _epoch_time(info.mtime) if info.mtime else None, depth)

    def _open_gzip(self, name: str, path: Path, mtime: dt.datetime | None, depth: int) -> None:
        inner_name = name.rsplit("!", 1)[-1]
        inner_name = PurePosixPath(inner_name).name
        inner_name = inner_name[:-3] if inner_name.lower().endswith(".gz") else inner_name + ".out"
        with gzip.open(path, "rb") as src:
            out = self._extract(src, path.stat().st_size)
        self._take(f"{name}!{inner_name}", out, mtime, depth)

    def _extract(self, src: IO[bytes], compressed_size: int) -> Path:
        """Copy a member's bytes to a fresh numbered file, enforcing the caps while copying."""
        assert self._tmp is not None
        self._count += 1
        if self._count > self.limits.max_members:
            raise Refused(f"more than {self.limits.max_members} files in the bundle")
        out = self._tmp / f"m{self._count:06d}"
        written = 0
        budget = self.limits.max_total_bytes - self._written
        ratio_cap = max(self.limits.ratio_floor, self.limits.max_ratio * max(compressed_size, 1))
        try:
            with open(out, "wb") as dst:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > budget:
                        raise Refused("bundle larger than the decompression cap, refused")
                    if written > ratio_cap:
                        raise Refused("expands more than 1000 times: a decompression bomb, refused")
                    dst.write(chunk)
        except Refused:
            out.unlink(missing_ok=True)
            raise
        self._written += written
        return out


def archive_kind(head: bytes, path: Path | None = None) -> str | None:
    """`zip`, `tar`, `gzip` or None, from the first bytes."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        if path is not None and _gzip_holds_tar(path):
            return "tar"
        return "gzip"
    if head.startswith(b"BZh") or head.startswith(b"\xfd7zXZ\x00"):
        return "tar" if path is not None and _is_tarfile(path) else None
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def _gzip_holds_tar(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as fh:
            block = fh.read(512)
    except (OSError, EOFError, zlib.error):
        return False
    return len(block) >= 262 and block[257:262] == b"ustar"


def _is_tarfile(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except DAMAGE:
        return False


def _check_name(name: str) -> None:
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise Refused(f"absolute path {name!r} inside the archive, refused")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        raise Refused(f"path {name!r} leaves the archive, refused")


def _rel(top: Path, p: Path) -> str:
    return f"{top.name}/{p.relative_to(top).as_posix()}"


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


def _zip_time(t: tuple) -> dt.datetime | None:
    try:
        return dt.datetime(*t, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
