"""The calls stage on bundles put together in the test: what a capture can and cannot show."""
import shutil

from logcorr import api

SHARE = "b2a211220e344c0a909219a73ad9991d"


def share_call(d):
    return next(c for c in d.calls if c.call_id == SHARE)


def test_turn_steps_not_observable_without_a_capture(tmp_path, data_dir):
    shutil.copy(data_dir / "cms" / "shareok-cms01-syslog.log", tmp_path / "syslog")
    call = share_call(api.diagnose(tmp_path))
    states = {s.name: (s.state, s.note) for s in call.steps}
    assert states["allocate"] == ("not observable", "no capture in the bundle")
    assert states["answer-relay"][0] == "seen" and states["reinvite"][0] == "seen"
    assert call.stage == "reinvite"
    assert "9 TURN step(s) not observable: no capture in the bundle" in call.summary


def test_a_capture_of_other_hosts_cannot_show_the_turn_steps(tmp_path, data_dir):
    shutil.copy(data_dir / "cms" / "shareok-cms01-syslog.log", tmp_path / "syslog")
    shutil.copy(data_dir / "captures" / "a_udp_uclient.pcap", tmp_path / "other.pcap")
    d = api.diagnose(tmp_path)
    step = share_call(d).step("connection-attempt")
    assert step.state == "not observable"
    assert "no traffic of CMS or of its TURN server" in step.note
    assert not {"turn-no-peer-connection", "turn-missing-connectionbind"} & {f.rule for f in d.findings}
