"""The hostile corpus (tests/bad/corpus.py) through the command line's entry point: each case's
exit code and messages, no traceback, and in bounded time."""
import sys
import time

import pytest

from bad.corpus import CASES
from logcorr import cli


def run(argv, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["logcorr", *argv])
    with pytest.raises(SystemExit) as ex:
        cli.main()
    out = capsys.readouterr()
    return ex.value.code, out.out, out.err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = case.build(tmp_path)
    started = time.monotonic()
    code, out, err = run(argv, monkeypatch, capsys)
    took = time.monotonic() - started
    assert "Traceback" not in out + err and "internal error" not in err
    assert code == case.exit, err
    for text in case.stdout:
        assert text in out, out[-2000:]
    for text in case.stderr:
        assert text in err, err
    if code == 2 and argv[0] != "rules" and "--rules" not in argv:
        assert len(err.strip().splitlines()) == 1, err  # one line, the reason
    if case.check is not None:
        case.check(tmp_path)
    assert took < 30
