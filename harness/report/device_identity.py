"""The bench's devices as USB enumeration gave them, per reader the bench file names: what a
run's verdicts were made on, compared when the run is resumed.

``certify --resume`` keeps the verdicts an earlier run decided; they hold for the devices
that run saw. A reader swapped since for another unit (another serial, older firmware) would
leave "USB-08 passed, firmware 1.10" beside the resumption's "firmware 1.00" for the same
reader (hunt R6): one report, two devices. The resumption's scan is compared with the run's
and the resume refused on a difference, naming it.
"""

from __future__ import annotations

from typing import Any

#: The report's key holding the identities the kept verdicts were made on.
IDENTITIES_KEY = "device_identities"
#: What identifies a reader's device, as devices.json holds it.
FIELDS = ("usb", "serial", "firmware", "path")


def identities_of(devices: dict[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """Per named reader: present, USB ID, serial, firmware (bcdDevice), port path; None if
    the devices were not scanned (no devices.json, or its scan failed)."""
    if not isinstance(devices, dict) or devices.get("error") or not isinstance(
            devices.get("devices"), list):
        return None
    return {d["name"]: {"present": bool(d.get("present")),
                        "usb": f"{d.get('vid')}:{d.get('pid')}", "serial": d.get("serial"),
                        "firmware": d.get("firmware"), "path": d.get("usb_path")}
            for d in devices["devices"] if isinstance(d, dict) and d.get("name")}


def differences(then: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]] | None
                ) -> list[str]:
    """How the readers present then differ now (another device, or gone)."""
    if now is None:
        return ["the bench's devices could not be scanned now"]
    found: list[str] = []
    for name in sorted(then):
        was, is_ = then[name], now.get(name)
        if not was.get("present"):
            continue
        if is_ is None or not is_.get("present"):
            found.append(f"{name} is not on USB now (it was {_shown(was)})")
            continue
        changed = [f"{key} {was.get(key)!r} then, {is_.get(key)!r} now" for key in FIELDS
                   if was.get(key) != is_.get(key)]
        if changed:
            found.append(f"{name}: {', '.join(changed)}")
    return found


def _shown(ident: dict[str, Any]) -> str:
    return ", ".join(f"{key} {ident.get(key)}" for key in FIELDS)
