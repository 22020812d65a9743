"""Fixtures for the harness's own tests: the real pcscd with the emulated bench's vpcd readers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.bench import Bench, default_bench_path
from harness.emulation.bench import load_twins, vpcd_slots
from harness.emulation.card import FileSystemCard
from harness.emulation.pcscd import (
    PcscdProcess,
    find_pcscd,
    find_vpcd_driver,
    is_root,
    missing_slots,
    pcscd_running,
)
from harness.errors import MissingSystemPart
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.paths import project_file
from harness.pytest_plugin import missing_part

BENCHES = project_file("fixtures/benches")
TEST_CARD = project_file("fixtures/cards/test-card.yaml")


@pytest.fixture(scope="module")
def default_bench() -> Iterator[Bench]:
    """The default emulated bench, opened once per test file that drives flows on it (the
    ``profiles`` fixture, the project's profiles, comes from the rig's pytest plugin)."""
    bench = Bench.load(default_bench_path()).open()
    try:
        yield bench
    finally:
        bench.close()


@pytest.fixture
def test_card() -> FileSystemCard:
    return FileSystemCard.load(TEST_CARD)


def need_own_pcscd(why_root: str) -> None:
    """What starting a pcscd of the test's own needs: root, pcscd and the vpcd driver
    (skipped without them on a developer's machine, a failure in CI)."""
    if not is_root():
        missing_part(why_root)
    try:
        find_pcscd()
        find_vpcd_driver()
    except MissingSystemPart as exc:
        missing_part(str(exc))


@pytest.fixture(scope="session")
def pcscd_with_vpcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pcscd serving the default bench's vpcd readers: the running one, or one we start."""
    path = default_bench_path()
    spec = load_yaml_model(path, BenchSpec)
    slots = list(vpcd_slots(spec, load_twins(spec, path)).values())
    if pcscd_running():
        if missing_slots(slots):
            missing_part(
                "pcscd runs without the emulated bench's vpcd readers; restart it with "
                "`onshi-rig pcscd-config --dir DIR && pcscd -c DIR`"
            )
        yield
        return
    need_own_pcscd("pcscd is not running, and only root can start it")
    folder = tmp_path_factory.mktemp("pcscd")
    proc = PcscdProcess(folder / "reader.conf.d", slots, log=folder / "pcscd.log")
    proc.start()
    yield
    proc.stop()


@pytest.fixture
def vpcd_bench(pcscd_with_vpcd: None) -> Iterator[Bench]:
    with Bench.load(default_bench_path(), pcsc_service="vpcd") as bench:
        yield bench


@pytest.fixture
def emulated_bench() -> Iterator[Bench]:
    with Bench.load(default_bench_path()) as bench:
        yield bench


def bench_file(name: str) -> Path:
    return BENCHES / name


def stop_process(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    """A process a test started: asked to stop (SIGTERM), killed if it does not in time."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
