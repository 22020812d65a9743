"""Faults of the terminal twin that used to live in its code, now bench ``deviations`` of
fixtures/devices/terminal/oqs-terminal.yaml (fixtures/devices/README.md, "Deviations"):
each one, written into a bench in the test, fails the check of the requirement it breaks
(with what was seen), and the same check passes on the default bench.

- ``upgrade.applies_at: install``: the upgrade takes effect without a reboot, so a check
  right after the night's install succeeds (UPD-02: download and install are not enough).
- ``upgrade.restarts: 2``: one reboot does not apply it; the same patient fails again after
  the reboot (UPD-06, E901-06).
- ``result_on_failed_check: true``: the failed check's patient reaches the receipt computer
  (UPD-03, E901-01..05: the eligibility is not confirmed; E901-06 and UPD-06: the patient's
  results after the reboot are two, not one).
- ``ready_dialog_for: []``: no 確認しました dialog after a manual download (UPD-05).
- ``dialogs.update_ready.then_dialog: no_update``: the tool says there is nothing to
  download right after its ready dialog (UPD-05); or shows a network error, or the request
  accepted again, before the reboot the procedure goes on to.
- ``passcode_digits: 6``: OQS issues 6-digit passcodes (AUTH-03, AUTH-05: 4 digits), with a
  reader that takes 4 (it refuses them) or one that takes 6 too (only the length tells).
- ``with_monitor_misses_new_usb: true``: a general reader plugged in again is not listed
  again, monitor or not (USB-06).
- ``ready_dialog_for: [face_auth_library, distribution_app]``: the ready dialog for the
  distribution application itself (UPD-05's other half, given update_target_distribution_app).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from flow_helpers import (
    DEFAULT_BENCH,
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.emulation.hands import TwinHands
from harness.flows.hotplug import replug
from harness.model.profiles import ProfileSet
from harness.model.wiring import judge_hotplug

NIGHTLY: Flow = ("upgrade_nightly", ("in_distribution_window",))
REBOOT: Flow = ("reboot_then_check", ("upgrade_pending_reboot",))
E901: Flow = ("e901", ("upgrade_pending_reboot",))
MANUAL: Flow = ("upgrade_manual", ())
STAFF: Flow = ("staff_visual", ("passcode_issued",))
LINE_AUTH: Flow = ("line_auth_page", ())
NOTHING_SENT = "the receipt computer should get nothing; it got the patient's result"


@attrs.frozen
class Fault:
    #: The terminal's deviations ({change, to, why}), and a reader's if any.
    terminal: tuple[dict[str, Any], ...]
    reader: str
    flow: Flow
    #: The requirements whose checks of ``flow`` fail, no more, no fewer, each with a
    #: fragment of the problem it gives.
    fails: dict[str, str]
    reader_deviations: tuple[dict[str, Any], ...] = ()


def _each(requirements: str, why: str) -> dict[str, str]:
    return dict.fromkeys(requirements.split(), why)


FAULTS = {
    "upgrade-applies-without-reboot": Fault(
        (deviation("upgrade.applies_at", "install", "no reboot needed"),), "canon", NIGHTLY,
        {"UPD-02": "the terminal did not show check_error_1",
         "E901-02": "please_wait was not seen",
         "E901-04": "error_901 was not seen", "E901-05": "error_901 was not seen"}),
    # The first check before the restart fails, and the terminal applies the upgrade by
    # itself: the next patient goes through with no restart.
    "upgrade-applies-after-a-failed-check": Fault(
        (deviation("upgrade.failed_checks", 1, "applies after one failed check"),), "panasonic",
        NIGHTLY, _each("UPD-02", "did not show check_error_1 after check_error_2")),
    # ... or shows the first error again after the second OK, which the next check's
    # card finds still open: the second check's own dialog never comes.
    "first-error-again-then-applied": Fault(
        (deviation("upgrade.failed_checks", 1, "applies after one failed check"),
         deviation("dialogs.check_error_2.then_dialog", "check_error_1",
                   "the first error again after the second OK"),
         deviation("check_seconds", 6, "a check of 6 s")), "panasonic", NIGHTLY,
        _each("UPD-02", "not after the last card_in")),
    "still-failing-after-the-reboot": Fault(
        (deviation("upgrade.restarts", 2, "two reboots needed"),), "canon", REBOOT,
        _each("UPD-06 E901-06", "completion was not seen after consent")),
    "result-sent-on-a-failed-check": Fault(
        (deviation("result_on_failed_check", True, "hands over what it could not confirm"),),
        "atlas", E901,
        _each("UPD-03 E901-01 E901-02 E901-03 E901-04 E901-05", NOTHING_SENT)),
    # ... and after the reboot the same patient's second result: two in all (E901-06, UPD-06).
    "result-sent-on-a-failed-check-then-the-reboot": Fault(
        (deviation("result_on_failed_check", True, "hands over what it could not confirm"),),
        "atlas", REBOOT, _each("UPD-06 E901-06", "should hold 1 result(s) of the patient")),
    "ready-dialog-missing": Fault(
        (deviation("ready_dialog_for", [], "no 確認しました dialog"),), "atlas", MANUAL,
        _each("UPD-05", "did not show update_ready after download_request_accepted")),
    # The tool says there is nothing to download after its ready dialog (UPD-05: the
    # download accepted and made ready; the notice's next step is the reboot).
    "nothing-to-download-after-ready": Fault(
        (deviation("dialogs.update_ready.then_dialog", "no_update",
                   "ダウンロードできる更新資材はありません after 確認しました"),), "usen_almex", MANUAL,
        _each("UPD-05", "must not show no_update in this flow")),
    # ... or any other dialog before the reboot: a network error, the request accepted again.
    "network-error-after-ready": Fault(
        (deviation("dialogs.update_ready.then_dialog", "network_error",
                   "ネットワークエラー after 確認しました"),), "canon", MANUAL,
        _each("UPD-05", "showed network_error at")),
    "accepted-again-after-ready": Fault(
        (deviation("dialogs.update_ready.then_dialog", "download_request_accepted",
                   "ダウンロード依頼の受付 again after 確認しました"),), "atlas", MANUAL,
        _each("UPD-05", "showed download_request_accepted at")),
    # Canon's reader takes the notice's 4 digits: it refuses the passcode, so the visual
    # confirmation (and the consents it leads to, CON-02's staff path, and its completion,
    # CON-01's) never comes, nor the card's visit after the staff visits (AUTH-01's).
    "passcode-of-6-digits": Fault(
        (deviation("passcode_digits", 6, "6-digit passcodes"),), "canon", STAFF,
        {**_each("AUTH-03 AUTH-05", "passcode OQS issued has 6 digits, not 4"),
         "CON-02": "consent was not seen", "CON-01": "consent was not seen",
         "AUTH-01": "face_auth was not seen"}),
    # A reader that takes 6 digits too: the flow goes through; only the length tells.
    "passcode-of-6-digits-taken": Fault(
        (deviation("passcode_digits", 6, "6-digit passcodes"),), "atlas", STAFF,
        _each("AUTH-03 AUTH-05", "passcode OQS issued has 6 digits, not 4"),
        (deviation("behaviour.staff_button.passcode_digits", 6, "takes 6 digits"),)),
    # (hunt 2, F1) The line-authentication page at another address than the notice's
    # https://www.lineauth.mnw (ERR-10 read only its words before).
    "line-auth-page-elsewhere": Fault(
        tuple(deviation(f"dialogs.{page}.title", "https://www.lineauth.mnw.jp", "elsewhere")
              for page in ("line_auth_page_connected", "line_auth_page_cut")),
        "canon", LINE_AUTH, {"ERR-10": "expected https://www.lineauth.mnw, read"}),
}


# (That the same checks pass on the default bench is the suites' own run there:
# suites/test_flows.py judges every requirement of every maker on it in the same CI run.)


@pytest.mark.parametrize("name", list(FAULTS))
def test_the_deviation_fails_the_check(tmp_path: Path, profiles: ProfileSet, name: str) -> None:
    fault = FAULTS[name]
    readers = {fault.reader: fault.reader_deviations} if fault.reader_deviations else None
    path = deviant_bench_file(tmp_path, name, readers=readers,
                              terminal={"deviations": list(fault.terminal)})
    for bench in open_bench(path):
        _, judged = run_judged(bench, profiles, fault.reader, fault.flow)
        assert_fails_exactly(judged, fault.fails)


# -- UPD-02: a reader whose 901 comes a moment after the second OK ----------------------------
def test_a_901_a_moment_after_the_second_ok_still_lets_the_next_check_in(
        tmp_path: Path, profiles: ProfileSet) -> None:
    """Panasonic's completion screen stays through the error (E901-02) and ignores a card
    taken out; here its 901 comes 4 s after the second OK. The nightly flow takes the card
    out once the reader answered, so the next check (UPD-02's second) starts and fails as
    the first: a genuine reader, passed."""
    path = deviant_bench_file(tmp_path, "late-901", readers={"panasonic": [
        deviation("behaviour.transitions.completion_stuck.error_901", "completion_stuck_b",
                  "the 901 a moment later"),
        deviation("behaviour.states.completion_stuck_b", {
            "shows": "completion", "like": "completion",
            "after": {"seconds": 4, "event": "error_901"}}, "4 s on"),
        deviation("behaviour.transitions.completion_stuck_b", {"error_901": "error_901"},
                  "then the 901")]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, "panasonic", NIGHTLY)
        assert judged.get("UPD-02") == [], (judged, record.problems)
        assert [d.dialog for d in record.dialogs] == [
            "check_error_1", "check_error_2", "check_error_1", "check_error_2"], \
            record.dialog_path()
        assert [a.what for a in record.actions].count("card_in") == 2


# -- USB-06: the management app lists a replugged general reader again ------------------------
@pytest.mark.parametrize("misses", [False, True], ids=["default", "with-monitor-misses-it"])
def test_a_replugged_general_reader_is_listed_again(tmp_path: Path, profiles: ProfileSet,
                                                    misses: bool) -> None:
    path = DEFAULT_BENCH if not misses else deviant_bench_file(
        tmp_path, "usb06", terminal={"deviations": [
            deviation("with_monitor_misses_new_usb", True, "misses new USB devices")]})
    general = "sony-rc-s300-s1"
    for bench in open_bench(path):
        assert not bench.spec.terminal.monitorless  # a monitor: recognised at once (USB-06)
        seen = replug(bench, TwinHands(bench), profiles, general)
        verdict = judge_hotplug(profiles["general_readers"].requirement("USB-06"),
                                "general_readers", general, seen.listed, seen.again,
                                seen.monitorless)
    sony = "SONY FeliCa Port/PaSoRi 4.0"
    assert sony in seen.listed and not seen.monitorless, seen
    assert verdict.passed is not misses, verdict.explain()
    assert (sony in seen.again) is not misses, seen
    if misses:
        assert f"after plugging {general} in again the app lists" in verdict.problems[0]


@pytest.mark.parametrize("misses", [False, True], ids=["default", "with-monitor-misses-it"])
def test_usb06_is_not_judged_on_a_terminal_without_a_monitor(tmp_path: Path,
                                                             profiles: ProfileSet,
                                                             misses: bool) -> None:
    """The notice's remedy for a monitor-less terminal is a monitor attached while the
    reader is set up; a bench that cannot attach one cannot tell a terminal that misses new
    USB devices with a monitor too (a restart would have recognised it): never a pass."""
    deviations = [deviation("with_monitor_misses_new_usb", True, "misses them")] if misses \
        else []
    path = deviant_bench_file(tmp_path, "usb06-monitorless",
                              terminal={"monitorless": True, "deviations": deviations})
    general = "sony-rc-s300-s1"
    for bench in open_bench(path):
        seen = replug(bench, TwinHands(bench), profiles, general)
        verdict = judge_hotplug(profiles["general_readers"].requirement("USB-06"),
                                "general_readers", general, seen.listed, seen.again,
                                seen.monitorless)
        assert not any(e.kind == "terminal.reboot" for e in bench.timeline.events()), \
            "the rig restarted the terminal: a restart mends what the rule is about"
    assert seen.monitorless and verdict.status == "error", verdict.explain()
    assert any("runs without a monitor" in p for p in verdict.problems), verdict.explain()


# -- UPD-05: the ready dialog is not shown for the distribution application itself -----------
APP_UPDATE: Flow = ("upgrade_manual", ("update_target_distribution_app",))


@pytest.mark.parametrize("shows_it", [False, True], ids=["default", "ready-for-the-app-too"])
def test_the_ready_dialog_for_the_distribution_app(shows_it: bool, tmp_path: Path,
                                                   profiles: ProfileSet) -> None:
    """A manual download when the update on offer is the distribution application itself:
    OK on ダウンロード依頼の受付, and no 確認しました dialog (UPD-05's other half); a terminal
    that shows it for the application too fails UPD-05."""
    path = DEFAULT_BENCH if not shows_it else deviant_bench_file(
        tmp_path, "ready-for-app", terminal={"deviations": [
            {"change": "ready_dialog_for", "to": ["face_auth_library", "distribution_app"],
             "why": "the ready dialog for the application too"}]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, "atlas", APP_UPDATE)
        assert "UPD-05" in judged, judged
        assert ("UPD-05" in failed(judged)) is shows_it, (judged, record.dialog_path())
        assert record.dialogs and record.dialogs[0].dialog == "download_request_accepted"
