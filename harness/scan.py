"""``onshi-rig scan``: find every reader on the bench, identify it, check its wiring.

Identification order: the bench file's entry (by port path, then by USB ID and serial),
then the profiles' known USB IDs; anything else is ``other``. Rules come from the profiles
(``harness.model.wiring``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from harness.bench import Bench
from harness.errors import BadInput
from harness.loading import field_name, place_of, read_layered_yaml
from harness.model.bench_spec import BenchSpec, Reader
from harness.model.profiles import Profile, ProfileSet
from harness.model.reader_lists import rules_problems
from harness.model.requirements import Unchecked, Violation
from harness.model.usb_ids import fmt_id
from harness.model.wiring import (
    BenchContext,
    FoundDevice,
    check_alternatives,
    check_candidates,
    check_device,
    reader_base_name,
)
from harness.protocols import UsbDeviceInfo


@attrs.frozen
class ScanRow:
    name: str | None
    kind: str
    maker: str | None
    model: str | None
    vid: int | None
    pid: int | None
    product: str | None
    usb_path: str | None
    speed_mbps: float | None
    hubs_between: int | None
    root_port_usb3: bool | None
    pcsc_name: str | None
    present: bool
    violations: tuple[Violation, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()
    passed: tuple[str, ...] = ()
    note: str = ""
    #: Firmware release (USB bcdDevice, ``1.10``), None if unread.
    version: str | None = None
    #: (requirement, what its rule went by): the lab's list or the default (USB-07/08).
    basis: tuple[tuple[str, str], ...] = ()
    #: Why its PC/SC name is not known though readers of its product are listed (several
    #: alike with no serial), else None.
    pcsc_unknown: str | None = None
    #: Requirements not judged because its USB ID is sold as several models (which one it
    #: is cannot be told): not conforming until the bench file names it.
    undecided: tuple[str, ...] = ()

    def describe(self) -> str:
        """What the scan found, in a line: ``Sony RC-S300 054c:0dc8 at 1-2, ...``."""
        if not self.present:
            return f"{self.name}: not found ({self.note})" if self.note else f"{self.name}: not found"
        ident = " ".join(p for p in (self.maker, self.model) if p) or "unidentified"
        if self.vid is not None and self.pid is not None:
            ident += f" {fmt_id(self.vid)}:{fmt_id(self.pid)}"
        parts = [ident]
        if self.version is not None:
            parts.append(f"firmware {self.version}")
        if self.usb_path is not None:
            parts.append(f"at {self.usb_path}")
        if self.hubs_between is not None:
            parts.append(f"{self.hubs_between} hub(s) between")
        if self.root_port_usb3 is not None:
            parts.append("USB 3 port" if self.root_port_usb3 else "USB 2 port")
        if self.speed_mbps is not None:
            parts.append(f"{self.speed_mbps:g} Mbit/s")
        if self.pcsc_name is not None:
            parts.append(f"PC/SC {self.pcsc_name!r}")
        elif self.pcsc_unknown is not None:
            parts.append(f"PC/SC name not known: {self.pcsc_unknown}")
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "maker": self.maker,
            "model": self.model,
            "vid": fmt_id(self.vid) if self.vid is not None else None,
            "pid": fmt_id(self.pid) if self.pid is not None else None,
            "product": self.product,
            "usb_path": self.usb_path,
            "speed_mbps": self.speed_mbps,
            "hubs_between": self.hubs_between,
            "root_port_usb3": self.root_port_usb3,
            "pcsc_name": self.pcsc_name,
            "pcsc_unknown": self.pcsc_unknown,
            "present": self.present,
            "violations": [v.as_dict() for v in self.violations],
            "unchecked": [u.as_dict() for u in self.unchecked],
            "passed": list(self.passed),
            "note": self.note,
            "version": self.version,
            "basis": {req: text for req, text in self.basis},
            "undecided": list(self.undecided),
        }


@attrs.frozen
class ScanResult:
    bench: str
    rows: tuple[ScanRow, ...]

    @property
    def conforms(self) -> bool:
        return all(r.present and not r.violations and not r.undecided for r in self.rows)


def _match_entries(
    entries: list[Reader], devices: list[UsbDeviceInfo]
) -> tuple[dict[str, UsbDeviceInfo], list[UsbDeviceInfo]]:
    free = list(devices)
    found: dict[str, UsbDeviceInfo] = {}
    # Port paths first: on an emulated bench (or a real one that pins paths) the bench says
    # where each reader is (whether the device there is the entry's: _swapped).
    for entry in entries:
        if entry.usb.path:
            dev = next((d for d in free if d.topology.path == entry.usb.path), None)
            if dev is not None:
                found[entry.name] = dev
                free.remove(dev)
    for entry in entries:
        if entry.name in found or entry.usb.path:
            continue
        dev = next(
            (
                d for d in free
                if (d.vid, d.pid) == (entry.usb.vid, entry.usb.pid)
                and (entry.usb.serial is None or d.serial == entry.usb.serial)
            ),
            None,
        )
        if dev is not None:
            found[entry.name] = dev
            free.remove(dev)
    return found, free


@attrs.frozen
class Unpaired:
    """Several devices with one product string and no serial: pcsc-lite names them all
    alike, so which PC/SC name is whose is not known (a guess could send a probe, and the
    evidence, to the wrong reader)."""

    product: str
    count: int
    names: tuple[str, ...]

    def reason(self) -> str:
        listed = ", ".join(repr(n) for n in self.names) or "none listed"
        return (f"one of {self.count} readers named {self.product!r} with no serial number "
                f"(PC/SC: {listed}): which PC/SC name is this one's is not known; give each "
                "its pcsc_name in the bench file")

    def base_name(self, serial: str | None) -> str | None:
        """The name all its candidates share once pcsc-lite's index is left off (what USB-05
        needs, not the slot), None if they differ or there are none."""
        bases = {reader_base_name(n, serial) for n in self.names}
        return bases.pop() if len(bases) == 1 else None


def _pair_pcsc(rows: list[tuple[str, UsbDeviceInfo]], names: list[str]
               ) -> tuple[dict[str, str], dict[str, Unpaired]]:
    """PC/SC reader names to devices: a reader's name carries its USB product string, and
    pcsc-lite's CCID driver adds the serial number in brackets. Names with a device's serial
    go to it first; a product string that several devices left share (four re-badged readers
    are "Circle CIR315 CL") pairs none of them: they are returned as :class:`Unpaired`."""
    free = list(names)
    paired: dict[str, str] = {}
    ordered = sorted(rows, key=lambda r: r[1].topology.path)
    for key, dev in ordered:
        if dev.product and dev.serial:
            match = next((n for n in free if f"({dev.serial})" in n
                          and dev.product.casefold() in reader_base_name(n).casefold()), None)
            if match is not None:
                paired[key] = match
                free.remove(match)
    left = [(key, dev) for key, dev in ordered if dev.product and key not in paired]
    unsure: dict[str, Unpaired] = {}
    for key, dev in left:
        want = dev.product.casefold()  # type: ignore[union-attr]
        alike = [k for k, d in left if (d.product or "").casefold() == want]
        candidates = [n for n in free if want in reader_base_name(n).casefold()]
        if len(alike) > 1 and candidates:
            unsure[key] = Unpaired(dev.product or "", len(alike), tuple(candidates))
        elif candidates:
            paired[key] = candidates[0]
            free.remove(candidates[0])
    return paired, unsure


def _check_rules(bench: Bench, profiles: ProfileSet) -> None:
    rules = bench.spec.general_reader_rules
    found = rules_problems(rules, profiles.face_auth_makers(), profiles.general())
    if found:
        lines = read_layered_yaml(bench.path)[1]
        raise BadInput.of([BadInput(*place_of(str(bench.path), lines, loc),
                                    field_name(loc, lines), problem) for loc, problem in found])


def check_makers(path: Path, spec: BenchSpec, profiles: ProfileSet, profiles_dir: Path
                 ) -> None:
    """Every face-auth reader's maker has a vendor profile (certify checks the same): a
    reader with none has no rules to be scanned or probed by. Each such reader is named.
    The general-reader profile must be there too: the suites need it (certify's collection
    failed without it, and every requirement with it)."""
    profiles.general()
    missing = [i for i, r in enumerate(spec.readers)
               if r.kind == "face_auth_reader" and r.maker not in profiles.profiles]
    known = ", ".join(sorted(profiles.profiles)) or "none"
    found = [(("readers", i, "maker"), f"{spec.readers[i].maker!r} has no vendor profile in "
              f"{profiles_dir} (profiles: {known})") for i in missing]
    found += _makers_by_id(spec, profiles)
    if not found:
        return
    lines = read_layered_yaml(path)[1]
    raise BadInput.of([BadInput(*place_of(str(path), lines, loc), field_name(loc, lines),
                                problem) for loc, problem in found])


def _makers_by_id(spec: BenchSpec, profiles: ProfileSet) -> list[tuple[tuple[Any, ...], str]]:
    """A face-auth reader whose USB ID the profiles give to another maker, or that is not
    among its own maker's IDs where the lab listed them: its ``maker`` would have it judged
    by another maker's rules (a Panasonic on a USB 2.0 port passed as a Canon)."""
    owners: dict[tuple[int, int], list[str]] = {}
    for key in profiles.face_auth_makers():
        for usb in profiles[key].usb_ids:
            owners.setdefault((usb.vid, usb.pid), []).append(key)
    found: list[tuple[tuple[Any, ...], str]] = []
    for i, reader in enumerate(spec.readers):
        if reader.kind != "face_auth_reader" or reader.maker not in profiles.profiles:
            continue
        usb_id = (reader.usb.vid, reader.usb.pid)
        own = profiles[reader.maker].usb_ids
        others = [m for m in owners.get(usb_id, []) if m != reader.maker]
        shown = f"{fmt_id(reader.usb.vid)}:{fmt_id(reader.usb.pid)}"
        if others:
            found.append((("readers", i, "maker"), f"{reader.maker!r}, but its USB ID {shown} "
                          f"is {', '.join(others)}'s in the vendor profiles"))
        elif own and not any(u.matches(*usb_id) for u in own):
            found.append((("readers", i, "usb"), f"{shown} is not among {reader.maker}'s USB "
                          f"IDs in its vendor profile ({', '.join(str(u) for u in own)})"))
    return found


class NotTheEntrys(BadInput):
    """A device at a reader's port path is not the reader the bench file names there."""


def _is_entrys(entry: Reader, dev: UsbDeviceInfo) -> bool:
    return (dev.vid, dev.pid) == (entry.usb.vid, entry.usb.pid) and \
        (entry.usb.serial is None or dev.serial == entry.usb.serial)


def _swapped(bench: Bench, found: dict[str, UsbDeviceInfo]) -> None:
    """A device at an entry's port path that is not the entry's (another USB ID, or serial
    where the entry gives one) is the bench being wrong, never a verdict: two readers with
    their cables swapped were each judged by the other maker's rules (a Panasonic on a USB
    2.0 port passed USB-01 as the Canon at the USB 3 port)."""
    entries = bench.spec.readers
    found_wrong: list[tuple[tuple[Any, ...], str]] = []
    for i, entry in enumerate(entries):
        dev = found.get(entry.name)
        if dev is None or not entry.usb.path or _is_entrys(entry, dev):
            continue
        ident = f"{fmt_id(dev.vid)}:{fmt_id(dev.pid)}"
        said = f"{fmt_id(entry.usb.vid)}:{fmt_id(entry.usb.pid)}"
        if (dev.vid, dev.pid) == (entry.usb.vid, entry.usb.pid):
            ident, said = f"serial {dev.serial!r}", f"serial {entry.usb.serial!r}"
        whose = [e.name for e in entries if e is not entry and _is_entrys(e, dev)]
        hint = f" (the ID of {', '.join(whose)}: readers swapped?)" if whose else ""
        found_wrong.append((("readers", i, "usb", "path"),
                            f"{entry.name}: the device at {entry.usb.path} is {ident}{hint}, "
                            f"the bench file says {said}; no reader is judged on it"))
    if found_wrong:
        lines = read_layered_yaml(bench.path)[1]
        raise NotTheEntrys.of([BadInput(*place_of(str(bench.path), lines, loc),
                                        field_name(loc, lines), problem)
                               for loc, problem in found_wrong])


@attrs.frozen
class LookAlike:
    """A general reader's device among look-alikes (one USB ID, several models the bench
    could hold, no ``usb.serial`` to tell them apart): which model it is, and without a
    port path which device, is not known. Its rules are judged as each."""

    #: (maker, model) it may be, the bench file's first.
    models: tuple[tuple[str, str], ...]
    #: The devices it may be: its port's, or (no path) every look-alike no other claims.
    devices: tuple[UsbDeviceInfo, ...]
    why: str
    hint: str


def _look_alikes(bench: Bench, found: dict[str, UsbDeviceInfo], devices: list[UsbDeviceInfo],
                 profiles: ProfileSet) -> dict[str, LookAlike]:
    """Hunt R3: two re-badged CIR315s on each other's ports (or paired by the order found,
    with no paths) had USB-08 judged as the model the bench file put there: an Elecom below
    the lab's minimum passed on the Maxell's firmware. Only a serial tells look-alikes
    apart; a port says where the lab believes each is. An emulated bench's twins are where
    the emulation plugged them: its word, not a belief."""
    if bench.emulation is not None:
        return {}
    entries = [e for e in bench.spec.readers if e.kind == "general_reader"]
    claimed = {id(d) for d in found.values()}
    out: dict[str, LookAlike] = {}
    for entry in entries:
        dev = found.get(entry.name)
        if dev is None or (entry.usb.serial is not None and dev.serial == entry.usb.serial):
            continue
        same = [d for d in devices if (d.vid, d.pid) == (dev.vid, dev.pid)]
        if len(same) < 2:
            continue
        pinned = {id(found[e.name]) for e in entries if e is not entry and e.name in found
                  and (e.usb.path or e.usb.serial is not None)}
        devs = [dev] if entry.usb.path else [d for d in same if id(d) not in pinned]
        models = [(entry.maker, entry.model)]
        models += [(e.maker, e.model) for e in entries
                   if (e.usb.vid, e.usb.pid) == (dev.vid, dev.pid)
                   and any(e.usb.serial is None or e.usb.serial == d.serial for d in devs)]
        if any(id(d) not in claimed for d in same):
            # A look-alike the bench file does not name may be any model sold under the ID.
            who = _identify_by_id(dev, profiles)
            models += list(who.candidates) or [(who.maker or "", who.model or "")]
        models = list(dict.fromkeys(models))
        if len(models) < 2:
            continue
        usb_id = f"{fmt_id(dev.vid)}:{fmt_id(dev.pid)}"
        at = ", ".join(d.topology.path for d in same)
        out[entry.name] = LookAlike(
            tuple(models), tuple(devs),
            f"{entry.name}: the bench file cannot tell which of the {len(same)} {usb_id} "
            f"readers (at {at}) is its {entry.maker} {entry.model}: they look alike and no "
            "usb.serial tells them apart",
            "give each its usb.serial" + ("" if entry.usb.path else " and usb.path"))
    return out


def scan(bench: Bench, profiles: ProfileSet) -> ScanResult:
    _check_rules(bench, profiles)
    devices = bench.usb.devices()
    found, others = _match_entries(bench.spec.readers, devices)
    _swapped(bench, found)
    alike = _look_alikes(bench, found, devices, profiles)
    general = profiles.general()
    pcsc_names = bench.pcsc_reader_names()
    # A name the bench file gives is the reader's, listed or not: it is never paired by
    # product to another's name, nor another reader to it.
    named, whose = _known_pcsc_names(bench, set(found))
    # The emulation names every reader it serves: one it does not name has no PC/SC side.
    keyed = [(e.name, found[e.name]) for e in bench.spec.readers
             if e.name in found and e.name not in named and bench.emulation is None]
    keyed += [(f"other:{d.topology.path}", d) for d in others]
    pcsc, unsure = _pair_pcsc(keyed, [n for n in pcsc_names if n not in named.values()])
    unlisted: dict[str, str] = {}
    for name, given in named.items():
        if given in pcsc_names:
            pcsc[name] = given
        elif bench.pcsc is not None:
            unlisted[name] = f"pcscd lists no reader named {given!r} ({whose})"
    identified = {f"other:{d.topology.path}": _identify_by_id(d, profiles) for d in others}
    # USB-07 judges the face-auth readers against every general reader present; one its USB
    # ID cannot name is there once per model it may be (judge_designated groups them).
    context = BenchContext(bench.spec.general_reader_rules, general, tuple(
        [(e.name, maker, model) for e in bench.spec.readers
         if e.kind == "general_reader" and e.name in found
         for maker, model in (alike[e.name].models if e.name in alike
                              else ((e.maker, e.model),))]
        + [(key, maker, model) for key, who in identified.items()
           if who.kind == "general_reader"
           for maker, model in (who.candidates or ((who.maker, who.model),))]))
    rows: list[ScanRow] = []

    for entry in bench.spec.readers:
        dev = found.get(entry.name)
        if dev is None:
            where = f" at {entry.usb.path}" if entry.usb.path else ""
            rows.append(
                ScanRow(
                    entry.name, entry.kind, entry.maker, entry.model, entry.usb.vid, entry.usb.pid,
                    None, entry.usb.path, None, None, None, None, present=False,
                    note=f"not found on USB{where} ({_why_missing(bench, entry.name)})",
                )
            )
            continue
        profile = profiles[entry.maker] if entry.kind == "face_auth_reader" else general
        rows.append(
            _row(bench, entry.name, entry.kind, entry.maker, entry.model, dev, profile,
                 pcsc.get(entry.name), "", context, unlisted.get(entry.name),
                 unsure.get(entry.name), alike=alike.get(entry.name))
        )

    for dev in others:
        key = f"other:{dev.topology.path}"
        who = identified[key]
        rows.append(_row(bench, None, who.kind, who.maker, who.model, dev, who.profile,
                         pcsc.get(key), who.note, context, unpaired=unsure.get(key),
                         candidates=who.candidates))
    return ScanResult(bench.name, tuple(rows))


def _known_pcsc_names(bench: Bench, present: set[str]) -> tuple[dict[str, str], str]:
    """The PC/SC names known to be each reader's (not paired by product), and whose word it
    is: on an emulated bench the emulation's (it made the names), else the bench file's
    ``pcsc_name``."""
    emulation = bench.emulation
    if emulation is not None:
        given = getattr(emulation, "pcsc_names", {})
        return ({n: given[n] for n in present if n in given},
                "the name the emulation gave it")
    return ({e.name: e.pcsc_name for e in bench.spec.readers
             if e.pcsc_name is not None and e.name in present},
            "the bench file's pcsc_name")


@attrs.frozen
class Identified:
    """What a device the bench file does not name is, by its USB ID alone."""

    kind: str
    maker: str | None
    model: str | None
    profile: Profile | None
    note: str
    #: (maker, model) of each verified model its ID is sold as, when several are: which one
    #: it is cannot be told (the label can), so it is judged as each; else ().
    candidates: tuple[tuple[str, str], ...] = ()


def _identify_by_id(dev: UsbDeviceInfo, profiles: ProfileSet) -> Identified:
    general = profiles.general()
    models = [m for m in general.verified_models if any(i.matches(dev.vid, dev.pid) for i in m.usb_ids)]
    if len(models) == 1:
        return Identified("general_reader", models[0].maker, models[0].model, general,
                          "identified by USB ID only")
    if models:
        # Never the first of them by guess: the lab's rules differ by model (USB-07/08).
        names = " / ".join(f"{m.maker} {m.model}" for m in models)
        return Identified("general_reader", None, f"one of {names}", general,
                          f"not on the bench file; its USB ID {fmt_id(dev.vid)}:"
                          f"{fmt_id(dev.pid)} is sold as {names}, which one it is cannot be "
                          "told (the label on the device can): name it in the bench file",
                          tuple((m.maker, m.model) for m in models))
    for key in profiles.face_auth_makers():
        if any(i.matches(dev.vid, dev.pid) for i in profiles[key].usb_ids):
            return Identified("face_auth_reader", key, None, profiles[key],
                              "identified by USB ID only")
    return Identified("other", dev.manufacturer, dev.product, None,
                      "not on the bench file, not in any profile")


def _row(bench, name, kind, maker, model, dev: UsbDeviceInfo, profile, pcsc_name, note,  # noqa: ANN001
         context: BenchContext, pcsc_gap: str | None = None,
         unpaired: Unpaired | None = None,
         candidates: tuple[tuple[str, str], ...] = (),
         alike: LookAlike | None = None) -> ScanRow:
    topo = dev.topology
    verdicts = None
    # A pathless look-alike's device is not known: no port nor firmware is shown as its.
    unknown_device = alike is not None and len(alike.devices) > 1
    # USB-05 needs the name, not the slot: readers paired by no one are judged on the name
    # their candidates share (if they share one), and say the slot is not known.
    judged_name = unpaired.base_name(dev.serial) if unpaired is not None else pcsc_name
    if unpaired is not None and judged_name is None:
        pcsc_gap = unpaired.reason()
    if profile is not None:
        found = FoundDevice(
            kind, maker, model, dev.vid, dev.pid, topo, judged_name,
            bench.pcsc_gaps.get(name or "") or pcsc_gap or bench.pcsc_unavailable,
            dev.version, dev.serial,
        )
        if alike is not None:
            many = len(alike.devices) > 1
            verdicts = check_alternatives(
                [(f"{m} {mo}" + (f" at {d.topology.path}" if many else ""),
                  attrs.evolve(found, maker=m, model=mo, topology=d.topology,
                               version=d.version, serial=d.serial))
                 for d in alike.devices for m, mo in alike.models],
                profile, context, alike.why, alike.hint)
            note = alike.why
        elif candidates:
            verdicts = check_candidates(found, candidates, profile, context)
        else:
            verdicts = check_device(found, profile, context)
    return ScanRow(
        name, kind, maker, model, dev.vid, dev.pid, dev.product,
        None if unknown_device else topo.path,
        None if unknown_device else topo.speed_mbps,
        None if unknown_device else topo.hubs_between,
        None if unknown_device else topo.root_port_usb3, pcsc_name, present=True,
        violations=verdicts.violations if verdicts else (),
        unchecked=verdicts.unchecked if verdicts else (),
        passed=verdicts.passed if verdicts else (),
        note=note, version=None if unknown_device else dev.version,
        basis=verdicts.basis if verdicts else (),
        pcsc_unknown=unpaired.reason() if unpaired is not None else None,
        undecided=verdicts.undecided if verdicts else (),
    )


def format_table(result: ScanResult) -> str:
    head = ("NAME", "KIND", "MAKER / MODEL", "USB ID", "FW", "PORT", "SPEED", "HUBS", "PC/SC NAME", "VERDICT")
    lines: list[tuple[str, ...]] = []
    details: list[str] = []
    for row in result.rows:
        who = " ".join(p for p in (row.maker, row.model) if p) or "-"
        usb_id = f"{fmt_id(row.vid)}:{fmt_id(row.pid)}" if row.vid is not None else "-"
        speed = f"{row.speed_mbps:g}M" if row.speed_mbps else "-"
        if not row.present:
            verdict = "MISSING"
        elif row.violations:
            verdict = "FAIL " + ",".join(v.requirement for v in row.violations)
        elif row.undecided:
            verdict = "UNKNOWN " + ",".join(row.undecided)
        else:
            verdict = "ok"
        kind = {"face_auth_reader": "face-auth", "general_reader": "general"}.get(row.kind, row.kind)
        lines.append((
            row.name or "-", kind, who, usb_id, row.version or "-", row.usb_path or "-", speed,
            "-" if row.hubs_between is None else str(row.hubs_between),
            row.pcsc_name or ("? (not known)" if row.pcsc_unknown else "-"), verdict,
        ))
        label = row.name or row.usb_path
        if row.pcsc_unknown is not None:
            details.append(f"  {label}: PC/SC name not known: {row.pcsc_unknown}")
        for v in row.violations:
            details.append(f"  {label}: {v.requirement}: {v.detail}")
        for u in row.unchecked:
            if u.requirement in row.undecided:
                details.append(f"  {label}: {u.requirement}: not known: {u.reason}")
        if not row.present:
            details.append(f"  {label}: {row.note}")
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    out = [f"bench {result.bench}: {len(result.rows)} reader(s)"]
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    if details:
        out += ["", "problems:", *details]
    bad = sum(1 for r in result.rows if r.violations or not r.present or r.undecided)
    out.append("")
    broken = any(r.violations or not r.present for r in result.rows)
    if result.conforms:
        out.append("wiring conforms")
    elif broken:
        out.append(f"wiring does NOT conform: {bad} reader(s) with problems")
    else:
        out.append(f"wiring NOT shown to conform: {bad} reader(s) whose rules could not be "
                   "judged (see problems)")
    return "\n".join(out)


def _why_missing(bench: Bench, name: str) -> str:
    """What may keep a reader off USB: a reader on a relay channel was switched on as the
    bench opened (its power_on); one on none is the lab's to switch on."""
    if name in bench.spec.switchable():
        return ("switched on by the bench's power_on as it opened: unplugged, still "
                "starting, or wrong USB ID?")
    return ("no relay channel switches it: switched on? unplugged, or wrong USB ID?")
