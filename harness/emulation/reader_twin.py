"""The face-auth reader twin: one engine, driven by each maker's behaviour data.

The engine knows power, start-up, the USB link to the terminal, events, guards and effects.
Which screen follows which, what each screen says and how a maker's reader starts are data
(:mod:`harness.emulation.behaviour`); there is no maker name in this module.

Every state change lands on the timeline as a ``screen`` event, with the screen class and
the state, so the screen renderer (and the rules) can tell what was shown and when.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from harness.emulation.behaviour import Event, Guard, ReaderBehaviour, Transition
from harness.emulation.people import PatientCard, Phone
from harness.model.clock import Timer, VirtualClock
from harness.model.timeline import Timeline

if TYPE_CHECKING:
    from harness.emulation.terminal import TerminalTwin


@attrs.frozen
class ButtonView:
    name: str
    label: str


@attrs.frozen
class ScreenView:
    """What the reader's screen shows now: what a camera would see."""

    state: str
    shows: str
    texts: tuple[str, ...]
    overlay: str | None
    buttons: tuple[ButtonView, ...]

    def has_text(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts)

    def has_button(self, name: str) -> bool:
        return any(b.name == name for b in self.buttons)


@attrs.define
class UsbLink:
    """How the reader's cable reaches the terminal."""

    attached: bool = True
    superspeed: bool = True
    hubs_between: int = 0


class FaceAuthReaderTwin:
    def __init__(
        self,
        name: str,
        behaviour: ReaderBehaviour,
        clock: VirtualClock,
        timeline: Timeline,
    ) -> None:
        self.name = name
        self.behaviour = behaviour
        self.clock = clock
        self.timeline = timeline
        self.terminal: TerminalTwin | None = None
        self.usb = UsbLink()
        self.state = "off"
        self.powered = False
        self.started = False
        self.linked = False
        #: The terminal's application started before this reader had: missed until it
        #: starts again (only with ``link.missed_if_terminal_first``).
        self.missed = False
        self.knows_passcode = False
        self.software_outdated = behaviour.software_outdated
        self.card: PatientCard | None = None
        self.phone: Phone | None = None
        self._start_timer: Timer | None = None
        self._after_timer: Timer | None = None

    # -- what it shows --------------------------------------------------------------------
    def screen(self) -> ScreenView:
        with self.clock.lock:
            state = self.behaviour.states[self.state]
            drawn = self.behaviour.states[state.like] if state.like else state
            buttons = tuple(
                ButtonView(b.name, b.label)
                for b in drawn.buttons
                if b.when is None or self._holds(b.when)
            )
            return ScreenView(
                self.state, drawn.shows, tuple(drawn.texts), state.overlay or drawn.overlay, buttons
            )

    def leds(self) -> dict[str, tuple[str, bool]]:
        """LED name -> (colour, lit)."""
        lit = {"powered": self.powered, "started": self.started}
        return {led.name: (led.color, lit[led.lit_when]) for led in self.behaviour.leds}

    # -- power and start-up ---------------------------------------------------------------
    def set_power(self, on: bool) -> None:
        with self.clock.lock:
            if on == self.powered:
                return
            self.powered = on
            if on:
                auto = self.behaviour.start.auto
                if auto == "on_power" or (auto == "with_terminal" and self._terminal_on()):
                    self._begin_start()
                else:
                    self._enter("standby")
            else:
                self._stop("off")

    def restart(self) -> None:
        """Restart the reader: as power off and on (a reader that starts with the terminal
        stays dark while the terminal is off)."""
        with self.clock.lock:
            if not self.powered:
                return
            self.timeline.record(self.name, "reader.restart")
            self._stop("off")
            self.powered = False
            self.set_power(True)

    def press_power_button(self) -> bool:
        """The reader's own power button: starts a powered reader that waits dark."""
        with self.clock.lock:
            if not self.powered or self.state != "standby":
                return False
            self._begin_start()
            return True

    def terminal_power_changed(self, on: bool) -> None:
        """The terminal was switched on or shut down (readers that start with it follow)."""
        with self.clock.lock:
            if on:
                # A reader that must be up before the terminal starts is missed until the
                # terminal starts again.
                self.missed = self.behaviour.link.missed_if_terminal_first and not self.started
                if self.missed:
                    self.timeline.record(self.name, "reader.missed", why="terminal started first")
            if self.behaviour.start.auto != "with_terminal" or not self.powered:
                return
            if on and self.state == "standby":
                self._begin_start()
            elif not on and self.state != "standby":
                self._stop("standby")

    def _terminal_on(self) -> bool:
        return self.terminal is not None and self.terminal.powered

    def _begin_start(self) -> None:
        self._enter("starting")
        self._start_timer = self.clock.call_later(self.behaviour.start.seconds, self._started)

    def _started(self) -> None:
        self._start_timer = None
        self.started = True
        self.timeline.record(self.name, "reader.started")
        if self.terminal is not None:
            self.knows_passcode = self.terminal.passcode_issued
        self._enter("link_wait")
        self.update_link()

    def _stop(self, state: str) -> None:
        for timer in (self._start_timer, self._after_timer):
            if timer is not None:
                timer.cancel()
        self._start_timer = None
        if self.started:
            self.timeline.record(self.name, "reader.stopped")
        self.started = False
        if self.linked:
            self.linked = False
            self.timeline.record(self.name, "reader.unlinked")
        self._enter(state)

    # -- the USB link to the terminal -----------------------------------------------------
    def set_usb(self, attached: bool, superspeed: bool = True, hubs_between: int = 0) -> None:
        with self.clock.lock:
            self.usb = UsbLink(attached, superspeed, hubs_between)
            self.update_link()

    def terminal_app_started(self) -> None:
        self.update_link()

    def _link_possible(self) -> bool:
        link = self.behaviour.link
        return (
            self.started
            and self.terminal is not None
            and self.terminal.app_running
            and self.usb.attached
            and not self.missed
            and (self.usb.superspeed or not link.needs_superspeed)
            and (self.usb.hubs_between == 0 or not link.fails_through_hub)
        )

    def update_link(self) -> None:
        with self.clock.lock:
            possible = self._link_possible()
            if possible and not self.linked:
                self.linked = True
                self.timeline.record(self.name, "reader.linked")
                assert self.terminal is not None
                self.terminal.reader_linked(self)
                self.post("linked")
                if not self.terminal.account_ok:
                    self.post("account_rejected")
                if not self.terminal.network.up:
                    self.post("network_lost")
            elif not possible and self.linked:
                self.linked = False
                self.timeline.record(self.name, "reader.unlinked")
                self._enter("link_wait")

    def software_updated(self) -> None:
        if self.software_outdated:
            self.software_outdated = False
            self.timeline.record(self.name, "reader.software_updated")

    # -- events -----------------------------------------------------------------------------
    def post(self, event: Event) -> bool:
        """Feed an event to the state machine; True if it changed state or acted."""
        with self.clock.lock:
            if not self.started:
                return False
            option = self._choose(event)
            if option is None:
                return False
            for effect in option.do:
                self._effect(effect)
            if option.to != self.state:
                self._enter(option.to, cause=event)
            else:
                self._arm_after()  # a repeated screen restarts its time-out
            return True

    def _choose(self, event: Event) -> Transition | None:
        table = self.behaviour.transitions
        for source in (self.state, "*"):
            for option in table.get(source, {}).get(event, []):
                if option.if_ is not None and not self._holds(option.if_):
                    continue
                if option.unless is not None and self._holds(option.unless):
                    continue
                return option
        return None

    def _holds(self, guard: Guard) -> bool:
        card = self.card
        term = self.terminal
        match guard:
            case "staff_button":
                if self.behaviour.staff_button.learns_passcode == "live":
                    return term is not None and term.passcode_issued
                return self.knows_passcode
            case "smartphone":
                if not self.behaviour.smartphone.needs_pairing:
                    return True
                return term is not None and term.smartphone_ready(self.name)
            case "card_pin_locked":
                if card is None:
                    return False
                rule = self.behaviour.pin_lock
                wrong = card.failures if rule.right_resets else card.wrong_since_unlock
                return wrong >= rule.after_wrong
            case "software_outdated":
                return self.software_outdated
            case "network_up":
                return term is not None and term.network.up
            case "network_down":
                return term is None or not term.network.up
            case "card_present":
                return card is not None

    def _effect(self, effect: str) -> None:
        if effect == "request_check" and self.terminal is not None:
            self.terminal.request_check(self)

    def _enter(self, state: str, cause: str | None = None) -> None:
        if self._after_timer is not None:
            self._after_timer.cancel()
            self._after_timer = None
        if state == self.state:
            return
        self.state = state
        if state == "first":
            self.phone = None  # a phone's session ends with it; the next needs its own PIN
        view = self.behaviour.states[state]
        drawn = self.behaviour.states[view.like] if view.like else view
        data = {"state": state, "shows": drawn.shows}
        if view.overlay or drawn.overlay:
            data["overlay"] = view.overlay or drawn.overlay
        if cause:
            data["cause"] = cause
        self.timeline.record(self.name, "screen", **data)
        self._arm_after()

    def _arm_after(self) -> None:
        if self._after_timer is not None:
            self._after_timer.cancel()
            self._after_timer = None
        after = self.behaviour.states[self.state].after
        if after is not None:
            event = after.event
            self._after_timer = self.clock.call_later(after.seconds, lambda: self.post(event))

    # -- the bench's hands: patient, staff, phone ------------------------------------------
    def insert_card(self, card: PatientCard) -> bool:
        with self.clock.lock:
            self.card = card
            self.timeline.record(self.name, "reader.card_in", card=card.label)
            before = self.phone
            if not self._accepts("card_in"):
                return False
            self.phone = None  # a card session starts: any phone session is over
            if not self.post("card_in"):
                self.phone = before
                return False
            return True

    def remove_card(self) -> bool:
        with self.clock.lock:
            if self.card is None:
                return False
            self.timeline.record(self.name, "reader.card_out", card=self.card.label)
            self.card = None
            return self.post("card_out")

    def show_face(self, matches: bool) -> bool:
        return self.post("face_match" if matches else "face_no_match")

    def enter_pin(self, pin: str) -> bool:
        with self.clock.lock:
            if self.card is None or not self._accepts("pin_ok"):
                return False
            ok = self.card.check_pin(pin)
            # Never the digits: how many, and the outcome.
            self.timeline.record(self.name, "reader.pin_entered", digits=len(pin), ok=ok)
            return self.post("pin_ok" if ok else "pin_wrong")

    def enter_passcode(self, code: str) -> bool:
        with self.clock.lock:
            if not self._accepts("passcode_ok"):
                return False
            # A screen that takes another number of digits cannot take this passcode.
            ok = (len(code) == self.behaviour.staff_button.passcode_digits
                  and self.terminal is not None and self.terminal.passcode_matches(code))
            self.timeline.record(self.name, "reader.passcode_entered", digits=len(code), ok=ok)
            return self.post("passcode_ok" if ok else "passcode_wrong")

    def press(self, button: str) -> bool:
        """Touch a button on the screen; a button not shown cannot be pressed."""
        with self.clock.lock:
            state = self.behaviour.states[self.state]
            drawn = self.behaviour.states[state.like] if state.like else state
            for b in drawn.buttons:
                if b.name == button and (b.when is None or self._holds(b.when)):
                    self.timeline.record(self.name, "reader.press", button=button)
                    return self.post(b.event)
            return False

    def staff_confirm(self) -> bool:
        return self.post("staff_confirms")

    def answer_consent(self) -> bool:
        return self.post("consent_answer")

    def enter_phone_pin(self, phone: Phone, pin: str) -> bool:
        with self.clock.lock:
            if not self._accepts("phone_pin_ok"):
                return False
            ok = phone.kind == "android" and (
                pin == phone.pin if self.behaviour.smartphone.checks_phone_pin
                else len(pin) == len(phone.pin))
            self.timeline.record(self.name, "reader.phone_pin_entered", digits=len(pin), ok=ok)
            self.phone = phone if ok else None
            return self.post("phone_pin_ok" if ok else "phone_pin_wrong")

    def hold_phone(self, phone: Phone, where: Literal["general_reader", "front"]) -> bool:
        """Hold the phone over the general reader beside this reader, or over its front.
        (The bench's hands put a phone on a general reader's PC/SC side instead, and the
        terminal hands it over: :meth:`phone_from_general`.)"""
        with self.clock.lock:
            if where == "general_reader" and (
                self.terminal is None or not self.terminal.general_reader_paired(self.name)
            ):
                return False
            return self._phone_read(phone, where)

    def phone_from_general(self, phone: Phone, general: str) -> bool:
        """The terminal read ``phone`` off the general reader ``general`` for this reader."""
        with self.clock.lock:
            return self._phone_read(phone, general)

    def _phone_read(self, phone: Phone, where: str) -> bool:
        with self.clock.lock:
            if phone.kind == "iphone" and not phone.biometrics_ok:
                return False  # the phone does not release the card function
            if phone.kind == "android" and self.phone is not phone:
                return False  # its PIN was not entered on this reader
            event: Event = "phone_held_front" if where == "front" else "phone_held_general"
            if not self._accepts(event):
                return False  # not a screen that reads phones: nothing happens
            self.timeline.record(self.name, "reader.phone_held", phone=phone.label, where=where)
            before, self.phone = self.phone, phone  # the check is made for this phone
            if not self.post(event):
                self.phone = before
                return False
            return True

    def _accepts(self, event: Event) -> bool:
        table = self.behaviour.transitions
        return any(event in table.get(s, {}) for s in (self.state, "*"))
