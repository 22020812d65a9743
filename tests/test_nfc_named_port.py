"""nfcpy's udp transport reads its port back through getnameinfo, which names a port
/etc/services lists (57000 is 'dircproxy'): the emulated bench never picks such a port
(the bench in a box once drew 57000 and its NFC probe failed), and a lab's bench file that
names one is told why, not only nfcpy's int() error."""

from __future__ import annotations

import socket

import pytest

from harness.devices.nfc import NfcFrontend, udp_service_name
from harness.emulation import bench as emulated_bench
from harness.errors import RigError


def _named_port() -> int:
    for port in (57000, 5353, 53, 123):
        if udp_service_name(port):
            return port
    pytest.fail("this machine's /etc/services names none of 57000, 5353, 53, 123")


def test_a_named_port_is_said_to_be_why_the_frontend_cannot_open() -> None:
    port = _named_port()
    with pytest.raises(RigError) as caught:
        NfcFrontend(f"udp:127.0.0.1:{port}", "sony-rc-s300-s1").open()
    assert f"port {port} is {udp_service_name(port)!r} in /etc/services" in str(caught.value)


def test_the_emulated_bench_skips_a_free_port_that_has_a_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    named = _named_port()
    drawn = iter([named, named, 41234])

    class Socket(socket.socket):
        def getsockname(self):  # type: ignore[no-untyped-def]
            return ("127.0.0.1", next(drawn))

    monkeypatch.setattr(emulated_bench.socket, "socket", Socket)
    assert emulated_bench._free_udp_port() == 41234
