"""The USB hub class's requests and bits (USB 2.0 chapter 11.24, USB 3.2 chapter 10.16):
one table for the rig's per-port power driver (harness/devices/usb_power.py) and the
emulated hub that answers it (harness/emulation/hub_ports.py)."""

from __future__ import annotations

HUB_CLASS = 0x09
# bRequest
GET_STATUS = 0x00
CLEAR_FEATURE = 0x01
SET_FEATURE = 0x03
GET_DESCRIPTOR = 0x06
# Descriptor types
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
