"""An emulated pyusb backend: CI runs the real ``usb.core`` / ``usb.util`` code against it.

Only the layer under pyusb is emulated (``usb.backend.IBackend``), so
``usb.core.find(find_all=True, backend=...)`` and ``dev.product`` (string descriptors
through ``usb.util.get_string`` and GET_DESCRIPTOR control transfers) behave as with
libusb, including its error codes.

:class:`EmulatedUsbBackend` serves an :class:`~harness.emulation.usb_tree.EmulatedUsbTree`
(what is plugged where, hot-plug; harness/emulation/usb_tree.py) to pyusb: handles,
descriptors, and control transfers answered by the standard requests here, the hub class
requests (harness/emulation/hub_ports.py) and the devices' own handlers
(harness/emulation/usb_records.py).
"""

from __future__ import annotations

import array
import errno

import usb.backend
import usb.core
import usb.util

from harness.emulation.hub_ports import hub_request
from harness.emulation.usb_descriptors import (
    ConfigurationDescriptor,
    DeviceDescriptor,
    EndpointDescriptor,
    EnumeratedDevice,
    InterfaceDescriptor,
)
from harness.emulation.usb_records import ControlRequest, EmulatedDevice, VendorHandler
from harness.emulation.usb_tree import EmulatedUsbTree
from harness.model.usb_codes import (
    CLEAR_FEATURE,
    GET_CONFIGURATION,
    GET_DESCRIPTOR,
    GET_STATUS,
    HUB_CLASS,
    SET_CONFIGURATION,
    SET_FEATURE,
)

# libusb return codes (libusb.h) and the errno pyusb's libusb1 backend pairs with them.
LIBUSB_ERROR_INVALID_PARAM = -2
LIBUSB_ERROR_ACCESS = -3
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_NOT_FOUND = -5
LIBUSB_ERROR_TIMEOUT = -7
LIBUSB_ERROR_PIPE = -9
_LIBUSB_ERRORS: dict[int, tuple[str, int]] = {
    LIBUSB_ERROR_INVALID_PARAM: ("Invalid parameter", errno.EINVAL),
    LIBUSB_ERROR_ACCESS: ("Access denied (insufficient permissions)", errno.EACCES),
    LIBUSB_ERROR_NO_DEVICE: ("No such device (it may have been disconnected)", errno.ENODEV),
    LIBUSB_ERROR_NOT_FOUND: ("Entity not found", errno.ENOENT),
    LIBUSB_ERROR_TIMEOUT: ("Operation timed out", errno.ETIMEDOUT),
    LIBUSB_ERROR_PIPE: ("Pipe error", errno.EPIPE),
}


def _usb_error(code: int) -> usb.core.USBError:
    text, err = _LIBUSB_ERRORS[code]
    if code == LIBUSB_ERROR_TIMEOUT:
        return usb.core.USBTimeoutError(text, code, err)
    return usb.core.USBError(text, code, err)


class _Handle:
    def __init__(self, device: EnumeratedDevice) -> None:
        self.device = device
        self.configuration = 1  # Linux configures a device when it enumerates
        self.claimed: set[int] = set()
        self.closed = False


class EmulatedUsbBackend(usb.backend.IBackend):
    """pyusb backend serving an :class:`EmulatedUsbTree`, with libusb's error behaviour."""

    def __init__(self, tree: EmulatedUsbTree) -> None:
        self.tree = tree

    # -- descriptors (cached at enumeration, so readable after unplug, as in libusb)

    def enumerate_devices(self) -> list[EnumeratedDevice]:
        return self.tree.snapshot()

    def get_parent(self, dev: EnumeratedDevice) -> EnumeratedDevice | None:
        return dev.parent

    def get_device_descriptor(self, dev: EnumeratedDevice) -> DeviceDescriptor:
        return dev.descriptor

    def get_configuration_descriptor(self, dev: EnumeratedDevice, config: int) -> ConfigurationDescriptor:
        if config != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        return dev.config

    def get_interface_descriptor(
        self, dev: EnumeratedDevice, intf: int, alt: int, config: int
    ) -> InterfaceDescriptor:
        self.get_configuration_descriptor(dev, config)
        if intf != 0:
            raise IndexError(f"Invalid interface index {intf}")
        if alt != 0:
            raise IndexError(f"Invalid alternate setting index {alt}")
        return dev.interface

    def get_endpoint_descriptor(
        self, dev: EnumeratedDevice, ep: int, intf: int, alt: int, config: int
    ) -> EndpointDescriptor:
        self.get_interface_descriptor(dev, intf, alt, config)
        if not 0 <= ep < len(dev.endpoints):
            raise IndexError(f"Invalid endpoint index {ep}")
        return dev.endpoints[ep]

    # -- handles

    def open_device(self, dev: EnumeratedDevice) -> _Handle:
        if dev.gone.is_set():
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        if isinstance(dev.record, EmulatedDevice) and dev.record.access_denied:
            raise _usb_error(LIBUSB_ERROR_ACCESS)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        dev_handle.closed = True

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._alive(dev_handle)
        if config_value not in (0, dev_handle.device.config.bConfigurationValue):
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._alive(dev_handle)
        return dev_handle.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._alive(dev_handle)
        if intf != 0 or altsetting != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)
        if intf != 0:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)
        if intf not in dev_handle.claimed:
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)
        dev_handle.claimed.discard(intf)

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        self._alive(dev_handle)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._alive(dev_handle)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        self._alive(dev_handle)
        # Only hubs are bound to a kernel driver; readers are left to pcscd/libusb.
        return dev_handle.device.descriptor.bDeviceClass == HUB_CLASS

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        if not self.is_kernel_driver_active(dev_handle, intf):
            raise _usb_error(LIBUSB_ERROR_NOT_FOUND)

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        self._alive(dev_handle)

    # -- transfers

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        device = self._alive(dev_handle)
        length = len(data) * data.itemsize
        request = ControlRequest(
            bmRequestType, bRequest, wValue, wIndex,
            b"" if bmRequestType & usb.util.CTRL_IN else data.tobytes(), length,
        )  # fmt: skip
        kind = bmRequestType & (3 << 5)  # bits 6..5: standard, class or vendor
        if kind == usb.util.CTRL_TYPE_VENDOR:
            reply = self._vendor(device, request, timeout)
        elif kind == usb.util.CTRL_TYPE_CLASS:
            reply = self._class(device, request, timeout)
        else:
            reply = self._standard(dev_handle, request)
        if not request.is_in:
            return length
        answer = reply[:length]
        data[: len(answer)] = array.array("B", answer)
        return len(answer)

    def bulk_write(self, dev_handle: _Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:  # fmt: skip
        self._alive(dev_handle)
        return len(data) * data.itemsize

    def intr_write(self, dev_handle: _Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:  # fmt: skip
        return self.bulk_write(dev_handle, ep, intf, data, timeout)

    def bulk_read(self, dev_handle: _Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:  # fmt: skip
        # The emulated device never sends on its IN endpoints: wait out the timeout.
        device = self._alive(dev_handle)
        self._wait(device, None, timeout)
        raise _usb_error(LIBUSB_ERROR_TIMEOUT)

    def intr_read(self, dev_handle: _Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:  # fmt: skip
        return self.bulk_read(dev_handle, ep, intf, buff, timeout)

    # -- internals

    def _alive(self, dev_handle: _Handle) -> EnumeratedDevice:
        if dev_handle.closed:
            raise _usb_error(LIBUSB_ERROR_INVALID_PARAM)
        if dev_handle.device.gone.is_set():
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        return dev_handle.device

    def _standard(self, dev_handle: _Handle, request: ControlRequest) -> bytes:
        device = dev_handle.device
        if request.is_in and request.bRequest == GET_DESCRIPTOR:
            kind, index = request.wValue >> 8, request.wValue & 0xFF
            answer: bytes | None = None
            if kind == usb.util.DESC_TYPE_DEVICE:
                answer = device.descriptor.pack()
            elif kind == usb.util.DESC_TYPE_CONFIG and index == 0:
                answer = device.config_bytes()
            elif kind == usb.util.DESC_TYPE_STRING:
                answer = device.string_bytes(index)
            if answer is None:
                raise _usb_error(LIBUSB_ERROR_PIPE)  # the device STALLs unknown descriptors
            return answer
        if request.is_in and request.bRequest == GET_STATUS:
            return b"\x00\x00"
        if request.is_in and request.bRequest == GET_CONFIGURATION:
            return bytes([dev_handle.configuration])
        if not request.is_in and request.bRequest == SET_CONFIGURATION:
            self.set_configuration(dev_handle, request.wValue & 0xFF)
            return b""
        if not request.is_in and request.bRequest in (CLEAR_FEATURE, SET_FEATURE):
            return b""
        raise _usb_error(LIBUSB_ERROR_PIPE)

    def _class(self, device: EnumeratedDevice, request: ControlRequest, timeout: int) -> bytes:
        if device.descriptor.bDeviceClass == HUB_CLASS:
            answer = hub_request(self.tree, device, request)
            if answer is None:
                raise _usb_error(LIBUSB_ERROR_PIPE)
            return answer
        handler = (
            device.record.class_handler if isinstance(device.record, EmulatedDevice) else None
        )
        return self._answer(device, handler, request, timeout)

    def _vendor(self, device: EnumeratedDevice, request: ControlRequest, timeout: int) -> bytes:
        handler = (
            device.record.vendor_handler if isinstance(device.record, EmulatedDevice) else None
        )
        return self._answer(device, handler, request, timeout)

    def _answer(self, device: EnumeratedDevice, handler: VendorHandler | None,
                request: ControlRequest, timeout: int) -> bytes:
        reply = handler(request) if handler is not None else None
        if reply is None:
            raise _usb_error(LIBUSB_ERROR_PIPE)
        self._wait(device, reply.delay_s, timeout)
        return reply.data

    def _wait(self, device: EnumeratedDevice, needed_s: float | None, timeout_ms: int) -> None:
        """Let ``needed_s`` pass (None: forever) within the transfer timeout (0: none).

        Unplugging ends the wait at once with ENODEV, like libusb cancelling the URB;
        running out of time raises a timeout.
        """
        limit_s = timeout_ms / 1000 if timeout_ms > 0 else None
        waits = [w for w in (needed_s, limit_s) if w is not None]
        wait_s = min(waits) if waits else None
        if device.gone.wait(wait_s):
            raise _usb_error(LIBUSB_ERROR_NO_DEVICE)
        if needed_s is None or (limit_s is not None and needed_s > limit_s):
            raise _usb_error(LIBUSB_ERROR_TIMEOUT)
