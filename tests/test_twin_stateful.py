"""Stateful property tests of the twins: random patient, staff, terminal, power and network
actions on each maker's face-auth reader twin, with invariants every maker must keep.

One :class:`TwinInvariants` machine per maker (:func:`machine_for`), each driving a
:class:`~harness.emulation.world.TwinWorld` with that maker's reader, the terminal, the
network and the receipt computer on one virtual clock. The invariants:

1. No eligibility result without a completed check (UPD-03, E901, ERR-08/09): every
   ``check.requested`` ends in exactly one of ``check.result`` / ``check.failed`` /
   ``check.lost``; a result only while the network is up and the upgrade is not pending a
   reboot; the terminal's and the receipt computer's result lists equal what the timeline says.
2. A reboot clears a pending upgrade (UPD-02, UPD-06).
3. A locked PIN stays locked until staff act (AUTH-02); a locked card never gets through PIN
   entry to consent.
4. No action sequence deadlocks the twin: the staff's recovery playbook brings every powered
   reader back to its first screen, linked, within a few virtual minutes.
5. Screens are known classes, the timeline's time never goes backwards, no power = dark.
6. No secret (card PIN, passcode, phone PIN) ever lands in the timeline.

The timeline is the witness for 1, 5 and 6: it is replayed incrementally after every step
(:meth:`TwinInvariants.replay_timeline`), so a breach is caught at the step that made it
even when it happened inside a clock advance (a timer, a network flap).

Twin bugs the machine ran into (an iPhone check named nothing; an Android phone's PIN carried
over to the next session; a restart ignored Atlas's start-with-the-terminal rule; a phone
check with a card lying in the slot named the card; after a phone check failed on the
network, the next patient's card check named the phone) are pinned by small deterministic
tests at the end of the file.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict, deque
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from twin_helpers import card_on_general_reader

from harness.emulation.people import PatientCard, Phone
from harness.emulation.terminal import EligibilityResult
from harness.emulation.world import MAKERS, TwinWorld
from harness.model.clock import JST, VirtualClock
from harness.model.screens import SCREENS

SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Where bench time starts: before manual download opens, after it opens, just before a
#: nightly window, and once distribution runs all day (UPD-01).
EPOCHS = (
    dt.datetime(2026, 1, 19, 9, 0, tzinfo=JST),
    dt.datetime(2026, 1, 19, 13, 30, tzinfo=JST),
    dt.datetime(2026, 1, 19, 19, 50, tzinfo=JST),
    dt.datetime(2026, 1, 31, 10, 0, tzinfo=JST),
)

GENERAL_READER = "sony-rc-s300-s1"
GENERAL_READER_APP_NAME = "SONY FeliCa Port/PaSoRi 4.0"
UPGRADE_REASON = "upgrade installed, not rebooted"
CHECK_OUTCOMES = ("check.result", "check.failed", "check.lost")
PHONE_PLACES = ("general_reader", "front")
#: Screen changes that start a patient's session on what was just put to the reader.
SESSION_CAUSES = ("card_in", "phone_held_general", "phone_held_front")
TERMINAL_ACTIONS = (
    "reboot",
    "reboot_no_wait",
    "power_off",
    "power_on",
    "upgrade_installed",
    "download_now",
    "restart_management_app",
    "distribution_disabled",
    "distribution_enabled",
    "account_bad",
    "account_ok",
    "receipt_computer_off",
    "receipt_computer_on",
)
#: What may happen while a check runs (walk_check_in).
MEANWHILE = (None, None, "lan_out", "line_auth_cut", "outage:long", "upgrade_installed")
READER_ACTIONS = ("power_off", "power_on", "restart", "usb_out", "usb_in")
NETWORK_ACTIONS = (
    "lan_out",
    "lan_in",
    "line_auth_cut",
    "line_auth_page:希望する",
    "line_auth_page:希望しない",
    "outage:long",
    "outage:intermittent",
    "outage_end",
)
#: Recovery: how long each stage may take (virtual seconds), and the polling step.
SOFT_RECOVERY_S = 60.0
HARD_RECOVERY_S = 240.0
STABLE_S = 60.0
STEP_S = 5.0

pins = st.text(alphabet="0123456789", min_size=4, max_size=4)
#: Added to a right 4-digit code (mod 10000) to make a wrong one: never the right one.
wrong_offsets = st.integers(min_value=1, max_value=9999)


def wrong_code(right: str, offset: int) -> str:
    return f"{(int(right) + offset) % 10_000:04d}"


def letters(n: int) -> str:
    """A label suffix without digits (so a 4-digit secret cannot hide in a label)."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


class TwinInvariants(RuleBasedStateMachine):
    """Random actions on one maker's reader twin; the invariants of the module docstring.

    Deadlocks (invariant 4): the twins cannot be copied, so "from here, recovery always
    works" cannot be checked on a side copy after every step. Instead :meth:`recover` is an
    ordinary rule: the staff's playbook (restore the network, OK the terminal's dialogs,
    take the cards out, wait; if that is not enough, power-cycle the reader and reboot the
    terminal, ERR-02/05/06/07/09) followed by the assertion that every powered reader shows
    its first screen, linked, within a bounded virtual time, and stays there. As a rule it
    runs from the random states hypothesis reaches mid-sequence (and the sequence goes on
    from the recovered state); :meth:`teardown` runs it once more on every example's final
    state, so every generated sequence is checked for a deadlock at its end. Because a
    sequence's every prefix is itself a generated sequence, any reachable state is one
    that the teardown check can meet.
    """

    maker: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.world: TwinWorld | None = None

    # -- set-up ---------------------------------------------------------------------------
    @initialize(
        epoch=st.sampled_from(EPOCHS),
        upgrade=st.sampled_from(["none", "installed", "applied"]),
        power_on=st.sampled_from([True, True, True, False]),
        phone_pin=pins,
    )
    def build(self, epoch: dt.datetime, upgrade: str, power_on: bool, phone_pin: str) -> None:
        self.world = TwinWorld.for_makers(
            [self.maker],
            clock=VirtualClock(epoch=epoch),
            general_readers={GENERAL_READER: GENERAL_READER_APP_NAME},
            upgrade=upgrade,
        )
        self.cards: list[PatientCard] = []
        #: Card label -> (wrong entries in a row, locked), as the chip must count them.
        self.pin_model: dict[str, tuple[int, bool]] = {}
        self.android = Phone("phone-android", "android", phone_pin)
        self.iphone = Phone("phone-iphone", "iphone")
        self.iphone_no_face = Phone("phone-iphone-nofaceid", "iphone", biometrics_ok=False)
        self.phones = (self.android, self.iphone, self.iphone_no_face)
        self.secrets: set[str] = {phone_pin}
        self.passcode: str | None = None
        # Timeline replay state (invariants 1, 5, 6).
        self.seen = 0
        self.last_t = self.world.clock.now()
        self.net_up = True
        self.upgrade_state = upgrade
        self.pending: dict[str, deque[tuple[str, float]]] = defaultdict(deque)
        self.expected_results: list[EligibilityResult] = []
        self.received: list[tuple[str, str, float]] = []
        self.last_outcome: dict[str, tuple[str, float]] = {}
        #: Per reader: the card or phone last put to it, and what the session in progress
        #: runs on (from the screen change it caused; None at the first screen).
        self.last_put: dict[str, str] = {}
        self.session_of: dict[str, str | None] = {}
        #: The terminal has started once: any later start is a restart.
        self.started_before = power_on
        if power_on:
            self.world.power_on_all()
        event(f"start upgrade={upgrade} powered={power_on}")

    # -- shorthands -----------------------------------------------------------------------
    @property
    def w(self) -> TwinWorld:
        assert self.world is not None
        return self.world

    @property
    def reader(self):
        return self.w.reader(self.maker)

    @property
    def terminal(self):
        return self.w.terminal

    @property
    def network(self):
        return self.w.network

    def _new_card(self, pin: str) -> PatientCard:
        card = PatientCard(f"card-{letters(len(self.cards))}", pin)
        self.cards.append(card)
        self.pin_model[card.label] = (0, False)
        self.secrets.add(pin)
        return card

    def _count(self, kind: str) -> int:
        return len(self.w.timeline.events(kind, self.maker))

    def _shows(self) -> str:
        return self.reader.screen().shows

    # -- patient ----------------------------------------------------------------------------
    @precondition(lambda self: self.reader.card is None)
    @rule(pin=pins)
    def insert_new_card(self, pin: str) -> None:
        self.reader.insert_card(self._new_card(pin))

    @precondition(lambda self: self.reader.card is None and self.cards)
    @rule(i=st.integers(min_value=0, max_value=7))
    def insert_known_card(self, i: int) -> None:
        self.reader.insert_card(self.cards[i % len(self.cards)])

    @precondition(lambda self: self.reader.card is not None)
    @rule()
    def remove_card(self) -> None:
        self.reader.remove_card()

    @rule(matches=st.booleans())
    def show_face(self, matches: bool) -> None:
        reader = self.reader
        was_face_auth = reader.state == "face_auth"
        locked = reader.card is not None and reader.card.locked
        acted = reader.show_face(matches)
        if acted and was_face_auth and not matches and locked:
            # Invariant 3: a locked card's way into PIN entry ends at the lock screen.
            assert self._shows() == "pin_locked", reader.state

    @rule(right=st.booleans(), offset=wrong_offsets)
    def enter_pin(self, right: bool, offset: int) -> None:
        reader = self.reader
        card = reader.card
        if card is None:
            assert not reader.enter_pin("0000")
            return
        pin = card.pin if right else wrong_code(card.pin, offset)
        self.secrets.add(pin)
        before = self._count("reader.pin_entered")
        reader.enter_pin(pin)
        if self._count("reader.pin_entered") == before:
            return  # not a PIN screen: the reader took no entry
        failures, locked = self.pin_model[card.label]
        outcome = self.w.timeline.events("reader.pin_entered", self.maker)[-1].data["ok"]
        if locked:
            # Invariant 3: even the right PIN does not open a locked card; no consent follows.
            assert outcome is False
            assert self._shows() == "pin_locked", reader.state
            assert card.locked
            return
        assert outcome is right
        if right:
            self.pin_model[card.label] = (0, False)
            assert self._shows() == "consent", reader.state
        else:
            failures += 1
            self.pin_model[card.label] = (failures, failures >= card.pin_tries)
            expected = "pin_locked" if failures >= card.pin_tries else "pin_entry"
            assert self._shows() == expected, reader.state

    @rule()
    def answer_consent(self) -> None:
        self.reader.answer_consent()

    @rule(button=st.sampled_from(["staff", "smartphone", "iphone", "android"]))
    def press_reader_button(self, button: str) -> None:
        shown = self.reader.screen().has_button(button)
        pressed = self.reader.press(button)
        if not shown:
            assert not pressed  # a button not shown cannot be pressed

    @rule(which=st.integers(min_value=0, max_value=2), right=st.booleans(), offset=wrong_offsets)
    def enter_phone_pin(self, which: int, right: bool, offset: int) -> None:
        pin = self.android.pin if right else wrong_code(self.android.pin, offset)
        self.secrets.add(pin)
        self.reader.enter_phone_pin(self.phones[which], pin)

    @rule(which=st.integers(min_value=0, max_value=2), where=st.sampled_from(PHONE_PLACES))
    def hold_phone(self, which: int, where: str) -> None:
        self.reader.hold_phone(self.phones[which], where)  # type: ignore[arg-type]

    # Whole flows in one step, so that deep states (checks, locks, E901) come often; each
    # action in them may do nothing in the state the reader is in.
    @rule(face=st.booleans(), pin=pins, meanwhile=st.sampled_from(MEANWHILE))
    def walk_check_in(self, face: bool, pin: str, meanwhile: str | None) -> None:
        """Insert, face (or PIN), two consents; ``meanwhile``: what happens while the check
        runs (the network goes, or the upgrade lands)."""
        reader = self.reader
        if reader.card is None:
            reader.insert_card(self._new_card(pin))
        self.show_face(face)
        if not face:
            self.enter_pin(True, 1)
        reader.answer_consent()
        reader.answer_consent()
        self._meanwhile(meanwhile)

    def _meanwhile(self, what: str | None) -> None:
        """What happens while a check runs: the upgrade lands, or the network goes."""
        if what == "upgrade_installed":
            self.terminal_action(what)
        elif what is not None:
            self.network_action(what, None)

    @rule(i=st.integers(min_value=0, max_value=7), pin=pins, offset=wrong_offsets)
    def walk_pin_lock(self, i: int, pin: str, offset: int) -> None:
        """AUTH-02: no face match, then three wrong PINs (a known card, or a new one)."""
        reader = self.reader
        if reader.card is None:
            card = self.cards[i % len(self.cards)] if self.cards and i % 2 else None
            reader.insert_card(card or self._new_card(pin))
        self.show_face(False)
        for _ in range(3):
            self.enter_pin(False, offset)

    @rule(
        which=st.integers(min_value=0, max_value=1),
        right=st.booleans(),
        meanwhile=st.sampled_from(MEANWHILE),
    )
    def walk_smartphone(self, which: int, right: bool, meanwhile: str | None) -> None:
        """SP-01..03: smartphone button, iPhone or Android (PIN on the reader), hold, consent."""
        reader = self.reader
        phone = self.phones[which]
        reader.press("smartphone")
        reader.press(phone.kind)
        if phone.kind == "android":
            self.enter_phone_pin(which, right, 1)
        where = "general_reader" if reader.behaviour.smartphone.needs_pairing else "front"
        reader.hold_phone(phone, where)  # type: ignore[arg-type]
        reader.answer_consent()
        reader.answer_consent()
        self._meanwhile(meanwhile)

    # -- staff ------------------------------------------------------------------------------
    @rule(right=st.booleans(), offset=wrong_offsets)
    def enter_passcode(self, right: bool, offset: int) -> None:
        real = self.passcode or "0000"
        code = real if right else wrong_code(real, offset)
        self.secrets.add(code)
        self.reader.enter_passcode(code)

    @rule()
    def staff_confirm(self) -> None:
        self.reader.staff_confirm()

    @rule()
    def issue_passcode(self) -> None:
        self.passcode = self.terminal.issue_passcode()
        assert len(self.passcode) == 4 and self.passcode.isdigit()
        self.secrets.add(self.passcode)

    @rule(pin=pins)
    def walk_staff_visual(self, pin: str) -> None:
        """AUTH-05: staff button, passcode, staff compare, card placed, consents."""
        reader = self.reader
        if self.passcode is None:
            self.issue_passcode()
        reader.press("staff")
        self.enter_passcode(True, 1)
        reader.staff_confirm()
        reader.remove_card()
        reader.insert_card(self._new_card(pin))
        reader.answer_consent()
        reader.answer_consent()

    @precondition(lambda self: self.cards)
    @rule(i=st.integers(min_value=0, max_value=7))
    def staff_unlock_card(self, i: int) -> None:
        card = self.cards[i % len(self.cards)]
        card.unlock()
        self.pin_model[card.label] = (0, False)

    @precondition(lambda self: self.reader.behaviour.pairing is not None)
    @rule(restart_app=st.booleans())
    def pair_general_reader(self, restart_app: bool) -> None:
        """SP-04 in the maker's management app; may fail (e.g. no card in the face reader)."""
        session = self.terminal.start_pairing(self.maker)
        session.press_placed()
        session.place_card_on(GENERAL_READER, card_on_general_reader())
        session.register()
        if restart_app:
            self.terminal.restart_management_app(self.maker)

    @precondition(lambda self: self.terminal.dialogs)
    @rule(presses=st.integers(min_value=0, max_value=3))
    def press_dialog_buttons(self, presses: int) -> None:
        """OK (or 確認しました) on the top dialog, up to ``presses`` times; 0: a button the
        dialog does not have, which does nothing."""
        if presses == 0:
            assert not self.terminal.press("押せないボタン")
        for _ in range(presses):
            if not self.terminal.dialogs:
                break
            assert self.terminal.press(self.terminal.dialogs[-1].dialog.buttons[0])

    # -- terminal, reader power and cable, network (one rule each, so that they do not
    # -- crowd out the patients) --------------------------------------------------------------
    def _wait_for_terminal_start(self, was_installed: bool) -> None:
        """Invariant 2: after a restart's full time the upgrade is no longer pending."""
        b = self.terminal.behaviour
        self.w.clock.advance(b.shutdown_seconds + b.boot_seconds)
        assert self.terminal.app_running
        assert self.terminal.upgrade != "installed"
        if was_installed:
            assert self.terminal.upgrade == "applied"
            assert self.terminal.delivery_list()[0]["version"] == "5.1.0"  # UPD-04

    @rule(action=st.sampled_from(TERMINAL_ACTIONS))
    def terminal_action(self, action: str) -> None:
        terminal = self.terminal
        was_installed = terminal.upgrade == "installed"
        if action == "reboot":
            if terminal.mains:
                terminal.reboot()
                self._wait_for_terminal_start(was_installed)
        elif action == "reboot_no_wait":
            terminal.reboot()
        elif action == "power_off":
            terminal.set_power(False)
        elif action == "power_on":
            was_off = not terminal.mains
            terminal.set_power(True)
            if was_off:
                self.w.clock.advance(terminal.behaviour.boot_seconds)
                assert terminal.app_running
                # Invariant 2 for a switch-off and on; the world's very first start is no
                # restart (a terminal built "installed" got it overnight, keeps it pending).
                if self.started_before:
                    assert terminal.upgrade != "installed"
                    if was_installed:
                        assert terminal.upgrade == "applied"
                self.started_before = True
        elif action == "upgrade_installed":
            # Shortcut for "the download finished", marked on the timeline for the replay;
            # only with no download running (whose end would overwrite it).
            if terminal.upgrade == "none":
                self.w.timeline.record("test", "test.upgrade_forced_installed")
                terminal.upgrade = "installed"
        elif action == "download_now":
            terminal.download_now()
        elif action == "restart_management_app":
            terminal.restart_management_app(self.maker)
        elif action.startswith("distribution_"):
            terminal.set_distribution_disabled(action == "distribution_disabled")
        elif action.startswith("account_"):
            terminal.set_account_ok(action == "account_ok")
        elif action.startswith("receipt_computer_"):
            assert self.w.receipt_computer is not None
            self.w.receipt_computer.set_power(action == "receipt_computer_on")
        else:
            raise AssertionError(action)

    @rule(action=st.sampled_from(READER_ACTIONS))
    def reader_action(self, action: str) -> None:
        reader = self.reader
        if action.startswith("power_"):
            reader.set_power(action == "power_on")
        elif action == "restart":
            reader.restart()
        elif action.startswith("usb_"):
            reader.set_usb(action == "usb_in")
        else:
            raise AssertionError(action)

    @rule(
        action=st.sampled_from(NETWORK_ACTIONS),
        seconds=st.none() | st.floats(min_value=1, max_value=3600),
    )
    def network_action(self, action: str, seconds: float | None) -> None:
        network = self.network
        if action.startswith("lan_"):
            network.set_lan(action == "lan_in")
        elif action == "line_auth_cut":
            network.cut_line_auth()
        elif action.startswith("line_auth_page:"):
            network.press_line_auth(action.split(":", 1)[1])
        elif action.startswith("outage:"):
            network.start_outage(action.split(":", 1)[1], seconds)  # type: ignore[arg-type]
        elif action == "outage_end":
            network.end_outage()
        else:
            raise AssertionError(action)

    # -- time -------------------------------------------------------------------------------
    @rule(seconds=st.floats(min_value=0, max_value=60))
    def wait_a_little(self, seconds: float) -> None:
        self.w.clock.advance(seconds)

    @rule(seconds=st.floats(min_value=60, max_value=8 * 3600))
    def wait_long(self, seconds: float) -> None:
        self.w.clock.advance(seconds)

    # -- invariant 4: recovery --------------------------------------------------------------
    def _all_first(self, powered: list) -> bool:
        return all(r.linked and r.screen().shows == "first" for r in powered)

    def _advance_until_first(self, powered: list, limit: float) -> float | None:
        waited = 0.0
        while True:
            if self._all_first(powered):
                return waited
            if waited >= limit:
                return None
            self.w.clock.advance(STEP_S)
            waited += STEP_S

    @rule()
    def recover(self) -> None:
        """The staff's playbook; then every powered reader shows its first screen, linked."""
        w, terminal, network = self.w, self.terminal, self.network
        start = w.clock.now()
        network.set_lan(True)
        network.press_line_auth(network.behaviour.line_auth_buttons[0])
        network.end_outage()
        assert network.up
        terminal.set_account_ok(True)
        terminal.set_power(True)
        for _ in range(50):  # OK every dialog (E901-03/04 open one after another)
            if not terminal.dialogs:
                break
            assert terminal.press(terminal.dialogs[-1].dialog.buttons[0])
        assert not terminal.dialogs
        for reader in w.readers.values():
            reader.remove_card()
            reader.set_usb(True)
        powered = [r for r in w.readers.values() if r.powered]
        soft = self._advance_until_first(powered, SOFT_RECOVERY_S)
        if soft is None:
            # ERR-02/05/06/07/09: power-cycle the readers, then restart the terminal once
            # they have started (BOOT-01: a Panasonic reader must be up before the terminal
            # starts; BOOT-02: Atlas's reader stops and starts with the terminal).
            event("recovery: power-cycle and reboot")
            for reader in powered:
                reader.set_power(False)
                reader.set_power(True)
            w.clock.advance(max((r.behaviour.start.seconds for r in powered), default=0) + STEP_S)
            was_installed = terminal.upgrade == "installed"
            terminal.reboot()
            self._wait_for_terminal_start(was_installed)
            hard = self._advance_until_first(powered, HARD_RECOVERY_S)
            assert hard is not None, (
                f"deadlock: {[(r.name, r.state, r.linked) for r in powered]} "
                f"{w.clock.now() - start:.0f} s after recovery began"
            )
        else:
            event("recovery: soft")
        assert w.clock.now() - start <= 10 * 60, "recovery took more than a few minutes"
        # And it stays there: nothing pending drags a recovered reader off its first screen.
        w.clock.advance(STABLE_S)
        assert self._all_first(powered), [(r.name, r.state) for r in powered]
        for reader in w.readers.values():
            if not reader.powered:
                assert reader.screen().shows == "dark"

    def teardown(self) -> None:
        if self.world is None or sys.exc_info()[1] is not None:
            return  # not built, or a step already failed: no second report from here
        self.recover()
        self.replay_timeline()
        self.check_models()
        # Invariant 6, on the whole timeline once more (secrets learnt late included).
        for ev in self.w.timeline:
            text = str(ev.data)
            for secret in self.secrets:
                assert secret not in text, f"secret in {ev.kind} from {ev.source}"

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def replay_timeline(self) -> None:
        """Invariants 1, 5 (time) and 6 on the events recorded since the last step."""
        if self.world is None:
            return
        events = self.w.timeline.events()
        for ev in events[self.seen :]:
            self.seen += 1  # first: a failing event is not replayed twice
            assert ev.t >= self.last_t, f"time went backwards: {ev}"
            self.last_t = ev.t
            text = str(ev.data)
            for secret in self.secrets:
                assert secret not in text, f"secret in {ev.kind} from {ev.source}"
            kind, data = ev.kind, ev.data
            if kind == "network.down":
                assert self.net_up, ev
                self.net_up = False
            elif kind == "network.up":
                assert not self.net_up, ev
                self.net_up = True
            elif kind == "upgrade.download_started":
                assert self.upgrade_state == "none", ev
                self.upgrade_state = "downloading"
            elif kind == "upgrade.installed":
                assert self.upgrade_state == "downloading", ev
                self.upgrade_state = "installed"
            elif kind == "test.upgrade_forced_installed":
                self.upgrade_state = "installed"
            elif kind == "upgrade.applied":
                assert self.upgrade_state == "installed", ev
                self.upgrade_state = "applied"
            elif kind == "upgrade.download_interrupted":
                self.upgrade_state = "none"
            elif kind == "check.requested":
                # The check names what this session runs on: the card, or the phone held.
                assert data["card"] == self.session_of.get(data["reader"]), ev
                self.pending[data["reader"]].append((data["card"], ev.t))
            elif kind in ("reader.card_in", "reader.phone_held"):
                self.last_put[ev.source] = data["card" if kind == "reader.card_in" else "phone"]
            elif kind in CHECK_OUTCOMES:
                queue = self.pending[data["reader"]]
                assert queue, f"{kind} without a check.requested: {ev}"
                card, t_requested = queue.popleft()
                assert t_requested <= ev.t
                self.last_outcome[data["reader"]] = (kind, ev.t)
                if kind == "check.result":
                    assert data["card"] == card, ev
                    assert self.net_up, f"a result while the network is down: {ev}"
                    assert self.upgrade_state != "installed", f"a result before the reboot: {ev}"
                    self.expected_results.append(EligibilityResult(data["reader"], card, ev.t))
                elif kind == "check.failed":
                    if data["why"] == UPGRADE_REASON:
                        assert self.upgrade_state == "installed" and self.net_up, ev
                    else:
                        assert not self.net_up and data["why"], ev
            elif kind == "result.received":
                self.received.append((data["reader"], data["card"], ev.t))
            elif kind == "screen":
                assert data["shows"] in SCREENS, ev
                if data["state"] == "first":
                    self.session_of[ev.source] = None
                elif data.get("cause") in SESSION_CAUSES:
                    self.session_of[ev.source] = self.last_put.get(ev.source)
                if data["state"] == "completion" and data.get("cause") == "check_ok":
                    assert self.last_outcome.get(ev.source) == ("check.result", ev.t), ev
        # The twins' own lists say the same as the timeline.
        assert self.terminal.results == self.expected_results
        rc = self.w.receipt_computer
        assert rc is not None
        assert [(r.reader, r.card, r.t) for r in rc.results] == self.received
        assert len(self.received) + len(self.w.timeline.events("result.not_received")) == len(
            self.expected_results
        )
        assert self.net_up == self.network.up
        assert self.upgrade_state == self.terminal.upgrade

    @invariant()
    def check_models(self) -> None:
        """Invariant 3 (the chip's lock as counted) and 5 (screens, power)."""
        if self.world is None:
            return
        for card in self.cards:
            failures, locked = self.pin_model[card.label]
            assert card.locked == locked, card.label
            if not locked:
                assert card.failures == failures, card.label
        for reader in self.w.readers.values():
            view = reader.screen()
            assert reader.state in reader.behaviour.states
            assert view.shows in SCREENS, view
            assert view.overlay in (None, "spinner"), view
            if not reader.powered:
                assert view.shows == "dark" and not reader.started and not reader.linked
            if not reader.started:
                assert view.shows in ("dark", "starting") and not reader.linked
            if reader.linked:
                assert self.terminal.app_running
            if reader.state == "pin_entry":
                assert reader.card is not None and not reader.card.locked
            if view.has_button("staff"):  # AUTH-03
                assert self.terminal.passcode_issued
                if reader.behaviour.staff_button.learns_passcode == "at_start":
                    # AUTH-04: not before the reader has restarted since the first issue.
                    issued = self.w.timeline.events("passcode.issued")[0].t
                    started = self.w.timeline.events("reader.started", reader.name)[-1].t
                    assert started >= issued, "staff button before a restart (AUTH-04)"
            if view.has_button("smartphone"):  # SP-01, SP-04
                assert not reader.behaviour.smartphone.needs_pairing or (
                    self.terminal.smartphone_ready(reader.name)
                )


def machine_for(maker: str) -> type[TwinInvariants]:
    return type(f"TwinInvariants_{maker}", (TwinInvariants,), {"maker": maker})


@pytest.mark.parametrize("maker", MAKERS)
def test_twin_invariants(maker: str) -> None:
    run_state_machine_as_test(machine_for(maker), settings=SETTINGS)


# -- twin bugs the machine ran into, pinned so they stay fixed -----------------------------


def _phone_check_in(world: TwinWorld, maker: str, phone: Phone, *, enter_pin: bool = True) -> None:
    """SP-01..03 on a reader that needs no pairing (canon reads phones on its front)."""
    reader = world.reader(maker)
    assert reader.press("smartphone")
    assert reader.press(phone.kind)
    if phone.kind == "android" and enter_pin:
        assert reader.enter_phone_pin(phone, phone.pin)
    assert reader.hold_phone(phone, "front")
    assert reader.answer_consent() and reader.answer_consent()
    world.clock.advance(world.terminal.behaviour.check_seconds + 20)  # result, back to first
    assert reader.state == "first"


def test_iphone_result_names_the_iphone() -> None:
    world = TwinWorld.for_makers(["canon"])
    world.power_on_all()
    iphone = Phone("phone-iphone", "iphone")
    android = Phone("phone-android", "android", "2468")
    _phone_check_in(world, "canon", android)
    _phone_check_in(world, "canon", iphone)
    assert [r.card for r in world.terminal.results] == ["phone-android", "phone-iphone"]


def test_android_phone_pin_does_not_carry_over_to_the_next_patient() -> None:
    world = TwinWorld.for_makers(["canon"])
    world.power_on_all()
    reader = world.reader("canon")
    android = Phone("phone-android", "android", "2468")
    _phone_check_in(world, "canon", android)
    # Next session: the Android phone is held without its PIN being typed this time.
    assert reader.press("smartphone") and reader.press("iphone")
    reader.hold_phone(android, "front")
    assert reader.screen().shows != "consent"


def test_atlas_restart_with_the_terminal_off_stays_dark_like_a_power_cycle() -> None:
    world = TwinWorld.for_makers(["atlas"])
    world.power_on_all()
    reader = world.reader("atlas")
    world.terminal.set_power(False)
    world.clock.advance(60)
    reader.set_power(False)
    reader.set_power(True)
    world.clock.advance(60)
    assert reader.screen().shows == "dark"  # power off and on: waits for the terminal
    reader.restart()
    world.clock.advance(60)
    assert reader.screen().shows == "dark"


def test_phone_check_names_the_phone_even_with_a_card_in_the_slot() -> None:
    world = TwinWorld.for_makers(["canon"])
    world.power_on_all()
    reader = world.reader("canon")
    iphone = Phone("phone-iphone", "iphone")
    assert reader.press("smartphone") and reader.press("iphone")
    reader.insert_card(PatientCard("card-a", "1111"))  # ignored on the smartphone path
    assert reader.state == "sp_hold"
    assert reader.hold_phone(iphone, "front")
    assert reader.answer_consent() and reader.answer_consent()
    world.clock.advance(world.terminal.behaviour.check_seconds)
    assert [r.card for r in world.terminal.results] == ["phone-iphone"]


def test_card_check_after_a_failed_phone_check_names_the_card() -> None:
    world = TwinWorld.for_makers(["atlas"], general_readers={"gr": GENERAL_READER_APP_NAME})
    world.power_on_all()
    terminal, reader = world.terminal, world.reader("atlas")
    session = terminal.start_pairing("atlas")
    assert session.place_card_on("gr", card_on_general_reader())
    assert session.register()
    terminal.reboot()  # atlas: the pairing takes effect at the terminal's restart (SP-04)
    world.clock.advance(200)
    iphone = Phone("phone-iphone", "iphone")
    assert reader.press("smartphone") and reader.press("iphone")
    assert reader.hold_phone(iphone, "general_reader")
    assert reader.answer_consent() and reader.answer_consent()
    world.network.set_lan(False)  # the check fails on the network
    world.clock.advance(terminal.behaviour.check_seconds)
    assert reader.state == "error_network"
    world.network.set_lan(True)
    assert reader.insert_card(PatientCard("card-b", "2222"))  # the next patient
    assert reader.show_face(True)
    assert reader.answer_consent() and reader.answer_consent()
    world.clock.advance(terminal.behaviour.check_seconds)
    assert [r.card for r in terminal.results] == ["card-b"]
