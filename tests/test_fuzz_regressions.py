"""Inputs found by fuzzing that once raised instead of being skipped, minimised; one test each."""
import io
import random
import tarfile
import zipfile

from logcorr.bundle import Bundle

LOG = b"Nov 24 14:53:41.295 user.info cms01 host:server:  INFO : call 1: ending\n"


def _zip(members: dict[str, bytes], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _read(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    with Bundle(path) as b:
        return [m.name for m in b.members], {s.name: s.reason for s in b.skipped}, b.members


# -- archives ------------------------------------------------------------------------------------
def test_zip_member_whose_local_name_is_not_utf8(tmp_path):
    data = bytearray(_zip({"bad.log": LOG, "good.log": LOG}))
    local = data.index(b"PK\x03\x04")  # first local header: set the UTF-8 flag, spoil the name
    data[local + 7] |= 0x08
    data[local + 30] = 0xFF
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "damaged member" in skipped["case.zip!bad.log"]


def test_zip_central_name_not_utf8_or_unknown_version(tmp_path):
    good = _zip({"a.log": LOG})
    central = good.index(b"PK\x01\x02")
    spoiled = bytearray(good)
    spoiled[central + 9] |= 0x08  # UTF-8 flag on a name that is not UTF-8
    spoiled[central + 46] = 0xFF
    _, skipped, _ = _read(tmp_path, "a.zip", bytes(spoiled))
    assert "damaged zip archive" in skipped["a.zip"]
    version = bytearray(good)
    version[central + 6] = 255  # "needs version 25.5 to extract"
    _, skipped, _ = _read(tmp_path, "b.zip", bytes(version))
    assert "damaged zip archive" in skipped["b.zip"]


def test_zip_member_without_a_name(tmp_path):
    data = bytearray(_zip({"good.log": LOG, "x": LOG}))
    local = data.index(b"PK\x03\x04", 1)  # the second member's local header: name "x" -> ""
    data[local + 26] = 0
    del data[local + 30]
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[central + 28] = 0
    del data[central + 46]
    end = data.index(b"PK\x05\x06")  # the central directory moved and shrank by one byte
    for at in (12, 16):
        value = int.from_bytes(data[end + at:end + at + 4], "little") - 1
        data[end + at:end + at + 4] = value.to_bytes(4, "little")
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "absolute path" in skipped["case.zip!"]


def test_zip_lzma_member_with_corrupt_data(tmp_path):
    data = bytearray(_zip({"bad.log": LOG * 20, "good.log": LOG}, zipfile.ZIP_LZMA))
    local = data.index(b"PK\x03\x04")
    start = local + 30 + len("bad.log") + 4  # past the name and the LZMA properties header
    data[start + 5:start + 25] = b"\xff" * 20
    members, skipped, _ = _read(tmp_path, "case.zip", bytes(data))
    assert members == ["case.zip!good.log"]
    assert "damaged member" in skipped["case.zip!bad.log"]


def test_corrupt_tar_xz_keeps_what_preceded_the_damage(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for name, data in (("first.log", LOG), ("noise.bin", random.Random(0).randbytes(20000)),
                           ("last.log", LOG)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    spoiled = bytearray(buf.getvalue())
    spoiled[10000:10004] = b"\xaa" * 4  # inside noise.bin's compressed bytes
    members, skipped, _ = _read(tmp_path, "case.tar.xz", bytes(spoiled))
    assert members == ["case.tar.xz!first.log"]
    assert skipped["case.tar.xz"].startswith("damaged tar archive")


def test_tar_member_time_out_of_range(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, mtime in (("far.log", 10**12), ("past.log", -10**10), ("now.log", 1795000000)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(LOG), mtime
            tf.addfile(info, io.BytesIO(LOG))
    _, _, members = _read(tmp_path, "case.tar", buf.getvalue())
    times = {m.name.rsplit("!", 1)[1]: m.mtime for m in members}
    assert times["far.log"] is None and times["past.log"] is None
    assert times["now.log"].year == 2026
