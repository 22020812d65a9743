"""The wiring and boot suites pass on the default bench and fail exactly the planted faults."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import bench_file


def run_suite(*args: str, suite: str = "suites/test_usb_wiring.py"
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", suite, *args],
        capture_output=True, text=True, timeout=120,
    )


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
    assert not re.search(r"\b\d+ passed\b", proc.stdout), proc.stdout[-500:]
    assert "the terminal was switched on at 180 s, before the reader had started" in proc.stdout
    assert "the receipt computer was switched on at 480 s, before the reader had started" \
        in proc.stdout
