"""Per-port USB power, as uhubctl switches it: hub class Set/ClearPortFeature(PORT_POWER)
through pyusb, honoured by the emulated hub; ``usb_cable`` on a bench whose reader sits
behind such a hub needs no person."""

from __future__ import annotations

from pathlib import Path

import pytest
import usb.core

from harness.bench import Bench
from harness.devices.usb_power import HubPorts, PortPowerUnsupported
from harness.emulation.usb_backend import EmulatedUsbBackend
from harness.emulation.usb_records import EmulatedDevice, EmulatedHub, RootPort
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.hands import ManualHands
from harness.model.timeline import Timeline
from harness.operator import ScriptedOperator
from harness.paths import project_file

READER = EmulatedDevice("reader", 0x054C, 0x0DC8, "1-4.2", product="RC-S300")
NEIGHBOUR = EmulatedDevice("neighbour", 0x31AA, 0x3002, "1-4.3", product="ADR-MNICU3")


def _backend(port_power: bool, usb_version: float = 2.0) -> EmulatedUsbBackend:
    hub = EmulatedHub("hub", "1-4", 0x05E3, 0x0608, usb_version=usb_version,
                      port_power=port_power)
    tree = EmulatedUsbTree([RootPort("1-4", usb3=usb_version >= 3)], hubs=[hub],
                           devices=[READER, NEIGHBOUR])
    return EmulatedUsbBackend(tree)


def _paths(backend: EmulatedUsbBackend) -> list[str]:
    return sorted(f"{d.bus}-{'.'.join(map(str, d.port_numbers))}"
                  for d in usb.core.find(find_all=True, backend=backend) if d.port_numbers)


@pytest.mark.parametrize("usb_version", [2.0, 3.0])
def test_clear_port_feature_takes_the_device_off_usb_and_set_brings_it_back(
        usb_version: float) -> None:
    backend = _backend(port_power=True, usb_version=usb_version)
    ports = HubPorts(backend, "1-4", "hub")
    assert ports.characteristics() == (4, 0b01)
    ports.set_power(2, False)
    assert _paths(backend) == ["1-4", "1-4.3"]  # only port 2 went dark
    assert not ports.powered(2) and ports.powered(3)
    ports.set_power(2, True)
    assert _paths(backend) == ["1-4", "1-4.2", "1-4.3"]
    assert ports.powered(2)
    with pytest.raises(Exception, match="no port 5; it has ports 1..4"):
        ports.set_power(5, False)


def test_a_hub_without_port_power_refuses_in_one_line_and_ignores_the_request() -> None:
    backend = _backend(port_power=False)
    with pytest.raises(PortPowerUnsupported) as caught:
        HubPorts(backend, "1-4", "hub").set_power(2, False)
    [line] = str(caught.value).splitlines()
    assert line.startswith("hub 'hub' at 1-4 has no port power switching (its hub descriptor "
                           "says so): it cannot switch one port's power")
    # What a driver trusting the request would get: accepted, and nothing happens.
    hub = next(d for d in usb.core.find(find_all=True, backend=backend, bDeviceClass=9)
               if d.port_numbers)
    hub.ctrl_transfer(0x23, 0x01, 8, 2, None)
    assert _paths(backend) == ["1-4", "1-4.2", "1-4.3"]


BENCH = """\
bench: ports
kind: emulated
terminal:
  name: terminal
  usb_ports: [{{path: "1-4", usb: "2.0"}}, {{path: "1-1", usb: "2.0"}}]
hubs:
  - {{name: hub, path: "1-4", usb: "2.0", emulate: {devices}/hub/usb2-hub.yaml,
     port_power: {port_power}}}
readers:
  - name: sony
    kind: general_reader
    maker: Sony
    model: RC-S300/S1
    usb: {{vid: "054C", pid: "0DC8", path: "1-4.2"}}
    emulate: {devices}/general/sony-rc-s300-s1.yaml
  - name: sanwa
    kind: general_reader
    maker: Sanwa Supply
    model: ADR-MNICU3
    usb: {{vid: "31AA", pid: "3002", path: "1-1"}}
    emulate: {devices}/general/sanwa-adr-mnicu3.yaml
"""


def _bench(tmp_path: Path, port_power: bool) -> Bench:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH.format(devices=project_file("fixtures/devices"),
                                 port_power=str(port_power).lower()))
    return Bench.load(path).open()


def _nobody(bench: Bench, tmp_path: Path) -> ManualHands:
    """Hands whose operator has no answers: asking them anything fails."""
    hands = ManualHands.for_bench(bench)
    hands.operator = ScriptedOperator([], bench.clock)
    return hands


def test_usb_cable_behind_a_switching_hub_needs_no_person(tmp_path: Path) -> None:
    bench = _bench(tmp_path, port_power=True)
    try:
        assert bench.pcsc is not None
        sony_pcsc = next(r for r in bench.pcsc.readers() if r.startswith("SONY"))
        hands = _nobody(bench, tmp_path)
        hands.usb_cable("sony", plugged=False)
        assert "1-4.2" not in [d.topology.path for d in bench.usb.devices()]
        assert sony_pcsc not in bench.pcsc.readers()
        hands.usb_cable("sony", plugged=True)
        assert "1-4.2" in [d.topology.path for d in bench.usb.devices()]
        assert sony_pcsc in bench.pcsc.readers()
        timeline: Timeline = bench.timeline
        assert [(e.source, e.data["port"], e.data["on"])
                for e in timeline.events("usb.port_power")] == [("sony", 2, False),
                                                                 ("sony", 2, True)]
        assert [e.source for e in timeline.events("usb.detach")] == ["sony"]
        assert not timeline.events("operator")
    finally:
        bench.close()


def test_without_port_power_the_operator_is_asked(tmp_path: Path) -> None:
    bench = _bench(tmp_path, port_power=False)
    try:
        hands = _nobody(bench, tmp_path)
        with pytest.raises(Exception, match="has no answer for \"pull sony's USB cable out of the terminal\""):
            hands.usb_cable("sony", plugged=False)
        assert "1-4.2" in [d.topology.path for d in bench.usb.devices()]
        assert not bench.timeline.events("usb.port_power")
    finally:
        bench.close()
