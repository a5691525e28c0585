"""The pipeline: files recognised and read, CMS's year taken from the other sources, big bundles in parallel."""
import os
import shutil

from logcorr.events import rawtext, read as pipeline
from logcorr.events.read import read_bundle

CMS_LINE = "Mar  2 07:10:50.000 user.info cms01 host:server:  INFO : call 7: ending; remote SIP teardown\n"


def test_cms_year_comes_from_the_other_sources(tmp_path, data_dir):
    shutil.copy(data_dir / "expressway" / "cisco-212383-network-sip-504-sipmsg.txt", tmp_path / "expe.txt")
    (tmp_path / "syslog").write_text(CMS_LINE)
    os.utime(tmp_path / "syslog", (2_000_000_000, 2_000_000_000))  # the file's own time says 2033
    events = read_bundle(tmp_path).events
    cms = events[events["source"] == "cms"]
    assert list(cms["ts"].dt.year) == [2017]  # the Expressway log of the same case is from 2017


def test_cms_year_from_the_file_time_alone(tmp_path):
    (tmp_path / "syslog").write_text(CMS_LINE)
    os.utime(tmp_path / "syslog", (2_000_000_000, 2_000_000_000))
    assert list(read_bundle(tmp_path).events["ts"].dt.year) == [2033]


def test_parallel_and_serial_reading_agree(tmp_path, data_dir, monkeypatch):
    for name in ("shareok-cms01-syslog.log",):
        shutil.copy(data_dir / "cms" / name, tmp_path / name)
    shutil.copy(data_dir / "expressway" / "share-ok-loggingsnapshot_expe01.txt", tmp_path / "expe.txt")
    serial = read_bundle(tmp_path)
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 0)
    parallel = read_bundle(tmp_path)
    # the same table, and the same text behind each row (each reading has its own store)
    assert rawtext.with_raw(serial.events).equals(rawtext.with_raw(parallel.events))
    assert serial.sources == parallel.sources
