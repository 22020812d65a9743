"""A Bench assembled from a bench file, real or emulated.

Suites and the CLI talk to the bench's device families (``usb``, ``pcsc``, ``relays``,
NFC paths) through their protocols; whether a twin or a real device is behind them is the
bench file's business (DESIGN.md principle 1).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import usb.backend

from harness.bench_relays import RelayContext, open_relays
from harness.devices.pcsc import PyscardService
from harness.devices.robot import GcodeRobot
from harness.devices.sysfs import SysfsBus, SysfsUsbTree
from harness.devices.usb import PyusbBus
from harness.errors import BadInput, BenchFault, MissingSystemPart, RigError
from harness.loading import (
    MAX_BYTES,
    file_reference,
    line_of,
    read_head,
    read_layered_yaml,
    read_yaml,
    validate_data,
)
from harness.model.bench_spec import ROUTER, BenchSpec, PowerLink, PowerStep, Reader
from harness.model.clock import Clock, RealClock, VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file, resolved
from harness.protocols import FrameSource, NetworkMonitor, PcscService, PowerRelay, UsbBus

if TYPE_CHECKING:
    from harness.emulation.faults import Faults
    from harness.vision.evidence import EvidenceStore
    from harness.vision.geometry import Calibration
    from harness.vision.watcher import ScreenWatcher


def default_bench_path() -> Path:
    """The lab's bench (onshi-rig.toml), else the shipped emulated bench."""
    from harness.config import lab_config

    return lab_config().bench or project_file("fixtures/benches/emulated.yaml")


@attrs.frozen
class BenchReader:
    """A reader of the bench as the suites see it."""

    spec: Reader
    #: NFC frontend path for nfcpy (``usb:...`` on a real bench, ``udp:...`` emulated).
    nfc_path: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def maker(self) -> str:
        return self.spec.maker


class Bench:
    def __init__(self, spec: BenchSpec, path: Path, pcsc_service: str | None = None) -> None:
        self.spec = spec
        self.path = path
        self.clock: Clock = (
            VirtualClock(epoch=spec.clock.start) if spec.kind == "emulated"
            else RealClock(spec.clock.scale)
        )
        self.timeline = Timeline(self.clock)
        #: "inprocess" or "vpcd" (emulated benches); a real bench always uses pcscd.
        self.pcsc_service = pcsc_service or spec.pcsc.service
        self.emulation = None
        self.usb: UsbBus
        self.pcsc: PcscService | None = None
        self.pcsc_unavailable: str | None = None
        #: Readers with no PC/SC side on this bench, and why (reported as USB-05 unchecked).
        self.pcsc_gaps: dict[str, str] = {}
        self.relays: dict[str, PowerRelay] = {}
        #: The robot finger of the bench file's ``robot`` block (harness.devices.robot).
        self.robot: GcodeRobot | None = None
        #: Sees when the terminal's network was down (the flow runner's network.dropped
        #: check); None: the bench has none, and a drop cannot be told from the reader.
        self.network_monitor: NetworkMonitor | None = None
        self.readers: list[BenchReader] = []
        self._cameras: dict[str, FrameSource] = {}
        self._watchers: dict[tuple[str, Path | None], ScreenWatcher] = {}
        self._opened = False
        self._faults: Faults | None = None

    @classmethod
    def load(cls, path: str | Path | None = None, pcsc_service: str | None = None) -> Bench:
        bench_path = Path(path) if path is not None else default_bench_path()
        bench = cls(load_bench_spec(bench_path), bench_path,
                    pcsc_service)
        for camera in bench.spec.cameras:
            bench.camera_calibration(camera.name)  # a calibration file that is not one: now
        return bench

    def camera_calibration(self, name: str) -> Calibration | None:
        """Where the screen is in camera ``name``'s frames, as the bench file says (inline,
        or a JSON file relative to the bench file); None when it does not say."""
        from harness.vision.geometry import Calibration

        given = next(c for c in self.spec.cameras if c.name == name).calibration
        if given is None:
            return None
        if not isinstance(given, str):
            return Calibration.from_json(given.model_dump())
        try:
            return Calibration.load(self.path.parent / given)
        except BadInput as exc:
            line = None
            with contextlib.suppress(BadInput):
                data, lines = read_yaml(self.path)
                # The entry may be the bench file's own or its base's: its line if it is ours.
                own = [k for k, c in enumerate(data.get("cameras") or [])
                       if isinstance(c, dict) and c.get("name") == name]
                line = line_of(lines, ("cameras", own[0], "calibration")) if own else None
            raise BadInput(str(self.path), line, f"cameras[{name}].calibration",
                           f"{given}: {exc.problem}") from None

    @property
    def name(self) -> str:
        return self.spec.bench

    @property
    def emulated(self) -> bool:
        return self.spec.kind == "emulated"

    def reader(self, name: str) -> BenchReader:
        for reader in self.readers:
            if reader.name == name:
                return reader
        raise RigError(f"bench {self.name!r} has no reader {name!r}")

    def open(self) -> Bench:
        if self._opened:
            return self
        try:
            if self.emulated:
                self._open_emulated()
            else:
                self._open_real()
        except BaseException:
            self.close()
            raise
        self._opened = True
        return self

    def _open_emulated(self) -> None:
        from harness.emulation.bench import EmulatedBench

        emu = EmulatedBench(self.spec, self.path, self.timeline)
        self.emulation = emu
        self.usb = PyusbBus(emu.usb_backend, emu.usb_tree)
        self.network_monitor = emu.network_monitor
        ports = emu.start_relays()
        self.relays = open_relays(self._relay_context(lambda: emu.usb_backend, ports))
        self._router_on()
        if self.spec.robot is not None:
            from harness.emulation.robot import start_robot

            emu.robot = start_robot(emu, self.spec.robot)
            self.robot = GcodeRobot.for_spec(self.spec.robot, emu.robot.port,
                                             timeline=self.timeline)
        self.power_on()
        if self.pcsc_service == "vpcd":
            self.pcsc = PyscardService(self.timeline)
            binding = emu.bind_vpcd_names(self.pcsc.readers())
            for name in emu.pcsc_readers:
                gap = binding.name_gap(name)
                if gap is not None:
                    self.pcsc_gaps[name] = gap
        else:
            self.pcsc = emu.start_pcsc_inprocess()
        self.readers = [BenchReader(r, emu.nfc_paths.get(r.name)) for r in self.spec.readers]

    def power_on(self, tick: Callable[[], None] | None = None, tick_s: float = 2.0,
                 steps: Sequence[PowerStep] | None = None) -> None:
        """Switch the bench on: ``steps``, else the bench file's ``power_on`` steps, or else
        every relay-switched device in the order the relay channels are numbered. ``tick``
        is called every ``tick_s`` of the waits (to watch the bench start)."""
        links = self.spec.switchable()
        if steps is None:
            steps = self.spec.power_on
        if steps is None:
            ordered = sorted(links, key=lambda n: (links[n].relay, links[n].channel))
            steps = [PowerStep(switch_on=ordered)]
        for step in steps:
            # The wait runs from when this step began switching, on the clock, to when the
            # next one begins: each device's switching then lands the step's wait after the
            # one before it, however long a relay takes. On a real clock the looks take
            # time of their own: the last look of a wait ends as it does, so that a window's
            # edge is met, not passed by a look's length.
            until = self.clock.now() + step.wait_s
            for name in step.switch_on:
                self.switch(name, True)
            for name in step.switch_off:
                self.switch(name, False)
            look_s = self._tick(tick)
            while (left := until - self.clock.now()) > 1e-9:
                if tick is None or left <= look_s + 1e-9:  # no time for another look
                    self.clock.sleep(left)
                    break
                self.clock.sleep(min(tick_s, left - look_s))
                look_s = self._tick(tick)

    def _tick(self, tick: Callable[[], None] | None) -> float:
        """``tick()``, and how long it took on the bench's clock."""
        if tick is None:
            return 0.0
        start = self.clock.now()
        tick()
        return self.clock.now() - start

    def switch(self, name: str, on: bool) -> None:
        """Switch a device's mains through its relay channel (the bench file's ``power``);
        what the rig switched lands on the timeline as ``power.switched``."""
        links = self.spec.switchable()
        if name not in links:
            raise RigError(f"bench {self.name!r}: {name!r} has no relay channel "
                           f"(switchable: {', '.join(links) or 'none'})")
        self.switch_link(name, links[name], on)

    def switch_link(self, name: str, link: PowerLink, on: bool) -> None:
        """Switch a relay channel of the bench file (a device's ``power``, the network's
        ``switch`` or ``router``); it lands on the timeline as ``power.switched`` of
        ``name``."""
        relay = self.relays[link.relay]
        relay.on(link.channel) if on else relay.off(link.channel)
        self.timeline.record(name, "power.switched", on=on)

    def _router_on(self) -> None:
        """The router on a relay channel (``network.router``) switched on as the bench
        opens: the terminal's line needs it, and a board just plugged in has every relay
        off."""
        if self.spec.network.router is not None:
            self.switch_link(ROUTER, self.spec.network.router, True)

    def _relay_context(self, backend: Callable[[], usb.backend.IBackend | None],
                       serial_ports: Mapping[str, str]) -> RelayContext:
        return RelayContext(self.spec, self.path, self.clock, self.timeline, backend,
                            serial_ports)

    def switch_all_off(self) -> None:
        for name in self.spec.switchable():
            self.switch(name, False)

    def _open_real(self) -> None:
        if self.spec.usb_devices == "sysfs":
            self.usb = SysfsBus(SysfsUsbTree(self.spec.sysfs_root))
        else:
            self.usb = PyusbBus.real(sysfs_root=self.spec.sysfs_root)
        bus = self.usb
        self.relays = open_relays(self._relay_context(lambda: bus.backend, {}))
        self._router_on()
        if self.spec.robot is not None:
            self.robot = GcodeRobot.for_spec(self.spec.robot, timeline=self.timeline)
        # Switched on as it opens, as an emulated bench is (the bench file's power_on, else
        # every relay channel): a run of the wiring tests alone, a scan, a calibration see
        # the readers on, not whatever the last run left switched.
        self.power_on()
        try:
            self.pcsc = PyscardService(self.timeline)
        except MissingSystemPart as exc:
            self.pcsc_unavailable = exc.what if exc.what.startswith("no PC/SC service") \
                else f"no PC/SC service ({exc.what})"
        self.readers = [BenchReader(r, r.nfc) for r in self.spec.readers]

    # -- cameras --------------------------------------------------------------------------
    def camera(self, name: str) -> FrameSource:
        """The frame source of a camera of the bench file (opened on first use)."""
        if name in self._cameras:
            return self._cameras[name]
        spec = next((c for c in self.spec.cameras if c.name == name), None)
        if spec is None:
            known = ", ".join(c.name for c in self.spec.cameras) or "none"
            raise RigError(f"bench {self.name!r} has no camera {name!r} (cameras: {known})")
        if spec.source == "emulated":
            if self.emulation is None:
                raise RigError(f"camera {name!r}: source 'emulated' needs an emulated bench")
            source: FrameSource = self.emulation.camera_source(spec)
        else:
            from harness.devices.camera import open_source

            given = spec.source
            # A recorded video is named relative to the bench file (as its other files are).
            if isinstance(given, str) and file_reference("source", given):
                given = str(self.path.parent / given)
            try:
                source = open_source(given, name, self.clock, width=spec.width,
                                     height=spec.height, exposure=spec.exposure, fps=spec.fps,
                                     repeats_frames=spec.noiseless,
                                     latency_s=spec.latency_s or 0.0)
            except BenchFault:
                raise
            except RigError as exc:
                # A recording OpenCV cannot read is a camera that never opens, as a stream
                # that never connects is (CameraUnavailable): the bench's, not the maker's.
                raise BenchFault("camera.unavailable", name, str(exc).splitlines()[0]) from None
        self._cameras[name] = source
        return source

    def camera_on(self, reader: str) -> str:
        """The name of the camera watching ``reader``."""
        for cam in self.spec.cameras:
            if cam.watches == reader:
                return cam.name
        raise RigError(f"bench {self.name!r}: no camera watches {reader!r}")

    def watcher(self, reader: str, *, evidence: EvidenceStore | None = None,
                screens: Path | None = None, keep_evidence: bool = False) -> ScreenWatcher:
        """Eyes on ``reader``'s screen (or the terminal's): its camera, the reference
        screens of its maker (or of the terminal). One watcher per camera, kept; its
        evidence store becomes ``evidence``, unless ``keep_evidence`` (a look taken for a
        flow that is watching, by the robot's hands: the flow's store stays)."""
        from harness.vision.classify import Classifier
        from harness.vision.lamps import LampWatcher
        from harness.vision.reference import ReferenceSet, screens_dir_for
        from harness.vision.watcher import ScreenWatcher

        maker = "terminal" if reader == self.spec.terminal.name else self.reader(reader).maker
        key = (reader, screens)
        watcher = self._watchers.get(key)
        if watcher is None:
            # Loading references and finding the screen take a while: once per camera.
            camera = next((c for c in self.spec.cameras if c.watches == reader), None)
            if camera is None:
                # A bench file that names no camera on the screen a test looks at: the
                # bench's to mend, never the reader failing (nor a bare StopIteration).
                raise BenchFault("camera.unavailable", reader,
                                 "no camera of the bench file watches it (cameras[].watches)")
            classifier = Classifier(ReferenceSet.load(screens_dir_for(maker, screens)))
            # The lamps this camera sees, where the bench file says (ERR-07's logo lamp).
            lamps = (LampWatcher(camera.name, camera.lamps, self.timeline)
                     if camera.lamps else None)
            watcher = ScreenWatcher(self.camera(camera.name), classifier, self.clock,
                                    timeline=self.timeline, lamps=lamps,
                                    calibration=self.camera_calibration(camera.name))
            self._watchers[key] = watcher
        if not keep_evidence:
            watcher.evidence = evidence
        return watcher

    def _take_out_vpcd_cards(self) -> None:
        """pcscd notices a vpcd card going only when it next polls: a bench that closed with
        a card in would leave the next bench's first APDU failing. Wait (bounded) for it."""
        emu = self.emulation
        if emu is None or self.pcsc is None or self.pcsc_service != "vpcd":
            return
        for reader, link in emu.vpcd_links.items():
            if link.inserted and reader in emu.pcsc_names:
                link.remove()
                with contextlib.suppress(RigError):
                    self.pcsc.wait_for_card(emu.pcsc_names[reader], timeout=3, present=False)

    def pcsc_reader_names(self) -> list[str]:
        return self.pcsc.readers() if self.pcsc is not None else []

    @property
    def faults(self) -> Faults:
        """Emulated bench: inject bench faults (harness/emulation/faults)."""
        from harness.emulation.faults import Faults

        if self._faults is None:
            self._faults = Faults(self)
        return self._faults

    def close(self) -> None:
        if self._faults is not None:
            self._faults.clear()
        self._take_out_vpcd_cards()
        for camera in self._cameras.values():
            camera.close()
        self._cameras.clear()
        self._watchers.clear()
        for relay in self.relays.values():
            with contextlib.suppress(RigError):  # a vanished board must not stop the clean-up
                relay.close()
        self.relays.clear()
        if self.robot is not None:
            self.robot.close()
            self.robot = None
        if self.pcsc is not None:
            self.pcsc.close()
            self.pcsc = None
        if self.emulation is not None:
            self.emulation.close()
        self._opened = False

    def __enter__(self) -> Bench:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Bench files read in this process: (path, SHA-256 of its bytes) -> the spec.
_SPECS: dict[tuple[Path, str], BenchSpec] = {}


def load_bench_spec(path: Path) -> BenchSpec:
    """The bench file read and checked once per process: the CLI, the pytest plugin's
    parametrising and fixtures, and the certification share it (re-read only when the
    file's bytes change). The files it bases itself on are taken as they were first read."""
    path = Path(path)  # as the user wrote it: messages name it so
    try:
        key = (resolved(path), hashlib.sha256(read_head(path, MAX_BYTES + 1)).hexdigest())
    except (OSError, BadInput):  # missing or unreadable: the loader says so, named
        return _read_bench_spec(path)
    if key not in _SPECS:
        if len(_SPECS) > 64:  # tests write many bench files
            _SPECS.clear()
        _SPECS[key] = _read_bench_spec(path)
    return _SPECS[key]


def _read_bench_spec(path: Path) -> BenchSpec:
    """The file, its bases merged, what it leaves out taken from its labgrid place."""
    from harness.labgrid_resources import fill_from_place

    data, lines = read_layered_yaml(path)
    if data is None:
        raise BadInput(str(path), None, "", "the file is empty")
    fill_from_place(data, lines, str(path))
    return validate_data(BenchSpec, data, str(path), lines)


def check_bench_file(path: Path) -> BenchSpec:
    """Validate a bench file and what it refers to, without opening any device."""
    spec = load_bench_spec(path)
    bench = Bench(spec, path)
    for camera in spec.cameras:
        bench.camera_calibration(camera.name)  # a calibration file that is not one
    if spec.kind == "emulated":
        from harness.emulation.bench import load_twins

        load_twins(spec, path)
    _check_operator_script(spec, path)
    return spec


def _check_operator_script(spec: BenchSpec, path: Path) -> None:
    """The operator's script is read now, not when the first step asks it (a missing file
    or a bad rule then failed that step's requirement, the run half done)."""
    script = spec.operator.script
    if script is None:
        return
    from harness.loading import load_yaml_model, place_of, read_layered_yaml
    from harness.operator import OperatorScript

    file = Path(script) if Path(script).is_absolute() else path.parent / script
    if not file.is_file():
        raise BadInput(*place_of(str(path), read_layered_yaml(path)[1], ("operator", "script")),
                       "operator.script", f"no file {file}")
    load_yaml_model(file, OperatorScript)

