"""The emulated pyusb backend, driven only through the real pyusb API, and PyusbBus on it."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest
import usb.backend.libusb1
import usb.core
import usb.util

from harness.devices.sysfs import SysfsUsbTree
from harness.devices.usb import PyusbBus
from harness.emulation.usb_backend import EmulatedUsbBackend
from harness.emulation.usb_records import EchoHandler, EmulatedDevice, EmulatedHub, RootPort
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.errors import MissingSystemPart, RigError
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.model.topology import UsbTopology
from harness.protocols import UsbBus, UsbDeviceInfo

TERMINAL_A = Path(__file__).resolve().parent.parent / "fixtures" / "sysfs" / "terminal-a"
CCID = 0x0B

FACE = EmulatedDevice(
    name="face", vid=0xFFFF, pid=0xF001, path="2-1", manufacturer="placeholder",
    product="placeholder face-auth reader", serial="PLACEHOLDER-F001", bcd_usb=0x0320,
    interface_class=CCID, max_speed_mbps=5000,
)  # fmt: skip
SONY = EmulatedDevice(
    name="sony", vid=0x054C, pid=0x0DC8, path="1-2", manufacturer="SONY",
    product="RC-S300/S", serial="PLACEHOLDER-0DC8", interface_class=CCID, max_speed_mbps=480,
    bcd_device=0x0102,
)  # fmt: skip
F002 = EmulatedDevice(
    name="f002", vid=0xFFFF, pid=0xF002, path="1-3", manufacturer="placeholder",
    product="placeholder reader F002", serial="PLACEHOLDER-F002", interface_class=CCID,
)  # fmt: skip
HUB = EmulatedHub(name="hub", path="1-4", vid=0x05E3, pid=0x0608, product="USB2.0 Hub")
CIRCLE = EmulatedDevice(
    name="circle", vid=0x31AA, pid=0x3002, path="1-4.1", manufacturer="AB Circle",
    product="Circle CIR315 CL", interface_class=CCID, max_speed_mbps=12,
)  # fmt: skip
F003 = EmulatedDevice(
    name="f003", vid=0xFFFF, pid=0xF003, path="1-4.3", manufacturer="placeholder",
    product="placeholder reader F003", serial="PLACEHOLDER-F003", interface_class=CCID,
)  # fmt: skip


def terminal_a(timeline: Timeline | None = None) -> EmulatedUsbTree:
    """The emulated twin of fixtures/sysfs/terminal-a (one physical port = one RootPort)."""
    ports = [
        RootPort("2-1", usb3=True),
        RootPort("1-2", usb3=True),  # blue port, USB 2 device in it: on the USB 2 bus
        RootPort("1-3", usb3=False),
        RootPort("1-4", usb3=False),
        RootPort("1-1", usb3=False),
    ]
    return EmulatedUsbTree(
        ports, hubs=[HUB], devices=[FACE, SONY, F002, CIRCLE, F003], timeline=timeline
    )


class RecordingBackend(EmulatedUsbBackend):
    """Notes every control transfer, to prove pyusb's string reads reach the device."""

    def __init__(self, tree: EmulatedUsbTree) -> None:
        super().__init__(tree)
        self.requests: list[tuple[int, int, int, int]] = []

    def ctrl_transfer(  # type: ignore[no-untyped-def]
        self, dev_handle, bmRequestType, bRequest, wValue, wIndex, data, timeout
    ):
        self.requests.append((bmRequestType, bRequest, wValue, wIndex))
        return super().ctrl_transfer(
            dev_handle, bmRequestType, bRequest, wValue, wIndex, data, timeout
        )


def find_all(backend: usb.backend.IBackend, **match: int) -> list[usb.core.Device]:
    return list(usb.core.find(find_all=True, backend=backend, **match))


def find_one(backend: usb.backend.IBackend, vid: int, pid: int) -> usb.core.Device:
    dev = usb.core.find(backend=backend, idVendor=vid, idProduct=pid)
    assert dev is not None, f"{vid:04x}:{pid:04x} not enumerated"
    return dev


def ids(devices: list[usb.core.Device]) -> set[tuple[int, int]]:
    return {(d.idVendor, d.idProduct) for d in devices}


# ---------------------------------------------------------------------------- enumeration


def test_find_lists_root_hubs_hub_and_devices() -> None:
    devices = find_all(EmulatedUsbBackend(terminal_a()))

    assert ids(devices) == {
        (0x1D6B, 0x0002), (0x1D6B, 0x0003), (0x05E3, 0x0608), (0xFFFF, 0xF001),
        (0x054C, 0x0DC8), (0xFFFF, 0xF002), (0x31AA, 0x3002), (0xFFFF, 0xF003),
    }  # fmt: skip
    roots = [d for d in devices if d.port_numbers is None]
    assert sorted((d.bus, d.address, d.bDeviceClass) for d in roots) == [(1, 1, 9), (2, 1, 9)]
    assert len({(d.bus, d.address) for d in devices}) == len(devices)  # unique addresses


def test_strings_come_through_get_string_and_string_descriptors() -> None:
    backend = RecordingBackend(terminal_a())
    sony = find_one(backend, 0x054C, 0x0DC8)

    assert sony.manufacturer == "SONY"
    assert sony.product == "RC-S300/S"
    assert sony.serial_number == "PLACEHOLDER-0DC8"
    assert usb.util.get_string(sony, sony.iProduct, 0x0409) == "RC-S300/S"
    get_string_descriptor = [(r[2] >> 8, r[2] & 0xFF) for r in backend.requests
                             if r[:2] == (0x80, 0x06)]  # fmt: skip
    assert (3, 0) in get_string_descriptor  # the langid table
    assert (3, sony.iProduct) in get_string_descriptor
    assert sony.langids == (0x0409,)


def test_missing_serial_has_index_zero() -> None:
    circle = find_one(EmulatedUsbBackend(terminal_a()), 0x31AA, 0x3002)

    assert circle.iSerialNumber == 0
    assert circle.serial_number is None
    assert circle.product == "Circle CIR315 CL"


def test_unknown_string_index_stalls_like_a_device() -> None:
    circle = find_one(EmulatedUsbBackend(terminal_a()), 0x31AA, 0x3002)

    with pytest.raises(usb.core.USBError) as caught:
        usb.util.get_string(circle, 9)
    assert caught.value.errno == errno.EPIPE


def test_configuration_interface_and_endpoints() -> None:
    sony = find_one(EmulatedUsbBackend(terminal_a()), 0x054C, 0x0DC8)

    config = sony.get_active_configuration()
    assert config.bConfigurationValue == 1
    interface = config[(0, 0)]
    assert interface.bInterfaceClass == CCID
    assert [(e.bEndpointAddress, e.wMaxPacketSize) for e in interface] == [
        (0x01, 512), (0x82, 512), (0x83, 8),
    ]  # fmt: skip
    assert [c.bConfigurationValue for c in sony] == [1]
    assert usb.util.find_descriptor(sony, find_all=True, bConfigurationValue=1)
    sony.set_configuration()
    usb.util.claim_interface(sony, 0)
    usb.util.dispose_resources(sony)
    # Raw descriptor bytes agree with the parsed ones.
    raw = sony.ctrl_transfer(0x80, 0x06, 0x0100, 0, 18)
    assert (raw[8] | raw[9] << 8, raw[10] | raw[11] << 8) == (0x054C, 0x0DC8)


def test_parent_is_the_hub_or_the_root_hub() -> None:
    backend = EmulatedUsbBackend(terminal_a())

    circle = find_one(backend, 0x31AA, 0x3002)
    assert (circle.parent.idVendor, circle.parent.idProduct) == (0x05E3, 0x0608)
    assert circle.port_numbers == (4, 1)
    face = find_one(backend, 0xFFFF, 0xF001)
    assert face.parent.port_numbers is None and face.parent.bDeviceClass == 9
    assert face.parent.parent is None


# ---------------------------------------------------------------------------- speeds


def test_negotiated_speeds() -> None:
    backend = EmulatedUsbBackend(terminal_a())

    assert find_one(backend, 0xFFFF, 0xF001).speed == usb.util.SPEED_SUPER
    assert find_one(backend, 0x054C, 0x0DC8).speed == usb.util.SPEED_HIGH
    assert find_one(backend, 0x31AA, 0x3002).speed == usb.util.SPEED_FULL  # 12 stays 12


def test_superspeed_device_is_held_to_480_by_a_usb2_hub_or_port() -> None:
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)
    tree.detach("f003")
    tree.attach(EmulatedDevice(name="ss", vid=0xFFFF, pid=0xF0A0, path="1-4.3",
                               max_speed_mbps=5000))  # fmt: skip
    tree.attach(EmulatedDevice(name="ss2", vid=0xFFFF, pid=0xF0A1, path="1-1",
                               max_speed_mbps=10000))  # fmt: skip

    assert find_one(backend, 0xFFFF, 0xF0A0).speed == usb.util.SPEED_HIGH
    assert find_one(backend, 0xFFFF, 0xF0A1).speed == usb.util.SPEED_HIGH
    assert tree.topology(1, (4, 3)) == UsbTopology("1-4.3", 480.0, False, 1)


def test_usb3_hub_passes_superspeed_only_from_a_usb3_port() -> None:
    tree = EmulatedUsbTree(
        [RootPort("2-1", usb3=True), RootPort("1-3", usb3=False)],
        hubs=[
            EmulatedHub("hub3", "2-1", 0x05E3, 0x0626, usb_version=3.0),
            EmulatedHub("hub3b", "1-3", 0x05E3, 0x0626, usb_version=3.0),
        ],
        devices=[
            EmulatedDevice("a", 0xFFFF, 0xF0B0, "2-1.2", max_speed_mbps=5000),
            EmulatedDevice("b", 0xFFFF, 0xF0B1, "1-3.2", max_speed_mbps=5000),
        ],
    )
    backend = EmulatedUsbBackend(tree)

    assert find_one(backend, 0xFFFF, 0xF0B0).speed == usb.util.SPEED_SUPER
    assert find_one(backend, 0xFFFF, 0xF0B1).speed == usb.util.SPEED_HIGH


# ---------------------------------------------------------------------------- hot-plug


def test_attach_and_detach_show_in_the_next_find() -> None:
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)
    new = EmulatedDevice("new", 0xFFFF, 0xF0C0, "1-1", product="new one")

    tree.attach(new)
    first = find_one(backend, 0xFFFF, 0xF0C0)
    assert first.product == "new one"
    tree.detach("new")
    assert usb.core.find(backend=backend, idVendor=0xFFFF, idProduct=0xF0C0) is None
    tree.attach(new)
    again = find_one(backend, 0xFFFF, 0xF0C0)
    assert again.address != first.address  # a re-plug is a new device to libusb


def test_unpowered_device_is_not_enumerated() -> None:
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)

    tree.set_powered("sony", False)
    assert (0x054C, 0x0DC8) not in ids(find_all(backend))
    assert tree.topology(1, (2,)) is None
    tree.set_powered("sony", True)
    assert (0x054C, 0x0DC8) in ids(find_all(backend))


def test_a_device_switched_while_its_cable_is_out_keeps_that_power() -> None:
    """Its mains are not its USB cable: switched off and on again while unplugged (a
    bench's morning routine with ERR-06's cable out), it enumerates once plugged in."""
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)
    record = SONY
    tree.detach("sony")
    tree.set_powered("sony", False)
    tree.set_powered("sony", True)
    tree.attach(record)
    assert (0x054C, 0x0DC8) in ids(find_all(backend))
    # ... and one switched off while out stays off once plugged.
    tree.detach("sony")
    tree.set_powered("sony", False)
    tree.attach(record)
    assert (0x054C, 0x0DC8) not in ids(find_all(backend))


def test_detaching_the_hub_removes_what_is_behind_it() -> None:
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)

    tree.detach("hub")

    left = ids(find_all(backend))
    assert not left & {(0x05E3, 0x0608), (0x31AA, 0x3002), (0xFFFF, 0xF003)}
    assert (0x054C, 0x0DC8) in left
    with pytest.raises(RigError, match="circle"):
        tree.detach("circle")  # went with the hub


def test_unpowered_hub_hides_its_devices_until_power_returns() -> None:
    tree = terminal_a()
    backend = EmulatedUsbBackend(tree)

    tree.set_powered("hub", False)
    assert (0x31AA, 0x3002) not in ids(find_all(backend))
    tree.set_powered("hub", True)
    assert (0x31AA, 0x3002) in ids(find_all(backend))


def test_timeline_records_attach_and_detach() -> None:
    timeline = Timeline(VirtualClock())
    tree = terminal_a(timeline)
    assert len(timeline) == 0  # what is there from the start is not an event

    tree.detach("hub")
    tree.attach(EmulatedDevice("new", 0xFFFF, 0xF0C0, "1-1"))
    tree.set_powered("sony", False)

    got = [(e.kind, e.source, e.data["path"], e.data["vid_pid"]) for e in timeline]
    assert got == [
        ("usb.detach", "circle", "1-4.1", "31aa:3002"),
        ("usb.detach", "f003", "1-4.3", "ffff:f003"),
        ("usb.detach", "hub", "1-4", "05e3:0608"),
        ("usb.attach", "new", "1-1", "ffff:f0c0"),
        ("usb.detach", "sony", "1-2", "054c:0dc8"),
    ]
    assert len(timeline.events("usb")) == 5


def test_bad_attach_is_a_rig_error() -> None:
    tree = terminal_a()

    with pytest.raises(RigError, match="1-2"):
        tree.attach(EmulatedDevice("dup", 0xFFFF, 0xF0D0, "1-2"))
    with pytest.raises(RigError, match="no root port 3-1"):
        tree.attach(EmulatedDevice("far", 0xFFFF, 0xF0D1, "3-1"))
    with pytest.raises(RigError, match="no hub"):
        tree.attach(EmulatedDevice("orphan", 0xFFFF, 0xF0D2, "1-3.1"))


# ---------------------------------------------------------------------------- unplug while open


def test_every_transfer_after_unplug_fails_with_enodev() -> None:
    tree = terminal_a()
    sony = find_one(EmulatedUsbBackend(tree), 0x054C, 0x0DC8)
    assert list(sony.ctrl_transfer(0x80, 0x00, 0, 0, 2)) == [0, 0]  # handle is open

    tree.detach("sony")

    for attempt in (
        lambda: sony.ctrl_transfer(0x80, 0x00, 0, 0, 2),
        lambda: sony.ctrl_transfer(0x80, 0x00, 0, 0, 2),
        lambda: sony.write(0x01, b"\x62\x00"),
        lambda: sony.read(0x82, 64, timeout=50),
    ):
        with pytest.raises(usb.core.USBError) as caught:
            attempt()
        assert caught.value.errno == errno.ENODEV
        assert caught.value.backend_error_code == -4


def test_vendor_echo_round_trip() -> None:
    tree = EmulatedUsbTree([RootPort("1-1", usb3=False)], devices=[
        EmulatedDevice("echo", 0xFFFF, 0xF0E0, "1-1", vendor_handler=EchoHandler(delay_s=0.01)),
    ])  # fmt: skip
    dev = find_one(EmulatedUsbBackend(tree), 0xFFFF, 0xF0E0)

    assert dev.ctrl_transfer(0x40, 0x01, 0, 0, b"ping", timeout=1000) == 4
    assert bytes(dev.ctrl_transfer(0xC0, 0x01, 0, 0, 16, timeout=1000)) == b"ping"


def test_slow_vendor_answer_times_out() -> None:
    tree = EmulatedUsbTree([RootPort("1-1", usb3=False)], devices=[
        EmulatedDevice("slow", 0xFFFF, 0xF0E1, "1-1", vendor_handler=EchoHandler(delay_s=5)),
    ])  # fmt: skip
    dev = find_one(EmulatedUsbBackend(tree), 0xFFFF, 0xF0E1)

    started = time.monotonic()
    with pytest.raises(usb.core.USBTimeoutError) as caught:
        dev.ctrl_transfer(0xC0, 0x01, 0, 0, 16, timeout=100)
    assert time.monotonic() - started < 2
    assert caught.value.errno == errno.ETIMEDOUT


def test_pulled_mid_transfer_raises_enodev_not_data() -> None:
    tree = EmulatedUsbTree([RootPort("1-1", usb3=False)], devices=[
        EmulatedDevice("slow", 0xFFFF, 0xF0E2, "1-1", vendor_handler=EchoHandler(delay_s=5)),
    ])  # fmt: skip
    dev = find_one(EmulatedUsbBackend(tree), 0xFFFF, 0xF0E2)
    puller = threading.Timer(0.2, tree.detach, args=("slow",))

    started = time.monotonic()
    puller.start()
    try:
        with pytest.raises(usb.core.USBError) as caught:
            dev.ctrl_transfer(0xC0, 0x01, 0, 0, 16, timeout=3000)
    finally:
        puller.join()
    elapsed = time.monotonic() - started

    assert caught.value.errno == errno.ENODEV
    assert caught.value.backend_error_code == -4
    assert not isinstance(caught.value, usb.core.USBTimeoutError)
    assert 0.15 < elapsed < 2  # ended by the unplug, well before the 3 s timeout


def test_access_denied_fails_the_open_like_libusb() -> None:
    tree = EmulatedUsbTree([RootPort("1-1", usb3=False)], devices=[
        EmulatedDevice("locked", 0xFFFF, 0xF0E3, "1-1", product="locked", access_denied=True),
    ])  # fmt: skip
    dev = find_one(EmulatedUsbBackend(tree), 0xFFFF, 0xF0E3)

    assert dev.langids == ()  # pyusb swallows the EACCES here ...
    with pytest.raises(ValueError, match="langid"):
        _ = dev.product  # ... and get_string then gives up


# ---------------------------------------------------------------------------- PyusbBus


def test_pyusb_bus_lists_devices_with_topology_and_skips_hubs() -> None:
    tree = terminal_a()
    bus: UsbBus = PyusbBus(EmulatedUsbBackend(tree), tree)

    got = bus.devices()

    assert [(d.vid_pid, d.topology) for d in got] == [
        ("054c:0dc8", UsbTopology("1-2", 480.0, True, 0)),
        ("ffff:f002", UsbTopology("1-3", 480.0, False, 0)),
        ("31aa:3002", UsbTopology("1-4.1", 12.0, False, 1)),
        ("ffff:f003", UsbTopology("1-4.3", 480.0, False, 1)),
        ("ffff:f001", UsbTopology("2-1", 5000.0, True, 0)),
    ]
    assert got[0] == UsbDeviceInfo(0x054C, 0x0DC8, "SONY", "RC-S300/S", "PLACEHOLDER-0DC8",
                                   UsbTopology("1-2", 480.0, True, 0), False,
                                   version="1.02")  # fmt: skip
    assert got[2].serial is None


def test_pyusb_bus_can_include_external_hubs_but_never_root_hubs() -> None:
    tree = terminal_a()

    hubs = [d for d in PyusbBus(EmulatedUsbBackend(tree), tree).devices(include_hubs=True)
            if d.is_hub]  # fmt: skip

    assert [(d.vid_pid, d.product, d.topology.path) for d in hubs] == [
        ("05e3:0608", "USB2.0 Hub", "1-4")
    ]


def test_emulated_and_sysfs_topology_agree_on_terminal_a() -> None:
    backend = EmulatedUsbBackend(terminal_a())

    from_sysfs = PyusbBus(backend, SysfsUsbTree(TERMINAL_A)).devices()
    from_tree = PyusbBus(backend, backend.tree).devices()

    assert [d.topology for d in from_sysfs] == [d.topology for d in from_tree]
    assert [d.topology for d in SysfsUsbTree(TERMINAL_A).devices()] == [
        d.topology for d in from_tree
    ]


def test_pyusb_bus_falls_back_to_pyusb_speed_and_ports() -> None:
    class NoTopology:
        def topology(self, bus: int, port_numbers: tuple[int, ...]) -> UsbTopology | None:
            return None

    by_path = {d.topology.path: d.topology
               for d in PyusbBus(EmulatedUsbBackend(terminal_a()), NoTopology()).devices()}  # fmt: skip

    assert by_path["2-1"] == UsbTopology("2-1", 5000.0, True, 0)  # SuperSpeed proves USB 3
    assert by_path["1-2"] == UsbTopology("1-2", 480.0, None, 0)  # cannot tell without sysfs
    assert by_path["1-4.1"] == UsbTopology("1-4.1", 12.0, None, 1)


def test_pyusb_bus_keeps_unreadable_strings_as_none() -> None:
    tree = EmulatedUsbTree([RootPort("1-1", usb3=False), RootPort("1-2", usb3=False)], devices=[
        EmulatedDevice("locked", 0xFFFF, 0xF0E3, "1-1", product="locked", access_denied=True),
        EmulatedDevice("open", 0xFFFF, 0xF0E4, "1-2", product="open"),
    ])  # fmt: skip

    got = PyusbBus(EmulatedUsbBackend(tree), tree).devices()

    assert [(d.pid, d.manufacturer, d.product, d.serial) for d in got] == [
        (0xF0E3, None, None, None),
        (0xF0E4, None, "open", None),
    ]


def test_pyusb_bus_sees_device_unplugged_during_enumeration_as_no_strings() -> None:
    tree = terminal_a()

    class UnplugWhileReading(EmulatedUsbBackend):
        def open_device(self, dev):  # type: ignore[no-untyped-def]
            if dev.record is not None and dev.record.name == "f002":
                tree.detach("f002")
            return super().open_device(dev)

    got = {d.pid: d for d in PyusbBus(UnplugWhileReading(tree), tree).devices()
           if d.vid == 0xFFFF}  # fmt: skip

    assert got[0xF002].product is None
    assert got[0xF001].product == "placeholder face-auth reader"


def test_real_without_libusb_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a machine where pyusb finds no libusb shared library.
    monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: None)

    with pytest.raises(MissingSystemPart) as caught:
        PyusbBus.real(sysfs_root=TERMINAL_A)
    assert caught.value.hint == "apt-get install libusb-1.0-0"


@pytest.mark.parametrize("hubs", [False, True])
def test_sysfs_alone_lists_what_libusb_lists_on_terminal_a(hubs: bool) -> None:
    """``usb_devices: sysfs``: the IDs, strings, release and hub flag from the kernel's files
    are what libusb reads from the devices (the same bench, both ways)."""
    from harness.devices.sysfs import SysfsBus

    from_libusb = PyusbBus(EmulatedUsbBackend(terminal_a()), SysfsUsbTree(TERMINAL_A))
    from_sysfs = SysfsBus(SysfsUsbTree(TERMINAL_A)).devices(include_hubs=hubs)

    assert from_sysfs == from_libusb.devices(include_hubs=hubs)
    assert any(d.is_hub for d in from_sysfs) is hubs
    assert all(d.version for d in from_sysfs)  # each release read, not left out


def test_the_box_sysfs_folder_lists_what_libusb_sees_of_the_tree(tmp_path: Path) -> None:
    """The bench in a box writes its tree as sysfs (harness/emulation/box/sysfs_tree.py):
    read back through sysfs alone it is the tree libusb sees, and an unplug shows."""
    from harness.devices.sysfs import SysfsBus
    from harness.emulation.box.sysfs_tree import SysfsWriter

    tree = terminal_a()
    writer = SysfsWriter(tree, tmp_path / "sysfs")
    assert writer.update()
    bus = SysfsBus(SysfsUsbTree(tmp_path / "sysfs"))
    libusb = PyusbBus(EmulatedUsbBackend(tree), tree)

    assert bus.devices() == libusb.devices()
    assert bus.devices(include_hubs=True) == libusb.devices(include_hubs=True)
    assert {d.topology.path for d in bus.devices()} >= {"1-2", "1-4.1"}
    tree.detach(SONY.name)
    assert writer.update() and not writer.update()  # a change is written once
    assert "1-2" not in {d.topology.path for d in bus.devices()}
    assert bus.devices() == libusb.devices()
