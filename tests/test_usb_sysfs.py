"""SysfsUsbTree against fixtures/sysfs/terminal-a (see its README.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.devices.sysfs import SysfsUsbTree
from harness.errors import RigError
from harness.model.topology import UsbTopology

TERMINAL_A = Path(__file__).resolve().parent.parent / "fixtures" / "sysfs" / "terminal-a"


def copy_of_terminal_a(tmp_path: Path) -> Path:
    root = tmp_path / "devices"
    shutil.copytree(TERMINAL_A, root, symlinks=True)  # keep peer links as links
    return root


def test_lists_devices_but_not_hubs_root_hubs_or_interfaces() -> None:
    names = [d.name for d in SysfsUsbTree(TERMINAL_A).devices()]

    # usb1/usb2 (root hubs), 1-4 (hub), 1-2:1.0 / 1-0:1.0 (interfaces) are all left out.
    assert names == ["1-2", "1-3", "1-4.1", "1-4.3", "2-1"]


def test_reads_ids_and_strings() -> None:
    by_name = {d.name: d for d in SysfsUsbTree(TERMINAL_A).devices()}

    sony = by_name["1-2"]
    assert (sony.vid, sony.pid) == (0x054C, 0x0DC8)
    assert (sony.manufacturer, sony.product) == ("SONY", "RC-S300/S")
    assert sony.usb_version == "2.00"
    circle = by_name["1-4.1"]
    assert (circle.vid, circle.pid, circle.product) == (0x31AA, 0x3002, "Circle CIR315 CL")
    assert circle.serial is None  # no serial file
    assert by_name["2-1"].product == "placeholder face-auth reader"
    assert by_name["2-1"].usb_version == "3.20"


def test_usb2_device_in_blue_port_is_on_a_usb3_root_port() -> None:
    tree = SysfsUsbTree(TERMINAL_A)

    # Both on the USB 2 root hub at 480 Mbit/s: only the peer link tells them apart.
    assert tree.topology(1, (2,)) == UsbTopology("1-2", 480.0, True, 0)
    assert tree.topology(1, (3,)) == UsbTopology("1-3", 480.0, False, 0)
    assert tree.topology(2, (1,)) == UsbTopology("2-1", 5000.0, True, 0)


def test_devices_behind_the_hub() -> None:
    tree = SysfsUsbTree(TERMINAL_A)

    assert tree.topology(1, (4, 1)) == UsbTopology("1-4.1", 12.0, False, 1)
    assert tree.topology(1, (4, 3)) == UsbTopology("1-4.3", 480.0, False, 1)
    assert tree.topology(1, (4,)) == UsbTopology("1-4", 480.0, False, 0)  # the hub itself


def test_nothing_there_is_none() -> None:
    tree = SysfsUsbTree(TERMINAL_A)

    assert tree.topology(1, (1,)) is None
    assert tree.topology(1, (4, 2)) is None
    assert tree.topology(3, (1,)) is None
    assert tree.topology(1, ()) is None


def test_the_peer_link_decides_usb3(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    os.remove(root / "usb1" / "1-0:1.0" / "usb1-port2" / "peer")
    os.symlink(
        "../../../usb2/2-0:1.0/usb2-port3", root / "usb1" / "1-0:1.0" / "usb1-port3" / "peer"
    )
    tree = SysfsUsbTree(root)

    assert tree.topology(1, (2,)).root_port_usb3 is False
    assert tree.topology(1, (3,)).root_port_usb3 is True


def test_peer_pointing_at_a_usb2_root_hub_is_not_usb3(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    peer = root / "usb1" / "1-0:1.0" / "usb1-port3" / "peer"
    os.symlink("../../../usb1/1-0:1.0/usb1-port4", peer)

    assert SysfsUsbTree(root).topology(1, (3,)).root_port_usb3 is False


def test_follows_symlinked_entries_like_real_sysfs(tmp_path: Path) -> None:
    # Real layout: /sys/bus/usb/devices/* are links into /sys/devices/pci.../usbN/...
    controller = tmp_path / "sys" / "devices" / "pci0000:00" / "0000:00:14.0"
    bus_dir = tmp_path / "sys" / "bus" / "usb" / "devices"
    bus_dir.mkdir(parents=True)
    controller.mkdir(parents=True)
    for hub in ("usb1", "usb2"):
        shutil.copytree(TERMINAL_A / hub, controller / hub, symlinks=True)
    for entry in sorted(os.listdir(TERMINAL_A)):
        if entry.startswith("usb") or entry.endswith(".md") or entry.endswith("-0:1.0"):
            continue
        hub = "usb1" if entry.startswith("1-") else "usb2"
        shutil.copytree(TERMINAL_A / entry, controller / hub / entry)
    for real in [controller / "usb1", controller / "usb2", *controller.glob("usb*/?-*")]:
        os.symlink(os.path.relpath(real, bus_dir), bus_dir / real.name)

    tree = SysfsUsbTree(bus_dir)

    assert tree.topology(1, (2,)) == UsbTopology("1-2", 480.0, True, 0)
    assert tree.topology(1, (3,)) == UsbTopology("1-3", 480.0, False, 0)
    assert [d.name for d in tree.devices()] == ["1-2", "1-3", "1-4.1", "1-4.3", "2-1"]


def test_missing_and_unreadable_files_give_none(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    for name in ("speed", "manufacturer", "serial"):
        os.remove(root / "1-3" / name)
    os.remove(root / "1-3" / "product")
    os.mkdir(root / "1-3" / "product")  # reading it fails (EISDIR), like EACCES would
    (root / "1-3" / "idVendor").write_text("not hex\n")
    (root / "1-3" / "bDeviceClass").unlink()
    shutil.rmtree(root / "usb1" / "1-0:1.0")  # no port directories for bus 1 at all

    tree = SysfsUsbTree(root)
    f002 = next(d for d in tree.devices() if d.name == "1-3")

    assert (f002.vid, f002.pid) == (None, 0xF002)
    assert (f002.manufacturer, f002.product, f002.serial) == (None, None, None)
    assert f002.topology == UsbTopology("1-3", None, None, 0)
    # Without the port directory nobody can tell: unknown, not "USB 2-only".
    assert tree.topology(1, (2,)).root_port_usb3 is None
    assert tree.topology(2, (1,)).root_port_usb3 is True  # SuperSpeed root hub still says so


def test_hub_without_device_class_is_still_a_hub(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    os.remove(root / "1-4" / "bDeviceClass")  # maxchild 4 still gives it away

    assert "1-4" not in [d.name for d in SysfsUsbTree(root).devices()]


def test_root_hub_version_when_speed_is_missing(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    os.remove(root / "usb2" / "speed")  # " 3.00" in version still marks it SuperSpeed

    assert SysfsUsbTree(root).topology(1, (2,)).root_port_usb3 is True


def test_missing_root_is_a_rig_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-sysfs"

    with pytest.raises(RigError, match="no-such-sysfs"):
        SysfsUsbTree(missing)


def test_sees_hot_plug_without_caching(tmp_path: Path) -> None:
    root = copy_of_terminal_a(tmp_path)
    tree = SysfsUsbTree(root)
    assert tree.topology(1, (3,)) is not None

    shutil.rmtree(root / "1-3")
    shutil.rmtree(root / "1-3:1.0")

    assert tree.topology(1, (3,)) is None
    assert "1-3" not in [d.name for d in tree.devices()]
