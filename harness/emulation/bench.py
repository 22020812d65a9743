"""The emulated bench: builds each twin from its behaviour file and wires it up.

USB devices go into an emulated pyusb backend, PC/SC readers into the in-process tier or
the real pcscd through vpcd, the relay board onto a pty (driven by the real pyserial
driver), and NFC frontends onto nfcpy's udp transport.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
from collections.abc import Iterator
from pathlib import Path

from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
from harness.emulation.camera_model import CameraEffects
from harness.emulation.card import ApduCard
from harness.emulation.device_spec import DeviceSpec, load_device_spec
from harness.emulation.hid_relay import EmulatedHidRelay, start_hid_relay
from harness.emulation.network import EmulatedNetworkMonitor, Uplink
from harness.emulation.pcsc_inprocess import InProcessPcsc
from harness.emulation.pcscd import VpcdSlot
from harness.emulation.relay import EmulatedRelayBoard
from harness.emulation.robot import EmulatedRobot
from harness.emulation.screen_source import EmulatedScreenSource
from harness.emulation.terminal import Upgrade
from harness.emulation.usb_backend import EmulatedUsbBackend
from harness.emulation.usb_records import EmulatedDevice, EmulatedHub, RootPort
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.emulation.vpcd import VpcdLink
from harness.emulation.vpcd_layout import VpcdBinding, choose_layout, rig_slots
from harness.emulation.world import ReaderPlan, TwinWorld, default_terminal_file
from harness.errors import BadInput, RigError
from harness.loading import shipped
from harness.model.bench_spec import ROUTER, BenchSpec, Camera, Reader
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import resolved


def _resolve(bench_path: Path, ref: str) -> Path:
    return resolved(bench_path.parent / ref)


def _free_udp_port() -> int:
    """A free UDP port with no service name: nfcpy's udp transport reads its port back
    through getnameinfo, which turns a port /etc/services names (57000: dircproxy) into
    that name, and then fails on int() of it."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if socket.getnameinfo(("127.0.0.1", port), socket.NI_NUMERICHOST)[1].isdigit():
            return port


def _bcd(version: str) -> int:
    # Binary-coded decimal: each written digit is a nibble ("10.00" is 0x1000).
    major, _, minor = version.partition(".")
    return (int(major, 16) << 8) | int((minor or "0").ljust(2, "0")[:2], 16)


def _behaviour_file(bench_path: Path, who: str, ref: str) -> Path:
    try:
        path = _resolve(bench_path, ref)
    except BadInput as exc:
        raise BadInput(str(bench_path), None, f"{who}.emulate", f"{ref}: {exc.problem}"
                       ) from None
    if path.is_dir():  # else the loader names the folder, not the bench line that gave it
        raise BadInput(str(bench_path), None, f"{who}.emulate",
                       f"{ref} is a folder, not a behaviour file")
    if not path.exists():
        raise BadInput(str(bench_path), None, f"{who}.emulate", f"no behaviour file {ref}")
    if not path.is_file():  # /dev/zero, a FIFO: said on the bench line, not the device's
        raise BadInput(str(bench_path), None, f"{who}.emulate",
                       f"{ref} is not a regular file, not a behaviour file")
    return path


def load_twins(spec: BenchSpec, bench_path: Path) -> dict[str, DeviceSpec]:
    """Behaviour files of every emulated hub and reader (with the bench's deviations), by
    name; errors name the bench line."""
    twins: dict[str, DeviceSpec] = {}
    # Every twin's problems at once (a bench's author fixes them in one go).
    problems: list[BadInput] = []
    for i, hub in enumerate(spec.hubs):
        assert hub.emulate is not None  # checked by BenchSpec
        try:
            with _on_bench_line(bench_path, ("hubs", i), f"hubs[{hub.name}]"):
                twins[hub.name] = load_device_spec(_behaviour_file(bench_path, hub.name,
                                                                   hub.emulate))
        except BadInput as exc:
            problems.append(exc)
    for i, reader in enumerate(spec.readers):
        assert reader.emulate is not None
        try:
            with _on_bench_line(bench_path, ("readers", i), f"readers[{reader.name}]"):
                path = _behaviour_file(bench_path, reader.name, reader.emulate)
                with _not_a_twin(bench_path, reader.emulate, path):
                    twins[reader.name] = load_device_spec(path, reader.deviations,
                                                          str(bench_path))
        except BadInput as exc:
            problems.append(exc)
    try:  # the terminal's file and deviations, checked with the rest (a world reads them)
        with _on_bench_line(bench_path, ("terminal",), "terminal"):
            terminal_behaviour(spec, bench_path)
    except BadInput as exc:
        problems.append(exc)
    if problems:  # the bench file's in its order (the terminal comes first), then the twins'
        raise BadInput.of(sorted((p for exc in problems for p in exc.problems),
                                 key=lambda p: (p.path != str(bench_path), p.line or 0)))
    return twins


def terminal_behaviour(spec: BenchSpec, bench_path: Path) -> TerminalBehaviour:
    """The terminal twin's behaviour file with the bench's deviations; a deviation that
    breaks it is blamed on the bench file."""
    term = spec.terminal
    path = _behaviour_file(bench_path, "terminal", term.emulate) if term.emulate else \
        default_terminal_file()
    return load_with_deviations(path, TerminalBehaviour, term.deviations, str(bench_path))


@contextlib.contextmanager
def _not_a_twin(bench_path: Path, ref: str, path: Path) -> Iterator[None]:
    """A shipped file that fails as a behaviour file (a card, a bench) is not one: the
    user's mistake is the ``emulate`` line naming it, not the file's lines (which the user
    must not edit)."""
    try:
        yield
    except BadInput as exc:
        if not all(p.path == str(path) for p in exc.problems) or not shipped(path.resolve()):
            raise
        first = exc.problems[0]
        raise BadInput(str(bench_path), None, "emulate",
                       f"{ref} is not a behaviour file (as one, it has {len(exc.problems)} "
                       f"problem(s), the first {first.line_text()})") from None


@contextlib.contextmanager
def _on_bench_line(bench_path: Path, at: tuple[str | int, ...], who: str) -> Iterator[None]:
    """A fault the bench file's entry ``at`` (``who``) caused (its twin file missing, a
    deviation that does not fit) reported on the entry's line: a deviation's on its own
    ``change`` line."""
    try:
        yield
    except BadInput as exc:
        if exc.path != str(bench_path) or exc.line is not None:
            raise
        from harness.loading import place_of, read_layered_yaml

        _, lines = read_layered_yaml(bench_path)

        def placed(problem: BadInput) -> BadInput:
            if problem.field.startswith("deviations"):
                entry = re.match(r"deviations\[(\d+)\]", problem.field)
                loc = (*at, "deviations", int(entry[1]), "change") if entry else \
                    (*at, "deviations")
                rest = problem.field
            else:
                loc, rest = (*at, "emulate"), "emulate"
            return BadInput(*place_of(str(bench_path), lines, loc), f"{who}.{rest}",
                            problem.problem)

        raise BadInput.of(sorted((placed(p) for p in exc.problems),
                                 key=lambda p: p.line or 0)) from None


def build_world(
    spec: BenchSpec, bench_path: Path, twins: dict[str, DeviceSpec], clock: VirtualClock, timeline: Timeline
) -> TwinWorld:
    """The behaviour twins of the bench: terminal, network, receipt computer, face-auth readers."""
    plans = [
        ReaderPlan(
            r.name, _resolve(bench_path, r.emulate or ""), tuple(r.deviations),
            f"{bench_path} (readers[{r.name}])",
        )
        for r in spec.readers
        if twins[r.name].behaviour is not None
    ]
    general = {
        r.name: twins[r.name].pcsc.reader_name  # type: ignore[union-attr]
        for r in spec.readers
        if r.kind == "general_reader" and twins[r.name].pcsc is not None
    }
    term = spec.terminal
    return TwinWorld(
        clock,
        timeline,
        plans,
        terminal_file=_behaviour_file(bench_path, "terminal", term.emulate) if term.emulate else None,
        terminal_name=term.name,
        terminal_deviations=term.deviations,
        monitorless=term.monitorless,
        upgrade=term.upgrade,
        receipt_computer=spec.receipt_computer.name if spec.receipt_computer else None,
        general_readers=general,
    )


def vpcd_slots(spec: BenchSpec, twins: dict[str, DeviceSpec]) -> dict[str, VpcdSlot]:
    """The rig's reader.conf layout: every reader with a PC/SC side on a vpcd entry of its
    own (harness.emulation.vpcd_layout)."""
    return rig_slots(spec, twins)


class EmulatedBench:
    @classmethod
    def alone(cls, bench_path: Path) -> EmulatedBench:
        """A bench file's emulated devices on a timeline and virtual clock of their own, at
        the bench's morning: its devices without the rig around them."""
        from harness.bench import load_bench_spec

        spec = load_bench_spec(bench_path)
        return cls(spec, bench_path, Timeline(VirtualClock(epoch=spec.clock.start)))

    def __init__(self, spec: BenchSpec, bench_path: Path, timeline: Timeline) -> None:
        self.spec = spec
        self.timeline = timeline
        if not isinstance(timeline.clock, VirtualClock):
            raise RigError("an emulated bench runs on a virtual clock")
        self.clock = timeline.clock
        self.twins = load_twins(spec, bench_path)
        self.world = build_world(spec, bench_path, self.twins, self.clock, timeline)
        # The lab's, not the twins': both outlive a restore's new network twin.
        self.uplink = Uplink()
        self.network_monitor = EmulatedNetworkMonitor(self.clock)
        self._attach_network()
        self.usb_tree = EmulatedUsbTree(
            [RootPort(p.path, usb3=p.usb.startswith("3")) for p in spec.terminal.usb_ports],
            hubs=[self._hub(h.name, h.path, h.usb) for h in spec.hubs],
            devices=[self._device(r) for r in spec.readers],
            timeline=timeline,
            # A relay-powered reader is dark until its channel closes.
            unpowered=[r.name for r in spec.readers if r.power is not None],
        )
        self.usb_backend = EmulatedUsbBackend(self.usb_tree)
        self.usb_tree.listeners.append(self._usb_changed)
        self.usb_tree.port_listeners.append(self._port_power_changed)
        self._bench_path = bench_path
        self._power_unswitched()
        self._usb_changed()
        self.relay_boards: dict[str, EmulatedRelayBoard] = {}
        #: The bench file's robot on its pty (harness.emulation.robot.start_robot).
        self.robot: EmulatedRobot | None = None
        #: USB HID relay boards, plugged into the emulated USB tree.
        self.hid_relays: dict[str, EmulatedHidRelay] = {}
        #: How pcscd serves the bench's vpcd readers (bind_vpcd_names).
        self.vpcd: VpcdBinding | None = None
        self.pcsc_readers = {
            r.name: self.twins[r.name].pcsc.reader_name  # type: ignore[union-attr]
            for r in spec.readers
            if self.twins[r.name].pcsc is not None
        }
        self.pcsc_inprocess: InProcessPcsc | None = None
        self.vpcd_links: dict[str, VpcdLink] = {}
        self.pcsc_names: dict[str, str] = {}
        self.nfc_paths: dict[str, str] = {}
        self._nfc_targets: dict[str, object] = {}
        for reader in spec.readers:
            if self.twins[reader.name].nfc is not None:
                self.nfc_paths[reader.name] = f"udp:127.0.0.1:{_free_udp_port()}"

    def _attach_network(self) -> None:
        self.uplink.attach(self.world.network)
        self.network_monitor.attach(self.world.network)

    def _power_unswitched(self) -> None:
        """Devices without a relay channel are powered from the start."""
        switchable = self.spec.switchable()
        for name, twin in self.world.readers.items():
            if name not in switchable:
                twin.set_power(True)
        if self.spec.terminal.name not in switchable:
            self.world.terminal.set_power(True)
        rc = self.world.receipt_computer
        if rc is not None and rc.name not in switchable:
            rc.set_power(True)

    def restore(self, upgrade: Upgrade | None = None, at: dt.datetime | None = None) -> None:
        """A fresh morning: the twins as the bench file builds them (the terminal's disk
        image restored, ``upgrade`` overriding the file's), every cable back in, the clock
        set to ``at``. The relay channels keep their state: switch them off first."""
        with self.clock.lock:
            self.clock.cancel_all()  # the old twins' start-ups, polls and time-outs
            if at is not None:
                self.clock.set_wallclock(at)
            spec = self.spec
            if upgrade is not None:
                spec = spec.model_copy(update={
                    "terminal": spec.terminal.model_copy(update={"upgrade": upgrade})})
            self.world = build_world(spec, self._bench_path, self.twins, self.clock,
                                     self.timeline)
            self._attach_network()
            for reader in self.spec.readers:
                if reader.name not in self.usb_tree.plugged():
                    self.plug(reader.name)
            powered = {name: on for board in [*self.relay_boards.values(),
                                              *self.hid_relays.values()]
                       for name, on in board.named_states().items()}
            for name, on in powered.items():
                self._set_twin_power(name, on)
            self._power_unswitched()
            self._usb_changed()
        self.timeline.record("bench", "bench.restored", upgrade=upgrade,
                             wallclock=self.clock.wallclock().isoformat())

    def camera_source(self, camera: Camera, effects: CameraEffects | None = None
                      ) -> EmulatedScreenSource:
        """The emulated camera on the screen ``camera.watches``: a reader's or the
        terminal's monitor (``effects``: the camera model's; None, the default ones)."""
        from harness.emulation.screen_source import (
            primed_renderer,
            reader_camera,
            terminal_camera,
        )

        # Each camera its own pose and noise, the same on every run.
        seed = [c.name for c in self.spec.cameras].index(camera.name)
        terminal = self.world.terminal
        if camera.watches == terminal.name:
            renderer = primed_renderer(terminal.behaviour.display, "terminal")
            source = terminal_camera(camera.name, lambda: self.world.terminal, renderer,
                                     self.clock, seed=seed, effects=effects)
        else:
            reader = next(r for r in self.spec.readers if r.name == camera.watches)
            if reader.name not in self.world.readers:
                raise RigError(f"camera {camera.name!r}: {reader.name!r} has no screen to film")
            renderer = primed_renderer(self.twins[reader.name].display, reader.maker)
            source = reader_camera(camera.name, lambda: self.world.readers[reader.name],
                                   renderer, self.clock, seed=seed, effects=effects)
        # Most of a flow's looks are at a screen that has not changed: the camera says so
        # and the watcher skips them (a settled screen only; see ScreenWatcher.look).
        source.vouches_still = True
        return source

    def _hub(self, name: str, path: str, version: str) -> EmulatedHub:
        twin = self.twins[name]
        return EmulatedHub(
            name=name, path=path, vid=twin.usb.vid, pid=twin.usb.pid,
            product=twin.usb.product, manufacturer=twin.usb.manufacturer,
            usb_version=float(version),
            port_power=next(h.port_power for h in self.spec.hubs if h.name == name),
        )

    def _device(self, reader: Reader) -> EmulatedDevice:
        usb = self.twins[reader.name].usb
        assert reader.usb.path is not None
        return EmulatedDevice(
            name=reader.name, vid=usb.vid, pid=usb.pid, path=reader.usb.path,
            manufacturer=usb.manufacturer, product=usb.product, serial=usb.serial,
            bcd_usb=_bcd(usb.bcd_usb), device_class=usb.device_class,
            interface_class=usb.interface_class, max_speed_mbps=usb.max_speed_mbps,
            bcd_device=_bcd(usb.bcd_device),
        )

    # -- start-up --------------------------------------------------------------------------
    def start_relays(self) -> dict[str, str]:
        """Put each Numato board on a pty and each USB HID relay board into the USB tree;
        return instrument name -> serial port (Numato boards)."""
        ports: dict[str, str] = {}
        for inst in self.spec.instruments:
            names = {
                link.channel: name
                for name, link in self.spec.relay_links().items()
                if link.relay == inst.name
            }
            if inst.kind == "hid_relay":
                self.hid_relays[inst.name] = start_hid_relay(
                    inst, names, self.usb_tree, self.timeline, self._power_changed(inst.name))
                continue
            # The board answers ``id get`` with the id the bench file pins it by.
            board = EmulatedRelayBoard(inst.channels, name=inst.name, names=names,
                                       timeline=self.timeline,
                                       board_id=inst.board_id or "00000000")
            board.on_change.append(self._power_changed(inst.name))
            self.relay_boards[inst.name] = board
            ports[inst.name] = board.port
        return ports

    def _power_changed(self, relay: str):
        def changed(channel: int, on: bool) -> None:
            for name, link in self.spec.relay_links().items():
                if (link.relay, link.channel) == (relay, channel):
                    self._set_twin_power(name, on)
        return changed

    def _set_twin_power(self, name: str, on: bool) -> None:
        if name in self.world.readers:
            self.world.readers[name].set_power(on)
        if any(r.name == name for r in self.spec.readers):
            self.usb_tree.set_powered(name, on)
        if name == self.world.terminal.name:
            self.world.terminal.set_power(on)
        rc = self.world.receipt_computer
        if rc is not None and name == rc.name:
            rc.set_power(on)
        if name == ROUTER and self.spec.network.router is not None:
            self.world.network.set_router_power(on)

    def _usb_changed(self) -> None:
        """Tell the twins what the USB tree now holds: readers' links, general readers."""
        for name, twin in self.world.readers.items():
            twin.set_usb(*self.usb_tree.link(name))
        for name in self.world.terminal.general_readers:
            attached = self.usb_tree.link(name)[0]
            if attached != self.world.terminal.general_readers[name].attached:
                self.world.terminal.general_reader_plugged(name, attached)

    def start_pcsc_inprocess(self) -> InProcessPcsc:
        pcsc = InProcessPcsc(self.timeline)
        count: dict[str, int] = {}
        for name, friendly in self.pcsc_readers.items():
            # Named the way pcsc-lite names readers: " <index> <slot>".
            index = count.get(friendly, 0)
            count[friendly] = index + 1
            self.pcsc_names[name] = f"{friendly} {index:02X} 00"
            pcsc.add_reader(self.pcsc_names[name])
        self.pcsc_inprocess = pcsc
        return pcsc

    def bind_vpcd_names(self, pcscd_readers: list[str]) -> VpcdBinding:
        """Learn which layout pcscd serves the vpcd readers in (the rig's reader.conf or
        Debian's stock one) and pcscd's name for each slot; an error when neither fits."""
        from harness.emulation.pcscd import listening_tcp_ports

        local = self.spec.pcsc.vpcd_host in ("127.0.0.1", "localhost", "::1")
        binding = choose_layout(self.spec, self.twins, pcscd_readers,
                                listening_tcp_ports() if local else None)
        self.vpcd = binding
        for name, slot in binding.slots.items():
            self.pcsc_names[name] = binding.names[name]
            self.vpcd_links[name] = VpcdLink(
                card=_NoCard(), port=slot.port, host=self.spec.pcsc.vpcd_host,
                reader=binding.names[name], timeline=self.timeline,
            )
        return binding

    # -- what the bench's hands do: cards in and out, plugs pulled -------------------------
    def insert_card(self, reader: str, card: ApduCard) -> None:
        if reader in self.vpcd_links:
            link = self.vpcd_links[reader]
            link.remove()
            link.card = card
            link.insert()
        elif self.pcsc_inprocess is not None and reader in self.pcsc_names:
            self.pcsc_inprocess.insert(self.pcsc_names[reader], card)
        elif self.vpcd is not None:
            raise RigError(f"{reader}: {self.vpcd.gap(reader)}")
        else:
            raise RigError(f"{reader}: not an emulated PC/SC reader")

    def remove_card(self, reader: str) -> None:
        if reader in self.vpcd_links:
            self.vpcd_links[reader].remove()
        elif self.pcsc_inprocess is not None and reader in self.pcsc_names:
            self.pcsc_inprocess.remove(self.pcsc_names[reader])

    def unplug(self, reader: str) -> None:
        """Pull the reader's USB cable: it leaves USB, its PC/SC reader and its card go."""
        self.usb_tree.detach(reader)
        if reader in self.vpcd_links:
            self.vpcd_links[reader].remove()
        elif self.pcsc_inprocess is not None and reader in self.pcsc_names:
            self.pcsc_inprocess.remove_reader(self.pcsc_names[reader])

    def _port_power_changed(self, port_path: str, on: bool) -> None:
        """A hub switched a port: the readers behind it leave PC/SC (or come back) as when
        their cable is pulled (or put back)."""
        for reader in self.spec.readers:
            path = reader.usb.path or ""
            if path != port_path and not path.startswith(port_path + "."):
                continue
            if not on and reader.name in self.vpcd_links:
                self.vpcd_links[reader.name].remove()
            elif self.pcsc_inprocess is not None and reader.name in self.pcsc_names:
                pcsc_name = self.pcsc_names[reader.name]
                if on:
                    self.pcsc_inprocess.add_reader(pcsc_name)
                else:
                    self.pcsc_inprocess.remove_reader(pcsc_name)

    def plug(self, reader: str) -> None:
        spec = next(r for r in self.spec.readers if r.name == reader)
        self.usb_tree.attach(self._device(spec))
        if self.pcsc_inprocess is not None and reader in self.pcsc_names:
            self.pcsc_inprocess.add_reader(self.pcsc_names[reader])

    def place_on_nfc(self, reader: str, card: ApduCard) -> object:
        from harness.emulation.nfc_udp import UdpType4BTarget

        if reader not in self.nfc_paths:
            raise RigError(f"{reader}: has no emulated NFC frontend")
        self.take_from_nfc(reader)
        port = int(self.nfc_paths[reader].rsplit(":", 1)[1])
        target = UdpType4BTarget(card, port=port, name=f"{reader} card", timeline=self.timeline)
        target.place()
        self._nfc_targets[reader] = target
        return target

    def take_from_nfc(self, reader: str) -> None:
        target = self._nfc_targets.pop(reader, None)
        if target is not None:
            target.remove()  # type: ignore[attr-defined]
            target.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        for reader in list(self._nfc_targets):
            self.take_from_nfc(reader)
        for link in self.vpcd_links.values():
            link.remove()
        for board in self.relay_boards.values():
            board.stop()
        if self.robot is not None:
            self.robot.stop()


class _NoCard:
    """Stand-in until a test inserts a card (a vpcd link needs a card object)."""

    atr = b"\x3b\x00"

    def transmit(self, apdu: bytes) -> bytes:
        return b"\x6d\x00"

    def reset(self) -> None:
        pass
