"""A serial port by device path or pyserial URL: ``/dev/ttyACM0``, ``socket://HOST:PORT``,
``rfc2217://HOST:PORT`` (what a labgrid exporter serves a bench's serial port as, through
ser2net)."""

from __future__ import annotations

import serial


def open_port(port: str, *, baudrate: int, timeout: float,
              write_timeout: float) -> serial.SerialBase:
    # pyserial's RFC 2217 client refuses a write timeout: there a write only fills a TCP
    # socket's buffer, and the reply's read stays bounded by ``timeout``.
    bounded = None if port.startswith("rfc2217://") else write_timeout
    return serial.serial_for_url(port, baudrate=baudrate, timeout=timeout,
                                 write_timeout=bounded)
