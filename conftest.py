"""Load the rig's plugin for this checkout (unless the installed package already has), and
tell pytest-xdist how the tests may be spread over workers."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

_installed = any(ep.name == "onshi_rig" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["harness.pytest_plugin"]


#: Fixtures that use the machine's one pcscd and the vpcd readers' fixed ports.
PCSCD_FIXTURES = ("pcscd_with_vpcd", "vpcd_bench")


def _uses_pcscd(test_file: str) -> bool:
    try:
        text = (Path(__file__).parent / test_file).read_text(encoding="utf-8")
    except OSError:
        return False
    return any(name in text for name in PCSCD_FIXTURES)


#: The longest of the other files (a CI run's seconds per file, 2026-12-07), longest first:
#: the run's last minute is then made of short files, and no worker ends it alone (with the
#: list of 2026-12-06, two workers idled the last 21 s while a third ran test_wheel.py).
LONG_FILES = ("tests/test_bench_in_a_box.py", "tests/test_reader_fault_deviations.py",
              "tests/test_cli_vision.py", "tests/test_vision_text.py", "tests/test_walks.py",
              "tests/test_box_pcsc.py", "tests/test_report_commands.py",
              "tests/test_vision_classify.py", "tests/test_terminal_fault_deviations.py",
              "tests/test_wheel.py", "tests/test_vision_search.py", "tests/test_bench_locks.py",
              "tests/test_cli_fork.py", "tests/test_vision_calibration.py",
              "tests/test_vision_reading.py", "tests/test_bad_input_corpus.py",
              "tests/test_bad_input_third.py", "tests/test_full_disk_writes.py",
              "tests/test_camera_aim.py", "tests/test_e901_deviations.py",
              "tests/test_schedule_rules.py", "tests/test_bad_input_fourth.py",
              "tests/test_vision_watcher.py", "tests/test_bad_input_hunt_j.py",
              "tests/test_suites_prove_themselves.py")


def _weight(item: pytest.Item) -> tuple[int, int]:
    """The longest files first, so that none of them ends the run alone: the certification
    tests (each certifies a bench in processes of its own), then the suites, then the other
    long files, then the rest."""
    path = item.nodeid.split("::", 1)[0]
    if path == "tests/test_certify_deviant.py":  # the longest of all
        return 0, 0
    if path.startswith("tests/test_certify"):
        return 1, 0
    if path.startswith("suites/"):
        return 2, 0
    return (3, LONG_FILES.index(path)) if path in LONG_FILES else (4, 0)


#: Breadth beyond the mechanism, marked ``slow`` (``./run tests`` and CI leave them out;
#: ``./run tests -m slow`` runs them, ``-m ""`` everything): test function -> why. A
#: number keeps that many of its first cases in the default run, so every mechanism is still
#: tried there; None marks every case.
SLOW: dict[str, tuple[int | None, str]] = {
    "tests/test_vision_classify.py::test_a_harsh_desk_never_names_a_screen_wrongly": (
        None, "a sweep of harsh desks: benchmarks/screen_recognition.py measures >= 2,000 frames"),
    "tests/test_vision_classify.py::test_foreign_screens_on_a_harsh_desk_stay_unknown": (
        None, "a sweep of harsh desks: benchmarks/screen_recognition.py measures them"),
    "tests/test_vision_calibration.py::"
    "test_harsh_hand_photos_of_near_duplicates_are_never_named_wrongly": (
        None, "a sweep of harsh hand photos: benchmarks/screen_recognition.py measures them"),
    "tests/test_vision_calibration.py::test_locate_finds_the_screen_and_what_it_shows": (
        6, "the same search on more devices and poses"),
    "tests/test_vision_classify.py::test_other_devices_screens_are_unknown": (
        2, "the same rule on more makers"),
    "tests/test_vision_watcher.py::test_e901_screens_through_the_camera": (
        2, "the same watch on more makers"),
    "tests/test_text_deviations.py::test_one_character_of_the_901_screen": (
        2, "the same flow on more makers; every kind of one-character change is tried through "
           "the camera in tests/test_vision_text.py"),
    "tests/test_err02_recovery.py::test_err02_takes_the_notices_codes_only": (
        1, "the same flow with the notice's other codes"),
    "tests/test_e901_code.py::test_the_901_code_itself": (1, "the same flow on more makers"),
    "tests/test_suites_prove_themselves.py::test_suite_passes_on_the_default_bench": (
        None, "the suites/ part of the same run is that run"),
    "tests/test_vision_classify.py::test_every_reference_is_recognised_through_the_camera": (
        2, "the same recognition on more devices"),
    "tests/test_vision_calibration.py::test_keeper_notices_a_knocked_camera": (
        1, "the same knock on more makers"),
    "tests/test_twin_stateful.py::test_twin_invariants": (2, "the same machine on more makers"),
    "tests/test_vision_search.py::test_a_screen_not_found_is_searched_for_at_most_every_few_"
    "seconds": (1, "the same bound in another case"),
    "tests/test_e901_deviations.py::test_e901_02_timing_deviations_fail_exactly_e901_02": (
        2, "the same timing faults on more makers"),
    "tests/test_e901_deviations.py::"
    "test_a_frozen_screen_that_leaves_on_the_first_ok_fails_exactly_e901_02": (
        2, "the same frozen screen on more makers"),
    "tests/test_walks.py::test_a_walk_catches_a_persons_screen_moving_on_by_itself": (
        1, "the same watch of a person's screen on another screen"),
    "tests/test_walks.py::"
    "test_person_waits_pass_allowed_timers_and_catch_a_phone_visit_answered_by_itself": (
        2, "another maker's allowed timer (Panasonic's give up, Canon's self-answering "
           "phone visit caught, in the default run)"),
    "suites/test_model_based.py::test_random_walks_follow_the_profile": (
        1, "the same walks on more makers (tests/test_walks.py walks three more)"),
    "tests/test_certify_fail_closed.py::test_the_suites_hold_the_readers_to_the_given_profiles": (
        None, "test_certify.py's default run certifies through a lab's own profiles folder"),
    "tests/test_certify_interrupted.py::"
    "test_ctrl_c_on_the_process_group_finishes_the_report_as_interrupted": (
        None, "SIGTERM to a run on workers and SIGKILL are tried in the default run"),
    "tests/test_certify_interrupted.py::test_a_closed_stdout_does_not_stop_the_run": (
        None, "another way a run's console goes away; the interrupted run's report is tried "
              "in the default run"),
    "tests/test_certify_deviant.py::"
    "test_the_benches_other_makers_fail_exactly_what_their_deviation_breaks": (
        None, "the same deviant bench's certification on more makers (the default run "
              "certifies a consent fault on each way: the staff's, the phone's, the PIN's)"),
    "tests/test_cli_vision.py::test_learn_a_new_screen_from_a_recording": (
        None, "learn is tried on a photo in test_learn_cuts_out_the_screen_not_the_whole_frame"),
}


#: Cases of a test marked ``slow`` by their ids: another wording or another phone of a
#: deviation whose mechanism a case kept in the default run tries (test function -> ids, why).
SLOW_CASES: dict[str, tuple[frozenset[str], str]] = {
    "tests/test_reader_fault_deviations.py::test_the_deviation_fails_the_check": (frozenset({
        # the 901's claims: 901-says-received by the list, 901-says-check-complete by the
        # meaning; another maker's wording: pin-path-901-other-wording
        "901-says-it-was-received", "901-says-checked", "901-says-accepted",
        "901-says-done-in-other-words", "second-901-in-other-words",
        # the limit's consent: limit-consent-in-other-words (an unrecognised screen read:
        # tests/test_vision_text.py)
        "limit-consent-as-upper-amount", "limit-consent-from-the-third-patient",
        # a patient taken as identified: after a staff visit, a 901, the phone's 戻る
        "staff-button-without-the-passcode-again", "back-on-the-passcode-keeps-the-staff-way",
        "back-on-the-card-place-keeps-the-confirmation", "phone-back-keeps-the-phone-way",
        "phone-choice-after-back-skips-the-phone", "card-on-the-phone-completion-unidentified",
        "android-choice-after-back-skips-the-phone",
        "card-on-the-android-completion-unidentified",
        # a wrong passcode taken: second-wrong-passcode-taken
        "back-to-a-passcode-screen-that-takes-any", "any-passcode-after-a-staff-visit",
        # the same rule on another way: phone-completion-to-901,
        # pin-path-completion-ignores-card-out, smartphone-button-before-pairing
        "staff-path-901-after-completion", "staff-path-completion-ignores-card-out",
        "smartphone-button-with-the-staff-button",
        # the upgrade night's 901 on the first OK: 901-on-the-first-ok (the E901 flow's)
        "901-on-the-first-ok-with-the-card-in",
        # a 901 shown done on a phone's way: phone-path-e901-shown-done (the iPhone's),
        # staff-path-e901-shown-done; the Android's failed check: android-failed-check-no-901
        "android-path-e901-shown-done", "android-failed-check-906",
        # a network error shown done on another way: pin-path-network-error-shown-done
        "android-path-network-error-shown-done",
        # the next card taken as identified after another event:
        # next-card-after-a-901-unidentified, next-card-after-a-network-error-unidentified
        "next-card-after-a-staff-visit-unidentified",
        # the spinner that stops: spinner-stops-fujitsu_japan
        "spinner-stops-usen_almex",
        # a consent's text in other words: limit-consent-in-other-words
        "high-cost-consent-in-other-words",
        # the first consent skipped on another way: pin-path-skips-first-consent
        "second-visit-skips-first-consent",
        # the staff button with no passcode issued, later in the day:
        # staff-button-after-a-visit
        "staff-button-from-the-third-patient"}),
        "another wording, way, phone, maker or moment of a deviation whose rule a case the "
        "default run keeps tries (conftest.py SLOW_CASES names it)"),
    "tests/test_reader_fault_deviations.py::test_a_reader_the_notices_allow_passes": (
        frozenset({"phone-back-to-the-choice-android",
                   # the 戻る allowance: back-on-the-card-place-one-step
                   "back-two-steps-and-through-a-wait"}),
        "the Android twin of phone-back-to-the-choice-iphone, or another walk back through "
        "the allowance back-on-the-card-place-one-step tries"),
    "suites/test_upgrade.py::test_distribution_schedule": (
        frozenset({"panasonic-UPD-01", "usen_almex-UPD-01", "fujitsu_japan-UPD-01",
                   "atlas-UPD-01"}),
        "the terminal's schedule, probed through another maker's profile: every maker's "
        "UPD-01 is the same check (canon-UPD-01 stays)"),
    "suites/test_flows.py::test_flow_requirement": (
        frozenset({f"{reader}-SP-03" for reader in (
            "iodata-usb-nfc4e", "abcircle-cir315a-02", "maxell-m-1850s-n2",
            "elecom-mr-ica001bk", "sony-rc-s300-s1")}),
        "the phone on another general reader: tests/test_certify.py's default run "
        "certifies every general reader whole (sanwa-adr-mnicu3-SP-03 stays)"),
    "tests/test_bad_input_fourth.py::test_a_signal_while_the_workers_start_is_the_interruption": (
        frozenset({"2-130-0.6", "15-143-0.0", "1-129-0.0"}),
        "another stopping signal at the other moment (each signal and each moment stays "
        "once: 2-130-0.0, 15-143-0.6, 1-129-0.6)"),
}


#: The suites' longest flows (bench hours of upgrade nights, reboots and network cuts) run
#: in the default run for these makers only; the other makers' in the slow tier.
LONG_FLOWS = ("UPD-02", "UPD-03", "UPD-05", "UPD-06", "UPD-08", "ERR-08", "ERR-09", "ERR-10",
              "ERR-11", "NET-01", "AUTH-06", "CON-01")
LONG_FLOWS_MAKERS = ("canon",)


#: The suites' flows of these makers run in the slow tier only: the default run drives
#: every flow on Canon (a phone read on its own front, the 901 after a wait screen) and
#: Atlas's own ways (FLOWS_OWN_WAYS), and the deviation tests drive the others' flows (each
#: judged whole: what no deviation breaks must pass); `./run main` certifies all five.
FLOWS_ELSEWHERE = ("panasonic", "fujitsu_japan", "usen_almex")
#: Maker -> the requirements whose flows the default run drives on it (the rest in the
#: slow tier): Atlas's 901 back to its first screen, its lamps.
FLOWS_OWN_WAYS = {"atlas": ("E901-", "ERR-07")}


def _long_flow_elsewhere(nodeid: str) -> bool:
    if not nodeid.startswith("suites/test_flows.py::test_flow_requirement["):
        return False
    case = nodeid.split("[", 1)[1]
    if case.startswith(tuple(f"{m}-" for m in FLOWS_ELSEWHERE)):
        return True
    for maker, own in FLOWS_OWN_WAYS.items():
        if case.startswith(f"{maker}-") and not any(f"-{req}" in case for req in own):
            return True
    return (any(f"-{req}]" in case or f"-{req}-also" in case for req in LONG_FLOWS)
            and not case.startswith(tuple(f"{m}-" for m in LONG_FLOWS_MAKERS)))


def _mark_slow(items: list[pytest.Item]) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if _long_flow_elsewhere(item.nodeid):
            item.add_marker(pytest.mark.slow(
                reason="a flow the default run drives on other makers (conftest.py "
                       "LONG_FLOWS, FLOWS_ELSEWHERE, FLOWS_OWN_WAYS)"))
            continue
        function, _, case = item.nodeid.partition("[")
        if function in SLOW_CASES and case[:-1] in SLOW_CASES[function][0]:
            item.add_marker(pytest.mark.slow(reason=SLOW_CASES[function][1]))
            continue
        if function not in SLOW:
            continue
        keep, why = SLOW[function]
        seen[function] = seen.get(function, 0) + 1
        if keep is None or seen[function] > keep:
            item.add_marker(pytest.mark.slow(reason=why))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow(reason): breadth beyond the mechanism; left out by ./run tests and "
                   "CI, run with ./run tests -m slow (conftest.py SLOW)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _mark_slow(items)
    items.sort(key=_weight)  # stable: each file's tests keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist a file's tests stay on one worker, in order, so module and
    session fixtures (a deviant bench certified, a flow driven once for several checks)
    are made once; the files that use pcscd form one unit, so two workers never serve
    the same vpcd ports. (xdist's own ``loadgroup`` cannot be used: with pytest 9 its
    group marks do not reach the scheduler.)"""
    from xdist.scheduler import LoadFileScheduling

    # In collection order (the longest files first: pytest_collection_modifyitems), not the
    # files with most tests first: the certification tests are few but the longest.
    config.option.loadscopereorder = False

    class ByFileAndPcscd(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            test_file = nodeid.split("::", 1)[0]
            return "pcscd" if _uses_pcscd(test_file) else test_file

    return ByFileAndPcscd(config, log)
