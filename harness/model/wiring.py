"""The wiring rules USB-01 to USB-08: pure functions from what was found to verdicts.

Which rule applies to which device, and with what limits, is data in the profiles; this
module only knows the kinds of checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from harness.model.bench_spec import GeneralReaderRules
from harness.model.profiles import (
    AppNameCheck,
    DesignatedReadersCheck,
    FirmwareCheck,
    HotplugCheck,
    ManualCheck,
    Profile,
    Requirement,
    VerifiedModelCheck,
    WiringCheck,
)
from harness.model.reader_lists import judge_designated, judge_firmware
from harness.model.requirements import Unchecked, Violation
from harness.model.topology import UsbTopology
from harness.model.usb_ids import fmt_id
from harness.model.verdict import Evidence, Verdict

# pcsc-lite appends " 00 00" (reader and slot index), Windows " 0"; pcsc-lite's CCID adds
# " [interface]" and, for a device with a serial number, " (serial)" before its index. None
# of that is part of the name the app shows.
_PCSC_INDEX = re.compile(r"( \[[^\]]*\])?(?P<serial> \([^)]*\))? [0-9A-F]{2} [0-9A-F]{2}$| \d+$")


def reader_base_name(name: str, serial: str | None = None) -> str:
    """``name`` without what pcsc-lite, CCID and Windows add. A bracket before pcsc-lite's
    index is CCID's serial only when it is the device's ``serial`` (a reader named
    "Circle CIR315 CL (PICC)" is another name); with the serial not known (None: the scan
    cannot tell a device without one from one it could not read), any bracket there is
    taken for it."""
    name = name.strip()
    found = _PCSC_INDEX.search(name)
    if found is None:
        return name
    bracket = found.group("serial")
    keep = bracket is not None and serial is not None and bracket != f" ({serial})"
    return (name[:found.start()] + (bracket if keep else "")).strip()


def app_name_matches(pcsc_name: str, app_name: str,
                     serial: str | None = None) -> bool:
    """USB-05: the PC/SC name is the app's, character for character, once the suffixes
    pcsc-lite, CCID and Windows add are left off: a longer name or another case is another
    reader's (Sony's RC-S380 is "Sony FeliCa Port/PaSoRi 3.0", the RC-S300 "SONY ...").
    ``serial``: the device's USB serial number (None: not known)."""
    return reader_base_name(pcsc_name, serial) == reader_base_name(app_name)


@attrs.frozen
class FoundDevice:
    """What the scan knows of one device, for the rules."""

    kind: str
    maker: str | None
    model: str | None
    vid: int
    pid: int
    topology: UsbTopology | None
    pcsc_name: str | None
    #: Why no PC/SC name was looked for (no PC/SC service on this bench, ...), if so.
    pcsc_unavailable: str | None = None
    #: Its firmware version (USB bcdDevice, ``1.10``), None if unread.
    version: str | None = None
    #: Its USB serial number (None: not read, or none).
    serial: str | None = None

    @property
    def usb_id(self) -> str:
        return f"{fmt_id(self.vid)}:{fmt_id(self.pid)}"


@attrs.frozen
class Verdicts:
    violations: tuple[Violation, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()
    passed: tuple[str, ...] = ()
    #: (requirement, what it went by): the lab's list or the default it used (USB-07/08).
    basis: tuple[tuple[str, str], ...] = ()
    #: Requirements left unchecked only because the USB ID cannot name the model.
    undecided: tuple[str, ...] = ()


@attrs.frozen
class BenchContext:
    """What a rule needs beyond the device: the lab's lists, the general readers' profile
    and the general readers on the bench (label, maker, model)."""

    rules: GeneralReaderRules = GeneralReaderRules()
    general: Profile | None = None
    general_readers: tuple[tuple[str, str | None, str | None], ...] = ()


def judge_wiring(requirement: Requirement, maker: str, subject: str, found: Verdicts | None,
                 seen: str) -> Verdict:
    """The verdict of one wiring rule on one device the scan found (``found``: what
    :func:`check_device` said of it; None: the device is not on the bench). A rule that
    could not be checked (topology or PC/SC name unknown) is an error, never a pass."""
    evidence = Evidence(observed=(seen,))
    if found is None:
        return Verdict.of(requirement.id, maker, subject, expected=requirement.statement,
                          seen=seen, errors=[f"{subject} was not found on the bench"],
                          evidence=evidence)
    broken = [v.detail for v in found.violations if v.requirement == requirement.id]
    unread = [u.reason for u in found.unchecked if u.requirement == requirement.id]
    basis = [b for r, b in found.basis if r == requirement.id and b]
    if basis:
        seen = f"{seen}; {'; '.join(basis)}"
        evidence = Evidence(observed=(seen,))
    if not broken and not unread and requirement.id not in found.passed:
        unread = [f"no wiring rule of {requirement.id} was judged on {subject}"]
    return Verdict.of(requirement.id, maker, subject, expected=requirement.statement,
                      seen=seen, problems=broken, errors=unread, evidence=evidence)


def judge_hotplug(requirement: Requirement, maker: str, subject: str, listed: list[str],
                  again: list[str], monitorless: bool) -> Verdict:
    """USB-06: the general reader the management app listed is listed again at once after
    it was pulled and plugged back in, on a terminal with a monitor. On a monitor-less
    terminal the notice's remedy (a monitor attached) cannot be tried: not judged."""
    seen = f"listed before: {', '.join(listed) or 'nothing'}; after plugging in again: " \
           f"{', '.join(again) or 'nothing'}"
    errors = [] if listed else [f"the management app listed no general reader before "
                                f"{subject} was pulled, so recognition cannot be judged"]
    if monitorless:
        errors.append("the bench's terminal runs without a monitor (terminal.monitorless): "
                      "the notice has the reader set up with a monitor attached "
                      "(資格確認端末に別途モニター等を接続いただいたうえで設定), which this bench "
                      "cannot do; judge USB-06 with a monitor on the terminal")
    problems = [] if sorted(again) == sorted(listed) else [
        f"after plugging {subject} in again the app lists {again or 'nothing'}; before it "
        f"listed {listed}"]
    return Verdict.of(requirement.id, maker, subject, expected=requirement.statement,
                      seen=seen, problems=problems, errors=errors,
                      evidence=Evidence(observed=(seen,)))


def check_device(device: FoundDevice, profile: Profile,
                 context: BenchContext | None = None) -> Verdicts:
    context = context or BenchContext(general=profile if profile.kind == "general_reader"
                                      else None)
    violations: list[Violation] = []
    unchecked: list[Unchecked] = []
    passed: list[str] = []
    basis: list[tuple[str, str]] = []
    for req in profile.requirements:
        check = req.check
        if not isinstance(check, WiringCheck | VerifiedModelCheck | AppNameCheck | ManualCheck
                          | HotplugCheck | DesignatedReadersCheck | FirmwareCheck):
            continue  # flows, boot order, schedules: checked by the suites, not the scan
        outcome: Violation | Unchecked | None
        if isinstance(check, DesignatedReadersCheck | FirmwareCheck):
            outcome = _lab_list(req.id, check, device, profile, context, basis)
        elif isinstance(check, WiringCheck):
            outcome = _wiring(req.id, check, device)
        elif isinstance(check, VerifiedModelCheck):
            outcome = _verified(req.id, device, profile)
        elif isinstance(check, AppNameCheck):
            outcome = _app_name(req.id, device, profile)
        elif isinstance(check, ManualCheck):
            outcome = Unchecked(req.id, f"manual check: {check.how}")
        elif isinstance(check, HotplugCheck):
            outcome = Unchecked(req.id, "hot-plug: proved by the USB suite, not the scan")
        else:  # pragma: no cover - the schema admits no other kind
            raise TypeError(check)
        if isinstance(outcome, Violation):
            violations.append(outcome)
        elif isinstance(outcome, Unchecked):
            unchecked.append(outcome)
        else:
            passed.append(req.id)
    return Verdicts(tuple(violations), tuple(unchecked), tuple(passed), tuple(basis))


def check_candidates(device: FoundDevice, candidates: Sequence[tuple[str, str]],
                     profile: Profile, context: BenchContext | None = None) -> Verdicts:
    """The rules for a device its USB ID cannot name (re-badged readers share one ID): each
    rule is judged as each model it may be (``candidates``: maker, model). It holds only if
    it holds for every one, is broken only if broken for every one; else it is unchecked,
    with what each model would get (a guess of the first model passed a reader below the
    lab's firmware minimum for the others)."""
    names = " / ".join(f"{maker} {model}" for maker, model in candidates)
    return check_alternatives(
        [(f"{maker} {model}", attrs.evolve(device, maker=maker, model=model))
         for maker, model in candidates], profile, context,
        f"its USB ID {device.usb_id} cannot tell which of {names} it is",
        "name its model in the bench file (readers[]: maker, model)")


def check_alternatives(alternatives: Sequence[tuple[str, FoundDevice]], profile: Profile,
                       context: BenchContext | None, why: str, hint: str) -> Verdicts:
    """The rules for a device that may be any of ``alternatives`` (label, what it would be):
    each rule holds only if it holds as every one, is broken only if broken as every one;
    else it is unchecked, saying ``why`` it is not known, what each would get and the
    ``hint`` that settles it. Never the first of them by guess."""
    each = [(label, check_device(found, profile, context)) for label, found in alternatives]
    names = " / ".join(name for name, _ in each)
    ids = [r.id for r in profile.requirements
           if any(r.id in v.passed or any(x.requirement == r.id for x in
                                           (*v.violations, *v.unchecked)) for _, v in each)]
    violations: list[Violation] = []
    unchecked: list[Unchecked] = []
    passed: list[str] = []
    basis: list[tuple[str, str]] = []
    undecided: list[str] = []
    for req_id in ids:
        said = [(name, _said(req_id, v)) for name, v in each]
        shown = "; ".join(f"as {name}: {text or 'holds'}" for name, (_, text) in said)
        bases = [f"as {name}: {b}" for name, v in each for r, b in v.basis if r == req_id and b]
        if bases:
            basis.append((req_id, "; ".join(bases)))
        kinds = {kind for _, (kind, _) in said}
        if kinds == {"passed"}:
            passed.append(req_id)
        elif kinds == {"unchecked"} and len({text for _, (_, text) in said}) == 1:
            # Unread whatever it is (no PC/SC service, ...): that reason, as for one model.
            unchecked.append(next(u for u in each[0][1].unchecked if u.requirement == req_id))
        elif kinds == {"violated"}:
            violations.append(Violation(req_id, f"whichever of {names} it is: {shown}"))
        else:
            unchecked.append(Unchecked(req_id, f"{why} ({shown}); {hint}"))
            if kinds != {"unchecked"}:
                undecided.append(req_id)
    return Verdicts(tuple(violations), tuple(unchecked), tuple(passed), tuple(basis),
                    tuple(undecided))


def _said(req_id: str, verdicts: Verdicts) -> tuple[str, str]:
    """How one rule came out in ``verdicts``: (passed | violated | unchecked, why)."""
    for v in verdicts.violations:
        if v.requirement == req_id:
            return "violated", v.detail
    for u in verdicts.unchecked:
        if u.requirement == req_id:
            return "unchecked", f"unchecked: {u.reason}"
    return "passed", ""


def _lab_list(req_id: str, check: DesignatedReadersCheck | FirmwareCheck, device: FoundDevice,
              profile: Profile, context: BenchContext, basis: list[tuple[str, str]]
              ) -> Violation | Unchecked | None:
    if context.general is None:
        return Unchecked(req_id, "no general-reader profile to take the verified models from")
    if isinstance(check, DesignatedReadersCheck):
        judged = judge_designated(req_id, profile.key, context.general_readers, context.rules,
                                  context.general)
    else:
        judged = judge_firmware(req_id, device.maker, device.model, device.version,
                                context.rules, context.general, (device.vid, device.pid))
    basis.append((req_id, judged.basis))
    return judged.outcome


def _wiring(req_id: str, check: WiringCheck, device: FoundDevice) -> Violation | Unchecked | None:
    topo = device.topology
    if topo is None:
        return Unchecked(req_id, "USB topology unknown for this device")
    if check.root_port_usb3:
        if topo.root_port_usb3 is None:
            return Unchecked(req_id, f"cannot tell whether the port of {topo.path} is USB 3")
        if not topo.root_port_usb3:
            return Violation(
                req_id,
                f"plugged into {topo.path}, whose terminal port is USB 2.0; "
                "it must go into a USB 3.0 port (usually blue inside)",
            )
    if check.max_hubs_between is not None and topo.hubs_between > check.max_hubs_between:
        return Violation(
            req_id,
            f"{topo.hubs_between} USB hub(s) between the terminal and the device at {topo.path}; "
            + (
                "it must be plugged into the terminal directly"
                if check.max_hubs_between == 0
                else f"at most {check.max_hubs_between} allowed"
            ),
        )
    return None


def _verified(req_id: str, device: FoundDevice, profile: Profile) -> Violation | None:
    listed = ", ".join(f"{m.maker} {m.model}" for m in profile.verified_models)
    match = profile.verified(device.maker, device.model)
    if match is None:
        name = " ".join(p for p in (device.maker, device.model) if p) or "an unidentified reader"
        return Violation(
            req_id,
            f"{name} ({device.usb_id}) is not a verified general reader; verified: {listed}",
        )
    disagrees = profile.id_disagrees(match, device.vid, device.pid)
    if disagrees:
        return Violation(req_id, f"labelled {match.maker} {match.model}, but {disagrees}")
    return None


def _app_name(req_id: str, device: FoundDevice, profile: Profile) -> Violation | Unchecked | None:
    match = profile.verified(device.maker, device.model)
    if match is None:
        return Unchecked(req_id, "not a verified model, so no expected name")
    if device.pcsc_name is None:
        why = device.pcsc_unavailable or "no PC/SC reader on this bench matches this device"
        return Unchecked(req_id, why)
    if not app_name_matches(device.pcsc_name, match.app_name, device.serial):
        return Violation(
            req_id,
            f"shows as {device.pcsc_name!r}; the management app lists {match.maker} "
            f"{match.model} as {match.app_name!r}",
        )
    found = _PCSC_INDEX.search(device.pcsc_name.strip())
    bracket = found.group("serial") if found is not None else None
    if device.serial is None and bracket is not None and reader_base_name(
            device.pcsc_name, "") != reader_base_name(match.app_name):
        # It matches only with the bracket taken for CCID's serial number, which the scan
        # could not read: a reader named "... (PICC)" is another name (fail closed).
        return Unchecked(req_id, f"shows as {device.pcsc_name!r}: whether {bracket.strip()} "
                         "is the device's serial number (CCID adds it) or part of its name "
                         "cannot be told, its serial not read; the app lists "
                         f"{match.app_name!r}")
    return None
