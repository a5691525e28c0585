"""Speed and memory of `logcorr diagnose` on a large generated bundle, beside the floors.

    python bench/run.py [--size-mb 1000] [--keep] [--stages] [--bundle DIR]

Builds the bundle with make_bundle.py under bench/out/ (or reuses the one already there), then runs
each of these in its own process, one after the other, and measures wall time, CPU time (the
process and its workers), the peak resident memory of its largest process (ru_maxrss) and of its
whole process tree (sampled every 50 ms):

* ``logcorr diagnose --json --no-xlsx`` and ``logcorr diagnose --json --xlsx``: every planted
  failure of the manifest must be found, with its Call-ID;
* the capture decoder alone (bench_capture.py --decode-only);
* the floors: a bare Python pass over the same files (pcap records holding a STUN magic cookie;
  log lines holding ``SIP``), ``grep -c SIP`` on the logs, ``tshark -Y stun -T fields`` on the
  capture (skipped when tshark is not installed).

It prints one table and the ratios; with --stages also the time of each stage of diagnose (each
file's parse, align, calls, rules, JSON, terminal, workbook) measured in one more process.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import bench_capture  # noqa: E402
import make_bundle  # noqa: E402

COOKIE = b"\x21\x12\xa4\x42"
LOGS = tuple(make_bundle.FILES.values())
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- measuring a process ---------------------------------------------------------------------------
@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    rss_kib: int  # largest single process (ru_maxrss of the process and its waited-for children)
    tree_kib: int  # largest sum over the process tree, sampled
    rc: int
    out: str
    inner: tuple[float, float] | None = None  # (wall, CPU) the process measured itself, without start-up

    def row(self) -> str:
        return (f"{self.name:<36} {self.wall:8.2f} {self.cpu:8.2f} {self.rss_kib / 1024:9.0f} "
                f"{self.tree_kib / 1024:10.0f}")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            kids = [int(x) for x in fh.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def measure(name: str, cmd: list[str], stdout_path: Path | None = None) -> Run:
    """Run `cmd`; its wall time, CPU time and memory. Its stdout goes to `stdout_path` (or is kept)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], sum(_rss_kib(p) for p in [proc.pid, *_children(proc.pid)]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    text = proc.stdout.read().decode(errors="replace") if not stdout_path else ""
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout_path:
        out.close()
    if proc.returncode not in (0, 1):
        print(f"  {name}: exit {proc.returncode}: {err.strip()[-500:]}", file=sys.stderr)
    return Run(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, max(peak[0], usage.ru_maxrss),
               proc.returncode, text)


# -- the floors --------------------------------------------------------------------------------------
def bare_capture(path: str) -> int:
    """Pcap records that hold a STUN magic cookie, by a plain loop over the records."""
    unpack = struct.Struct("<IIII").unpack_from
    kept = []
    with open(path, "rb") as fh:
        fh.read(24)
        p = 0
        buf = b""
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                break
            buf = buf[p:] + chunk
            p = 0
            while p + 16 <= len(buf):
                incl = unpack(buf, p)[2]
                end = p + 16 + incl
                if end > len(buf):
                    break
                if buf.find(COOKIE, p + 16, end) >= 0:
                    kept.append(buf[p + 16: end])
                p = end
    return len(kept)


def bare_logs(paths: list[str]) -> int:
    """Log lines that hold SIP."""
    n = 0
    for path in paths:
        with open(path, "rb") as fh:
            for line in fh:
                if b"SIP" in line:
                    n += 1
    return n


# -- stages, in one process ---------------------------------------------------------------------------
def stages(folder: str) -> None:
    """Child process: the time of each stage of diagnose, printed as JSON."""
    sys.path.insert(0, str(REPO))
    from dataclasses import replace

    from logcorr import api
    from logcorr import rules as rules_stage
    from logcorr.calls import clocks as clocks_stage, flow, hosts
    from logcorr.events import read as read_stage
    from logcorr.events.parsers import REGISTRY, SNIFF_BYTES, identify
    from logcorr.events import rawtext
    from logcorr.intake.archive import Bundle, Limits
    from logcorr.model import Diagnosis, Verdict
    from logcorr.report import excel, json_report, terminal
    from logcorr.rules import load_rules

    times: dict[str, tuple] = {}
    cpu = [time.process_time()]

    def lap(name: str, t: float) -> float:
        now, c = time.perf_counter(), time.process_time()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        times[name] = (round(now - t, 2), round(c - cpu[0], 2), peak)
        cpu[0] = c
        return now

    t = time.perf_counter()
    ruleset = load_rules(api.rule_dirs())
    t = lap("load rules", t)
    store = rawtext.Folder()  # each file's records' text, as reading keeps it
    with Bundle(Path(folder), Limits()) as bundle:
        for m in bundle.members:
            with open(m.path, "rb") as fh:
                parser = identify(fh.read(SNIFF_BYTES))
            if parser is not None:
                job = (REGISTRY.index(parser), str(m.path), m.name, *read_stage.zone(None), m.mtime,
                       (store.path, m.name.replace("/", "_")))
                c = time.process_time()
                read_stage.parse_file(job)
                rate = m.size / 1e6 / max(time.process_time() - c, 1e-3)
                t = lap(f"parse {parser.name} {m.size / 1e6:.0f} MB ({rate:.0f} MB per CPU-second)", t)
    t = time.perf_counter()
    result = api.read(folder)
    t = lap("read (all files, as diagnose does: parse in parallel, to_frame, sort)", t)
    source_clocks, events = clocks_stage.aligned(result.events)
    result = replace(result, events=events)  # as diagnose does: the table as read let go
    t = lap("align clocks", t)
    calls = flow.build(events)
    t = lap("calls", t)
    findings = rules_stage.apply(ruleset, events, calls)
    t = lap("rules", t)
    flow.attribute(findings, calls)
    survey = hosts.survey(events)
    t = lap("attribute + hosts", t)
    d = Diagnosis(read=result, clocks=source_clocks, hosts=survey, calls=calls,
                  findings=findings, rules=ruleset, verdict=Verdict.of(calls, findings))
    json_report.render(d)
    t = lap("JSON", t)
    terminal.render(d)
    t = lap("terminal", t)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            excel.write(d, Path(tmp) / "r.xlsx")
            lap("workbook", t)
        except Exception as e:  # noqa: BLE001 - a failing workbook is a result here, not the end
            lap(f"workbook FAILED: {type(e).__name__}: {str(e)[:80]}", t)
    print(json.dumps({"events": len(events), "calls": len(calls), "findings": len(findings), "times": times}))


# -- the run -------------------------------------------------------------------------------------------
def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor()}, Python {platform.python_version()}"


def ensure_bundle(folder: Path, size_mb: float) -> dict:
    manifest = make_bundle.manifest_path(folder)
    if manifest.exists():
        info = json.loads(manifest.read_text())
        if info["size_mb"] == size_mb and all((folder / f).exists() for f in info["files"]):
            print(f"bundle: reusing {folder}")
            return info
    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    info = make_bundle.build(folder, size_mb)
    manifest.write_text(json.dumps(info, indent=1) + "\n")
    print(f"bundle: made {folder} in {time.perf_counter() - t:.0f} s")
    return info


def check(planted: list[dict], doc: dict) -> list[str]:
    """What the manifest says must be found and was not."""
    found = {(f["rule"], f["call_id"]) for f in doc.get("findings", [])}
    return [f"{p['failure']} (copy {p['copy']}): {rule} for {p['call_id']}"
            for p in planted for rule in p["rules"] if (rule, p["call_id"]) not in found]


def diagnose_runs(folder: Path, info: dict, tmp: Path) -> list[Run]:
    logcorr = [sys.executable, "-m", "logcorr"]
    runs = []
    for name, extra in (("diagnose --no-xlsx", ["--no-xlsx"]), ("diagnose (with workbook)", ["--xlsx", str(tmp / "r.xlsx")])):
        out = tmp / "diagnosis.json"
        r = measure(name, [*logcorr, "diagnose", str(folder), "--json", *extra], out)
        try:
            doc = json.loads(out.read_text())
        except (OSError, ValueError):
            doc = {}
        missing = check(info["planted"], doc)
        r.out = f"{len(doc.get('calls', []))} calls, {len(doc.get('findings', []))} findings; " + (
            f"MISSED {len(missing)}: " + "; ".join(missing) if missing else
            f"all {sum(len(p['rules']) for p in info['planted'])} planted findings found")
        runs.append(r)
    return runs


def floor_runs(folder: Path, capture: Path) -> tuple[list[Run], list[str]]:
    me = [sys.executable, str(Path(__file__).resolve())]
    logs = [str(folder / f) for f in LOGS]
    notes = []
    runs = [measure("capture decoder alone", [sys.executable, str(BENCH / "bench_capture.py"), "--decode-only", str(capture)]),
            measure("bare Python: pcap records w/ cookie", [*me, "--bare-capture", str(capture)]),
            measure("bare Python: log lines w/ SIP", [*me, "--bare-logs", *logs]),
            measure("grep -c SIP (logs)", ["sh", "-c", 'cat "$@" | grep -c SIP', "sh", *logs])]
    dec = runs[0].out.split()
    if runs[0].rc == 0 and len(dec) == 6:  # events, stun events, wall, RSS, warnings, CPU
        runs[0].out = f"{dec[0]} events; decoding alone {float(dec[2]):.2f} s wall, {float(dec[5]):.2f} s CPU"
        runs[0].inner = (float(dec[2]), float(dec[5]))
    for r in runs[1:3]:
        n, wall, cpu = r.out.split()
        r.out = f"{n} kept; the loop alone {float(wall):.2f} s wall, {float(cpu):.2f} s CPU"
        r.inner = (float(wall), float(cpu))
    tshark = shutil.which("tshark")
    if tshark:
        cmd = [tshark, "-n", "-r", str(capture), "-Y", "stun", "-T", "fields"]
        for f in bench_capture.TSHARK_FIELDS:
            cmd += ["-e", f]
        runs.append(measure("tshark -Y stun -T fields", cmd, Path(os.devnull)))
    else:
        notes.append("tshark not installed: no tshark floor (apt-get install tshark)")
    return runs, notes


def report(info: dict, runs: dict[str, Run], notes: list[str]) -> None:
    logs_mb = sum(v for k, v in info["files"].items() if k in LOGS) / 1e6
    cap_mb = sum(v for k, v in info["files"].items() if k.endswith(".pcap")) / 1e6
    print(f"\nmachine: {machine()}")
    print(f"bundle: {info['bytes'] / 1e6:.0f} MB ({logs_mb:.0f} MB of logs, {cap_mb:.0f} MB capture of "
          f"{info['frames']:,} frames), {info['copies']} shares, {len(info['planted'])} planted failures")
    print(f"\n{'run':<36} {'wall s':>8} {'CPU s':>8} {'RSS MiB':>9} {'tree MiB':>10}")
    for r in runs.values():
        print(r.row() + (f"   {r.out.strip()}" if r.out.strip() and len(r.out) < 200 else ""))
    bare = [runs.get("bare Python: pcap records w/ cookie"), runs.get("bare Python: log lines w/ SIP")]
    ratios = []
    if all(bare):
        floor = sum(b.wall for b in bare)
        floor_cpu = sum(b.cpu for b in bare)
        for name in ("diagnose (with workbook)", "diagnose --no-xlsx"):
            if name in runs:
                ratios.append(f"{name} / bare Python pass: {runs[name].wall / floor:.1f}x wall, "
                              f"{runs[name].cpu / floor_cpu:.1f}x CPU")
    dec, loop, ts = (runs.get(k) for k in ("capture decoder alone", "bare Python: pcap records w/ cookie",
                                           "tshark -Y stun -T fields"))
    # the decoder's own time, without the interpreter's and pandas' start-up
    dec_wall, dec_cpu = (dec.inner or (dec.wall, dec.cpu)) if dec else (0, 0)
    if dec and loop:
        ratios.append(f"capture decoder / bare record loop: {dec_wall / loop.inner[0]:.1f}x wall, "
                      f"{dec_cpu / loop.inner[1]:.1f}x CPU (each timed inside its process)")
    if dec and ts:
        ratios.append(f"tshark / capture decoder: {ts.wall / dec_wall:.1f}x wall, {ts.cpu / dec_cpu:.1f}x CPU")
    if dec and loop:
        ratios.append(f"capture decoder: {cap_mb / dec_cpu:.0f} MB per CPU-second (bare loop {cap_mb / loop.inner[1]:.0f})")
    print("\n" + "\n".join(ratios + notes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=100, help="bundle size (default 100)")
    ap.add_argument("--bundle", type=Path, help="where the bundle is kept (default bench/out/bundle-<size>mb)")
    ap.add_argument("--keep", action="store_true", help="keep the bundle for the next run")
    ap.add_argument("--stages", action="store_true", help="also time each stage of diagnose")
    ap.add_argument("--bare-capture", help=argparse.SUPPRESS)
    ap.add_argument("--bare-logs", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--stages-of", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_capture or args.bare_logs:
        t, c = time.perf_counter(), time.process_time()
        n = bare_capture(args.bare_capture) if args.bare_capture else bare_logs(args.bare_logs)
        print(n, time.perf_counter() - t, time.process_time() - c)
        return
    if args.stages_of:
        stages(args.stages_of)
        return
    folder = (args.bundle or BENCH / "out" / f"bundle-{args.size_mb:g}mb").resolve()
    existed = make_bundle.manifest_path(folder).exists()
    info = ensure_bundle(folder, args.size_mb)
    capture = folder / make_bundle.CAPTURE
    try:
        with tempfile.TemporaryDirectory(prefix="logcorr-bench-") as tmp:
            runs = {r.name: r for r in diagnose_runs(folder, info, Path(tmp))}
        floors, notes = floor_runs(folder, capture)
        runs.update({r.name: r for r in floors})
        if args.stages:
            r = measure("stages of diagnose (one process)", [sys.executable, str(Path(__file__).resolve()),
                                                              "--stages-of", str(folder)])
            runs[r.name] = r
        report(info, runs, notes)
        if args.stages and r.rc == 0:
            doc = json.loads(r.out)
            print(f"\nstages ({doc['events']:,} events, {doc['calls']} calls, {doc['findings']} findings):")
            print(f"  {'stage':<72} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13}")
            for stage, (secs, cpu, peak) in doc["times"].items():
                print(f"  {stage:<72} {secs:7.2f} {cpu:7.2f} {peak:13}")
    finally:
        if not args.keep and not existed:
            shutil.rmtree(folder, ignore_errors=True)
            make_bundle.manifest_path(folder).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
