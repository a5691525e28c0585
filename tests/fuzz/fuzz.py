"""Fuzz logcorr's readers for a while (not part of the test suite).

    python tests/fuzz/fuzz.py --seconds 600            # every target, sharing the time
    python tests/fuzz/fuzz.py --seconds 120 --target stun

Runs the properties of tests/test_properties.py (and a few on rule files) with fresh random
seeds, batch after batch, until the time is up: each input must not raise (the archive walk may
only raise IntakeError) and must be read at no less than MIN_RATE bytes per second. Prints, per
target, the inputs tried, the failures and the slow inputs; each failing input is saved under
tests/fuzz/found/ (minimised by hypothesis) so that it can become a regression test.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import test_properties as props  # noqa: E402
from logcorr.report.safe import guard_frame, is_formula_like  # noqa: E402
from logcorr.rules.regexes import RegexError, compile_pattern  # noqa: E402
from logcorr.rules.yamlio import load_yaml  # noqa: E402

MIN_RATE = 20_000  # bytes a second: slower than this on an input of 4 KiB or more is reported
FOUND = HERE / "found"
tried: Counter = Counter()
slow: Counter = Counter()


def timed(target: str, size: int, fn, *args) -> None:
    tried[target] += 1
    started = time.perf_counter()
    fn(*args)
    took = time.perf_counter() - started
    if size >= 4096 and took > 0.05 and size / took < MIN_RATE:
        slow[target] += 1
        print(f"  slow: {target} read {size} bytes in {took:.2f} s", flush=True)


def _yaml(text: str) -> None:
    data, problems = load_yaml(text)
    assert isinstance(problems, list)


def _regex(pattern: str, text: str) -> None:
    try:
        p = compile_pattern(pattern)
    except RegexError:
        return
    p.search(text)


def _csv(values: list) -> None:
    import pandas as pd
    frame = guard_frame(pd.DataFrame({"v": values}))
    assert not any(is_formula_like(v) for v in frame["v"])


WORK = Path(tempfile.mkdtemp(prefix="logcorr-fuzz-"))
yaml_text = st.lists(st.sampled_from(["a: ", "- ", "&x ", "*x ", "[", "]", "{", "}", ", ", "\n", "  ", "<<: ",
                                      "'", '"', "!!python/object ", "? ", "|\n", ">\n"]) | st.text(max_size=20),
                     max_size=60).map("".join)
regex_text = st.lists(st.sampled_from(["(", ")", "a", "+", "*", "?", "|", "{1000}", "\\1", "(?=", "(?!", "[",
                                       "]", "\\d", ".", "$", "^", "(?P<n>", "(?i)"]) | st.text(max_size=4),
                      max_size=30).map("".join)

TARGETS = {
    **{f"parser:{name}": (st.binary(max_size=4096) | props.log_like(),
                          lambda d, n=name: timed(f"parser:{n}", len(d), props._parse, props.PARSERS[n], d))
       for name in props.PARSERS},
    "pcap-damaged": (props.mutated(props.CAPTURE[:20000]),
                     lambda d: timed("pcap-damaged", len(d), props._parse, props.PARSERS["pcap-PcapParser"], d)),
    "stun": (props.stun_like() | st.binary(max_size=300),
             lambda b: timed("stun", len(b), lambda: (m := props.stun.decode(b)) and props.stun.summary(m))),
    "sip": (props.sip_text, lambda t: timed("sip", len(t), lambda: props.sip.event_fields(props.sip.parse_message(t), t))),
    "sip-split": (st.binary(max_size=4096) | props.sip_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                  lambda b: timed("sip-split", len(b), props.sip.split_messages, b)),
    "archive": (st.sampled_from(sorted(props.ARCHIVES)).flatmap(lambda k: props.mutated(props.ARCHIVES[k]))
                | st.binary(max_size=2048), lambda d: timed("archive", len(d), props._walk, WORK, d)),
    "rule-yaml": (yaml_text, lambda t: timed("rule-yaml", len(t), _yaml, t)),
    "rule-regex": (st.tuples(regex_text, st.text(max_size=200)),
                   lambda pt: timed("rule-regex", len(pt[1]), _regex, *pt)),
    "csv": (st.lists(st.text(max_size=12) | st.none() | st.integers(), max_size=20),
            lambda v: timed("csv", len(v), _csv, v)),
}


def run(target: str, seconds: float) -> list[str]:
    strategy, prop = TARGETS[target]
    failures = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        test = settings(max_examples=300, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck))(given(strategy)(lambda x: prop(x)))
        try:
            test()
        except Exception as exc:  # a failure: hypothesis has minimised it and printed the input
            failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            FOUND.mkdir(exist_ok=True)
            (FOUND / f"{target.replace(':', '-')}-{len(failures)}.txt").write_text(traceback.format_exc())
            if len(failures) >= 5:
                break
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--target", action="append", choices=sorted(TARGETS))
    args = ap.parse_args()
    targets = args.target or list(TARGETS)
    share = args.seconds / len(targets)
    total_fail = 0
    print(f"{'target':<34} {'inputs':>9} {'failures':>8} {'slow':>5}")
    for t in targets:
        fails = run(t, share)
        total_fail += len(fails)
        print(f"{t:<34} {tried[t]:>9} {len(fails):>8} {slow[t]:>5}", flush=True)
        for f in fails:
            print(f"    {f}")
    print(f"{'all':<34} {sum(tried.values()):>9} {total_fail:>8} {sum(slow.values()):>5}")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
