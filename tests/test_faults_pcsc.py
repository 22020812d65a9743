"""PC/SC bench faults (issue 15 item 3): a reader gone in the middle of an exchange and
pcscd restarted, injected on the emulated bench; the rig's PC/SC driver names each (the
fault, the device, what was seen) at once, and the same bench works again after clear().
The vpcd tier runs against a private pcscd in a child process (it needs root)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import Bench, default_bench_path
from harness.devices.pcsc_faults import command_name
from harness.emulation.card import FileSystemCard
from harness.errors import BenchFault, DeviceGone, RigError
from harness.paths import project_file

READER = "sony-rc-s300-s1"
SELECT = bytes.fromhex("00A4040009F06F6E736869726967")
#: A VERIFY carrying a PIN: a fault must name the command, never its data.
VERIFY_PIN = bytes.fromhex("0020008004") + b"4321"


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    with Bench.load(default_bench_path(), pcsc_service="inprocess") as opened:
        yield opened


@pytest.fixture
def pcsc(bench: Bench, test_card: FileSystemCard) -> Iterator[str]:
    """The reader's PC/SC name, with the test card in; faults cleared after the test."""
    emu = bench.emulation
    emu.insert_card(READER, test_card)
    yield emu.pcsc_names[READER]
    bench.faults.clear()
    emu.remove_card(READER)


def test_reader_gone_mid_exchange_is_named_at_once(bench: Bench, pcsc: str,
                                                    test_card: FileSystemCard) -> None:
    conn = bench.pcsc.connect(pcsc)
    assert conn.transmit(SELECT) == b"\x90\x00"
    bench.faults.inject("reader.gone", READER)
    # It strikes with the next command, not before: the reader is still there.
    assert pcsc in bench.pcsc.readers()
    seen: list[bytes] = []
    original = test_card.transmit
    test_card.transmit = lambda apdu: seen.append(apdu) or original(apdu)  # type: ignore
    started = bench.clock.now()
    with pytest.raises(BenchFault) as fault:
        conn.transmit(VERIFY_PIN)
    assert seen == [VERIFY_PIN]  # the command went out; its answer never came
    error = fault.value
    assert (error.fault, error.device) == ("reader.gone", pcsc)
    assert error.detail.startswith("left PC/SC during VERIFY (00 20 00 80): ")
    assert "4321" not in str(error) and b"4321".hex() not in str(error).lower()
    assert error.bound_s == 0.0 and bench.clock.now() == started  # at once
    # Gone from PC/SC and from USB, as an unplugged reader is.
    assert pcsc not in bench.pcsc.readers()
    assert READER not in bench.emulation.usb_tree.plugged()

    bench.faults.clear()
    assert bench.faults.active() == []
    # Plugged back with the card it held: a new connection works; the old handle is dead.
    assert READER in bench.emulation.usb_tree.plugged()
    assert bench.pcsc.connect(pcsc).transmit(SELECT) == b"\x90\x00"
    with pytest.raises(DeviceGone):
        conn.transmit(SELECT)


def test_reader_gone_waits_for_its_reader_and_clears_unstruck(bench: Bench, pcsc: str) -> None:
    other = bench.emulation.pcsc_names["elecom-mr-ica001bk"]
    bench.faults.inject("reader.gone", READER)
    bench.emulation.insert_card("elecom-mr-ica001bk", FileSystemCard.load(project_file("fixtures/cards/test-card.yaml")))
    # Another reader's exchange does not trip it.
    assert bench.pcsc.connect(other).transmit(SELECT) == b"\x90\x00"
    bench.emulation.remove_card("elecom-mr-ica001bk")
    bench.faults.clear()  # never struck: nothing to plug back, and it strikes no more
    assert bench.pcsc.connect(pcsc).transmit(SELECT) == b"\x90\x00"
    assert READER in bench.emulation.usb_tree.plugged()


def test_a_card_pulled_mid_exchange_is_no_bench_fault(bench: Bench, pcsc: str,
                                                       test_card: FileSystemCard) -> None:
    """The reader stays: a card that left is DeviceGone (the flow's to judge), not
    reader.gone; neither is a reader unplugged before the command went out."""
    conn = bench.pcsc.connect(pcsc)
    original = test_card.transmit

    def pulled(apdu: bytes) -> bytes:
        bench.emulation.remove_card(READER)
        return original(apdu)

    test_card.transmit = pulled  # type: ignore[method-assign]
    with pytest.raises(DeviceGone) as gone:
        conn.transmit(SELECT)
    assert not isinstance(gone.value, BenchFault)
    test_card.transmit = original  # type: ignore[method-assign]
    bench.emulation.insert_card(READER, test_card)
    conn = bench.pcsc.connect(pcsc)
    bench.emulation.unplug(READER)
    try:
        with pytest.raises(DeviceGone) as gone:
            conn.transmit(SELECT)
        assert not isinstance(gone.value, BenchFault)
    finally:
        bench.emulation.plug(READER)


def test_pcscd_restarted_fails_the_stale_handle_and_the_next_call_reconnects(
        bench: Bench, pcsc: str) -> None:
    conn = bench.pcsc.connect(pcsc)
    assert conn.transmit(SELECT) == b"\x90\x00"
    bench.faults.inject("pcscd.restarted")
    assert bench.faults.active() == [("pcscd.restarted", "pcscd")]
    with pytest.raises(BenchFault) as fault:
        conn.transmit(SELECT)
    error = fault.value
    assert (error.fault, error.device) == ("pcscd.restarted", "pcscd")
    assert "went stale during SELECT (00 A4 04 00)" in error.detail
    assert "SCARD_E_INVALID_HANDLE" in error.detail
    # The next call opens a new context by itself: no second fault for the same restart.
    assert pcsc in bench.pcsc.readers()
    bench.faults.clear()
    assert bench.pcsc.connect(pcsc).transmit(SELECT) == b"\x90\x00"


def test_pcscd_restarted_fails_the_first_service_call_once(bench: Bench, pcsc: str) -> None:
    assert bench.pcsc.card_present(pcsc)  # healthy: many calls, no fault
    bench.faults.inject("pcscd.restarted")
    with pytest.raises(BenchFault, match=r"bench fault \(pcscd.restarted\): pcscd: the rig's "
                       r"PC/SC context went stale during listing readers"):
        bench.pcsc.readers()
    assert pcsc in bench.pcsc.readers()
    assert bench.pcsc.card_present(pcsc)
    assert bench.pcsc.connect(pcsc).transmit(SELECT) == b"\x90\x00"


def test_faults_name_their_target(bench: Bench) -> None:
    with pytest.raises(RigError, match="'canon-cam' is no PC/SC reader"):
        bench.faults.inject("reader.gone", "canon-cam")
    bench.faults.clear()


def test_a_command_is_named_by_its_header_alone() -> None:
    assert command_name(bytes.fromhex("00B0000004")) == "READ BINARY (00 B0 00 00)"
    assert command_name(bytes.fromhex("80CA9F7F00")) == "GET DATA (80 CA 9F 7F)"
    assert command_name(bytes.fromhex("00F2000000")) == "command 00 F2 00 00"
    assert command_name(b"\x00\xa4") == "a malformed command (00 A4)"


def test_the_jpki_probe_lets_a_bench_fault_through(bench: Bench, pcsc: str) -> None:
    """A probe step that met a bench fault is no failed step of the reader: the fault
    itself reaches pytest (and the certification: not_run with it)."""
    from harness.devices.jpki_probe import probe_pcsc

    bench.faults.inject("reader.gone", READER)
    with pytest.raises(BenchFault, match=r"reader.gone.*left PC/SC during SELECT"):
        probe_pcsc(bench.pcsc, pcsc, READER, timeout_s=1)


def test_emulate_refuses_an_unknown_fault_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["emulate", "--fault", "reader.lost:canon"]) == 2
    err = capsys.readouterr().err
    assert "argument --fault: no such fault 'reader.lost' (known: reader.gone," in err
    assert "Traceback" not in err


#: The vpcd tier, in a child process: a private pcscd (its own mount namespace and socket,
#: PCSCLITE_CSOCK_NAME read once per process) the test restarts; nobody else's is touched.
VPCD_CHILD = r'''
import os, socket, sys, tempfile
from pathlib import Path
work = Path(sys.argv[1])
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
bench_file = work / "bench.yaml"
bench_file.write_text(f"base: {sys.argv[2]}\npcsc: {{service: vpcd, vpcd_base_port: {port}}}\n")
os.environ["PCSCLITE_CSOCK_NAME"] = str(work / "run" / "pcscd.comm")
from harness.bench import Bench
from harness.emulation.bench import load_twins, vpcd_slots
from harness.emulation.card import FileSystemCard
from harness.emulation.pcscd import PcscdProcess
from harness.errors import BenchFault
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
spec = load_yaml_model(bench_file, BenchSpec, layered=True)
slots = list(vpcd_slots(spec, load_twins(spec, bench_file)).values())
proc = PcscdProcess(work / "conf", slots, log=work / "pcscd.log", run_dir=work / "run")
proc.start()
try:
    with Bench.load(bench_file) as bench:
        emu = bench.emulation
        reader = next(iter(emu.vpcd_links))
        name = emu.pcsc_names[reader]
        emu.insert_card(reader, FileSystemCard.load(sys.argv[3]))
        bench.pcsc.wait_for_card(name, timeout=5)
        conn = bench.pcsc.connect(name)
        select = bytes.fromhex("00A4040009F06F6E736869726967")
        print("before", conn.transmit(select).hex())
        bench.faults.inject("pcscd.restarted")
        try:
            conn.transmit(select)
        except BenchFault as exc:
            print("fault", exc.fault, exc.device, exc.detail)
        bench.faults.clear()
        bench.pcsc.wait_for_card(name, timeout=5)
        print("after", bench.pcsc.connect(name).transmit(select).hex())
finally:
    proc.stop()
'''


def test_pcscd_restarted_on_the_vpcd_tier_with_a_private_pcscd(tmp_path, test_card) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import need_own_pcscd

    need_own_pcscd("a private pcscd needs root (its own mount namespace)")
    env = {k: v for k, v in os.environ.items() if k != "PCSCLITE_CSOCK_NAME"}
    done = subprocess.run(
        [sys.executable, "-c", VPCD_CHILD, str(tmp_path), str(default_bench_path()),
         str(project_file("fixtures/cards/test-card.yaml"))],
        capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "before 9000"
    assert lines[1].startswith("fault pcscd.restarted pcscd the rig's PC/SC context went "
                               "stale during SELECT (00 A4 04 00): "), lines
    assert lines[2] == "after 9000"


def test_the_rig_restarts_no_pcscd_it_did_not_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.emulation.pcscd import restart_own_pcscd

    # A socket no pcscd of this process serves (this worker may have started its own for
    # an earlier test: that one it may restart).
    monkeypatch.setenv("PCSCLITE_CSOCK_NAME", str(tmp_path / "someone-elses.comm"))
    with pytest.raises(RigError, match="was not started by this process; the rig restarts "
                       "only its own"):
        restart_own_pcscd()
