"""An emulated card plugged into pcscd through the vpcd driver (vsmartcard).

vpcd listens on a TCP port per reader; a connection is a card in the reader, closing it is
the card being taken out, so pcscd and every PC/SC client see real insertion and removal
events. Each message is a 2-byte big-endian length and a payload; a 1-byte payload is a
control code (0 power off, 1 power on, 2 reset, 4 get ATR), anything else an APDU.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

from harness.emulation.card import ApduCard
from harness.errors import MissingSystemPart
from harness.model.redact import redact_apdu, redact_response
from harness.model.timeline import Timeline

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


def _quickack(sock: socket.socket) -> None:
    # Debian's vpcd writes the length and the payload in two writes with Nagle on: its
    # payload waits for our ACK of the length, which delayed ACK holds back ~40 ms. Linux
    # drops TCP_QUICKACK after a while, so it is set again before every read.
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


class VpcdLink:
    """One emulated card for one vpcd slot (``host:port``)."""

    def __init__(
        self,
        card: ApduCard,
        port: int,
        host: str = "127.0.0.1",
        reader: str = "",
        timeline: Timeline | None = None,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.reader = reader or f"vpcd {host}:{port}"
        self.timeline = timeline
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._delay = 0.0
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, timeout: float = 5.0) -> None:
        """Put the card into the reader: connect to vpcd (retrying while pcscd starts)."""
        if self._sock is not None:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise MissingSystemPart(
                        f"no vpcd reader listening on {self.host}:{self.port} ({exc.strerror})",
                        "start pcscd with this bench's readers: "
                        "`onshi-rig pcscd-config --dir DIR` then `pcscd -c DIR` (as root)",
                    ) from None
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _quickack(sock)
        self.card.reset()
        self._sock = sock
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vpcd-{self.port}", daemon=True
        )
        self._thread.start()
        self._record("vpcd.card_inserted")

    def remove(self) -> None:
        """Take the card out: close the connection, even in the middle of a command."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        self._record("vpcd.card_removed")

    def delay_next_response(self, seconds: float) -> None:
        """Make the card slow to answer the next APDU (to pull it mid-command in tests)."""
        with self._lock:
            self._delay = seconds

    def _record(self, kind: str, **data: object) -> None:
        if self.timeline is not None:
            self.timeline.record(self.reader, kind, port=self.port, **data)

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                # Inside the try: remove() may close the socket under us at any moment.
                _quickack(sock)
                chunk = sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self, sock: socket.socket) -> None:
        while True:
            header = self._recv_exact(sock, 2)
            if header is None:
                break
            (length,) = struct.unpack(">H", header)
            payload = self._recv_exact(sock, length) if length else b""
            if payload is None:
                break
            answer = self._handle(payload)
            if answer is None:
                continue
            with self._lock:
                delay, self._delay = self._delay, 0.0
            if delay:
                time.sleep(delay)
            if self._sock is not sock:  # removed while "working": the answer never leaves
                break
            try:
                sock.sendall(struct.pack(">H", len(answer)) + answer)
            except OSError:
                break

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code == CTRL_ATR:
                return self.card.atr
            if code in (CTRL_ON, CTRL_RESET):
                self.card.reset()
            return None
        response = self.card.transmit(payload)
        self._record("apdu", command=redact_apdu(payload), response=redact_response(response))
        return response

    def __enter__(self) -> VpcdLink:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

