"""The bench file: what a bench holds and how it is wired (``fixtures/benches/*.yaml``).

A bench is either ``real`` (devices found through libusb, sysfs, pcscd, serial ports,
cameras) or ``emulated`` (every device names the behaviour file of its twin under
``fixtures/devices/``). The same suites run on both.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

import pydantic

from harness.loading import Field, check_all
from harness.model.bench_faults import FAULT_KINDS, SINGLE_PARTS
from harness.model.clock import MAX_WAIT_S
from harness.model.lamps import LampSpot
from harness.model.robot_spec import RobotSpec
from harness.model.topology import EMULATED_HUB_PORTS, parse_port_path
from harness.model.usb_ids import UsbId

#: The router's name as a device of the bench (the timeline's source of its power): the
#: bench file's ``network.router``.
ROUTER = "router"

#: The slowest a bench's clock may run (bench seconds per wall second).
MIN_SCALE = 0.001
#: The years an emulated clock may start in: the eligibility system's notices are of the
#: 2020s; a start near the end of datetime's range overflows once the bench runs a while.
START_YEARS = (2000, 2100)


def _port_path(value: str) -> str:
    parse_port_path(value)
    return value


class Deviation(Field):
    """A change to an emulated device's behaviour data, standing for faulty firmware."""

    #: Dotted path into the behaviour file, e.g. ``behaviour.start.seconds``.
    change: str
    #: The new value; ``null`` removes the key.
    to: Any = None
    #: What it stands for (reported with the results).
    why: str = ""

    @pydantic.field_validator("change")
    @classmethod
    def _dotted(cls, value: str) -> str:
        # An empty key would be added to the file as ``""`` and reported as an unknown
        # field of the whole file, on the deviations' line rather than this entry's.
        if not value.strip():
            raise ValueError("empty: a dotted path into the behaviour file, like "
                             "behaviour.start.seconds")
        if "" in value.split("."):
            raise ValueError(f"{value!r} has an empty part: a dotted path into the "
                             "behaviour file, like behaviour.start.seconds")
        return value


def _each_path_once(deviations: list[Deviation]) -> list[Deviation]:
    # Two changes of one path: only the last would hold, and the bench's record would
    # still list the first as a fault the device has.
    first: dict[str, int] = {}
    check_all([((i, "change"), f"{d.change} is changed already by deviation [{first[d.change]}]")
               for i, d in enumerate(deviations)
               if first.setdefault(d.change, i) != i])
    return deviations


Deviations = Annotated[list[Deviation], pydantic.AfterValidator(_each_path_once)]


class UsbPort(Field):
    """A USB port of the terminal (a root port)."""

    path: str
    usb: Literal["2.0", "3.0", "3.1", "3.2"]
    label: str = ""

    _check_path = pydantic.field_validator("path")(classmethod(lambda cls, v: _port_path(v)))


class PowerLink(Field):
    relay: str
    channel: int = pydantic.Field(ge=0, le=31)


class Terminal(Field):
    name: str = "terminal"
    usb_ports: list[UsbPort] = []
    power: PowerLink | None = None
    #: When the rig power-cycles the terminal through ``power`` (ERR-11's PC step, the support vendor's お知らせ
    #: ②: PCの電源オンオフ), how long its mains stay off: long enough for the PC's supply to
    #: drain, so it really starts afresh.
    power_off_s: float = pydantic.Field(default=10.0, gt=0, le=600, allow_inf_nan=False)
    #: Used over remote desktop with no monitor of its own (USB-06).
    monitorless: bool = False
    #: Emulated bench: where the January 2026 upgrade stands when the bench opens
    #: (``installed``: downloaded and installed, the terminal not yet rebooted).
    upgrade: Literal["none", "installed", "applied"] = "none"
    #: Emulated bench: the terminal twin's behaviour file, relative to the bench file
    #: (default: the project's fixtures/devices/terminal/oqs-terminal.yaml).
    emulate: str | None = None
    deviations: Deviations = []


class BenchNetwork(Field):
    """The terminal's line to the eligibility system, as a network scenario sees it
    (NET-01)."""

    #: The notice's area the bench stands in: which region's periods a scenario replays.
    #: Default 西日本: of the year-end renewal's areas, the one with both kinds of cut (the
    #: long cut and the intermittent cuts), so a bench that names none proves both.
    region: Literal["西日本", "東日本"] = "西日本"
    #: Real bench: the relay channel that carries the terminal's line (a relay on the LAN
    #: cable's path, or a switch port's power): off cuts it. Without one the operator cuts
    #: and restores the line when asked.
    switch: PowerLink | None = None
    #: Real bench: the relay channel on the router's mains (the router between the terminal
    #: and the network). ERR-11's "restart the router" (the support vendor's お知らせ ②: ルーターの再起動) then
    #: power-cycles it through this channel; without one the operator restarts it when asked.
    #: The rig switches it on as it opens the bench (the line needs the router).
    router: PowerLink | None = None
    #: How long the router's mains stay off when it is power-cycled (the notice gives no
    #: time; ten seconds is the usual advice for letting a router reset).
    router_off_s: float = pydantic.Field(default=10.0, gt=0, le=600, allow_inf_nan=False)


class ReceiptComputer(Field):
    """The receipt computer (レセコン): it starts last; results are handed to it."""

    name: str = "receipt_computer"
    power: PowerLink | None = None


class PowerStep(Field):
    """One step of the bench's power-on sequence: switch devices on or off, or wait."""

    # Not ``on``/``off``: YAML 1.1 reads those keys as booleans.
    switch_on: list[str] = []
    switch_off: list[str] = []
    #: From when this step began switching to when the next one begins. At most a day: a
    #: device is up in minutes, and bench time that far past the clock's end overflows.
    wait_s: float = pydantic.Field(default=0, ge=0, le=MAX_WAIT_S)


class ClockSettings(Field):
    #: Emulated bench: the date and time (with zone) its virtual clock starts at.
    start: dt.datetime = dt.datetime.fromisoformat("2026-02-02T08:30:00+09:00")
    #: Real bench: bench seconds per wall second. Only a bench in a box (``onshi-rig
    #: emulate --hardware DIR --scale N``) runs faster, and both sides must say the same N.
    #: At least MIN_SCALE: a wait's wall seconds (its bench seconds over the scale) must
    #: stay a time the system can wait (1e-300 overflowed at the first operator question).
    scale: float = pydantic.Field(default=1.0, ge=MIN_SCALE, le=1000, allow_inf_nan=False)

    @pydantic.field_validator("start")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-01-19T20:00:00+09:00")
        if not START_YEARS[0] <= value.year <= START_YEARS[1]:
            raise ValueError(f"a year from {START_YEARS[0]} to {START_YEARS[1]}, not "
                             f"{value.year}")
        return value


class Hub(Field):
    name: str
    path: str
    usb: Literal["2.0", "3.0", "3.1", "3.2"]
    #: Emulated bench: the hub's behaviour file.
    emulate: str | None = None
    #: The hub switches each port's power (hub class PORT_POWER requests, as uhubctl does):
    #: the rig pulls and puts back the USB of what is plugged into it without a person.
    port_power: bool = False

    _check_path = pydantic.field_validator("path")(classmethod(lambda cls, v: _port_path(v)))


class ReaderUsb(Field):
    vid: UsbId
    pid: UsbId
    serial: str | None = None
    #: Where the device is plugged. Emulated bench: where the twin is plugged in. Real bench:
    #: optional, tells identical readers apart.
    path: str | None = None
    #: The IDs are stand-ins because the maker's are not public.
    placeholder: bool = False

    @pydantic.field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else _port_path(value)


def _as_printed(value: str | None) -> str | None:
    """A maker or model name as it prints: no invisible character (a zero-width space a copy
    from a web page brings) and no full-width letter (``Ｓｏｎｙ``). Either made the reader
    fail USB-04/USB-07 with a name that looks the same as the verified one."""
    if value is None:
        return value
    plain = "".join(c for c in unicodedata.normalize("NFKC", value)
                    if unicodedata.category(c) != "Cf")
    if plain != value:
        raise ValueError(f"{value!r} holds an invisible or full-width character; did you "
                         f"mean {plain!r}?")
    return value


#: A maker's or model's name, checked as :func:`_as_printed` says.
PrintedName = Annotated[str, pydantic.AfterValidator(_as_printed)]


class Reader(Field):
    name: str
    kind: Literal["face_auth_reader", "general_reader"]
    #: Face-auth readers: a maker key of vendor_profiles (panasonic, canon, ...).
    #: General readers: the maker as the verified list writes it (Sony, Sanwa Supply, ...).
    maker: PrintedName
    model: PrintedName | None = None
    usb: ReaderUsb
    power: PowerLink | None = None
    camera: str | None = None
    #: Emulated bench: the twin's behaviour file, relative to the bench file.
    emulate: str | None = None
    #: Emulated bench: changes to the behaviour file (faulty firmware).
    deviations: Deviations = []
    #: Real bench: the nfcpy path of the reader's NFC frontend, e.g. ``usb:054c:06c3``.
    nfc: str | None = None
    #: Real bench: the name pcscd lists the reader under, where it does not carry the
    #: reader's USB product string (by which ``scan`` pairs the others), e.g. a vpcd slot's
    #: ``Virtual PCD 00 00``.
    pcsc_name: str | None = None


#: Per instrument kind: the fields it needs (one of each tuple) and the fields it takes.
_INSTRUMENT_FIELDS: dict[str, tuple[tuple[tuple[str, ...], ...], frozenset[str]]] = {
    "numato_relay": ((("port",),), frozenset({"port", "board_id"})),
    "hid_relay": ((("serial", "usb_path"),), frozenset({"serial", "usb_path"})),
    "pdudaemon": ((("url",), ("hostname",), ("ports",)),
                  frozenset({"url", "hostname", "ports", "readback", "timeout_s"})),
}
_KIND_FIELDS = frozenset().union(*(taken for _, taken in _INSTRUMENT_FIELDS.values()))


class Instrument(Field):
    """A relay board or PDU that switches the bench's mains (harness.bench_relays)."""

    name: str
    kind: Literal["numato_relay", "hid_relay", "pdudaemon"]
    #: numato_relay: serial port (``/dev/ttyACM0``, a pyserial URL); ``emulated`` on an
    #: emulated bench.
    port: str | None = None
    #: pdudaemon: one per entry of ``ports``; hid_relay: at most the board's relays.
    channels: int = pydantic.Field(default=8, ge=1, le=32)
    #: hid_relay: the board's 5-character serial (in its feature report, not a USB string).
    serial: str | None = pydantic.Field(default=None, pattern=r"^[!-~]{5}$")
    #: hid_relay: the USB port path it is plugged into (emulated bench: where it is plugged).
    usb_path: str | None = None
    #: numato_relay: the id the board answers to ``id get`` (set once with ``id set``):
    #: checked at open, since ``/dev/ttyACM0`` follows enumeration order, not the board.
    board_id: str | None = pydantic.Field(default=None, pattern=r"^[!-=?-~]{8}$")
    #: pdudaemon: its HTTP listener (``http://pdu-host:16421``).
    url: str | None = pydantic.Field(default=None, pattern=r"^https?://[^/?#\s]+/?$")
    #: pdudaemon: the PDU's name in pdudaemon's configuration.
    hostname: str | None = pydantic.Field(default=None, min_length=1)
    #: pdudaemon: the PDU's port switched by each channel (channel c is ``ports[c]``).
    ports: list[int] | None = pydantic.Field(default=None, min_length=1, max_length=32)
    #: pdudaemon: an instrument of the bench that reads the same contacts, channel for
    #: channel; the rig waits for it to confirm each switch. Without it, switches are
    #: unconfirmed (named on the timeline).
    readback: str | None = None
    #: pdudaemon: bound on one switch, the daemon's answer and the read-back (seconds).
    timeout_s: float = pydantic.Field(default=30.0, gt=0, le=MAX_WAIT_S)

    @pydantic.field_validator("usb_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else _port_path(value)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _channels_of_ports(cls, data: Any) -> Any:
        # A PDU behind pdudaemon has a channel per port listed, unless told otherwise.
        if (isinstance(data, dict) and data.get("kind") == "pdudaemon"
                and isinstance(data.get("ports"), list) and "channels" not in data):
            data = {**data, "channels": len(data["ports"])}
        return data

    @pydantic.model_validator(mode="after")
    def _fields_of_kind(self) -> Instrument:
        needs, takes = _INSTRUMENT_FIELDS[self.kind]
        given = {f for f in _KIND_FIELDS if f in self.model_fields_set}
        problems = [f"{self.kind} needs {' or '.join(one)}" for one in needs
                    if not any(getattr(self, f) is not None for f in one)]
        problems += [f"{self.kind} takes no {f}" for f in sorted(given - takes)]
        if self.kind == "hid_relay" and self.channels not in (1, 2, 4, 8):
            problems.append(f"USB HID relay boards have 1, 2, 4 or 8 relays, not {self.channels}")
        if self.kind == "pdudaemon" and self.ports is not None:
            if self.channels != len(self.ports):
                problems.append(f"channels {self.channels} but {len(self.ports)} ports")
            if len(set(self.ports)) != len(self.ports):
                problems.append("a PDU port switched by two channels")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class CameraCalibration(Field):
    """Where the screen is in the camera's frames (as ``onshi-rig calibrate`` saves it):
    corners top-left, top-right, bottom-right, bottom-left in frame pixels."""

    quad: list[list[float]]
    frame_size: list[int]
    screen_size: list[int]
    method: str = "quad"

    @pydantic.model_validator(mode="after")
    def _plausible(self) -> CameraCalibration:
        from harness.vision.geometry import Calibration

        Calibration.from_json(self.model_dump())  # ValueError says what is wrong
        return self


#: A camera lagging longer than this is no camera to time a screen by.
MAX_LATENCY_S = 30.0


class Camera(Field):
    name: str
    #: The reader whose screen it watches, or the terminal (its monitor).
    watches: str
    #: ``emulated``, a device index (``0``), a device path or a URL (cv2.VideoCapture).
    source: str | int
    #: Real cameras: capture size and rate to ask the driver for.
    width: int | None = pydantic.Field(default=None, gt=0)
    height: int | None = pydantic.Field(default=None, gt=0)
    fps: float | None = pydantic.Field(default=None, gt=0)
    #: Real cameras: a fixed exposure in the driver's units (V4L2: 100 µs steps), so the
    #: screen's brightness does not pump; left to the driver when it refuses.
    exposure: float | None = None
    #: Real benches: a capture card (HDMI from the terminal's monitor, say) rather than a
    #: camera: no sensor noise, so identical frames are normal and a frozen one cannot be
    #: told from a still screen (the rig then does not judge freezes on it, and says so).
    noiseless: bool = False
    #: Real cameras: seconds its picture lags the screen (sensor, encoder, network, a
    #: recorder in between), as the lab measured it: its frames are stamped that much before
    #: they arrive. A network stream (a URL) must give it: a lag of seconds would move every
    #: "after", "within" and "not before" edge by as much, the way that hides an early
    #: screen. A deriving file that gives a camera another ``source`` gives its latency
    #: again (the base's was measured on the base's source).
    latency_s: float | None = pydantic.Field(default=None, ge=0, le=MAX_LATENCY_S,
                                             allow_inf_nan=False)
    #: The reader's lamps this camera sees (ERR-07), where it sees them relative to the
    #: screen: measured by the lab for its own camera; a lamp out of its sight (on the
    #: reader's back) is not listed.
    lamps: list[LampSpot] = []
    #: Where the screen is in this camera's frames: inline, or a JSON file (relative to the
    #: bench file) as ``onshi-rig calibrate`` writes it. With it the watcher knows the screen
    #: from the first frame, a switched-off panel included.
    calibration: CameraCalibration | str | None = None


def camera_device(source: str | int) -> str | None:
    """The device a camera ``source`` opens, spelt one way (``0``, ``"0"`` and
    ``/dev/video0`` are one camera); None for ``emulated`` (each emulated camera is its
    own twin's)."""
    text = str(source).strip()
    if text == "emulated":
        return None
    if text.isdigit():
        return f"/dev/video{int(text)}"
    return text


class PcscSettings(Field):
    """How emulated cards reach PC/SC clients.

    ``inprocess``: inside the rig only (no pcscd needed). ``vpcd``: through the real pcscd and
    the vpcd driver, so pyscard, pcsc_scan and opensc see them: every reader with a PC/SC side
    with the rig's reader.conf (``onshi-rig pcscd-config``: reader i on ``vpcd_base_port`` +
    2i, each entry with its own copy of the driver, since entries sharing one collide), or the
    first two with Debian's stock one ("Virtual PCD" on 35963 and 35964; ``vpcd_reader`` takes
    its first slot, default the bench's first reader).
    """

    service: Literal["inprocess", "vpcd"] = "inprocess"
    vpcd_host: str = "127.0.0.1"
    vpcd_base_port: int = pydantic.Field(default=35971, ge=1024, le=65000)
    vpcd_reader: str | None = None


class LabgridPlace(Field):
    """The labgrid place this bench is (harness/bench_lock.py): a run acquires it from the
    lab's coordinator for its whole length and releases it at the end, so two people, or a
    person and CI, never drive the bench at once."""

    #: The coordinator, ``HOST:PORT`` (default: ``LG_COORDINATOR``, else labgrid's own
    #: default ``127.0.0.1:20408``).
    coordinator: str | None = pydantic.Field(default=None, pattern=r"^[^\s/]+$")
    #: The place's exact name (not labgrid-client's substring match; ``+TOKEN`` is not
    #: taken).
    place: str = pydantic.Field(pattern=r"^[^\s+*][^\s*]*$")


class OperatorSettings(Field):
    """Real bench: how the person at the bench is asked (harness.operator)."""

    #: How long a step may take the operator before it fails, in seconds: at most a day,
    #: as every other wait (1e300 overflowed at the first question).
    timeout_s: float = pydantic.Field(default=300.0, gt=0, le=MAX_WAIT_S)
    #: A scripted operator (YAML answers, relative to the bench file) instead of the
    #: terminal: for dry runs and benches with nobody at them.
    script: str | None = None
    #: The terminal the operator answers on, when it is not the rig's own: a console or
    #: serial terminal at the bench (``/dev/ttyUSB1``), the pty a bench in a box answers
    #: on (its person acts on the twins as asked).
    terminal: str | None = pydantic.Field(default=None, pattern=r"^/\S+$")

    @pydantic.field_validator("script")
    @classmethod
    def _a_script(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty: give the script file, relative to the bench file")
        return value

    @pydantic.model_validator(mode="after")
    def _one_operator(self) -> OperatorSettings:
        if self.script is not None and self.terminal is not None:
            raise ValueError("give a script or a terminal, not both")
        return self


class InjectedFault(Field):
    """Emulated bench: a bench fault injected while a test runs (harness/emulation/faults),
    to see the run name it, bound it and go on."""

    #: One of harness.model.bench_faults.FAULT_KINDS (``camera.frozen``, ...).
    fault: str
    #: The reader, camera or relay it strikes (by name); for pcscd, the network and the
    #: operator, that word (the default).
    target: str | None = None
    #: The first test whose node id contains this text gets it (``canon-E901-02``), once
    #: per run: the first in the suites' order, whichever worker of ``--jobs N`` runs it.
    during: str = pydantic.Field(min_length=1)
    #: Bench seconds into that test.
    after_s: float = pydantic.Field(default=0.0, ge=0, le=MAX_WAIT_S)

    @pydantic.field_validator("fault")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in FAULT_KINDS:
            raise ValueError(f"no such fault {value!r} (known: {', '.join(FAULT_KINDS)})")
        return value

    def struck(self) -> str:
        """The part it strikes, by name."""
        return self.target if self.target is not None else FAULT_KINDS[self.fault].strikes


class ReaderModel(Field):
    """A general reader model, as the verified list writes it."""

    maker: PrintedName
    model: PrintedName


class MinFirmware(ReaderModel):
    """The oldest firmware (USB bcdDevice, as lsusb prints it: ``1.10``) a model may run."""

    version: str = pydantic.Field(pattern=r"^[0-9]{1,2}\.[0-9]{2}$")


class GeneralReaderRules(Field):
    """What the lab knows of general readers and the notices do not give (the support vendor's お知らせ): each
    face-auth maker's designated general readers (USB-07; a maker not listed: the six
    verified models) and each model's minimum firmware (USB-08; a model not listed: no
    minimum)."""

    #: Face-auth maker key -> the general reader models that may be used with it.
    designated: dict[str, list[ReaderModel]] = {}
    min_firmware: list[MinFirmware] = []


class BenchSpec(Field):
    bench: str
    description: str = ""
    kind: Literal["real", "emulated"]
    terminal: Terminal = Terminal()
    receipt_computer: ReceiptComputer | None = None
    hubs: list[Hub] = []
    readers: list[Reader] = []
    instruments: list[Instrument] = []
    cameras: list[Camera] = []
    pcsc: PcscSettings = PcscSettings()
    clock: ClockSettings = ClockSettings()
    #: How the bench is switched on when it opens (default: every relay channel on, in
    #: channel order).
    power_on: list[PowerStep] | None = None
    #: Real bench: where sysfs is (tests point this at a fixture tree).
    sysfs_root: str = "/sys/bus/usb/devices"
    #: Real bench: where the USB devices are listed from. ``libusb`` (pyusb); ``sysfs``:
    #: ``sysfs_root`` alone, the IDs and strings the kernel keeps there (no device node
    #: opened, so no udev rule needed; a bench in a box's only USB). Per-port power and HID
    #: relays still go through libusb.
    usb_devices: Literal["libusb", "sysfs"] = "libusb"
    #: Real bench: how the operator is asked (default: on the terminal, 300 s per step).
    operator: OperatorSettings = OperatorSettings()
    #: Emulated bench: faults injected during named tests.
    faults: list[InjectedFault] = []
    #: A G-code stylus robot that presses the readers' buttons and moves the card.
    robot: RobotSpec | None = None
    #: The lab's lists for general readers (USB-07, USB-08).
    general_reader_rules: GeneralReaderRules = GeneralReaderRules()
    #: A labgrid place acquired for each run (``{coordinator: HOST:PORT, place: NAME}``).
    labgrid: LabgridPlace | None = None
    #: The terminal's line: the region a network scenario replays, the relay that cuts it.
    network: BenchNetwork = BenchNetwork()

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> BenchSpec:
        found: list[tuple[tuple[Any, ...], str]] = []
        self._check_names(found)
        relays = {i.name: i for i in self.instruments}
        # What each link switches (named in the problem) and where the link is.
        powered: list[tuple[str, tuple[Any, ...], PowerLink | None]] = [
            (f"readers[{r.name}]", ("readers", i, "power"), r.power)
            for i, r in enumerate(self.readers)]
        powered.append(("terminal", ("terminal", "power"), self.terminal.power))
        if self.receipt_computer is not None:
            powered.append(("receipt_computer", ("receipt_computer", "power"),
                            self.receipt_computer.power))
        powered.append(("network.switch", ("network", "switch"), self.network.switch))
        powered.append(("network.router", ("network", "router"), self.network.router))
        switchable = self.switchable()
        for i, step in enumerate(self.power_on or []):
            for key in ("switch_on", "switch_off"):
                for k, name in enumerate(getattr(step, key)):
                    if name not in switchable:
                        found.append((("power_on", i, key, k), (
                            f"power_on[{i}]: {name!r} has no relay channel "
                            f"(switchable: {', '.join(switchable) or 'nothing'})")))
        channels: dict[tuple[str, int], tuple[str, tuple[Any, ...], str]] = {}
        for who, loc, link in powered:
            if link is None:
                continue
            # A device's link is its ``power``; the network's links are named for themselves.
            field = who if who.startswith("network.") else f"{who}.power"
            if link.relay not in relays:
                found.append(((*loc, "relay"), f"{field}: no instrument named {link.relay!r}"))
            elif link.channel >= relays[link.relay].channels:
                found.append(((*loc, "channel"), f"{field}: relay {link.relay!r} has "
                              f"channels 0..{relays[link.relay].channels - 1}"))
            # One channel switches one device: two on it could not be switched apart. Said
            # at both entries: one of them may be a shipped base's, whose line the user's
            # file does not have (the message then fell back to its line 1).
            other, other_loc, other_field = channels.setdefault(
                (link.relay, link.channel), (who, loc, field))
            if other != who:
                found.append(((*loc, "channel"), f"{field}: relay {link.relay!r} channel "
                              f"{link.channel} already switches {other}"))
                found.append(((*other_loc, "channel"), f"{other_field}: relay {link.relay!r} "
                              f"channel {link.channel} also switches {who}"))
        readers = {r.name for r in self.readers}
        if self.pcsc.vpcd_reader is not None and self.pcsc.vpcd_reader not in readers:
            found.append((("pcsc", "vpcd_reader"),
                          f"pcsc.vpcd_reader: no reader named {self.pcsc.vpcd_reader!r}"))
        for i, cam in enumerate(self.cameras):
            if cam.watches not in readers and cam.watches != self.terminal.name:
                found.append((("cameras", i, "watches"), (
                    f"camera {cam.name!r} watches {cam.watches!r}: no such reader or terminal")))
        self._check_cameras(found)
        self._check_root_ports(found)
        self._check_faults(found)
        self._check_nfc(found)
        found += self.robot.problems(self) if self.robot is not None else []
        if self.kind == "emulated":
            self._check_emulated(found)
        else:
            for i, r in enumerate(self.readers):
                if r.emulate:
                    found.append((("readers", i, "emulate"),
                                  f"reader {r.name!r}: 'emulate' needs kind: emulated"))
        check_all(found)
        return self

    def _check_cameras(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        """Which camera looks at which reader is said once: a reader's ``camera`` names the
        camera whose ``watches`` names that reader (the rig goes by ``watches``; a
        contradiction is the file's mistake, said at both lines). Two cameras of one source
        would show one device's screen as two devices' (a copied line): never loaded."""
        cameras = {c.name: (i, c) for i, c in enumerate(self.cameras)}
        for i, r in enumerate(self.readers):
            if r.camera is None:
                continue
            if r.camera not in cameras:
                found.append((("readers", i, "camera"),
                              f"reader {r.name!r}: no camera named {r.camera!r}"))
                continue
            k, cam = cameras[r.camera]
            if cam.watches != r.name:
                found.append((("readers", i, "camera"),
                              f"reader {r.name!r}: its camera {r.camera!r} watches "
                              f"{cam.watches!r}, not {r.name!r}"))
                found.append((("cameras", k, "watches"),
                              f"camera {cam.name!r} watches {cam.watches!r}, but reader "
                              f"{r.name!r} names it as its camera"))
        sources: dict[str, int] = {}
        for i, cam in enumerate(self.cameras):
            if self.kind != "emulated" and "://" in str(cam.source) and cam.latency_s is None:
                found.append((("cameras", i, "source"), (
                    f"camera {cam.name!r}: a network stream's picture lags the screen by "
                    "its encoder and network (often 0.5-3 s, a recorder more) and the rig "
                    "times every screen by it: measure the lag and give latency_s (README, "
                    "camera latency)")))
            source = camera_device(cam.source)
            if source is None:
                continue
            k = sources.setdefault(source, i)
            if k != i:
                found.append((("cameras", i, "source"),
                              f"camera {cam.name!r}: source {cam.source!r} is also camera "
                              f"{self.cameras[k].name!r}'s: one device watched as two"))

    def _check_nfc(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        """An NFC frontend is one reader's: one ``nfc`` path on two readers (a copied line)
        reads one device for both, and an nfcpy ``usb:VID:PID`` path of another USB ID than
        the reader's opens another device (hunt R4: a read through another reader passed)."""
        seen: dict[str, str] = {}
        for i, r in enumerate(self.readers):
            if r.nfc is None:
                continue
            other = seen.setdefault(r.nfc, r.name)
            if other != r.name:
                found.append((("readers", i, "nfc"), f"reader {r.name!r}: nfc {r.nfc!r} is "
                              f"already {other!r}'s: one frontend reads for one reader"))
            by_id = re.fullmatch(r"usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", r.nfc)
            if by_id and (int(by_id[1], 16), int(by_id[2], 16)) != (r.usb.vid, r.usb.pid):
                found.append((("readers", i, "nfc"), f"reader {r.name!r}: nfc {r.nfc!r} is "
                              f"another USB ID than its usb {r.usb.vid:04X}:{r.usb.pid:04X}"))

    def _check_root_ports(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        """A terminal's root port is listed once (twice, as 3.0 and as 2.0, its speed would
        be whichever the reader of the list took)."""
        paths = [p.path for p in self.terminal.usb_ports]
        found += [(("terminal", "usb_ports", i, "path"), f"port {path} listed twice")
                  for i, path in enumerate(paths) if paths.count(path) > 1]

    def _check_faults(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        """An injected fault needs an emulated bench and strikes a part of the right kind."""
        parts = {"reader": {r.name for r in self.readers},
                 "camera": {c.name for c in self.cameras},
                 "relay": {i.name for i in self.instruments}}
        for i, fault in enumerate(self.faults):
            if self.kind != "emulated":
                found.append((("faults", i), "faults are injected on an emulated bench only"))
                continue
            strikes = FAULT_KINDS[fault.fault].strikes
            if strikes in SINGLE_PARTS:
                if fault.target not in (None, strikes):
                    found.append((("faults", i, "target"),
                                  f"{fault.fault} strikes the bench's {strikes}, not "
                                  f"{fault.target!r}"))
            elif fault.struck() not in parts[strikes]:
                found.append((("faults", i, "target"),
                              f"{fault.fault} strikes a {strikes}: no {strikes} named "
                              f"{fault.target!r} (the bench's: "
                              f"{', '.join(sorted(parts[strikes])) or 'none'})"))

    def _check_names(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        """Devices are named once on a bench (a suite or a power step names one device);
        instruments and cameras have names of their own kind."""
        devices: list[tuple[tuple[Any, ...], str]] = [
            (("readers", i, "name"), r.name) for i, r in enumerate(self.readers)]
        devices += [(("hubs", i, "name"), h.name) for i, h in enumerate(self.hubs)]
        devices.append((("terminal", "name"), self.terminal.name))
        if self.receipt_computer is not None:
            devices.append((("receipt_computer", "name"), self.receipt_computer.name))
        if self.network.router is not None:
            devices.append((("network", "router"), ROUTER))
        for group in (devices,
                      [(("instruments", i, "name"), x.name)
                       for i, x in enumerate(self.instruments)],
                      [(("cameras", i, "name"), c.name) for i, c in enumerate(self.cameras)]):
            names = [name for _, name in group]
            # Each place that uses the name: which one is the mistake is the user's call.
            found += [(loc, f"names used twice: {name}") for loc, name in group
                      if names.count(name) > 1]

    def switchable(self) -> dict[str, PowerLink]:
        """Devices on a relay channel, by name."""
        links: dict[str, PowerLink] = {r.name: r.power for r in self.readers if r.power}
        if self.terminal.power:
            links[self.terminal.name] = self.terminal.power
        if self.receipt_computer is not None and self.receipt_computer.power:
            links[self.receipt_computer.name] = self.receipt_computer.power
        return links

    def relay_links(self) -> dict[str, PowerLink]:
        """Everything on a relay channel whose power a device feels, by name: the
        switchable devices and the router (``network.router``; not switched on and off with
        the devices, so not :meth:`switchable`)."""
        links = self.switchable()
        if self.network.router is not None:
            links[ROUTER] = self.network.router
        return links

    def _check_emulated(self, found: list[tuple[tuple[Any, ...], str]]) -> None:
        ports = {p.path for p in self.terminal.usb_ports}
        hubs = {h.path: h.name for h in self.hubs}
        plugged = [(f"hub {h.name!r}", ("hubs", i), h.path, h.emulate, ("path",))
                   for i, h in enumerate(self.hubs)]
        plugged += [(f"reader {r.name!r}", ("readers", i), r.usb.path, r.emulate,
                     ("usb", "path")) for i, r in enumerate(self.readers)]
        for who, loc, path, emulate, key in plugged:
            if not emulate:
                found.append((loc, f"{who}: an emulated bench needs 'emulate' (its "
                                   "behaviour file)"))
            if path is None:
                found.append((loc, f"{who}: an emulated bench needs usb.path (where it is "
                                   "plugged)"))
                continue
            bus, ports_ = parse_port_path(path)
            root = f"{bus}-{ports_[0]}"
            at = (*loc, *key)
            if root not in ports:
                found.append((at, f"{who}: {path} starts at {root}, not a port of the terminal"))
                continue
            for depth in range(1, len(ports_)):
                parent = f"{bus}-" + ".".join(str(p) for p in ports_[:depth])
                if parent not in hubs:
                    found.append((at, f"{who}: {path} needs a hub at {parent}; none is listed"))
                    break
                if ports_[depth] > EMULATED_HUB_PORTS:  # else the tree refuses it unplaced
                    found.append((at, f"{who}: {path}: hub {hubs[parent]!r} at {parent} has "
                                      f"{EMULATED_HUB_PORTS} ports, not {ports_[depth]}"))
                    break
        # The twins name their own PC/SC readers and list their own USB.
        for i, r in enumerate(self.readers):
            if r.pcsc_name is not None:
                found.append((("readers", i, "pcsc_name"), f"reader {r.name!r}: pcsc_name is "
                              "a real reader's; an emulated reader's comes from its twin"))
        if self.usb_devices != "libusb":
            found.append((("usb_devices",), "usb_devices is a real bench's; an emulated "
                          "bench lists its twins"))
        used: dict[str, tuple[str, tuple[Any, ...]]] = {}
        for who, loc, path, _, key in plugged:
            if path is None:
                continue
            other, other_at = used.setdefault(path, (who, (*loc, *key)))
            if other != who:
                # Said at both entries, as a relay channel's clash: one may be a base file's.
                found.append(((*loc, *key), f"two devices plugged into {path} "
                                           f"({other} and {who})"))
                found.append((other_at, f"two devices plugged into {path} ({other} and "
                                        f"{who})"))
        for i, inst in enumerate(self.instruments):
            if inst.kind == "numato_relay" and inst.port != "emulated":
                found.append((("instruments", i, "port"),
                              f"instrument {inst.name!r}: port must be 'emulated' here"))
            if inst.kind == "hid_relay" and inst.usb_path is None:
                found.append((("instruments", i), f"instrument {inst.name!r}: an emulated "
                              "bench needs usb_path (where the board is plugged)"))
