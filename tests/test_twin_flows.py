"""Each maker's twin through each flow of domain.md, checked against the notices.

Expectations here are this test's own reading of the seeds (000: E901; 001: outages; 002:
troubleshooting, boot order, staff mode, smartphones; 003: consent), not the profiles: these
are tests of the twin itself.
"""

from __future__ import annotations

import datetime as dt

import pytest
from seed_texts import E901_TEXTS
from twin_helpers import (
    GENERAL,
    answer_consents,
    card_on_general_reader,
    check_in_by_face,
    patient,
    started_world,
)

from harness.emulation.people import Phone
from harness.emulation.terminal import distribution_open
from harness.emulation.world import MAKERS, TwinWorld
from harness.model.bench_spec import Deviation
from harness.model.clock import JST, VirtualClock

# -- E901: a check after the upgrade is installed, before the reboot (notice 7福薬業発第367号 §2) ---------

#: E901-02: screen class and overlay when the patient finishes the consent selection.
AT_FAILURE = {
    "panasonic": ("completion", None),
    "canon": ("please_wait", None),
    "usen_almex": ("consent", "spinner"),
    "fujitsu_japan": ("consent", "spinner"),
    "atlas": ("first", None),
}
#: E901-05: the 901 screen's texts (Panasonic's and Canon's pictures were lost: "901" only).
TEXTS_901 = {"panasonic": ["901"], "canon": ["901"], **E901_TEXTS}


@pytest.mark.parametrize("maker", MAKERS)
def test_e901_flow_screens_and_dialogs(maker: str) -> None:
    world, reader = started_world(maker, upgrade="installed")
    term = world.terminal
    check_in_by_face(world, reader, patient())

    # E901-01: the terminal shows an error dialog; E901-02: the maker's screen.
    assert [d.id for d in term.dialogs] == ["check_error_1"]
    shows, overlay = AT_FAILURE[maker]
    screen = reader.screen()
    assert (screen.shows, screen.overlay) == (shows, overlay)
    if maker == "atlas":
        assert screen.state == "first"
    else:
        # ... and it does not change, even with the card out and time passing.
        before = reader.state
        reader.remove_card()
        world.clock.advance(120)
        assert reader.state == before

    # E901-03: OK shows a second dialog; the reader still waits.
    assert term.press("OK")
    assert [d.id for d in term.dialogs] == ["check_error_2"]
    assert reader.screen().shows == shows
    # E901-04: OK on the second dialog: the reader shows the 901 error.
    assert term.press("OK")
    assert term.dialogs == []
    screen = reader.screen()
    assert screen.shows == "error_901"
    for text in TEXTS_901[maker]:
        assert screen.has_text(text), f"{maker}: 901 screen lacks {text!r}: {screen.texts}"
    # The patient's eligibility is not confirmed: nothing reaches the receipt computer.
    assert term.results == []
    assert world.receipt_computer is not None and world.receipt_computer.results == []
    kinds = [e.data.get("dialog") for e in world.timeline.events("dialog.shown")]
    assert kinds == ["check_error_1", "check_error_2"]


@pytest.mark.parametrize("maker", MAKERS)
def test_reboot_clears_the_error_and_the_same_patient_checks_in(maker: str) -> None:
    """E901-06, UPD-02, UPD-06: after one terminal reboot the same card succeeds."""
    world, reader = started_world(maker, upgrade="installed")
    card = patient()
    check_in_by_face(world, reader, card)
    world.terminal.press("OK")
    world.terminal.press("OK")
    reader.remove_card()

    world.terminal.reboot()
    # The terminal is gone meanwhile; Atlas's reader stops with it.
    assert reader.screen().shows == ("dark" if maker == "atlas" else "link_wait")
    world.clock.advance(300)
    assert world.terminal.upgrade == "applied"
    assert world.terminal.face_auth_library == "5.1.0"
    assert reader.screen().shows == "first"

    check_in_by_face(world, reader, card)
    assert reader.screen().shows == "completion"
    assert [r.card for r in world.terminal.results] == [card.label]
    assert world.receipt_computer is not None
    assert [r.card for r in world.receipt_computer.results] == [card.label]
    # CON-01: taking the card out returns to the first screen.
    reader.remove_card()
    assert reader.screen().shows == "first"


# -- UPD: distribution and the management tool (seeds 000, 002) ---------------------------


def jst(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        ("2026-01-19 19:59", False),
        ("2026-01-19 20:00", True),
        ("2026-01-20 04:59", True),
        ("2026-01-20 05:00", False),
        ("2026-01-20 12:00", False),
        ("2026-01-25 21:00", False),  # the excluded Sunday
        ("2026-01-26 02:00", False),  # still the night of the 25th
        ("2026-01-26 20:30", True),
        ("2026-01-30 23:00", True),
        ("2026-01-31 04:00", True),
        ("2026-01-31 12:00", True),  # all day from the 31st
        ("2026-03-01 15:00", True),
        ("2026-01-18 22:00", False),
    ],
)
def test_distribution_windows(when: str, open_: bool) -> None:
    """UPD-01: nightly 20:00-05:00 from the 19th to the 30th except the 25th, then all day."""
    world = TwinWorld.for_makers(["panasonic"])
    assert distribution_open(world.terminal.behaviour.distribution, jst(when)) is open_


def test_nightly_download_needs_terminal_and_reader_powered() -> None:
    """UPD-01..04: in the window, a powered terminal and reader get the upgrade; it waits
    for a reboot; the delivery list shows 5.1.0."""
    clock = VirtualClock(epoch=jst("2026-01-19 19:00"))
    world = TwinWorld.for_makers(["panasonic"], clock=clock)
    world.power_on_all()
    term = world.terminal
    assert term.delivery_list() == [{"component": "顔認証ライブラリ", "version": "5.0.0"}]
    clock.advance_to(jst("2026-01-19 19:59"))
    assert term.upgrade == "none"
    clock.advance_to(jst("2026-01-19 21:00"))
    assert term.upgrade == "installed"
    assert term.delivery_list()[0]["version"] == "5.1.0"  # UPD-04
    assert term.face_auth_library == "5.0.0"  # UPD-02: not applied before the reboot
    started = world.timeline.events("upgrade.download_started")[0]
    assert jst("2026-01-19 20:00") <= clock.epoch + dt.timedelta(seconds=started.t)


def test_no_download_with_the_reader_off_nor_on_the_excluded_night() -> None:
    clock = VirtualClock(epoch=jst("2026-01-25 19:00"))
    world = TwinWorld.for_makers(["canon"], clock=clock)
    world.power_on_all()
    clock.advance_to(jst("2026-01-26 06:00"))  # the night of the 25th: no distribution
    assert world.terminal.upgrade == "none"
    world.reader("canon").set_power(False)
    clock.advance_to(jst("2026-01-27 06:00"))  # a distribution night, but the reader is off
    assert world.terminal.upgrade == "none"
    world.reader("canon").set_power(True)
    clock.advance_to(jst("2026-01-28 06:00"))
    assert world.terminal.upgrade == "installed"


def test_manual_update_dialogs() -> None:
    """UPD-05: 今すぐダウンロード -> 受付 (OK) -> ready (確認しました) -> reboot applies it."""
    clock = VirtualClock(epoch=jst("2026-01-19 10:00"))
    world = TwinWorld.for_makers(["fujitsu_japan"], clock=clock)
    world.power_on_all()
    term = world.terminal
    assert term.download_now()
    assert [d.id for d in term.dialogs] == ["no_update"]  # before 13:00 on the 19th
    assert term.press("OK")
    clock.advance_to(jst("2026-01-19 13:00"))
    assert term.download_now()
    assert [d.id for d in term.dialogs] == ["download_request_accepted"]
    assert not term.press("確認しました")  # not a button of this dialog
    assert term.press("OK")
    clock.advance(term.behaviour.distribution.download_seconds + 1)
    assert [d.id for d in term.dialogs] == ["update_ready"]
    assert term.press("確認しました")
    assert term.upgrade == "installed"
    term.reboot()
    clock.advance(300)
    assert term.upgrade == "applied"


def test_manual_update_of_the_distribution_app_shows_no_ready_dialog() -> None:
    clock = VirtualClock(epoch=jst("2026-01-19 14:00"))
    world = TwinWorld.for_makers(["atlas"], clock=clock)
    world.power_on_all()
    term = world.terminal
    term.download_now("distribution_app")
    term.press("OK")
    clock.advance(term.behaviour.distribution.download_seconds + 1)
    assert term.dialogs == []


# -- BOOT and USB: power-on order and the cable (the support vendor's お知らせ) --------------------------------


def test_panasonic_is_missed_when_the_terminal_starts_first() -> None:
    """BOOT-01: reader first, terminal 15-30 s later; otherwise the reader is not found."""
    world = TwinWorld.for_makers(["panasonic"])
    reader = world.reader("panasonic")
    world.terminal.set_power(True)
    world.clock.advance(120)  # the terminal's application is up before the reader
    reader.set_power(True)
    world.clock.advance(300)
    assert reader.screen().shows == "link_wait"
    world.terminal.reboot()  # starting the terminal again finds it
    world.clock.advance(300)
    assert reader.screen().shows == "first"


def test_a_slow_reader_is_missed_by_a_terminal_switched_on_in_time() -> None:
    """A deviation: firmware that needs 90 s to start breaks the 15-30 s routine."""
    slow = [Deviation(change="behaviour.start.seconds", to=90, why="slow firmware")]
    world = TwinWorld.for_makers(["panasonic"], deviations={"panasonic": slow})
    world.power_on_all(reader_lead_s=20)
    assert world.reader("panasonic").screen().shows == "link_wait"


@pytest.mark.parametrize(
    ("maker", "superspeed", "hubs", "works"),
    [
        ("panasonic", False, 0, False),  # USB-01: a USB 2.0 port may not work
        ("panasonic", True, 0, True),
        ("canon", False, 0, True),
        ("canon", True, 1, False),  # USB-02: never through a hub
        ("atlas", True, 1, False),
    ],
)
def test_usb_connection_rules(maker: str, superspeed: bool, hubs: int, works: bool) -> None:
    world, reader = started_world(maker)
    reader.set_usb(True, superspeed, hubs)
    assert (reader.screen().shows == "first") is works
    assert reader.linked is works


def test_atlas_starts_and_stops_with_the_terminal() -> None:
    """BOOT-02, ERR-07: powered, it stays dark (green LED on) until the terminal starts."""
    world = TwinWorld.for_makers(["atlas"])
    reader = world.reader("atlas")
    assert reader.leds() == {"power": ("green", False), "logo": ("white", False)}
    reader.set_power(True)
    world.clock.advance(600)
    assert reader.screen().shows == "dark"
    assert reader.leds() == {"power": ("green", True), "logo": ("white", False)}
    world.terminal.set_power(True)
    world.clock.advance(120)
    assert reader.started and reader.screen().shows == "first"
    assert reader.leds()["logo"] == ("white", True)  # the MATSUMURA logo lamp
    started = world.timeline.events("reader.started", "atlas")[0].t
    assert started > world.timeline.events("terminal.starting")[0].t
    world.terminal.set_power(False)
    assert reader.screen().shows == "dark" and not reader.started


def test_canon_waits_for_the_terminal_without_its_usb_cable() -> None:
    """ERR-06: stuck at 顔認証付きカードリーダー資格確認端末からの接続待ち."""
    world, reader = started_world("canon")
    reader.set_usb(False)
    screen = reader.screen()
    assert screen.shows == "link_wait"
    assert screen.has_text("顔認証付きカードリーダー資格確認端末からの接続待ち")
    reader.set_usb(True)
    assert reader.screen().shows == "first"


# -- AUTH: face, PIN, staff visual confirmation (the support vendor's お知らせ) ---------------------------------


@pytest.mark.parametrize("maker", MAKERS)
def test_face_then_consent_then_completion(maker: str) -> None:
    """AUTH-01, CON-01, CON-02."""
    world, reader = started_world(maker, upgrade="applied")
    card = patient()
    assert reader.insert_card(card)
    assert reader.screen().shows == "face_auth"
    assert reader.show_face(True)
    seen = answer_consents(world, reader)
    assert len(seen) >= 1
    assert reader.screen().shows == "completion"
    assert [r.card for r in world.terminal.results] == [card.label]
    reader.remove_card()
    assert reader.screen().shows == "first"
    # CON-02: no screen asks for the high-cost limit consent.
    for name, state in reader.behaviour.states.items():
        assert not any("限度額" in t for t in state.texts), name


@pytest.mark.parametrize("maker", MAKERS)
def test_pin_locks_after_three_wrong_entries(maker: str) -> None:
    """AUTH-02: 3 wrong PINs lock; the lock outlives the visit; staff unlock it."""
    world, reader = started_world(maker)
    card = patient(pin="1111")
    reader.insert_card(card)
    reader.show_face(False)
    assert reader.screen().shows == "pin_entry"
    for _ in range(2):
        reader.enter_pin("9999")
        assert reader.screen().shows == "pin_entry"
    reader.enter_pin("9999")
    assert reader.screen().shows == "pin_locked"
    reader.remove_card()
    reader.insert_card(card)
    reader.show_face(False)
    assert reader.screen().shows == "pin_locked"  # the right PIN cannot help now
    assert not reader.enter_pin("1111") or reader.screen().shows == "pin_locked"
    card.unlock()
    reader.remove_card()
    reader.insert_card(card)
    reader.show_face(False)
    reader.enter_pin("1111")
    assert reader.screen().shows == "consent"
    events = world.timeline.events("reader.pin_entered")
    assert all("1111" not in str(e.data) and "9999" not in str(e.data) for e in events)


@pytest.mark.parametrize("maker", MAKERS)
def test_staff_button_after_passcode_and_restart(maker: str) -> None:
    """AUTH-03..05: no button without a passcode; not right after the first issue; after a
    reader restart: button, passcode, visual check, card, consents, done."""
    world, reader = started_world(maker)
    assert not reader.screen().has_button("staff")
    code = world.terminal.issue_passcode()
    assert not reader.screen().has_button("staff")
    assert not reader.press("staff")
    restart_reader(world, reader)
    assert reader.screen().has_button("staff")
    assert reader.press("staff")
    assert reader.screen().shows == "staff_passcode"
    wrong = f"{(int(code) + 1) % 10000:04d}"
    reader.enter_passcode(wrong)
    assert reader.screen().shows == "staff_passcode"
    reader.enter_passcode(code)
    assert reader.screen().shows == "visual_confirm"
    reader.staff_confirm()
    assert reader.screen().shows == "place_card"
    card = patient()
    reader.insert_card(card)
    answer_consents(world, reader)
    assert reader.screen().shows == "completion"
    assert [r.card for r in world.terminal.results] == [card.label]
    assert all(code not in str(e.data) for e in world.timeline)


def restart_reader(world: TwinWorld, reader) -> None:  # noqa: ANN001
    """Restart a reader; one that starts with the terminal restarts with it."""
    if reader.behaviour.start.auto == "with_terminal":
        world.terminal.reboot()
    else:
        reader.restart()
    world.clock.advance(300)
    assert reader.screen().shows == "first"


def test_staff_button_without_the_restart_rule_is_a_deviation() -> None:
    live = [Deviation(change="behaviour.staff_button.learns_passcode", to="live")]
    world = TwinWorld.for_makers(["canon"], deviations={"canon": live})
    world.power_on_all()
    world.terminal.issue_passcode()
    assert world.reader("canon").screen().has_button("staff")


# -- SP: smartphones (the support vendor's お知らせ) -------------------------------------------------------------

RESTART_AFTER_PAIRING = {
    "panasonic": "management_app",
    "usen_almex": "management_app",
    "fujitsu_japan": "terminal",
    "atlas": "terminal",
}


@pytest.mark.parametrize("maker", sorted(RESTART_AFTER_PAIRING))
def test_pairing_then_android_phone(maker: str) -> None:
    """SP-01..04: pair the general reader, restart what the maker needs, then an Android
    phone: PIN on the face-auth reader, phone over the general reader, consents."""
    world, reader = started_world(maker)
    term = world.terminal
    assert not reader.screen().has_button("smartphone")
    session = term.start_pairing(maker)
    assert session.shown_readers() == [GENERAL["sony-rc-s300-s1"]]  # USB-05
    card = patient()
    assert session.place_card_on("sony-rc-s300-s1", card_on_general_reader())
    if maker == "usen_almex":
        assert not session.register()  # the card must first go into the face-auth reader
        reader.insert_card(card)
        assert session.press_placed()
        reader.remove_card()
    else:
        assert not session.press_placed()
    assert session.register()
    assert not reader.screen().has_button("smartphone")  # not before the restart
    if RESTART_AFTER_PAIRING[maker] == "management_app":
        term.restart_management_app(maker)
    else:
        term.reboot()
        world.clock.advance(300)
    assert reader.screen().has_button("smartphone")
    if maker == "fujitsu_japan":
        assert session.app.app == "ログイン名管理ツール"

    phone = Phone("phone-1", "android", pin="2468")
    reader.press("smartphone")
    assert reader.screen().shows == "sp_choose"
    reader.press("android")
    assert reader.screen().shows == "sp_pin"
    reader.enter_phone_pin(phone, "0000")
    assert reader.screen().shows == "sp_pin"
    reader.enter_phone_pin(phone, "2468")
    assert reader.screen().shows == "sp_hold"
    assert not reader.hold_phone(phone, "front")  # SP-03: over the general reader
    assert reader.hold_phone(phone, "general_reader")
    answer_consents(world, reader)
    assert reader.screen().shows == "completion"
    assert [r.card for r in term.results] == ["phone-1"]
    world.clock.advance(30)
    assert reader.screen().shows == "first"  # no card to take out


def test_canon_reads_an_iphone_on_its_front_without_pairing() -> None:
    """SP-01..03: Canon needs no general reader; iPhone needs no PIN on the reader."""
    world, reader = started_world("canon")
    assert reader.screen().has_button("smartphone")
    phone = Phone("iphone-1", "iphone")
    reader.press("smartphone")
    reader.press("iphone")
    assert reader.screen().shows == "sp_hold"
    assert not reader.hold_phone(phone, "general_reader")
    assert reader.hold_phone(phone, "front")
    answer_consents(world, reader)
    assert reader.screen().shows == "completion"


def test_monitorless_terminal_misses_a_newly_plugged_general_reader() -> None:
    """USB-06: over remote desktop, a general reader plugged in later is not recognised."""
    world = TwinWorld.for_makers(["atlas"], general_readers=GENERAL, monitorless=True)
    term = world.terminal
    term.general_reader_plugged("sony-rc-s300-s1", False)
    world.power_on_all()
    term.general_reader_plugged("sony-rc-s300-s1", True)
    assert term.start_pairing("atlas").shown_readers() == []
    term.reboot()  # a restart (with a monitor attached) finds it
    world.clock.advance(300)
    assert term.start_pairing("atlas").shown_readers() == [GENERAL["sony-rc-s300-s1"]]


# -- ERR: troubleshooting (seeds 001, 002) ---------------------------------------------------


def test_fujitsu_old_software_times_out_until_distribution_is_enabled() -> None:
    """ERR-01: タイムアウトしました with old software; untick 配信機能を無効化する."""
    old = [Deviation(change="behaviour.software_outdated", to=True)]
    world = TwinWorld.for_makers(["fujitsu_japan"], deviations={"fujitsu_japan": old})
    world.terminal.set_distribution_disabled(True)
    world.power_on_all()
    reader = world.reader("fujitsu_japan")
    reader.insert_card(patient())
    reader.show_face(True)
    assert reader.screen().shows == "error_timeout"
    assert reader.screen().has_text("タイムアウトしました")
    reader.remove_card()
    world.terminal.set_distribution_disabled(False)
    world.clock.advance(world.terminal.behaviour.distribution.poll_seconds + 1)
    assert not reader.software_outdated
    check_in_by_face(world, reader, patient())
    assert reader.screen().shows == "completion"


def test_fujitsu_recovers_by_itself_after_a_network_error_at_start() -> None:
    """ERR-02: 011 after start, then it retries and recovers."""
    world = TwinWorld.for_makers(["fujitsu_japan"])
    world.network.set_lan(False)
    world.power_on_all()
    reader = world.reader("fujitsu_japan")
    assert reader.screen().shows == "error_network"
    assert reader.screen().has_text("011")
    world.clock.advance(45)
    assert reader.screen().shows == "error_network"  # still down: it keeps retrying
    world.network.set_lan(True)
    world.clock.advance(31)
    assert reader.screen().shows == "first"


@pytest.mark.parametrize("maker", ["usen_almex", "canon"])
def test_network_error_011_stays_until_a_restart(maker: str) -> None:
    """ERR-03, ERR-05: 011; the reader does not recover on its own; a terminal restart helps."""
    world, reader = started_world(maker)
    world.network.set_lan(False)
    assert reader.screen().shows == "error_network"
    assert reader.screen().has_text("011")
    world.network.set_lan(True)
    world.clock.advance(600)
    assert reader.screen().shows == "error_network"
    world.terminal.reboot()
    world.clock.advance(300)
    assert reader.screen().shows == "first"


def test_canon_shows_906_for_a_wrong_account() -> None:
    """ERR-04: 906 until Hi-CARA restarts with the right account."""
    world, reader = started_world("canon")
    world.terminal.set_account_ok(False)
    reader.restart()
    world.clock.advance(120)
    assert reader.screen().shows == "error_account"
    assert reader.screen().has_text("906")
    world.terminal.set_account_ok(True)
    restart_reader(world, reader)


@pytest.mark.parametrize("maker", MAKERS)
def test_line_authentication_cut_gives_a_network_error(maker: str) -> None:
    """ERR-08: line authentication cut -> network error, no result; 希望する reconnects."""
    world, reader = started_world(maker)
    reader.insert_card(patient())
    reader.show_face(True)
    world.network.cut_line_auth()
    answer_consents(world, reader)
    assert reader.screen().shows == "error_network"
    assert world.terminal.results == []
    assert world.network.line_auth_page() == ("希望する", "希望しない")
    assert world.network.press_line_auth("希望する")
    assert world.network.line_auth_page() == ("回線認証接続済み",)


#: ERR-05: Canon's 011 goes only with a restart; the others let the patient retry.
RETRY_NEEDS_RESTART = {"canon"}


@pytest.mark.parametrize("maker", MAKERS)
def test_outages_long_and_intermittent(maker: str) -> None:
    """ERR-09: no check during a long outage; during intermittent ones a retry after a while
    works; a reader whose error persists comes back with a restart."""
    world, reader = started_world(maker)
    net = world.network
    card = patient()
    net.start_outage("long", seconds=2 * 3600)
    assert reader.screen().shows == "error_network"
    reader.insert_card(card)
    world.clock.advance(60)
    assert reader.screen().shows == "error_network"
    assert world.terminal.results == []
    reader.remove_card()
    world.clock.advance(2 * 3600)
    assert net.up and net.outage is None
    restart_reader(world, reader)

    net.start_outage("intermittent")
    assert not net.up
    assert reader.screen().shows == "error_network"
    world.clock.advance(net.behaviour.intermittent_down_seconds + 1)
    assert net.up
    if maker in RETRY_NEEDS_RESTART:
        assert not reader.insert_card(card)
        reader.remove_card()
        world.terminal.reboot()
        world.clock.advance(world.terminal.behaviour.boot_seconds + 20)
        assert reader.screen().shows == "first"
    check_in_by_face(world, reader, card)
    assert reader.screen().shows == "completion"
    assert [r.card for r in world.terminal.results] == [card.label]
    downs = world.timeline.events("network.down")
    assert {e.data["why"] for e in downs} == {"long outage", "intermittent outage"}


def test_every_twin_event_lands_on_the_timeline_in_time_order() -> None:
    world, reader = started_world("usen_almex", upgrade="installed")
    check_in_by_face(world, reader, patient())
    world.terminal.press("OK")
    world.terminal.press("OK")
    times = [e.t for e in world.timeline]
    assert times == sorted(times)
    kinds = {e.kind for e in world.timeline}
    for kind in ("screen", "reader.started", "reader.linked", "terminal.started",
                 "check.requested", "check.failed", "dialog.shown", "dialog.closed"):
        assert kind in kinds, kind


@pytest.mark.parametrize("maker", MAKERS)
def test_a_patient_who_turns_back_returns_to_the_first_screen(maker: str) -> None:
    """Every staff and smartphone screen has a way back (戻る), so none needs a restart."""
    world, reader = started_world(maker)
    world.terminal.issue_passcode()
    restart_reader(world, reader)
    reader.press("staff")
    assert reader.screen().shows == "staff_passcode"
    assert reader.press("cancel")
    assert reader.screen().shows == "first"
    if reader.screen().has_button("smartphone"):
        reader.press("smartphone")
        reader.press("iphone")
        assert reader.screen().shows == "sp_hold"
        assert reader.press("cancel")
        assert reader.screen().shows == "first"
