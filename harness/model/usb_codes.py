"""The USB numbers both sides of the rig speak: the drivers (harness/devices/: the per-port
power driver, the HID relay driver, PyusbBus, the sysfs reader) and the emulated devices
that answer them (harness/emulation/: the pyusb backend, its hubs, the HID relay board).
Each is written here once, from the USB 2.0 specification (chapter 9 and 11.24), USB 3.2
(10.16), the HID 1.11 class definition (7.2), usb.org's class codes and libusb.h. A
device's own protocol (its ids, report contents, commands) is not here: the driver and its
twin each read it from the device's documentation.

The control transfer's bmRequestType bits are pyusb's (``usb.util.CTRL_*``), and so are the
standard descriptor types (``usb.util.DESC_TYPE_*``)."""

from __future__ import annotations

# Class codes (bDeviceClass, bInterfaceClass)
HID_CLASS = 0x03
HUB_CLASS = 0x09
VENDOR_SPECIFIC_CLASS = 0xFF

# Standard requests (bRequest, USB 2.0 table 9-4); the hub class uses the first four too
GET_STATUS = 0x00
CLEAR_FEATURE = 0x01
SET_FEATURE = 0x03
GET_DESCRIPTOR = 0x06
GET_CONFIGURATION = 0x08
SET_CONFIGURATION = 0x09
#: The language of string descriptor zero's one entry: English (United States).
LANGID_EN_US = 0x0409

# HID class requests (HID 1.11 7.2); the report type is wValue's high byte
GET_REPORT = 0x01
SET_REPORT = 0x09
REPORT_TYPE_FEATURE = 3

# Hub class descriptor types
HUB_DESCRIPTOR = 0x29
SUPERSPEED_HUB_DESCRIPTOR = 0x2A
# Port feature selector
PORT_POWER = 8
# wHubCharacteristics bits 1..0: logical power switching mode
LPSM_GANGED = 0b00
LPSM_PER_PORT = 0b01
LPSM_NONE = 0b10
# wPortStatus bits
PORT_CONNECTION = 0x0001
PORT_ENABLE = 0x0002
PORT_POWER_USB2 = 0x0100
PORT_POWER_USB3 = 0x0200

# Speeds: what a USB 2 (high-speed) and a USB 3 (SuperSpeed) port can do, Mbit/s
HIGH_SPEED_MBPS = 480.0
SUPERSPEED_MBPS = 5000.0
#: libusb_speed codes (pyusb's usb.util.SPEED_*, which stop at 4) in Mbit/s; 5 and 6 are
#: libusb's SUPER_PLUS (1.0.22) and SUPER_PLUS_X2 (1.0.27).
SPEED_MBPS: dict[int, float] = {
    1: 1.5,
    2: 12.0,
    3: HIGH_SPEED_MBPS,
    4: SUPERSPEED_MBPS,
    5: 10000.0,
    6: 20000.0,
}
