"""The bench in a box: an emulated bench run as its own process behind real interfaces, and
the ``kind: real`` bench file that describes them (``DIR/bench.yaml``).

What the box offers, and how the rig's real-bench code reaches it:

- relay boards (Numato) and the robot (GRBL dialect) on ptys: pyserial, as on a lab bench;
- each camera as an MJPEG stream over HTTP on 127.0.0.1 (harness.emulation.box.mjpeg):
  cv2.VideoCapture through OpenCV's FFmpeg backend, as an IP camera;
- a sysfs-style USB tree folder (harness.emulation.box.sysfs_tree) for the topology facts;
- NFC frontends on nfcpy's udp transport (where the twins have one);
- the operator: a person on a pty (harness.emulation.box.person) who does to the twins what
  the rig asks of its operator (the steps no robot does) and answers.

Time: the box's twins run on a virtual clock that this process moves with the wall clock,
``scale`` bench seconds per wall second; the bench file says the same ``clock.scale``, so
the rig's real clock runs at the same rate (a 20 s power-on wait costs 1 s at scale 20).

PC/SC is not offered: a box cannot add a reader to the host's pcscd without root (vpcd
readers are configured when pcscd starts), and the in-process PC/SC is not a real
interface. The bench file therefore names no PC/SC reader; the real bench's pcscd, if one
runs, is what the rig sees.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import yaml

from harness.emulation.bench import EmulatedBench
from harness.emulation.box.mjpeg import MjpegServer
from harness.emulation.box.person import BoxPerson
from harness.emulation.box.sysfs_tree import SysfsWriter
from harness.errors import RigError
from harness.model.bench_spec import BenchSpec
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.model.topology import parse_port_path
from harness.protocols import Frame


class Box:
    """An emulated bench behind real interfaces; :meth:`write` describes them in ``folder``."""

    def __init__(self, spec: BenchSpec, bench_path: Path, folder: Path, *,
                 scale: float = 1.0, fps: float = 8.0, operator_timeout_s: float = 30.0) -> None:
        if spec.kind != "emulated":
            raise RigError(f"{bench_path}: a box runs an emulated bench (kind: emulated)")
        self.spec = spec
        self.folder = Path(folder)
        self.scale = scale
        self.operator_timeout_s = operator_timeout_s
        self.clock = VirtualClock(epoch=spec.clock.start)
        self.timeline = Timeline(self.clock)
        self.emulation = EmulatedBench(spec, bench_path, self.timeline)
        emu = self.emulation
        self.relay_ports = emu.start_relays()
        unserved = [i.name for i in spec.instruments if i.name not in self.relay_ports]
        if unserved:
            # USB HID relay boards live in the USB tree, which no real libusb sees here.
            self.close()
            raise RigError(f"a box offers Numato relays on ptys only; not {', '.join(unserved)}")
        if spec.robot is not None:
            from harness.emulation.robot import start_robot

            emu.robot = start_robot(emu, spec.robot)
        self.person = BoxPerson(emu)
        self.folder.mkdir(parents=True, exist_ok=True)
        usb3 = {parse_port_path(p.path)[0] for p in spec.terminal.usb_ports
                if p.usb.startswith("3")}
        self.sysfs = SysfsWriter(emu.usb_tree, self.folder / "sysfs", usb3)
        self.sysfs.update()
        self._sources = {c.name: emu.camera_source(c) for c in spec.cameras}
        self.cameras = MjpegServer({name: self._reader(name) for name in self._sources},
                                   fps=fps)
        self._stop = threading.Event()
        self._driver = threading.Thread(target=self._run_clock, daemon=True, name="box clock")
        self._driver.start()

    def _reader(self, name: str) -> Any:
        source = self._sources[name]

        def read() -> Frame:
            with self.clock.lock:  # the twins as they stand at one moment
                return source.read()
        return read

    def _run_clock(self) -> None:
        """Bench time follows the wall at ``scale``; the USB folder follows the tree."""
        last = time.monotonic()
        while not self._stop.wait(0.01):
            now = time.monotonic()
            self.clock.advance((now - last) * self.scale)
            last = now
            self.sysfs.update()

    # -- the bench file ----------------------------------------------------------------------
    def bench_file(self) -> dict[str, Any]:
        """The ``kind: real`` bench file for what the box offers."""
        spec, emu = self.spec, self.emulation
        dumped = spec.model_dump(mode="json", exclude_none=True)
        terminal = {k: v for k, v in dumped["terminal"].items()
                    if k not in ("emulate", "deviations", "upgrade")}
        readers = []
        for reader in dumped["readers"]:
            entry = {k: v for k, v in reader.items() if k not in ("emulate", "deviations")}
            if reader["name"] in emu.nfc_paths:
                entry["nfc"] = emu.nfc_paths[reader["name"]]
            readers.append(entry)
        cameras = []
        for camera in dumped["cameras"]:
            cameras.append({**camera, "source": self.cameras.url(camera["name"])})
        # Only what the file said: a field of another instrument kind's is refused.
        instruments = [{**inst.model_dump(mode="json", exclude_defaults=True),
                        "port": self.relay_ports[inst.name]} for inst in spec.instruments]
        data: dict[str, Any] = {
            "bench": f"{spec.bench}-box",
            "kind": "real",
            "description": f"The emulated bench {spec.bench!r} in a box (onshi-rig emulate "
                           "--hardware): ptys, MJPEG cameras, a sysfs folder.",
            "terminal": terminal,
            "hubs": [{k: v for k, v in h.items() if k != "emulate"} for h in dumped["hubs"]],
            "readers": readers,
            "instruments": instruments,
            "cameras": cameras,
            # The link, not where it points now: each change of the tree swaps the link.
            "sysfs_root": str((self.folder / "sysfs").absolute()),
            "clock": {"start": dumped["clock"]["start"], "scale": self.scale},
            "operator": {"terminal": self.person.port, "timeout_s": self.operator_timeout_s},
        }
        if "receipt_computer" in dumped:
            data["receipt_computer"] = dumped["receipt_computer"]
        # The router's channel powers the twin's router (ERR-11); the line's switch
        # (NET-01) is not wired to the twin's line, so a box has none.
        data["network"] = {k: v for k, v in dumped["network"].items() if k != "switch"}
        if spec.power_on is not None:
            data["power_on"] = dumped["power_on"]
        if spec.robot is not None and emu.robot is not None:
            robot = {k: v for k, v in dumped["robot"].items() if k != "emulate"}
            data["robot"] = {**robot, "port": emu.robot.port}
        return data

    def write(self) -> Path:
        """Write ``bench.yaml``; its path."""
        path = self.folder / "bench.yaml"
        # Written aside and renamed: a client waiting for the file never reads half of it.
        partial = path.with_name("bench.yaml.partial")
        partial.write_text("# Written by onshi-rig emulate --hardware; valid while it runs.\n"
                           + yaml.safe_dump(self.bench_file(), allow_unicode=True,
                                            sort_keys=False), encoding="utf-8")
        partial.replace(path)
        return path

    def close(self) -> None:
        if hasattr(self, "person"):
            self.person.stop()
        if hasattr(self, "_stop"):
            self._stop.set()
            self._driver.join(timeout=5)
            self.cameras.close()
        for source in getattr(self, "_sources", {}).values():
            source.close()
        self.emulation.close()
