"""The bench's devices as the run found them, for the certification report.

:class:`DeviceRecorder` is a pytest plugin ``onshi-rig certify`` adds to its run: when the
session's bench is first opened it scans it (:func:`harness.scan.scan`, the same scan as
``onshi-rig scan``) and writes ``devices.json`` in the run folder, one object per device:
the scan's row (USB VID:PID, port path, speed, hubs between, PC/SC name, the wiring rules it
broke) plus what the scan does not keep: the serial number, the hubs by name, whether it is a
twin or a real device. A scan that fails is written as such (``error``), never left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.loading import json_loads

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.model.profiles import ProfileSet

DEVICES_FILE = "devices.json"


def describe_devices(bench: Bench, profiles: ProfileSet) -> dict[str, Any]:
    """Every device of the bench, identified, as ``devices.json`` holds them."""
    from harness.scan import scan

    result = scan(bench, profiles)
    serials = {d.topology.path: d.serial for d in bench.usb.devices()}
    entries = {r.name: r for r in bench.spec.readers}
    devices = []
    for row in result.rows:
        entry = entries.get(row.name or "")
        path = row.usb_path or ""
        hubs = [h.name for h in bench.spec.hubs if path.startswith(h.path + ".")]
        twin = entry is not None and entry.emulate is not None
        devices.append({
            **row.as_json(),
            "serial": serials.get(path) if row.present else None,
            "hubs": hubs,
            "twin": twin if bench.spec.kind == "emulated" else False,
            "twin_of": entry.emulate if twin and entry is not None else None,
            # The firmware release as USB gives it (bcdDevice); None (said "not read", never
            # left blank) where the device is absent or gives none.
            "firmware": row.version,
            "line": row.describe(),
        })
    return {
        "bench": bench.spec.bench, "kind": bench.spec.kind, "devices": devices,
        "terminal": bench.spec.terminal.name,
        "cameras": [{"name": c.name, "watches": c.watches} for c in bench.spec.cameras],
        # Bench seconds to the bench's clock (the report says when, as the bench saw it).
        "clock": {"t": bench.clock.now(), "wallclock": bench.clock.wallclock().isoformat()},
    }


class DeviceRecorder:
    """Scans the bench once, when the session opens it, into ``path``."""

    def __init__(self, path: Path, earlier: dict[str, dict[str, Any]] | None = None) -> None:
        self.path = path
        self.done = False
        #: A resumed run: the device identities its kept verdicts were made on.
        self.earlier = earlier
        #: How the bench's devices differ from ``earlier``, once found (the run stops).
        self.changed: str | None = None

    @pytest.fixture(scope="session", autouse=True)
    def _onshi_rig_devices(self, request: pytest.FixtureRequest) -> Iterator[None]:
        if not self.done:
            self.done = True
            try:
                bench = request.getfixturevalue("bench")
                data = describe_devices(bench, request.getfixturevalue("profiles"))
            except (Exception, pytest.fail.Exception, pytest.skip.Exception) as exc:
                # The bench did not open or the scan failed: the tests will say why; the
                # report says the devices are unknown.
                data = {"error": f"the bench's devices were not scanned: {exc}", "devices": []}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                                 encoding="utf-8")
            if self.earlier is not None:
                from harness.report.device_identity import differences, identities_of

                found = differences(self.earlier, identities_of(data))
                if found:
                    # Another device than the kept verdicts were made on: nothing runs on
                    # it (certify ends the run in an error, the kept verdicts as they were).
                    self.changed = ("the bench's devices are not those the run was made "
                                    "on: " + "; ".join(found))
                    pytest.exit(self.changed)
        yield


def load_devices(run_dir: Path) -> dict[str, Any] | None:
    """``devices.json`` of a run (of its first worker's, for a run spread over pytest-xdist
    workers, or of its first part, for one certified in parts by an older rig: each opens
    the same bench file)."""
    for candidate in [run_dir / DEVICES_FILE,
                      *sorted(run_dir.glob(f"worker-*/{DEVICES_FILE}")),
                      *sorted(run_dir.glob(f"part-*/{DEVICES_FILE}"))]:
        try:
            return json_loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None
