"""One run at a time on a bench: its labgrid place and its devices held for the whole run.

``hold_bench(path)`` is what ``onshi-rig certify``, ``scan`` and ``probe`` and the pytest
plugin's ``bench`` fixture open the bench inside of:

- A real bench's devices (relay ports, PDU outlets, USB paths, cameras, the robot) are locked
  on this host (harness.device_locks); an emulated bench's twins are the process's own.
- A bench file's ``labgrid: {coordinator, place}`` is acquired from the lab's coordinator
  (harness.labgrid_place) and released at the end, Ctrl-C and errors included. A place held
  by another ``host/user`` blocks; one held by this user on this host is either a run of the
  rig that died (its record in the place's local lock says it acquired the place, at the
  place's last change): taken over, said so and released at the end; or the user's own
  ``labgrid-client acquire``: used, said so, and left acquired.

Held elsewhere: wait up to ``wait_s`` (checked each second), then :class:`BenchHeld`
naming the holder. The processes a holding run starts (certify's parts) inherit the hold.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.device_locks import Blocked, Taken, take_all, takeover_notes
from harness.errors import RigError
from harness.loading import json_loads
from harness.model.bench_spec import BenchSpec, LabgridPlace
from harness.model.usb_ids import fmt_id

#: Set while a run holds its bench: ``{"pid": ..., "bench": ...}``, for the processes it
#: starts.
HELD_ENV = "ONSHI_RIG_BENCH_HELD"
#: Between two looks at a held bench.
POLL_S = 1.0


class BenchHeld(RigError):
    """The bench (its place or a device) is held by another run."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        #: What a person can do about it (said once, when the wait is over).
        self.hint = hint


def wait_seconds(text: str) -> float:
    """``--wait-for-bench SECONDS``: 0 (do not wait) up to a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text}: give 0 to 86400 seconds")
    return value


def _serial_key(port: str) -> str:
    # One device under two names (/dev/serial/by-id/... and /dev/ttyACM0) is one lock.
    return f"serial {port}" if "://" in port else f"serial {os.path.realpath(port)}"


def _camera_key(source: str | int) -> str:
    if isinstance(source, int) or source.isdigit():
        return f"camera /dev/video{int(source)}"
    return f"camera {source}" if "://" in source else f"camera {os.path.realpath(source)}"


def bench_devices(spec: BenchSpec) -> dict[str, str]:
    """A real bench's devices that two runs must not share: lock key -> what the bench file
    calls it. Keys name the device, not the bench file's words for it, so two bench files on
    one device collide. A reader is its USB port where the file gives it, else its USB ID
    (and serial): give ``usb.path`` to run identical readers in two benches at once."""
    if spec.kind != "real":
        return {}
    found: dict[str, str] = {}
    # A USB tree other than the host's (a bench in a box's folder) has devices of its own.
    tree = "" if spec.sysfs_root == BenchSpec.model_fields["sysfs_root"].default \
        else f"{os.path.realpath(spec.sysfs_root)} "
    for inst in spec.instruments:
        label = f"instrument {inst.name}"
        if inst.kind == "numato_relay" and inst.port:
            found[_serial_key(inst.port)] = label
        if inst.serial:
            found[f"hid relay {inst.serial}"] = label
        if inst.usb_path:
            found[f"usb {tree}{inst.usb_path}"] = label
        for port in inst.ports or []:
            found[f"pdu {(inst.url or '').rstrip('/')} {inst.hostname} port {port}"] = label
    for reader in spec.readers:
        label = f"reader {reader.name}"
        usb = reader.usb
        if usb.path:
            found[f"usb {tree}{usb.path}"] = label
        else:
            serial = f" serial {usb.serial}" if usb.serial else ""
            found[f"usb {tree}id {fmt_id(usb.vid)}:{fmt_id(usb.pid)}{serial}"] = label
        if reader.nfc:
            found[f"nfc {reader.nfc}"] = label
    for hub in spec.hubs:
        if hub.port_power:  # switching its ports switches whatever is plugged in
            found[f"usb {tree}{hub.path}"] = f"hub {hub.name}"
    for camera in spec.cameras:
        found[_camera_key(camera.source)] = f"camera {camera.name}"
    if spec.robot is not None:
        found[_serial_key(spec.robot.port)] = "robot"
    return found


def _place_key(coordinator: str, place: str) -> str:
    return f"labgrid {coordinator} place {place}"


def _ancestors() -> set[int]:
    """This process and its parents (Linux /proc; elsewhere this process and its parent)."""
    pids, pid = {os.getpid()}, os.getppid()
    for _ in range(64):
        if pid <= 1 or pid in pids:
            break
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _held_by_ancestor(path: Path) -> bool:
    """The bench is held by this process or one that started it (certify's parts, the
    suites certify runs in its own process)."""
    try:
        held = json_loads(os.environ.get(HELD_ENV, ""))
        return held["bench"] == str(path) and int(held["pid"]) in _ancestors()
    except (ValueError, KeyError, TypeError):
        return False


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def hold_bench(path: str | Path, *, wait_s: float = 0.0,
               say: Callable[[str], None] = _stderr) -> Iterator[None]:
    """Hold the bench of bench file ``path`` (see the module's text) while the block runs."""
    from harness.bench import load_bench_spec
    from harness.paths import resolved

    path = resolved(Path(path))
    if _held_by_ancestor(path):
        yield
        return
    # The place before the bench file is read whole: what the file leaves out comes from the
    # place's resources, some of which its exporter serves only once the place is acquired.
    place = _place_of(path)
    address = ""
    if place is None and not bench_devices(load_bench_spec(path)):
        yield
        return
    if place is not None:
        from harness.labgrid_place import coordinator_of

        address = coordinator_of(place)
    deadline = time.monotonic() + wait_s
    waiting = False
    while True:
        blocked, hint, taken, release_place = _try_hold(path, place, address, say)
        if blocked is None:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchHeld((f"{blocked} (waited {wait_s:g} s)" if wait_s else
                             f"{blocked} (--wait-for-bench SECONDS waits for it)") + hint)
        if not waiting:
            say(f"{blocked}: waiting up to {wait_s:g} s")
            waiting = True
        time.sleep(min(POLL_S, left))
    for note in takeover_notes(taken):
        say(note)
    os.environ[HELD_ENV] = json.dumps({"pid": os.getpid(), "bench": str(path)})
    try:
        yield
    finally:
        os.environ.pop(HELD_ENV, None)
        try:
            if release_place:
                _let_place_go(address, place.place, say)
        finally:
            _release(taken)


def _place_of(path: Path) -> LabgridPlace | None:
    """The bench file's labgrid place, read from the file alone (None: none, or a section
    the full read will name as bad)."""
    from harness.loading import read_layered_yaml
    from harness.model.bench_spec import LabgridPlace

    try:
        data, _ = read_layered_yaml(path)
        section = data.get("labgrid") if isinstance(data, dict) else None
        return None if section is None else LabgridPlace.model_validate(section)
    except (RigError, ValueError):
        return None


def _try_hold(path: Path, place: LabgridPlace | None, address: str,
              say: Callable[[str], None]) -> tuple[str | None, str, list[Taken], bool]:
    """One try at the whole bench: its place (lock and coordinator), then the devices the
    bench file names once its place's resources are read. (blocked, hint, taken, whether
    to release the place); blocked, nothing stays taken."""
    from harness.bench import load_bench_spec

    taken: list[Taken] = []
    release_place = False
    blocked, hint = None, ""
    try:
        if place is not None:
            got = take_all({_place_key(address, place.place): f"labgrid place {place.place}"},
                           str(path))
            if isinstance(got, Blocked):
                return got.message(), "", [], False
            taken += got
            release_place = _take_place(address, place.place, taken, say)
        got = take_all(bench_devices(load_bench_spec(path)), str(path))
        if isinstance(got, Blocked):
            blocked = got.message()
        else:
            return None, "", taken + got, release_place
    except BenchHeld as exc:
        blocked, hint = str(exc), exc.hint
    except BaseException:
        try:
            if release_place and place is not None:
                _let_place_go(address, place.place, say)
        finally:
            _release(taken)
        raise
    try:
        if release_place and place is not None:
            _let_place_go(address, place.place, say)
    finally:
        _release(taken)
    return blocked, hint, [], False


def _take_place(address: str, name: str, taken: list[Taken],
                say: Callable[[str], None]) -> bool:
    """Acquire the labgrid place (its local lock already held: no run of this host is
    using it); True when the rig is to release it at the end. Held elsewhere: BenchHeld."""
    from harness.labgrid_place import Coordinator

    lock = next(t for t in taken if t.device == _place_key(address, name))
    with Coordinator(address) as lg:
        state = lg.state(name)
        if state.acquired is None:
            holder = lg.acquire(name)
            if holder is not None:
                raise BenchHeld(holder.held_text())
            lock.note(place_acquired=lg.state(name).changed)
            return True
        if state.acquired != lg.me:
            raise BenchHeld(state.held_text(), f"; if its holder is gone for good: "
                            f"labgrid-client -x {address} -p {name} release --kick")
        left = lock.left_by
        if left is not None and left.extra.get("place_acquired") == state.changed:
            say(f"place {name} was acquired by a run of the rig that is gone "
                f"({left.describe()}): taken over, released at the end")
            lock.note(place_acquired=state.changed)
            return True
        say(f"place {name} is acquired by you ({lg.me}) since {state.since()}: used as "
            "it is, and left acquired")
        return False


def _let_place_go(address: str, name: str, say: Callable[[str], None]) -> None:
    from harness.labgrid_place import Coordinator

    try:
        with Coordinator(address) as lg:
            problem = lg.release(name)
    except RigError as exc:
        problem = str(exc)
    if problem is not None:
        say(f"place {name} not released: {problem} (release it with labgrid-client -x "
            f"{address} -p {name} release)")


def _release(taken: list[Taken]) -> None:
    for lock in taken:
        lock.release()
