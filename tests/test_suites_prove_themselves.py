"""The wiring and boot suites pass on the default bench and fail exactly the planted faults."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from cli_fork import run_python

from harness.flows.boot import MIN_OFF_S
from tests.conftest import bench_file


def run_suite(*args: str, suite: str = "suites/test_usb_wiring.py"
              ) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", suite, *args],
                      timeout=120)


def test_suite_passes_on_the_default_bench() -> None:
    proc = run_suite()
    assert proc.returncode == 0, proc.stdout[-2000:]
    # Each reader's own wiring rules: Panasonic's 3 (USB-01, USB-02, SP-05), the other
    # four makers' 2 each, USEN-ALMEX's, Atlas's and Panasonic's USB-07, 6 general readers
    # x 6 (USB-03..06, USB-08, SP-05), and the stray check.
    assert re.search(r"\b51 passed\b", proc.stdout), proc.stdout[-500:]


def test_suite_fails_exactly_the_miswired_readers() -> None:
    proc = run_suite("--bench", str(bench_file("miswired.yaml")))
    assert proc.returncode == 1
    failed = set(re.findall(r"FAILED \S+\[([^\]]+)\]", proc.stdout))
    # Exactly the broken rule of each faulty reader, no other; the unverified RC-S380 has
    # no name the app should show, so its USB-05 cannot pass either (fail closed); nor is it
    # designated for the three makers with USB-07 (no list from the lab: the verified six),
    # and, not verified, the notice says nothing of its firmware (USB-08, fail closed).
    assert failed == {"panasonic-USB-01", "canon-USB-02", "canon-SP-05",
                      "sony-rc-s380-USB-04", "sony-rc-s380-USB-05", "panasonic-USB-07",
                      "usen_almex-USB-07", "atlas-USB-07", "sony-rc-s380-USB-08"}, \
        proc.stdout[-2000:]
    assert "USB-01" in proc.stdout and "USB-02" in proc.stdout and "USB-04" in proc.stdout


def test_the_boot_suite_fails_both_makers_order_on_the_wrong_order_bench() -> None:
    """deviant-order.yaml switches the terminal and the receipt computer on first and the
    readers 30 s later: Panasonic's BOOT-01 (reader, then the terminal 15 to 30 s later) and
    Atlas's BOOT-02 (the receipt computer only once the reader has started) both fail, each
    saying which order it saw. (The default bench's pass: the suites/ part of the run.)"""
    proc = run_suite("--bench", str(bench_file("deviant-order.yaml")),
                     suite="suites/test_boot.py")
    assert proc.returncode == 1, proc.stdout[-2000:]
    failed = set(re.findall(r"FAILED \S+\[([^\]]+)\]", proc.stdout))
    assert failed == {"panasonic-BOOT-01", "atlas-BOOT-02"}, proc.stdout[-2000:]
    # Only the starts by the notice's order and the clock pass (Panasonic's window edges,
    # Atlas powered before its terminal): the readers are fine; the bench's routine is not.
    assert re.search(r"\b3 passed\b", proc.stdout), proc.stdout[-500:]
    # (The restore at 180 s, the devices then kept off MIN_OFF_S before the routine.)
    assert (f"the terminal was switched on at {180 + MIN_OFF_S:.0f} s, before the reader had "
            "started") in proc.stdout
    # (Atlas's start comes after Panasonic's three: its bench time is later.)
    assert re.search(r"the receipt computer was switched on at \d+ s, before the reader had "
                     r"started \(at \d+ s\)", proc.stdout), proc.stdout[-2000:]


#: Readers a clinic following the notice by the clock finds broken at one of its edges only:
#: the start (as the suite names it), the reader, its deviations, what the verdict says.
CLOCK_FAULTS = {
    # Needs 18 s to start: a terminal switched on 15 s after it finds it not started.
    "earliest": ("panasonic", [{"change": "behaviour.start.seconds", "to": 18,
                                "why": "slow start"}],
                 "before the reader had started (it started at"),
    # Stops waiting for the terminal 74 s after it started: a terminal switched on 30 s
    # after it (still inside the window) never links to it.
    "latest": ("panasonic", [
        {"change": "behaviour.states.link_wait.after", "to": {"seconds": 74, "event": "retry"},
         "why": "gives up waiting"},
        {"change": "behaviour.states.link_dead", "to": {"shows": "link_wait", "like": "link_wait"},
         "why": "gives up waiting"},
        {"change": "behaviour.transitions.link_wait.retry", "to": "link_dead",
         "why": "gives up waiting"}],
        "the reader never reached its first screen"),
    # Starts on its own mains, not with the terminal (連動して自動起動).
    "reader-first": ("atlas", [{"change": "behaviour.start.auto", "to": "on_power",
                                "why": "starts on its own power"}],
                     "not with the terminal (switched on at"),
}


@pytest.mark.parametrize("start", sorted(CLOCK_FAULTS))
def test_the_boot_suite_tries_the_orders_edges_by_the_clock(start: str, tmp_path: Path) -> None:
    """Each maker's order is also started by the notice's clock where it has edges (the
    bench's own routine switches once, at its own moment, where these readers come up): a
    reader that works only inside BOOT-01's window, or starts before its terminal (BOOT-02),
    fails its requirement at that start, and only there."""
    reader, deviations, why = CLOCK_FAULTS[start]
    bench = tmp_path / f"clock-{start}.yaml"
    bench.write_text(yaml.safe_dump({
        "base": str(bench_file("emulated.yaml")), "bench": f"clock-{start}",
        "readers": [{"name": reader, "deviations": deviations}]}), encoding="utf-8")
    proc = run_suite("--bench", str(bench), "-k", reader, suite="suites/test_boot.py")
    assert proc.returncode == 1, proc.stdout[-2000:]
    failed = set(re.findall(r"FAILED \S+\[([^\]]+)\]", proc.stdout))
    requirement = "BOOT-01" if reader == "panasonic" else "BOOT-02"
    # A reader on its own mains lights before its terminal on the bench's routine too (the
    # readers switched on 20 s before the terminal): it is seen there as well.
    also = {f"{reader}-{requirement}"} if start == "reader-first" else set()
    assert failed == {f"{reader}-{requirement}-{start}"} | also, proc.stdout[-2000:]
    assert why in proc.stdout, proc.stdout[-2000:]
    if also:
        assert "before the terminal was switched on" in proc.stdout, proc.stdout[-2000:]


def test_a_routine_that_switches_the_terminal_off_again_fails_the_order(
        tmp_path: Path) -> None:
    """The terminal switched on inside BOOT-01's window, cut a second later and started for
    real two minutes on: only its first switch-on was kept, and the start passed."""
    bench = tmp_path / "toggled.yaml"
    bench.write_text(yaml.safe_dump({
        "base": str(bench_file("emulated.yaml")), "bench": "toggled",
        "power_on": [
            {"switch_on": ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"],
             "wait_s": 20},
            {"switch_on": ["terminal"], "wait_s": 1},
            {"switch_off": ["terminal"], "wait_s": 99},
            {"switch_on": ["terminal"], "wait_s": 120},
            {"switch_on": ["receipt_computer"]}]}), encoding="utf-8")
    proc = run_suite("--bench", str(bench), "-k", "panasonic and not earliest and not latest",
                     suite="suites/test_boot.py")
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert set(re.findall(r"FAILED \S+\[([^\]]+)\]", proc.stdout)) == {"panasonic-BOOT-01"}
    assert "the terminal was switched off again at" in proc.stdout, proc.stdout[-2000:]
