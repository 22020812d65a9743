"""USB HID relay boards ("USBRelay2/4/8", VID:PID 16c0:05df): a :class:`PowerRelay` through
pyusb control transfers, as labgrid's HIDRelay and pdudaemon's ``vusbhid`` drive them.

The board has no USB serial number of its own: its 5-character serial is in its feature
report, so a board is picked by that serial, by the USB port path it is plugged into, or
both. Requests (HID class, feature report 0, on endpoint 0):

- SET_REPORT ``FF n`` / ``FD n``: relay n (1-based) on / off; ``FE`` / ``FC``: all on / off;
- GET_REPORT (8 bytes): the serial, two unused bytes, the relays as a bitmask.

The rig numbers channels from 0 (the bench file's ``power.channel``): channel c is the
board's relay c+1. Every switch is read back; a board that reads back the old state is a
:class:`~harness.devices.instruments.RelayStuck`, one that does not answer in time a
``relay.silent`` bench fault, one gone from USB a :class:`~harness.errors.DeviceGone`.
"""

from __future__ import annotations

import array
import contextlib
import errno
import re
import threading

import usb.backend
import usb.core
import usb.util

from harness.devices.instruments import (
    REPLY_TIMEOUT_S,
    RelayArgumentError,
    RelayGarbage,
    RelaySilent,
    RelayStuck,
)
from harness.errors import DeviceGone, RigError
from harness.model.topology import parse_port_path, port_path
from harness.model.usb_codes import GET_REPORT, REPORT_TYPE_FEATURE, SET_REPORT

VID, PID = 0x16C0, 0x05DF
#: wValue: report type feature in the high byte, report id 0.
FEATURE_REPORT_0 = REPORT_TYPE_FEATURE << 8
REPORT_BYTES = 8
_OUT = usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_DEVICE | usb.util.CTRL_OUT
_IN = usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_DEVICE | usb.util.CTRL_IN
_PRODUCT = re.compile(r"USBRelay([1-8])")


def _path_of(dev: usb.core.Device) -> str | None:
    return port_path(dev.bus, dev.port_numbers)


class HidRelay:
    """One USB HID relay board, picked by ``serial`` and/or ``path`` among the boards
    pyusb's ``backend`` sees (libusb on a real bench, the emulated backend in CI)."""

    def __init__(self, backend: usb.backend.IBackend | None, *, serial: str | None = None,
                 path: str | None = None, name: str = "relay board",
                 channels: int | None = None, timeout: float = REPLY_TIMEOUT_S) -> None:
        if serial is None and path is None:
            raise RelayArgumentError(f"{name}: pick the HID relay board by its serial or its "
                                     "USB path")
        if path is not None:
            parse_port_path(path)  # ValueError names a malformed path
        if timeout <= 0:
            raise RelayArgumentError(f"{name}: relay timeout must be positive, not {timeout}")
        self.backend = backend
        self.serial = serial
        self.path = path
        self.name = name
        self.timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        #: Where the board is plugged, once found (errors name it).
        self.usb_path = path
        self._dev, board_channels = self._find()
        if channels is not None and channels > board_channels:
            raise RelayArgumentError(f"{self.device}: the board has {board_channels} relays, "
                                     f"not {channels}")
        self.channels = channels if channels is not None else board_channels

    @property
    def device(self) -> str:
        """How errors name this board: its name, serial and USB path."""
        which = ", ".join(x for x in (self.serial and f"serial {self.serial}",
                                      self.path and f"USB {self.path}") if x)
        return f"{self.name} ({which})"

    # -- PowerRelay -----------------------------------------------------------------------
    def on(self, channel: int) -> None:
        self._switch(channel, True)

    def off(self, channel: int) -> None:
        self._switch(channel, False)

    def is_on(self, channel: int) -> bool:
        return bool(self.read_all() >> self._relay(channel) - 1 & 1)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(usb.core.USBError):  # a board gone has nothing to free
                usb.util.dispose_resources(self._dev)

    # -- the rest of the protocol ---------------------------------------------------------
    def read_all(self) -> int:
        """All relays as a bitmask, bit c = channel c on."""
        return self._report("GET_REPORT")[7]

    def read_serial(self) -> str:
        return self._report("GET_REPORT")[:5].decode("latin-1")

    def all_on(self) -> None:
        self._all(True)

    def all_off(self) -> None:
        self._all(False)

    def __repr__(self) -> str:
        return f"HidRelay({self.device}, channels={self.channels})"

    # -- internals ------------------------------------------------------------------------
    def _find(self) -> tuple[usb.core.Device, int]:
        seen: list[str] = []
        matches: list[tuple[usb.core.Device, int, str | None]] = []
        try:
            found = list(usb.core.find(find_all=True, backend=self.backend,
                                       idVendor=VID, idProduct=PID))
        except usb.core.NoBackendError as exc:
            raise RigError(f"{self.name}: no libusb for pyusb ({exc})") from exc
        for dev in found:
            path = _path_of(dev)
            if self.path is not None and path != self.path:
                seen.append(f"one at USB {path}")
                continue
            self.usb_path = path
            try:
                product = usb.util.get_string(dev, dev.iProduct) if dev.iProduct else None
                match = _PRODUCT.fullmatch(product or "")
                serial = self._report_of(dev, "GET_REPORT")[:5].decode("latin-1") \
                    if match else None
            except (usb.core.USBError, ValueError) as exc:
                seen.append(f"one at USB {path} that cannot be read ({exc})")
                continue
            if match is None:
                seen.append(f"a {product!r} at USB {path}, not a USBRelay board")
                continue
            if self.serial is not None and serial != self.serial:
                seen.append(f"serial {serial} at USB {path}")
                continue
            matches.append((dev, int(match.group(1)), path))
        if len(matches) > 1:
            # Cheap boards are often flashed with one serial: driving the first found (and
            # reading the switch back from it) switches another outlet than the one meant,
            # and the read-back confirms it. Refused before anything is switched.
            where = ", ".join(f"USB {p}" for _, _, p in matches)
            raise RelayArgumentError(
                f"{self.device}: {len(matches)} USB HID relay boards answer to it (at "
                f"{where}): which one is meant is not known; give its usb_path")
        if matches:
            dev, relays, self.usb_path = matches[0]
            return dev, relays
        others = "; ".join(seen) or "none at all"
        raise RigError(f"{self.device}: no such USB HID relay board (16c0:05df boards seen: "
                       f"{others})")

    def _relay(self, channel: int) -> int:
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise RelayArgumentError(f"{self.device}: a relay channel is an int, not {channel!r}")
        if not 0 <= channel < self.channels:
            raise RelayArgumentError(f"{self.device}: no relay channel {channel}; this board "
                                     f"has channels 0..{self.channels - 1}")
        return channel + 1

    def _switch(self, channel: int, on: bool) -> None:
        relay = self._relay(channel)
        sent = f"SET_REPORT {0xFF if on else 0xFD:02X} {relay:02X}"
        self._set([0xFF if on else 0xFD, relay], sent)
        # Read back: power-order rules must never see a switch that did not happen.
        actual = self.is_on(channel)
        if actual != on:
            raise RelayStuck(self.device, sent, "on" if on else "off", "on" if actual else "off")

    def _all(self, on: bool) -> None:
        sent = f"SET_REPORT {0xFE if on else 0xFC:02X}"
        self._set([0xFE if on else 0xFC], sent)
        wanted = (1 << self.channels) - 1 if on else 0
        actual = self.read_all() & ((1 << self.channels) - 1)
        if actual != wanted:
            raise RelayStuck(self.device, sent, f"{wanted:02x}", f"{actual:02x}")

    def _set(self, payload: list[int], sent: str) -> None:
        # Padded to the report's 8 bytes, as usb-relay-hid's hidapi writes it.
        data = array.array("B", payload + [0] * (REPORT_BYTES - len(payload)))
        with self._lock:
            self._open()
            try:
                self._dev.ctrl_transfer(_OUT, SET_REPORT, FEATURE_REPORT_0, 0, data,
                                        self._timeout_ms())
            except usb.core.USBError as exc:
                raise self._usb_failure(exc, sent) from exc

    def _report(self, sent: str) -> bytes:
        with self._lock:
            self._open()
            return self._report_of(self._dev, sent)

    def _report_of(self, dev: usb.core.Device, sent: str) -> bytes:
        try:
            got = bytes(dev.ctrl_transfer(_IN, GET_REPORT, FEATURE_REPORT_0, 0, REPORT_BYTES,
                                          self._timeout_ms()))
        except usb.core.USBError as exc:
            raise self._usb_failure(exc, sent) from exc
        if len(got) != REPORT_BYTES:
            raise RelayGarbage(self.name, self._where(), sent, got.hex(" "))
        return got

    def _open(self) -> None:
        if self._closed:
            raise RigError(f"{self.device}: used after close()")

    def _timeout_ms(self) -> int:
        return max(1, round(self.timeout * 1000))

    def _where(self) -> str:
        return f"USB {self.usb_path}"

    def _usb_failure(self, exc: usb.core.USBError, sent: str) -> RigError:
        if isinstance(exc, usb.core.USBTimeoutError):
            return RelaySilent(self.name, self._where(), sent, self.timeout)
        if exc.errno == errno.ENODEV:
            return DeviceGone(self.device, sent, str(exc))
        return RigError(f"{self.device}: {sent} failed: {exc}")
