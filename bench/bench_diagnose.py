"""Benchmark: `logcorr diagnose` end to end on a large generated case bundle.

The bundle is a folder with a CMS syslog and an Expressway diagnostic log made of COPIES copies of
the realistic case in tests/cases/share-ok (each copy its own Call-IDs, ten minutes later than the
one before), and a capture of PACKETS packets from bench_capture.py (RTP noise with TURN flows).
Prints the time of each stage (read, align, calls, rules, reports) and the peak memory.

Run: python bench/bench_diagnose.py [--copies 200] [--packets 1000000] [--xlsx]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import resource
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_capture  # noqa: E402
from logcorr import api  # noqa: E402
from logcorr.calls import clocks, flow  # noqa: E402
from logcorr.report import excel, terminal  # noqa: E402

SHARE_OK = REPO / "tests" / "cases" / "share-ok" / "share-ok.zip"
CMS_STAMP = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3})", re.M)
ISO = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)")
CALL_ID = re.compile(r"(Call-ID[:=] ?)([\w.@-]+)")


def pieces() -> tuple[str, str]:
    with zipfile.ZipFile(SHARE_OK) as zf:
        cms = expe = ""
        for name in zf.namelist():
            data = zf.read(name)
            if name == "logbundle.tar.gz" or name.startswith("diagnostic_log_"):
                with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                    for m in tf.getmembers():
                        if m.isfile() and (m.name == "syslog" or "loggingsnapshot" in m.name):
                            text = tf.extractfile(m).read().decode()
                            if m.name == "syslog":
                                cms = text
                            else:
                                expe = text
    return cms, expe


def shifted_cms(text: str, copy: int) -> str:
    delta = dt.timedelta(minutes=10 * copy)

    def stamp(m):
        t = dt.datetime.strptime("2026 " + m.group(1), "%Y %b %d %H:%M:%S.%f") + delta
        return t.strftime("%b %e %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    text = CMS_STAMP.sub(stamp, text)
    return CALL_ID.sub(lambda m: f"{m.group(1)}{m.group(2)}-{copy}", text)


def shifted_expe(text: str, copy: int) -> str:
    delta = dt.timedelta(minutes=10 * copy)

    def stamp(m):
        sep = m.group(1)[10]
        t = dt.datetime.strptime(m.group(1).replace("T", " "), "%Y-%m-%d %H:%M:%S") + delta
        return t.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    text = ISO.sub(stamp, text)
    return CALL_ID.sub(lambda m: f"{m.group(1)}{m.group(2)}-{copy}", text)


def build(folder: Path, copies: int, packets: int) -> None:
    cms, expe = pieces()
    with open(folder / "syslog", "w") as fh:
        for c in range(copies):
            fh.write(shifted_cms(cms, c))
    with open(folder / "loggingsnapshot_expe01.txt", "w") as fh:
        for c in range(copies):
            fh.write(shifted_expe(expe, c))
    bench_capture.generate(folder / "tcpdump.pcap", packets)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=200)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--xlsx", action="store_true", help="also write the Excel report")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="logcorr-bench-") as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        t = time.perf_counter()
        build(folder, args.copies, args.packets)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"bundle: {size / 1e6:.0f} MB ({args.copies} log copies, {args.packets} packets), "
              f"made in {time.perf_counter() - t:.1f} s")
        timings = {}
        t = time.perf_counter()
        result = api.read(folder)
        timings["read"] = time.perf_counter() - t
        t = time.perf_counter()
        _, table = clocks.aligned(result.events)
        timings["align"] = time.perf_counter() - t
        t = time.perf_counter()
        calls = flow.build(table)
        timings["calls"] = time.perf_counter() - t
        t = time.perf_counter()
        d = api.diagnose(folder)
        timings["diagnose (all stages again)"] = time.perf_counter() - t
        t = time.perf_counter()
        terminal.render(d)
        timings["terminal"] = time.perf_counter() - t
        if args.xlsx:
            t = time.perf_counter()
            excel.write(d, Path(tmp) / "r.xlsx")
            timings["excel"] = time.perf_counter() - t
        print(f"events: {len(result.events)}, calls: {len(calls)}, findings: {len(d.findings)}")
        for stage, secs in timings.items():
            print(f"  {stage:<28} {secs:7.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
