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

- the general readers' cards through the real pcscd and vpcd, when a pcscd runs on the
  socket this process's PC/SC calls go to (``PCSCLITE_CSOCK_NAME``, else the system's): in
  the rig's layout (``onshi-rig pcscd-config``) or Debian's stock one, as ``onshi-rig
  emulate`` attaches; the bench file names each served reader's ``pcsc_name``. The twin
  terminal reads a card on a general reader through that pcscd too. With no pcscd the box
  serves no PC/SC and says so; a pcscd that serves neither layout is an error;
- the operator: a person on a pty (harness.emulation.box.person) who does to the twins what
  the rig asks of its operator (the steps no robot does) and answers.

The bench file lists the USB devices from the sysfs folder (``usb_devices: sysfs``): the
rig's libusb sees the host's USB, not the box's.

Time: the box's twins run on a virtual clock that this process moves with the wall clock,
``scale`` bench seconds per wall second; the bench file says the same ``clock.scale``, so
the rig's real clock runs at the same rate (a 20 s power-on wait costs 1 s at scale 20).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import attrs
import yaml

from harness.devices.pcsc import PyscardService
from harness.emulation.bench import EmulatedBench
from harness.emulation.box.mjpeg import MjpegServer
from harness.emulation.box.person import BoxPerson
from harness.emulation.box.sysfs_tree import SysfsWriter
from harness.emulation.camera_model import CameraEffects
from harness.emulation.card import FileSystemCard
from harness.emulation.pcscd import client_socket, pcscd_running
from harness.emulation.vpcd_cards import insert_shown
from harness.errors import RigError
from harness.model.bench_spec import BenchSpec
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.protocols import Frame

#: The first line of the bench file a box writes: a DIR/bench.yaml without it is the
#: user's, never overwritten (cli.cmd_emulate refuses the folder).
BOX_MARK = "# Written by onshi-rig emulate --hardware; valid while it runs.\n"
#: The box's cameras: the default effects but the JPEG, which their MJPEG stream is.
STREAMED = attrs.evolve(CameraEffects(), jpeg_quality=None)


class Box:
    """An emulated bench behind real interfaces; :meth:`write` describes them in ``folder``."""

    def __init__(self, spec: BenchSpec, bench_path: Path, folder: Path, *,
                 scale: float = 1.0, fps: float = 8.0, operator_timeout_s: float = 30.0,
                 card: Path | None = None) -> None:
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
        #: Reader -> the name pcscd lists it under (the readers the box serves on PC/SC).
        self.pcsc_names: dict[str, str] = {}
        #: What the box says of its PC/SC and NFC sides (served where, or why not).
        self.pcsc_lines: list[str] = []
        self.pcsc: PyscardService | None = None
        try:
            self._serve_pcsc(card)
            for reader, path in emu.nfc_paths.items():
                if card is not None:
                    emu.place_on_nfc(reader, FileSystemCard.load(card))
                held = " holding the card" if card is not None else ""
                self.pcsc_lines.append(f"NFC: {reader} on {path} (nfcpy){held}")
        except BaseException:
            self.close()
            raise
        self.person = BoxPerson(emu, self.pcsc)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sysfs = SysfsWriter(emu.usb_tree, self.folder / "sysfs")
        self.sysfs.update()
        # An IP camera compresses its frames once, for its stream: the camera model's own
        # JPEG round trip is left to the stream's (it was a third of each frame's cost).
        self._sources = {c.name: emu.camera_source(c, STREAMED) for c in spec.cameras}
        self.cameras = MjpegServer({name: self._reader(name) for name in self._sources},
                                   fps=fps)
        self._stop = threading.Event()
        self._driver = threading.Thread(target=self._run_clock, daemon=True, name="box clock")
        self._driver.start()

    def _serve_pcsc(self, card: Path | None) -> None:
        """Bind the twins' PC/SC readers to pcscd's vpcd slots (and put ``card`` in each,
        proven shown where pcscd names it), if a pcscd runs."""
        emu = self.emulation
        if not emu.pcsc_readers:
            return
        if not pcscd_running(client_socket()):
            self.pcsc_lines.append(f"PC/SC: not served: no pcscd runs on {client_socket()}")
            if card is not None:
                raise RigError(f"--card {card}: no pcscd to put it in ({client_socket()})")
            return
        self.pcsc = PyscardService(self.timeline)
        binding = emu.bind_vpcd_names(self.pcsc.readers())  # neither layout: an error
        self.pcsc_names = dict(binding.names)
        shown = {}
        if card is not None:
            shown = {a.reader: a for a in insert_shown(self, lambda _r: FileSystemCard.load(card))}
        for reader in emu.pcsc_readers:
            gap = binding.name_gap(reader)
            if gap is not None:
                self.pcsc_lines.append(f"PC/SC: {reader}: {gap}")
            else:
                slot = binding.slots[reader]
                held = " holding the card" if reader in shown else ""
                self.pcsc_lines.append(f"PC/SC: {binding.names[reader]!r} <- {reader} "
                                       f"(vpcd port {slot.port}){held}")

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
            if reader["name"] in self.pcsc_names:
                entry["pcsc_name"] = self.pcsc_names[reader["name"]]
            readers.append(entry)
        cameras = []
        for camera in dumped["cameras"]:
            # Its own streams, served on this machine: their frames arrive within a frame
            # of being drawn (stamped on arrival, the pump keeping the newest).
            cameras.append({**camera, "source": self.cameras.url(camera["name"]),
                            "latency_s": 0})
        # Only what the file said: a field of another instrument kind's is refused.
        instruments = [{**inst.model_dump(mode="json", exclude_defaults=True),
                        "port": self.relay_ports[inst.name]} for inst in spec.instruments]
        data: dict[str, Any] = {
            "bench": f"{spec.bench}-box",
            "kind": "real",
            "description": f"The emulated bench {spec.bench!r} in a box (onshi-rig emulate "
                           "--hardware): ptys, MJPEG cameras, a sysfs folder"
                           + (", vpcd readers in pcscd." if self.pcsc_names else "."),
            "terminal": terminal,
            "hubs": [{k: v for k, v in h.items() if k != "emulate"} for h in dumped["hubs"]],
            "readers": readers,
            "instruments": instruments,
            "cameras": cameras,
            # The link, not where it points now: each change of the tree swaps the link.
            "sysfs_root": str((self.folder / "sysfs").absolute()),
            "usb_devices": "sysfs",
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
        partial.write_text(BOX_MARK + yaml.safe_dump(self.bench_file(), allow_unicode=True,
                                            sort_keys=False), encoding="utf-8")
        partial.replace(path)
        return path

    def close(self) -> None:
        if hasattr(self, "person"):
            self.person.stop()
        for reader, link in self.emulation.vpcd_links.items():
            # pcscd sees a vpcd card go only at its next poll: the next client must not
            # meet this box's card.
            if link.inserted and self.pcsc is not None and reader in self.pcsc_names:
                link.remove()
                with contextlib.suppress(RigError):
                    self.pcsc.wait_for_card(self.pcsc_names[reader], timeout=3, present=False)
        if getattr(self, "pcsc", None) is not None:
            self.pcsc.close()
            self.pcsc = None
        if hasattr(self, "_stop"):
            self._stop.set()
            self._driver.join(timeout=5)
            self.cameras.close()
        for source in getattr(self, "_sources", {}).values():
            source.close()
        self.emulation.close()
