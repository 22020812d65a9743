"""Power through a REAL pdudaemon (PyPI ``pdudaemon``, started here on localhost with its
own configuration) whose PDU is the emulated Numato board on its pty, driven by
pdudaemon's own ``NumatoUSB8`` driver. The rig asks over pdudaemon's HTTP API and reads the
contacts back through its own Numato driver on the same board.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench_relays import RelayContext, open_relays
from harness.devices.instruments import NumatoRelay, RelayArgumentError
from harness.devices.pdudaemon import PdudaemonRelay, PduRefused, PduSilent, RelayUnconfirmed
from harness.emulation.relay import EmulatedRelayBoard
from harness.errors import BadInput, RigError
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.clock import RealClock
from harness.model.timeline import Timeline
from tests.conftest import stop_process

PDU = "bench-numato"
START_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def board() -> Iterator[EmulatedRelayBoard]:
    with EmulatedRelayBoard(8, name=PDU) as board:
        yield board


@pytest.fixture(scope="module")
def daemon(board: EmulatedRelayBoard, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pdudaemon on a free localhost port; its URL. One daemon for the module."""
    folder = tmp_path_factory.mktemp("pdudaemon")
    port = _free_port()
    config = {
        "daemon": {"hostname": "127.0.0.1", "port": port, "listener": "http",
                   "logging_level": "INFO"},
        # One try: a failed switch is the rig's to name, not pdudaemon's to retry for 25 s.
        "pdus": {PDU: {"driver": "NumatoUSB8", "device": board.port, "retries": 1,
                       "retrydelay": 0}},
    }
    (folder / "pdudaemon.conf").write_text(json.dumps(config))
    log = (folder / "pdudaemon.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, pdudaemon; sys.argv[0] = 'pdudaemon'; "
         "sys.exit(pdudaemon.main())", "--conf", str(folder / "pdudaemon.conf")],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pdudaemon did not start: {(folder / 'pdudaemon.log').read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        stop_process(process)
        log.close()


@pytest.fixture
def readback(board: EmulatedRelayBoard) -> Iterator[NumatoRelay]:
    board.stuck_channels.clear()
    with NumatoRelay(board.port, name="readback") as relay:
        relay.all_off()
        yield relay


def _pdu(url: str, **kwargs: object) -> PdudaemonRelay:
    options: dict[str, object] = {"clock": RealClock(), "name": "pdu", "timeout_s": 5.0}
    options.update(kwargs)
    return PdudaemonRelay(url, PDU, [1, 2, 3], **options)  # type: ignore[arg-type]


def test_each_channel_switches_its_port_through_pdudaemon(
        daemon: str, board: EmulatedRelayBoard, readback: NumatoRelay) -> None:
    pdu = _pdu(daemon, readback=readback, readback_name="readback")
    pdu.on(2)  # channel 2 is pdudaemon's port 3 is the board's relay 2
    assert board.mask == 0b100
    assert pdu.is_on(2) and not pdu.is_on(0)
    pdu.on(0)
    pdu.off(2)
    assert board.mask == 0b001
    with pytest.raises(RelayArgumentError, match="no relay channel 3; this PDU has channels 0..2"):
        pdu.on(3)
    assert board.mask == 0b001


def test_a_switch_the_readback_never_shows_is_named_within_the_bound(
        daemon: str, board: EmulatedRelayBoard, readback: NumatoRelay) -> None:
    board.stuck_channels.add(1)  # welded: pdudaemon's driver switches, nothing changes
    pdu = _pdu(daemon, readback=readback, readback_name="readback", timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(RelayUnconfirmed) as caught:
        pdu.on(1)
    assert 1.0 < time.monotonic() - started < 4.0
    assert caught.value.fault == "relay.unconfirmed"
    assert "channel 1 (PDU port 2) on: readback did not read it back within 1.5 s" in str(
        caught.value)


def test_without_a_readback_each_switch_is_recorded_unconfirmed(
        daemon: str, board: EmulatedRelayBoard, readback: NumatoRelay) -> None:
    timeline = Timeline(RealClock())
    pdu = _pdu(daemon, timeline=timeline)
    pdu.on(0)
    assert board.state(0)  # pdudaemon 1.x answers once its driver has switched
    [event] = timeline.events("power.unconfirmed")
    assert (event.source, event.data["channel"], event.data["port"], event.data["on"]) == \
        ("pdu", 0, 1, True)
    with pytest.raises(RigError, match="cannot read a port back"):
        pdu.is_on(0)


def test_a_request_pdudaemon_refuses_and_a_daemon_not_there_are_bench_faults(
        daemon: str, board: EmulatedRelayBoard, readback: NumatoRelay) -> None:
    stranger = PdudaemonRelay(daemon, "no-such-pdu", [1], clock=RealClock(), name="pdu")
    with pytest.raises(PduRefused, match=r"relay.refused.*answered 500 'Invalid request'"):
        stranger.on(0)
    gone = PdudaemonRelay(f"http://127.0.0.1:{_free_port()}", PDU, [1], clock=RealClock(),
                          name="pdu", timeout_s=2.0)
    with pytest.raises(PduSilent, match=r"relay.silent.*no answer to .*/power/control/off"):
        gone.off(0)
    assert board.mask == 0


def _spec(tmp_path: Path, text: str) -> tuple[BenchSpec, Path]:
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    return load_yaml_model(path, BenchSpec, layered=True), path


def test_the_bench_file_opens_a_pdu_with_its_readback(
        daemon: str, board: EmulatedRelayBoard, tmp_path: Path) -> None:
    board.stuck_channels.clear()
    spec, path = _spec(tmp_path, f"""
bench: lab
kind: real
terminal: {{name: terminal, power: {{relay: pdu, channel: 1}}}}
instruments:
  - {{name: pdu, kind: pdudaemon, url: "{daemon}", hostname: {PDU}, ports: [1, 2]}}
  - {{name: contacts, kind: numato_relay, port: "{board.port}"}}
""")
    timeline = Timeline(RealClock())
    relays = open_relays(RelayContext(spec, path, timeline.clock, timeline, lambda: None))
    try:
        relays["pdu"].on(1)
        relays["pdu"].off(1)
        assert [(e.data["port"], e.data["on"]) for e in timeline.events("power.unconfirmed")] \
            == [(2, True), (2, False)]
    finally:
        for relay in relays.values():
            relay.close()
    spec, path = _spec(tmp_path, f"""
bench: lab
kind: real
instruments:
  - {{name: pdu, kind: pdudaemon, url: "{daemon}", hostname: {PDU}, ports: [1, 2],
     readback: contact}}
  - {{name: contacts, kind: numato_relay, port: "{board.port}"}}
""")
    with pytest.raises(BadInput) as caught:
        open_relays(RelayContext(spec, path, timeline.clock, timeline, lambda: None))
    assert str(caught.value) == (f"{path}:6: instruments[pdu].readback: no relay instrument "
                                 "named 'contact' (this bench's: contacts)")


@pytest.mark.parametrize(("entry", "problem"), [
    ("{name: pdu, kind: pdudaemon, url: 'http://h:1', hostname: x}", "pdudaemon needs ports"),
    ("{name: pdu, kind: pdudaemon, url: 'http://h:1', hostname: x, ports: [1], port: p}",
     "pdudaemon takes no port"),
    ("{name: pdu, kind: pdudaemon, url: 'h:1', hostname: x, ports: [1]}", "url"),
    ("{name: pdu, kind: pdudaemon, url: 'http://h:1', hostname: x, ports: [1, 1]}",
     "a PDU port switched by two channels"),
])
def test_a_bad_pdudaemon_entry_is_one_line(tmp_path: Path, entry: str, problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        _spec(tmp_path, f"bench: lab\nkind: real\ninstruments:\n  - {entry}\n")
    [line] = str(caught.value).splitlines()
    assert line.startswith(f"{tmp_path / 'bench.yaml'}:4: instruments") and problem in line
