"""The bench's hands on an emulated bench: the same actions, done to the twins."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Literal

from harness.emulation.card import CardSpec, FileSystemCard
from harness.emulation.people import PatientCard
from harness.emulation.people import Phone as TwinPhone
from harness.emulation.reader_twin import FaceAuthReaderTwin
from harness.emulation.terminal import PairingSession
from harness.emulation.world import TwinWorld
from harness.errors import RigError
from harness.hands import OWN_PIN, Image, Outage, Patient, Phone, PinEntry
from harness.loading import load_yaml_model
from harness.model.wait import wait_until
from harness.paths import project_file

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.protocols import PcscConnection


#: Bench seconds between a person's looks at the delivery list while awaiting a delivery.
DELIVERY_LOOK_S = 600.0
#: The card file of a phone of each kind (its JPKI token says which).
_PHONE_CARDS = {"iphone": "fixtures/cards/mynumber-iphone.yaml",
                "android": "fixtures/cards/mynumber-phone.yaml"}


@functools.cache
def _card_spec(path: str) -> CardSpec:
    return load_yaml_model(project_file(path), CardSpec, layered=True)


def _chip(path: str) -> FileSystemCard:
    """A fresh chip of the card file ``path`` (the project's): test data only."""
    return FileSystemCard(_card_spec(path))


class TwinHands:
    """Acts on the twins. Like a real hand it can always try: a twin that ignores the
    action shows no change, which the suites see through the cameras."""

    def __init__(self, bench: Bench) -> None:
        if bench.emulation is None:
            raise RigError(f"bench {bench.name!r} is not emulated: no twins to act on")
        self.bench = bench
        self.emulation = bench.emulation
        # One card per patient, so a PIN locked on one reader stays locked on the next.
        self._cards: dict[str, PatientCard] = {}
        self._phones: dict[str, TwinPhone] = {}
        #: The last pairing the hands did (what its app said at the end).
        self._pairing: PairingSession | None = None
        #: Whether its app took 置いた (None: the step was not done).
        self._placed: bool | None = None
        #: General reader -> the patient's phone lying on it.
        self._phone_on: dict[str, str] = {}

    @property
    def world(self) -> TwinWorld:
        return self.emulation.world  # replaced when the bench is restored

    def _reader(self, name: str) -> FaceAuthReaderTwin:
        if name not in self.world.readers:
            raise RigError(f"no face-auth reader {name!r} on this bench")
        return self.world.readers[name]

    def _card(self, patient: Patient) -> PatientCard:
        return self._cards.setdefault(patient.label, PatientCard(patient.label, patient.pin))

    def _phone(self, phone: Phone) -> TwinPhone:
        return self._phones.setdefault(phone.label,
                                       TwinPhone(phone.label, phone.kind, pin=phone.pin))

    # -- the patient ------------------------------------------------------------------------
    def card_in(self, reader: str, patient: Patient) -> None:
        self._reader(reader).insert_card(self._card(patient))

    def card_out(self, reader: str) -> None:
        self._reader(reader).remove_card()

    def face(self, reader: str, *, matches: bool) -> None:
        self._reader(reader).show_face(matches)

    def pin(self, reader: str, pin: str, *, entry: PinEntry = OWN_PIN) -> None:
        # The twin's card judges the digits; the driver's intent is for a person to read.
        self._reader(reader).enter_pin(pin)

    def consent(self, reader: str) -> None:
        self._reader(reader).answer_consent()

    def press(self, reader: str, button: str) -> None:
        twin = self._reader(reader)
        names = {b.label: b.name for b in twin.screen().buttons}
        twin.press(names.get(button, button))

    def phone_pin(self, reader: str, phone: Phone, pin: str) -> None:
        self._reader(reader).enter_phone_pin(self._phone(phone), pin)

    def hold_phone(self, reader: str, phone: Phone, *,
                   where: Literal["general_reader", "front"], general: str | None = None,
                   held: bool = True) -> None:
        if where == "front":
            if held:
                self._reader(reader).hold_phone(self._phone(phone), "front")
            return
        if general is None:
            raise RigError(f"a phone held over a general reader beside {reader}: which one?")
        if not held:
            if self._phone_on.pop(general, None) is not None:
                self.emulation.remove_card(general)
            return
        if general not in self.emulation.usb_tree.plugged() \
                or not self.world.terminal.reads_phones(general):
            # Unplugged, or the reader does not see it: nothing reaches its PC/SC side.
            self.world.timeline.record(general, "phone.not_detected", phone=phone.label)
            return
        # The phone on the general reader's PC/SC side, where the terminal's app reads it
        # (through the bench's PC/SC tier, as the rig does) and hands it to the reader
        # whose phones it takes from there.
        twin = self._phone(phone)
        connection = self._card_on_general(general, _chip(_PHONE_CARDS[phone.kind]))
        if connection is None:
            return  # no PC/SC side: nothing can read it
        self._phone_on[general] = phone.label
        try:
            self.world.terminal.phone_placed(general, twin, connection.transmit)
        finally:
            connection.close()

    # -- staff --------------------------------------------------------------------------------
    def issue_passcode(self) -> str:
        return self.world.terminal.issue_passcode()

    def passcode(self, reader: str, code: str) -> None:
        self._reader(reader).enter_passcode(code)

    def staff_confirm(self, reader: str) -> None:
        self._reader(reader).staff_confirm()

    def restart_reader(self, reader: str) -> None:
        self._reader(reader).restart()

    def press_power_button(self, reader: str) -> None:
        self._reader(reader).press_power_button()

    def usb_cable(self, reader: str, *, plugged: bool) -> None:
        if plugged:
            self.emulation.plug(reader)
        else:
            self.emulation.unplug(reader)

    # -- the terminal ---------------------------------------------------------------------------
    def terminal_press(self, button: str) -> None:
        self.world.terminal.press(button)

    def reboot_terminal(self) -> None:
        self.world.terminal.reboot()

    def restart_pc(self) -> None:
        # The person at the twins restarts it from its own menu.
        self.world.terminal.reboot()

    def download_now(self) -> None:
        self.world.terminal.download_now()

    def schedule_restart(self, at: dt.time | None) -> None:
        self.world.terminal.schedule_restart(at)

    def offer_update(self, target: str) -> None:
        self.world.terminal.offered = target  # type: ignore[assignment]

    def distribution_disabled(self, disabled: bool) -> None:
        self.world.terminal.set_distribution_disabled(disabled)

    def delivery_list(self) -> dict[str, str]:
        return {row["component"]: row["version"] for row in self.world.terminal.delivery_list()}

    def await_delivery(self, component: str, version: str, timeout_s: float) -> dict[str, str]:
        # A person glancing at the list every DELIVERY_LOOK_S while the night passes.
        return wait_until(self.world.clock, self.delivery_list,
                          lambda listed: listed.get(component) == version, timeout_s,
                          step_s=DELIVERY_LOOK_S, sleep=self.wait).last

    def account(self, *, right: bool) -> None:
        self.world.terminal.set_account_ok(right)

    def pair(self, reader: str, general: str, patient: Patient, *,
             placed_first: bool = False) -> list[str]:
        twin = self._reader(reader)
        self._placed = None
        try:
            session = self.world.terminal.start_pairing(reader)
        except KeyError:
            self._pairing = None
            return []  # no pairing app for this reader: nothing to see
        self._pairing = session
        shown = session.shown_readers()
        card = self._card(patient)
        if placed_first:  # the procedure's step (USEN-ALMEX), whatever the app wants
            twin.insert_card(card)
            self._placed = session.press_placed()
            twin.remove_card()
        # The real card on the general reader, which the app reads through the terminal's
        # PC/SC (the bench's PC/SC tier: what it sends lands on the timeline, redacted).
        connection = self._card_on_general(general, _chip("fixtures/cards/mynumber-card.yaml"))
        try:
            session.place_card_on(general, connection.transmit if connection else None)
            session.register()
        finally:
            if connection is not None:
                connection.close()
            self.emulation.remove_card(general)
        return shown

    def _card_on_general(self, general: str, chip: FileSystemCard) -> PcscConnection | None:
        """``chip`` placed on ``general``; the terminal's connection to it (None: the
        reader has no PC/SC side, so nothing can read it)."""
        name = self.emulation.pcsc_names.get(general)
        if name is None or self.bench.pcsc is None:
            return None
        # pcscd sees a vpcd card come and go only as it polls: a card already there (a box's
        # --card) is taken off and seen gone first, or the connection would be to it.
        if self.bench.pcsc.card_present(name):
            self.emulation.remove_card(general)
            self.bench.pcsc.wait_for_card(name, timeout=5, present=False)
        self.emulation.insert_card(general, chip)
        self.bench.pcsc.wait_for_card(name, timeout=5)
        return self.bench.pcsc.connect(name)

    def pairing_placed(self, reader: str) -> bool | None:
        session = self._pairing
        if session is None or session.reader.name != reader:
            return None
        return self._placed

    def pairing_outcome(self, reader: str) -> str | None:
        session = self._pairing
        if session is None or session.reader.name != reader:
            return None
        return session.outcome()

    def staff_phone(self, general: str, phone: Phone, *, held: bool) -> None:
        if not held:
            self.emulation.remove_card(general)
            return
        if not self.world.terminal.reads_phones(general):
            # The reader does not see it: nothing reaches its PC/SC side.
            self.world.timeline.record(general, "phone.not_detected", phone=phone.label)
            return
        self.emulation.insert_card(general, _chip(_PHONE_CARDS[phone.kind]))

    def pairing_app(self, reader: str) -> tuple[str, str] | None:
        app = self._reader(reader).behaviour.pairing
        return None if app is None else (app.app, app.button)

    def restart_management_app(self, reader: str) -> None:
        self.world.terminal.restart_management_app(reader)

    def received_results(self) -> list[str]:
        rc = self.world.receipt_computer
        return [r.card for r in rc.results] if rc is not None else []

    def received_result_times(self, reader: str) -> list[float]:
        """When each result from ``reader`` reached the receipt computer (bench seconds): the
        flow rules put each to its visit (a person at a real bench reads only the total)."""
        rc = self.world.receipt_computer
        return [r.t for r in rc.results if r.reader == reader] if rc is not None else []

    # -- the network ----------------------------------------------------------------------------
    def lan_cable(self, *, seated: bool) -> None:
        self.world.network.set_lan(seated)

    def line_auth(self, *, connected: bool) -> None:
        net = self.world.network
        if connected:
            net.press_line_auth(net.behaviour.line_auth_reconnects)
        else:
            net.cut_line_auth()

    def line_auth_page(self, *, shown: bool) -> None:
        if shown:
            self.world.terminal.open_line_auth_page()
        else:
            self.world.terminal.close_line_auth_page()

    def network_stuck(self, kind: str) -> None:
        self.world.network.set_stuck(kind)

    def router_restart(self) -> None:
        self.world.network.restart_router()

    def network_cut(self, *, cut: bool) -> None:
        self.world.network.set_cut(cut)

    def outage(self, kind: Outage | None, seconds: float | None = None) -> None:
        if kind is None:
            self.world.network.end_outage()
        else:
            self.world.network.start_outage(kind, seconds)

    # -- the lab ---------------------------------------------------------------------------------
    def restore(self, image: Image, at: dt.datetime | None = None) -> None:
        self.bench.switch_all_off()
        upgrade = {"before_upgrade": "none", "after_upgrade": "applied",
                   "upgrade_without_data": "data_missing"}[image]
        self.emulation.restore(upgrade, at)  # type: ignore[arg-type]
        self._cards.clear()
        self._phones.clear()
        for general in self._phone_on:  # a phone left lying is picked up
            self.emulation.remove_card(general)
        self._phone_on.clear()

    def old_reader_software(self, reader: str) -> None:
        twin = self._reader(reader)
        twin.software_outdated = True
        self.world.timeline.record(reader, "reader.software_downgraded")

    def wait(self, seconds: float) -> None:
        self.world.clock.advance(seconds)
