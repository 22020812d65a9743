"""Bench instruments the rig drives: the relay board that switches the devices' mains.

:class:`PowerRelay` is what the rig needs (switch a channel, read it back);
:class:`NumatoRelay` speaks the Numato Lab USB relay text protocol over pyserial. Every
failure is a :class:`~harness.errors.RigError` naming the port and the command, so users
see a message, never a raw ``OSError`` traceback.

The board is the bench's, never the reader's: a garbled or silent line is a bench fault
(:class:`RelayGarbage`: ``relay.garbage``, at once; :class:`RelaySilent`: ``relay.silent``,
after :data:`REPLY_TIMEOUT_S` wall seconds), so a power-on order switched through it (BOOT)
ends ``not_run`` with the fault, never ``failed`` against the maker.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from types import TracebackType
from typing import Self

import serial

from harness.devices.serial_port import open_port
from harness.errors import BenchFault, DeviceGone, DeviceTimeout, ProtocolViolation, RigError

try:
    import termios

    # pyserial calls termios directly for tcflush; a hung-up tty raises termios.error.
    _TTY_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # not POSIX: pyserial reports everything as SerialException/OSError
    _TTY_ERRORS = ()

#: Everything that means "the port is no longer there".
_IO_ERRORS: tuple[type[Exception], ...] = (OSError, serial.SerialException, *_TTY_ERRORS)

#: Channel names in commands: 0-9, then A-V on 16- and 32-channel boards (not hex).
CHANNEL_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
MAX_CHANNELS = len(CHANNEL_CHARS)
BAUDRATE = 19200
PROMPT = b">"
#: Wall seconds one command may take, its reply and prompt included (the bench's relays are
#: opened with it): the bound within which a silent board is named ``relay.silent``.
REPLY_TIMEOUT_S = 1.0
#: The same bound for an emulated board. It switches the twins' power in its serving thread
#: before it replies (so the timeline has each power.on before the usb.attach it causes), work
#: a real board never waits for; on a machine shared with other jobs that can outlast a second.
EMULATED_REPLY_TIMEOUT_S = 3.0
#: Granularity of reads: the deadline of an exchange is enforced to within this.
POLL_SECONDS = 0.02
#: After spotting garbage, how long to keep reading so the error shows more of it.
DRAIN_SECONDS = 0.05
EXCERPT_BYTES = 80
#: Bytes a well-formed reply may hold after the echo: printable ASCII and line ends.
_REPLY_BYTES = frozenset(range(0x20, 0x7F)) | {0x0D, 0x0A}


class RelayArgumentError(RigError, ValueError):
    """The caller asked for something the board cannot do (no such channel, bad id)."""


def _adopt(error: BenchFault, fault: BenchFault) -> None:
    # BenchFault's constructor hands one message on to the next class of a two-parent
    # error, whose constructor takes other arguments: take a plain fault's fields instead.
    vars(error).update(vars(fault))
    error.args = fault.args


class RelayGarbage(BenchFault, ProtocolViolation):
    """``relay.garbage``: the board's reply to a command does not parse (noise, a wrong
    baud rate, a reply to another command). Also the ProtocolViolation it is on the wire."""

    def __init__(self, relay: str, port: str, sent: str, got: str) -> None:
        ProtocolViolation.__init__(self, relay, sent, got)
        # ascii(): every byte past ASCII escaped, so the message shows what the line carried.
        _adopt(self, BenchFault("relay.garbage", relay,
                                f"reply {ascii(got)} to {sent!r} on {port}"))


class RelaySilent(BenchFault, DeviceTimeout):
    """``relay.silent``: no reply (or no room to write) within the exchange's timeout. Also
    the DeviceTimeout it is on the wire."""

    def __init__(self, relay: str, port: str, sent: str, seconds: float, *,
                 writing: bool = False) -> None:
        waited = f"room to write {sent!r}" if writing else f"reply to {sent!r}"
        DeviceTimeout.__init__(self, relay, waited, seconds)
        _adopt(self, BenchFault("relay.silent", relay,
                                f"no {waited} within {seconds:g} s on {port}", bound_s=seconds))


class RelayStuck(ProtocolViolation):
    """The board accepted a switch command but reads back the old state (welded contact)."""

    def __init__(self, device: str, sent: str, expected: str, actual: str) -> None:
        super().__init__(device, sent, actual)
        self.expected = expected
        self.args = (f"{device}: after {sent!r} the board reads back {actual}, not {expected}",)


def mask_digits(channels: int) -> int:
    """Hex digits of a ``relay readall`` / ``writeall`` mask: 2 up to 8 channels, 4 for 16..."""
    return max(2, -(-channels // 4))


class NumatoRelay:
    """A Numato Lab USB relay module on a serial port (``/dev/ttyACM0``, or a pyserial URL).

    Each command is one bounded exchange: flush stale input, write ``command\\r``, read the
    echo, the reply lines and the prompt ``>`` within ``timeout`` seconds. After a failed
    exchange the next one first resynchronises the line with a bare CR.
    """

    def __init__(
        self, port: str, timeout: float = REPLY_TIMEOUT_S, name: str = "relay board",
        channels: int = 8
    ) -> None:
        if timeout <= 0:
            raise RelayArgumentError(f"relay timeout must be positive, not {timeout}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise RelayArgumentError(
                f"a Numato relay board has 1..{MAX_CHANNELS} channels, not {channels}"
            )
        self.port = port
        self.timeout = timeout
        self.name = name
        self.channels = channels
        self._lock = threading.Lock()
        # The board may hold a half-typed line or a boot banner: resync before the first command.
        self._dirty = True
        self._gone: str | None = None
        self._closed = False
        try:
            self._serial = open_port(port, baudrate=BAUDRATE,
                                     timeout=min(POLL_SECONDS, timeout), write_timeout=timeout)
        except (*_IO_ERRORS, ValueError) as exc:
            raise RigError(f"cannot open relay port {port}: {exc}") from exc

    @property
    def device(self) -> str:
        """How errors name this board: its name and port."""
        return f"{self.name} ({self.port})"

    # -- PowerRelay ----------------------------------------------------------------------

    def on(self, channel: int) -> None:
        self._switch(channel, True)

    def off(self, channel: int) -> None:
        self._switch(channel, False)

    def is_on(self, channel: int) -> bool:
        command = f"relay read {self._channel(channel)}"
        lines, raw = self._exchange(command)
        if lines == ["on"]:
            return True
        if lines == ["off"]:
            return False
        raise self._violation(command, raw)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(*_IO_ERRORS):  # a vanished port has nothing to release
                self._serial.close()

    # -- the rest of the protocol --------------------------------------------------------

    def read_all(self) -> int:
        """All relay states as a bitmask (bit n = channel n on)."""
        command = "relay readall"
        lines, raw = self._exchange(command)
        digits = mask_digits(self.channels)
        if len(lines) != 1 or not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", lines[0]):
            raise self._violation(command, raw)
        mask = int(lines[0], 16)
        if mask >> self.channels:
            raise self._violation(command, raw)  # bits for channels this board lacks
        return mask

    def write_all(self, mask: int) -> None:
        """Set every relay at once from a bitmask, then check the board took it."""
        if isinstance(mask, bool) or not isinstance(mask, int) or mask >> self.channels or mask < 0:
            raise RelayArgumentError(
                f"{self.device}: relay mask {mask!r} does not fit {self.channels} channels"
            )
        digits = mask_digits(self.channels)
        command = f"relay writeall {mask:0{digits}x}"
        self._expect_no_reply(command)
        actual = self.read_all()
        if actual != mask:
            raise RelayStuck(self.device, command, f"{mask:0{digits}x}", f"{actual:0{digits}x}")

    def all_off(self) -> None:
        """``reset``: every relay off, checked by reading the mask back."""
        self._expect_no_reply("reset")
        actual = self.read_all()
        if actual:
            digits = mask_digits(self.channels)
            raise RelayStuck(self.device, "reset", "0" * digits, f"{actual:0{digits}x}")

    def version(self) -> str:
        """Firmware version, e.g. ``00000008``."""
        lines, raw = self._exchange("ver")
        if len(lines) != 1:
            raise self._violation("ver", raw)
        return lines[0]

    def read_id(self) -> str:
        """The board's 8-character id (``id get``)."""
        lines, raw = self._exchange("id get")
        if len(lines) != 1 or len(lines[0]) != 8:
            raise self._violation("id get", raw)
        return lines[0]

    def set_id(self, board_id: str) -> None:
        """Store an 8-character id on the board (``id set``), checked by reading it back."""
        if not re.fullmatch(r"[!-=?-~]{8}", board_id):  # printable, no space, no '>' prompt
            raise RelayArgumentError(
                f"{self.device}: a board id is 8 printable characters without spaces or '>',"
                f" not {board_id!r}"
            )
        command = f"id set {board_id}"
        self._expect_no_reply(command)
        actual = self.read_id()
        if actual != board_id:
            raise RelayStuck(self.device, command, board_id, actual)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NumatoRelay({self.port!r}, timeout={self.timeout}, channels={self.channels})"

    # -- one exchange --------------------------------------------------------------------

    def _channel(self, channel: int) -> str:
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise RelayArgumentError(f"{self.device}: a relay channel is an int, not {channel!r}")
        if not 0 <= channel < self.channels:
            raise RelayArgumentError(
                f"{self.device}: no relay channel {channel};"
                f" this board has channels 0..{self.channels - 1}"
            )
        return CHANNEL_CHARS[channel]

    def _switch(self, channel: int, on: bool) -> None:
        command = f"relay {'on' if on else 'off'} {self._channel(channel)}"
        self._expect_no_reply(command)
        # Read back: power-order rules must never see a switch that did not happen.
        actual = self.is_on(channel)
        if actual != on:
            raise RelayStuck(self.device, command, "on" if on else "off", "on" if actual else "off")

    def _expect_no_reply(self, command: str) -> None:
        lines, raw = self._exchange(command)
        if lines:
            raise self._violation(command, raw)

    def _exchange(self, command: str) -> tuple[list[str], bytes]:
        """Send ``command``; return its reply lines (echo and prompt stripped) and raw bytes."""
        with self._lock:
            if self._closed:
                raise RigError(f"{self.device}: used after close()")
            if self._gone is not None:
                raise DeviceGone(self.device, repr(command), self._gone)
            deadline = time.monotonic() + self.timeout
            try:
                if self._dirty:
                    self._resync(command, deadline)
                # Stale bytes (a late reply, noise) would be taken for this command's echo.
                self._serial.reset_input_buffer()
                self._dirty = True  # until the prompt arrives, the line state is unknown
                self._serial.write(command.encode("ascii") + b"\r")
                raw = self._read_reply(command, deadline)
            except serial.SerialTimeoutException as exc:
                raise self._silent(command, writing=True) from exc
            except _IO_ERRORS as exc:
                self._gone = _describe(exc)
                raise DeviceGone(self.device, repr(command), self._gone) from exc
            lines = self._parse(command, raw)
            self._dirty = False
            return lines, raw

    def _read_chunk(self) -> bytes:
        # At least one byte so the read waits (up to POLL_SECONDS) instead of spinning.
        return self._serial.read(max(1, self._serial.in_waiting))

    def _read_reply(self, command: str, deadline: float) -> bytes:
        echo = command.encode("ascii")
        buf = bytearray()
        while True:
            buf += self._read_chunk()
            if not _plausible(buf, echo):
                # Keep reading a moment so the message shows more of what the line carries.
                buf += self._drain(min(DRAIN_SECONDS, max(0.0, deadline - time.monotonic())))
                raise self._violation(command, buf)
            if PROMPT in buf[len(echo) :]:
                return bytes(buf)
            if time.monotonic() >= deadline:
                if buf[len(echo) :].strip(b"\r\n"):
                    raise self._violation(command, buf)  # it answered, but never finished
                raise self._silent(command)

    def _drain(self, seconds: float) -> bytes:
        out = bytearray()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            chunk = self._read_chunk()
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def _resync(self, command: str, deadline: float) -> None:
        """Bring the line back to a known state: a bare CR, then its prompt, then quiet."""
        self._serial.reset_input_buffer()
        # A CR ends whatever half-line the board holds; it answers with a fresh prompt.
        self._serial.write(b"\r")
        buf = bytearray()
        while True:
            chunk = self._read_chunk()
            buf += chunk
            if any(byte not in _REPLY_BYTES for byte in chunk):
                # No half-line a board holds answers with such bytes: garbage, named now.
                buf += self._drain(min(DRAIN_SECONDS, max(0.0, deadline - time.monotonic())))
                raise self._violation(command, buf)
            if not chunk and buf.endswith(PROMPT):
                return  # prompt, then a quiet poll: nothing else is in flight
            if time.monotonic() >= deadline:
                if buf:
                    raise self._violation(command, buf)
                raise self._silent(command)

    def _parse(self, command: str, raw: bytes) -> list[str]:
        text = raw.decode("ascii")  # _plausible let only ASCII through
        end = text.index(">", len(command))
        if text[end + 1 :]:
            raise self._violation(command, raw)  # the prompt is the last thing a board says
        return [line for line in re.split(r"[\r\n]+", text[len(command) : end]) if line]

    def _violation(self, command: str, raw: bytes | bytearray) -> RelayGarbage:
        self._dirty = True
        return RelayGarbage(self.name, self.port, command, _excerpt(bytes(raw)))

    def _silent(self, command: str, *, writing: bool = False) -> RelaySilent:
        self._dirty = True
        return RelaySilent(self.name, self.port, command, self.timeout, writing=writing)


def _plausible(buf: bytes | bytearray, echo: bytes) -> bool:
    """Whether ``buf`` can still become ``echo``, a line end, reply lines and the prompt."""
    head = bytes(buf[: len(echo)])
    if head != echo[: len(head)]:
        return False
    tail = buf[len(echo) :]
    if tail and tail[0] not in (0x0D, 0x0A):
        return False  # the echo must end where the command ended
    return all(byte in _REPLY_BYTES for byte in tail)


def _describe(exc: Exception) -> str:
    # termios.error carries (errno, text) in args and prints as a bare tuple.
    match exc.args:
        case (int(number), str(text)) if not isinstance(exc, OSError):
            return f"[Errno {number}] {text}"
    return str(exc) or type(exc).__name__


def _excerpt(raw: bytes) -> str:
    # latin-1 maps every byte to one character; the error's repr() escapes the unprintable.
    text = raw[:EXCERPT_BYTES].decode("latin-1")
    return text if len(raw) <= EXCERPT_BYTES else f"{text}... ({len(raw)} bytes)"
