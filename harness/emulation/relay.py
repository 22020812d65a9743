"""An emulated Numato Lab USB relay board on a real pty pair.

The driver under test opens :attr:`EmulatedRelayBoard.port` with pyserial exactly as it
would open ``/dev/ttyACM0``: nothing is mocked, the bytes cross a real tty. The board speaks
the Numato text protocol: it echoes every byte it receives; on CR it runs the command and
writes ``\\n\\r``, each reply line terminated by ``\\n\\r``, then the prompt ``>``.

Switching a channel records ``power.on`` / ``power.off`` on the timeline and calls the
``on_change`` callbacks, so the emulated bench can power its devices up and down.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from harness.emulation.contacts import RelayContacts
from harness.model.timeline import Timeline

# Deliberately not shared with the driver (harness.devices.instruments): two independent
# readings of the protocol let the tests catch a mistake in either.
#: Channel names in commands: 0-9, then A-V on 16- and 32-channel boards.
CHANNEL_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
MAX_CHANNELS = len(CHANNEL_CHARS)
EOL = b"\n\r"
PROMPT = b">"
#: A real board's line buffer is small; cap ours so noise cannot grow it without bound.
MAX_LINE = 64



def _mangled(data: bytes) -> bytes:
    # Each byte with its top bit set: what a UART framing bytes at another rate delivers,
    # never ASCII (the protocol's own bytes).
    return bytes(byte | 0x80 for byte in data)


def mask_digits(channels: int) -> int:
    """Hex digits of a ``relay readall`` / ``writeall`` mask: 2 up to 8 channels, 4 for 16..."""
    return max(2, -(-channels // 4))


class EmulatedRelayBoard(RelayContacts):
    """A Numato USB relay module served by a thread on the master side of a pty.

    Fault injection: :meth:`inject_garbage` (next reply corrupted), :attr:`garbled` (every
    reply corrupted until cleared), :attr:`silent` (the board hangs: input is swallowed,
    nothing comes back), :attr:`stuck_channels` (welded contacts ignore on/off),
    :meth:`send_raw` (unsolicited bytes) and :meth:`stop` (unplugged).
    """

    def __init__(
        self,
        channels: int = 8,
        *,
        name: str = "relay",
        names: Mapping[int, str] | None = None,
        timeline: Timeline | None = None,
        firmware: str = "00000008",
        board_id: str = "00000000",
    ) -> None:
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"a Numato relay board has 1..{MAX_CHANNELS} channels, not {channels}")
        self._init_contacts(channels, name, names, timeline)
        self.firmware = firmware
        self.board_id = board_id
        #: While True the board swallows all input and answers nothing.
        self.silent = False
        #: While True every byte the board sends back arrives mangled (as a line at the
        #: wrong baud rate, or a noisy cable, reads it); the commands still take effect.
        self.garbled = False

        #: Pending corrupt replies: (bytes, whether they replace the echo as well).
        self._garbage: list[tuple[bytes, bool]] = []
        self._outbox: list[bytes] = []
        self._line = bytearray()
        self._stopping = threading.Event()
        self._fd_lock = threading.Lock()

        self._master, self._slave = os.openpty()
        self._wake_r, self._wake_w = os.pipe()
        try:
            # Raw: no line discipline may turn CR into LF or echo on its own.
            tty.setraw(self._slave)
            # Non-blocking writes: with nobody reading the line, replies are dropped (as on a
            # USB CDC port without a reader) instead of wedging the thread and stop().
            os.set_blocking(self._master, False)
            self.port: str = os.ttyname(self._slave)
        except OSError:
            self._close_fds()
            raise
        self._thread = threading.Thread(
            target=self._serve, name=f"emulated relay board {self.port}", daemon=True
        )
        self._thread.start()

    # -- inspection -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # -- fault injection --------------------------------------------------------------

    def inject_garbage(self, data: bytes, *, replace_echo: bool = False) -> None:
        """Answer the next command with ``data`` in place of its reply and prompt.

        With ``replace_echo`` the command's echo is withheld too, so ``data`` is all that
        comes back (e.g. a reply meant for another command). The command itself still takes
        effect: the corruption is on the way back.
        """
        with self._lock:
            self._garbage.append((bytes(data), replace_echo))

    def send_raw(self, data: bytes) -> None:
        """Write ``data`` to the line unprompted (boot banner, noise, a late reply)."""
        with self._lock:
            self._outbox.append(bytes(data))
        self._wake()

    def stop(self) -> None:
        """Unplug the board: the master side closes and the driver's port hangs up.

        Joins the serving thread; the thread closes every fd on its way out. Idempotent.
        """
        self._stopping.set()
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatedRelayBoard({self.port!r}, channels={self.channels}, mask={self.mask:#x})"

    # -- the board's thread -----------------------------------------------------------

    def _wake(self) -> None:
        # Under the fd lock: a closed fd number may be reused by an unrelated file.
        with self._fd_lock:
            if self._wake_w >= 0:
                os.write(self._wake_w, b"x")

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._wake_r in readable:
                    os.read(self._wake_r, 512)
                    self._flush_outbox()
                if self._master in readable and not self._stopping.is_set():
                    try:
                        data = os.read(self._master, 1024)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    self._write(self._receive(data))
        except OSError:
            return  # the pty itself failed: the board is as good as unplugged
        finally:
            self._close_fds()

    def _close_fds(self) -> None:
        # Master first: closing it is what the driver sees as the unplug (hangup).
        with self._fd_lock:
            for attr in ("_master", "_slave", "_wake_r", "_wake_w"):
                fd = getattr(self, attr)
                if fd >= 0:
                    setattr(self, attr, -1)
                    os.close(fd)

    def _flush_outbox(self) -> None:
        with self._lock:
            pending, self._outbox = self._outbox, []
        for data in pending:
            self._write(data)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                return  # nobody drains the line: the rest is lost
            view = view[written:]

    def _receive(self, data: bytes) -> bytes:
        if self.silent:
            self._line.clear()  # a hung board forgets the half-typed line as well
            return b""
        out = bytearray()
        for value in data:
            byte = bytes((value,))
            if not self._echo_withheld():
                out += byte  # the board echoes every byte, CR included
            if byte == b"\r":
                out += self._respond(bytes(self._line))
                self._line.clear()
            elif byte != b"\n" and len(self._line) < MAX_LINE:
                # LF is ignored: Numato's own samples send "\n\r" after commands.
                self._line += byte
        return _mangled(bytes(out)) if self.garbled else bytes(out)

    def _respond(self, line: bytes) -> bytes:
        lines = self._execute(line)
        with self._lock:
            if self._garbage:
                return self._garbage.pop(0)[0]
        return EOL + b"".join(reply + EOL for reply in lines) + PROMPT

    def _echo_withheld(self) -> bool:
        with self._lock:
            return bool(self._garbage) and self._garbage[0][1]

    def _execute(self, line: bytes) -> list[bytes]:
        """Run one command line; return its reply lines. Unknown commands: no reply."""
        try:
            words = line.decode("ascii").split()
        except UnicodeDecodeError:
            return []
        match words:
            case ["ver"]:
                return [self.firmware.encode("ascii")]
            case ["id", "get"]:
                return [self.board_id.encode("ascii")]
            case ["id", "set", new_id] if len(new_id) == 8:
                self.board_id = new_id
                return []
            case ["relay", "on" | "off" as verb, ch] if (channel := self._channel(ch)) is not None:
                self._switch({channel: verb == "on"})
                return []
            case ["relay", "read", ch] if (channel := self._channel(ch)) is not None:
                return [b"on" if self.state(channel) else b"off"]
            case ["relay", "readall"]:
                return [f"{self.mask:0{mask_digits(self.channels)}x}".encode("ascii")]
            case ["relay", "writeall", digits] if self._valid_mask(digits):
                mask = int(digits, 16)
                self._switch({c: bool(mask >> c & 1) for c in range(self.channels)})
                return []
            case ["reset"]:
                self._switch(dict.fromkeys(range(self.channels), False))
                return []
            case _:
                return []  # real boards just print the prompt again

    def _channel(self, word: str) -> int | None:
        index = CHANNEL_CHARS.find(word) if len(word) == 1 else -1
        return index if 0 <= index < self.channels else None

    def _valid_mask(self, digits: str) -> bool:
        if len(digits) != mask_digits(self.channels):
            return False
        try:
            return int(digits, 16) >> self.channels == 0
        except ValueError:
            return False
