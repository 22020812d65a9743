"""A real bench is switched on as it opens, as the README's bench table says of
``power_on`` and as an emulated bench is (hunt L7): a run of the wiring tests alone, a
scan, a calibration see the readers on, not whatever the last run left switched. A reader
scan cannot find says what may keep it off USB (L2), and a missing PC/SC service is said
once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import Bench
from harness.paths import project_file
from harness.scan import _why_missing

REAL = (
    "bench: real\nkind: real\n"
    f"sysfs_root: {project_file('fixtures/sysfs/terminal-a')}\nusb_devices: sysfs\n"
    "readers:\n  - {name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,"
    " usb: {vid: '054C', pid: '0DC8'}}\n")


def test_a_real_bench_runs_its_power_on_as_it_opens(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "real.yaml"
    path.write_text(REAL, encoding="utf-8")
    calls: list[str] = []
    monkeypatch.setattr(Bench, "power_on", lambda self, *a, **k: calls.append(self.name))
    with Bench.load(path) as bench:
        assert not bench.emulated
        assert calls == ["real"]
        # No pcscd here: said once ("no PC/SC service: ..."), not doubled.
        if bench.pcsc is None:
            assert bench.pcsc_unavailable is not None
            assert bench.pcsc_unavailable.count("no PC/SC service") == 1
        # A reader on no relay channel: the lab's to switch on, and scan says so.
        assert "no relay channel switches it: switched on?" in _why_missing(bench, "pasori")


def test_a_reader_on_a_relay_channel_missing_says_it_was_switched_on() -> None:
    with Bench.load(None) as bench:  # the emulated bench: every reader on the mains board
        name = next(r.name for r in bench.spec.readers if r.name in bench.spec.switchable())
        assert _why_missing(bench, name).startswith(
            "switched on by the bench's power_on as it opened")
