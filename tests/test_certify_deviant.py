"""``onshi-rig certify`` on each shipped deviant bench fails exactly the requirements its
deviation breaks, and nothing else (a file of its own, so that pytest-xdist runs it beside
the other certification tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_certify import CERTIFY, failed

from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file


def _all_but(maker: str, passing: set[str]) -> set[str]:
    return {r.id for r in ProfileSet.load(default_profiles_dir())[maker].requirements} - passing


#: A reader the maker's power-on routine does not start (nobody presses its power button or
#: restarts the terminal for it) fails its BOOT check, every flow and the delivery probes
#: (they need the bench switched on as the maker says: it could not be, so they cannot be
#: judged); only the wiring passes. (ERR-07's procedure ends with the reader started by the
#: terminal's restart, its logo lamp white: Atlas fails it too.) USB-07 is judged on the
#: scan too: the general readers on the bench, whether the reader started or not.
NEEDS_NO_START = {"USB-01", "USB-02", "USB-07", "SP-05"}

#: Bench -> the makers certified (to keep the run short) -> what must fail, nothing else.
DEVIANT = {
    # (The bench's Atlas, which its terminal's restart does not start, is left out to keep
    # CI short: its unstarted panel costs a search of the frame per look. The flows'
    # fail-closed start is certified on Panasonic here.)
    "deviant-boot": {"panasonic": _all_but("panasonic", NEEDS_NO_START)},
    # (deviant-order, the wrong power-on order: only the boot suite can tell it from the
    # default bench; tests/test_suites_prove_themselves.py runs that suite on it.)
    # (Canon on this bench: tests/test_certify_report.py, whose run it is.)
    "deviant-e901": {"usen_almex": {"E901-02"}, "fujitsu_japan": {"E901-05"}},
    # (deviant-dialogs, the terminal's 901 after the first error dialog: not certified in
    # CI; the same fault as a reader's, E901-04 "after 1 press(es) of OK", is driven in
    # tests/test_reader_fault_deviations.py, the bench's twin in tests/test_twin_bench.py.)
    # (deviant-staff: not certified in CI. Atlas's missing staff button and Canon's button
    # without the restart are driven at the flow level in
    # tests/test_reader_fault_deviations.py: AUTH-03, AUTH-04, AUTH-05 and CON-02 fail there,
    # nothing else.)
}


@pytest.fixture(scope="module")
def deviant_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict]]:
    """Every deviant bench certified, two at a time (the machine's two cores)."""
    base = tmp_path_factory.mktemp("deviant")
    pending = list(DEVIANT.items())
    running: list[tuple[str, subprocess.Popen[str], Path]] = []
    done: dict[str, tuple[int, dict]] = {}
    while pending or running:
        while pending and len(running) < 2:
            bench, makers = pending.pop(0)
            out = base / bench
            vendors = [a for m in makers for a in ("--vendor", m)]
            proc = subprocess.Popen(
                [*CERTIFY, "--bench", str(project_file(f"fixtures/benches/{bench}.yaml")),
                 *vendors, "--jobs", "1", "--out", str(out)], cwd=project_file("."),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running.append((bench, proc, out))
        bench, proc, out = running.pop(0)
        output, _ = proc.communicate(timeout=900)
        report_file = out / "certification.json"
        assert report_file.is_file(), f"{bench}: no report\n{output[-3000:]}"
        done[bench] = (proc.returncode, json.loads(report_file.read_text(encoding="utf-8")))
    return done


@pytest.mark.parametrize("bench", sorted(DEVIANT))
def test_certify_fails_exactly_what_the_deviation_breaks(bench: str, deviant_reports) -> None:  # noqa: ANN001
    code, report = deviant_reports[bench]
    assert code == 1
    assert failed(report) == DEVIANT[bench], json.dumps(
        {m: {r: row.get("reasons") for r, row in rows.items() if row["status"] != "passed"}
         for m, rows in report["makers"].items()}, ensure_ascii=False, indent=1)
    for rows in report["makers"].values():
        for row in rows.values():
            if row["status"] == "failed":
                assert row["reasons"] and all(row["reasons"]), row
