"""Bundle intake: nested archives opened, hostile ones refused, nothing written outside the temp folder."""
import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from logcorr.intake.archive import Bundle, IntakeError, Limits

LOG = b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: ending\n"


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1795000000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def names(bundle):
    return sorted(m.name for m in bundle.members)


def test_nested_archives_are_opened_and_named(tmp_path):
    inner = tar_gz({"syslog": LOG, "sub/log": LOG})
    case = tmp_path / "case.zip"
    case.write_bytes(zip_bytes({"cms/logbundle.tar.gz": inner, "notes.txt.gz": gzip.compress(b"hello")}))
    with Bundle(case) as b:
        assert names(b) == ["case.zip!cms/logbundle.tar.gz!sub/log", "case.zip!cms/logbundle.tar.gz!syslog",
                            "case.zip!notes.txt.gz!notes.txt"]
        tmp = b._tmp
        member = next(m for m in b.members if m.name.endswith("!syslog"))
        assert member.path.read_bytes() == LOG and member.mtime.year == 2026
        assert tmp.exists() and str(member.path).startswith(str(tmp))
    assert not tmp.exists()


def test_folder_and_single_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "log").write_bytes(LOG)
    (tmp_path / "empty").write_bytes(b"")
    os.symlink("/etc/passwd", tmp_path / "a" / "link")
    with Bundle(tmp_path) as b:
        assert [m.name for m in b.members] == [f"{tmp_path.name}/a/log"]
        reasons = {s.name.split("/")[-1]: s.reason for s in b.skipped}
        assert reasons == {"link": "link, not followed", "empty": "empty file"}
    with Bundle(tmp_path / "a" / "log") as b:
        assert names(b) == ["log"]


def test_zip_slip_absolute_and_link_are_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil.txt", LOG)
        zf.writestr("/etc/evil", LOG)
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("ok/log", LOG)
    case = tmp_path / "hostile.zip"
    case.write_bytes(buf.getvalue())
    before = set(os.listdir(tmp_path.parent))
    with Bundle(case) as b:
        assert names(b) == ["hostile.zip!ok/log"]
        reasons = sorted(s.reason for s in b.skipped)
    assert any("leaves the archive" in r for r in reasons)
    assert any("absolute path" in r for r in reasons)
    assert any("link inside the archive" in r for r in reasons)
    assert set(os.listdir(tmp_path.parent)) == before
    assert not (tmp_path.parent.parent / "evil.txt").exists()


def test_tar_links_and_traversal_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        sym = tarfile.TarInfo("sym")
        sym.type = tarfile.SYMTYPE
        sym.linkname = "/etc/passwd"
        tf.addfile(sym)
        bad = tarfile.TarInfo("../up")
        bad.size = len(LOG)
        tf.addfile(bad, io.BytesIO(LOG))
    case = tmp_path / "t.tar"
    case.write_bytes(buf.getvalue())
    with Bundle(case) as b:
        assert b.members == []
        assert len(b.skipped) == 2


def test_decompression_bomb_refused(tmp_path):
    bomb = gzip.compress(b"\0" * (80 * 1024 * 1024))
    case = tmp_path / "bomb.zip"
    case.write_bytes(zip_bytes({"payload.gz": bomb, "log": LOG}))
    with Bundle(case) as b:
        assert names(b) == ["bomb.zip!log"]
        assert any("decompression bomb" in s.reason for s in b.skipped)


def test_total_cap_and_depth_cap(tmp_path):
    case = tmp_path / "big.zip"
    case.write_bytes(zip_bytes({"a": LOG * 100, "b": LOG * 100}))
    with Bundle(case, Limits(max_total_bytes=len(LOG) * 150)) as b:
        assert len(b.members) == 1
        assert any("decompression cap" in s.reason for s in b.skipped)
    nested = LOG
    for i in range(6):
        nested = zip_bytes({f"level{i}.zip" if i else "log": nested})
    deep = tmp_path / "deep.zip"
    deep.write_bytes(nested)
    with Bundle(deep) as b:
        assert b.members == []
        assert "nested deeper" in b.skipped[0].reason


def test_damaged_archive_is_reported(tmp_path):
    good = zip_bytes({"log": LOG * 50})
    case = tmp_path / "cut.zip"
    case.write_bytes(good[: len(good) // 2])
    with Bundle(case) as b:
        assert b.members == []
        assert "damaged" in b.skipped[0].reason


def test_missing_path():
    with pytest.raises(IntakeError, match="no such file"):
        with Bundle(Path("/nonexistent/case.zip")):
            pass


def test_office_documents_are_listed_not_opened(tmp_path):
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "notes.xlsx").write_bytes(zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}))
    (tmp_path / "case" / "log").write_bytes(LOG)
    with Bundle(tmp_path / "case") as b:
        assert names(b) == ["case/log"]
        assert [(s.name, s.reason) for s in b.skipped] == [("case/notes.xlsx", "an Office document, not read")]
