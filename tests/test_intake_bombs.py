"""Decompression bombs, fan-out, overlapping zip entries, many members, odd names: each is
bounded by what decompression really produced, the bomb member is skipped with its reason, and
everything else in the bundle is still read."""
import io
import struct
import tarfile
import time
import zipfile

import pytest

from bad import bombs
from bad.bombs import LOG
from logcorr.intake import budget as budget_module
from logcorr.intake.archive import Bundle, Limits

# Small caps so that each shape shows itself within a few MiB.
SMALL = Limits(ratio_floor=1 << 20, total_floor=16 << 20, max_members=500)


def read(tmp_path, name: str, data: bytes, limits: Limits = SMALL):
    path = tmp_path / name
    path.write_bytes(data)
    started = time.monotonic()
    with Bundle(path, limits) as b:
        took = time.monotonic() - started
        contents = {m.name: m.path.read_bytes() for m in b.members}
        return contents, {s.name: s.reason for s in b.skipped}, b.budget, took


@pytest.mark.parametrize("codec", ["xz", "gzip", "bzip2"])
def test_stream_bomb_is_refused_after_the_floor(tmp_path, codec):
    bomb = bombs.zeros_stream(codec, 4 << 20, copies=64)  # 256 MiB of zeros in a few KiB
    suffix = {"xz": ".xz", "gzip": ".gz", "bzip2": ".bz2"}[codec]
    case = bombs.with_member({"first.log": LOG, f"payload{suffix}": bomb, "last.log": LOG})
    contents, skipped, spent, _ = read(tmp_path, "case.zip", case)
    assert sorted(contents) == ["case.zip!first.log", "case.zip!last.log"]
    assert "decompression bomb" in skipped[f"case.zip!payload{suffix}"]
    assert spent.produced < 10 * SMALL.ratio_floor  # stopped soon after the floor, not at 256 MiB


def test_gzip_bomb_with_the_default_limits(tmp_path):
    bomb = bombs.zeros_stream("gzip", 16 << 20, copies=256)  # 4 GiB claimed by 4 MiB
    contents, skipped, spent, took = read(tmp_path, "bomb.zip", bombs.with_member({"a.gz": bomb, "b.log": LOG}),
                                          Limits())
    assert list(contents) == ["bomb.zip!b.log"]
    assert "decompression bomb" in skipped["bomb.zip!a.gz"]
    assert spent.produced <= Limits().ratio_floor + len(bomb) + (1 << 20) and took < 10


def test_xz_header_asking_for_a_huge_dictionary(tmp_path):
    contents, skipped, _, _ = read(tmp_path, "c.zip", bombs.with_member(
        {"big-dict.xz": bombs.xz_claiming_huge_dictionary(), "ok.log": LOG}))
    assert list(contents) == ["c.zip!ok.log"]
    assert "MiB to decompress, refused" in skipped["c.zip!big-dict.xz"]


def test_zip_lzma_member_asking_for_a_huge_dictionary(tmp_path):
    data = bytearray(bombs.zip_of({"a.log": LOG * 10, "b.log": LOG}, zipfile.ZIP_LZMA))
    at = data.index(b"PK\x03\x04") + 30 + len("a.log") + 4  # the LZMA properties: lc/lp/pb, dict size
    data[at + 1:at + 5] = struct.pack("<L", 0xFFFFFFFF)
    contents, skipped, _, _ = read(tmp_path, "l.zip", bytes(data))
    assert list(contents) == ["l.zip!b.log"]
    assert "dictionary, refused" in skipped["l.zip!a.log"]


def test_bomb_inside_a_compressed_tar_stops_that_tar_only(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for name, data in (("before.log", LOG), ("zeros.bin", b"\0" * (8 << 20)), ("after.log", LOG)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    case = bombs.with_member({"logs.tar.xz": buf.getvalue(), "other.log": LOG})
    contents, skipped, _, _ = read(tmp_path, "case.zip", case)
    # the tar's one compressed stream cannot be read past the bomb; the rest of the bundle is
    assert sorted(contents) == ["case.zip!logs.tar.xz!before.log", "case.zip!other.log"]
    assert "decompression bomb" in skipped["case.zip!logs.tar.xz!zeros.bin"]
    assert skipped["case.zip!logs.tar.xz"].startswith("not read past zeros.bin")


def test_fan_out_like_42_zip_is_bounded(tmp_path):
    data = bombs.fan_out(levels=5, width=16, leaf_size=2 << 20)  # 16**4 leaves of 2 MiB: 128 GiB
    contents, skipped, spent, took = read(tmp_path, "42.zip", data)
    assert contents == {}
    assert spent.entries <= SMALL.max_members + 1 and took < 10
    assert any("files in the bundle; the rest is not read" in r for r in skipped.values())
    assert spent.produced <= SMALL.total_floor


def test_fan_out_shallow_enough_to_reach_the_leaves(tmp_path):
    data = bombs.fan_out(levels=3, width=8, leaf_size=4 << 20)  # 64 leaves of 4 MiB each
    _, skipped, spent, _ = read(tmp_path, "fan.zip", data, Limits(ratio_floor=1 << 20, total_floor=8 << 20))
    assert spent.produced <= (8 << 20) + (1 << 20)  # the bundle's cap held
    assert any("decompression cap" in r for r in skipped.values())


@pytest.mark.parametrize("full", [False, True], ids=["quoted-overlap", "full-overlap"])
def test_overlapping_zip_entries_are_refused_and_the_rest_read(tmp_path, full):
    data = bombs.overlapping_zip(entries=300, kernel_size=1 << 20, full_overlap=full, good=LOG)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # a reader that trusts it would get all of it
        infos = [i for i in zf.infolist() if i.filename != "good.log"]
        assert sum(i.file_size for i in infos) >= 300 << 20
        if not full:
            assert zf.read(infos[-2]) .endswith(b"\0" * 100)  # valid deflate, valid CRC
    contents, skipped, spent, took = read(tmp_path, "overlap.zip", data)
    assert list(contents) == ["overlap.zip!good.log"]
    assert len(skipped) == (1 if full else 300)  # (the same name 300 times is one key)
    assert all("overlapping zip bomb" in r for r in skipped.values())
    assert spent.produced < 1 << 16 and took < 5


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_hundred_thousand_tiny_members(tmp_path, kind):
    data = bombs.many_members_zip(100_000) if kind == "zip" else bombs.many_members_tar(5_000)
    contents, skipped, spent, took = read(tmp_path, f"many.{kind}", data)
    assert len(contents) == SMALL.max_members
    assert list(skipped.values()) == [f"more than {SMALL.max_members} files in the bundle; the rest is not read"]
    assert took < 5


def test_directory_read_is_capped_too(tmp_path):
    data = bombs.many_members_zip(50_000)
    path = tmp_path / "m.zip"
    path.write_bytes(data)
    from logcorr.intake import zipread
    with open(path, "rb") as fh:
        entries, more = zipread.read_directory(fh, len(data), 1000)
    assert len(entries) == 1000 and more


def test_time_limit_stops_intake_and_keeps_what_was_read(tmp_path, monkeypatch):
    ticks = iter(range(10**6))
    monkeypatch.setattr(budget_module.Budget, "now", lambda self: next(ticks) * 0.25)
    case = bombs.zip_of({f"f{i}.log": LOG for i in range(40)})
    contents, skipped, _, _ = read(tmp_path, "slow.zip", case, Limits(max_seconds=5))
    assert 0 < len(contents) < 40
    assert any("took longer than 5 s; the rest is not read" in r for r in skipped.values())


def test_bundle_cap_stops_the_rest_but_keeps_what_was_read(tmp_path):
    case = bombs.zip_of({f"f{i}.gz": bombs.zeros_stream("gzip", 3 << 20) for i in range(6)})
    contents, skipped, spent, _ = read(tmp_path, "c.zip", case, Limits(total_floor=8 << 20, ratio_floor=16 << 20))
    assert 1 <= len(contents) <= 3
    assert spent.produced <= (8 << 20) + (1 << 20)
    assert sum("decompression cap" in r for r in skipped.values()) == 2  # the member, then one for the rest


# -- members whose stated sizes or CRC are wrong ------------------------------------------------
def test_member_larger_or_other_than_its_directory_says(tmp_path):
    good = bombs.zip_of({"a.log": LOG * 20, "b.log": LOG * 20, "c.log": LOG}, zipfile.ZIP_STORED)
    data = bytearray(good)
    cd = data.index(b"PK\x01\x02")
    data[cd + 24:cd + 28] = struct.pack("<L", 10)  # a.log: "10 bytes" (the data holds more)
    cd2 = data.index(b"PK\x01\x02", cd + 1)
    data[cd2 + 16] ^= 0xFF  # b.log: a wrong CRC
    contents, skipped, _, _ = read(tmp_path, "z.zip", bytes(data))
    assert list(contents) == ["z.zip!c.log"]
    assert "larger than its directory entry says" in skipped["z.zip!a.log"]
    assert "CRC" in skipped["z.zip!b.log"]


def test_zip64_and_a_stub_before_the_archive_are_read(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a.log", "b.log"):
            with zf.open(name, "w", force_zip64=True) as out:
                out.write(LOG)
    contents, skipped, _, _ = read(tmp_path, "z64.zip", buf.getvalue())
    assert contents == {"z64.zip!a.log": LOG, "z64.zip!b.log": LOG} and skipped == {}
    stub = b"#!/bin/sh\nexit 0\n" * 4
    contents, _, _, _ = read(tmp_path, "sfx.bin", stub + bombs.zip_of({"c.log": LOG}))
    assert list(contents) == ["sfx.bin"]  # no zip by its first bytes: a file, left to the parsers
    contents, _, _, _ = read(tmp_path, "sfx.zip", b"PK\x03\x04" + bombs.zip_of({"c.log": LOG})[4:])
    assert contents == {"sfx.zip!c.log": LOG}


@pytest.mark.parametrize("mode,suffix", [("w:bz2", "tar.bz2"), ("w:xz", "tar.xz"), ("w:gz", "tgz")])
def test_compressed_tars_and_bare_compressed_files(tmp_path, mode, suffix):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        info = tarfile.TarInfo("log/a")
        info.size = len(LOG)
        tf.addfile(info, io.BytesIO(LOG))
    contents, _, _, _ = read(tmp_path, f"t.{suffix}", buf.getvalue())
    assert contents == {f"t.{suffix}!log/a": LOG}
    import bz2
    import lzma
    for name, packed in (("x.log.bz2", bz2.compress(LOG)), ("x.log.xz", lzma.compress(LOG))):
        contents, _, _, _ = read(tmp_path, name, packed)
        assert contents == {f"{name}!x.log": LOG}


# -- names -------------------------------------------------------------------------------------
def test_tar_names_with_undecodable_bytes_and_control_characters(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for raw in (b"caf\xe9.log", b"red\x1b[31m.log", b"rtl\xe2\x80\xaeslx.log", "ok-é.log".encode()):
            info = tarfile.TarInfo(raw.decode("utf-8", "surrogateescape"))
            info.size = len(LOG)
            tf.addfile(info, io.BytesIO(LOG))
    contents, skipped, _, _ = read(tmp_path, "n.tar", buf.getvalue())
    assert sorted(contents) == ["n.tar!caf\\xe9.log", "n.tar!ok-é.log", "n.tar!red\\x1b[31m.log",
                                "n.tar!rtl\\u202eslx.log"]
    for name in contents:
        name.encode("utf-8")  # no surrogate left: it can be printed and written anywhere
    assert skipped == {}


def test_zip_name_flagged_utf8_that_is_not(tmp_path):
    data = bytearray(bombs.zip_of({"b.log": LOG, "c.log": LOG}, zipfile.ZIP_STORED))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    for at, name_at in ((local + 6, local + 30), (central + 8, central + 46)):
        data[at + 1] |= 0x08  # the UTF-8 flag, in the member header and the directory ...
        data[name_at] = 0xFF  # ... on a name that is not UTF-8 (the same bytes in both)
    contents, skipped, _, _ = read(tmp_path, "u.zip", bytes(data))
    assert contents == {"u.zip!\\xff.log": LOG, "u.zip!c.log": LOG} and skipped == {}
