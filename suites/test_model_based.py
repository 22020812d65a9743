"""Model-based: random visits on each face-auth reader, every screen held to its profile.

A hypothesis state machine acts as patients do (cards in and out, faces, PINs, consents,
buttons, waits) in random orders; after every action the camera reading must be a screen
the maker's references know (nothing half-drawn, nothing foreign), of a class the maker's
profile names in its flows or passes through on the way (start-up, checking), and the
profile's own flow rules must hold wherever the walk follows one: a card taken out of the
completion screen brings the first screen back (CON-01), and three wrong PINs in a row lock
the card (AUTH-02). Examples are few and derandomised: the same walks every run.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from harness.bench import Bench
from harness.flows.drivers import WRONG_PIN
from harness.flows.runner import FlowRun
from harness.flows.setup import morning, restore_morning
from harness.hands import Hands, Patient
from harness.model.profiles import FlowCheck, Profile, ProfileSet

#: Classes a walk passes through that no flow check needs to name.
PASSING = {"checking", "starting", "link_wait", "dark"}
BUTTONS = ("staff", "smartphone", "iphone", "android", "cancel")


def profile_classes(profile: Profile) -> set[str]:
    """Screen classes the maker's profile names in its flow checks."""
    return {step.screen for req in profile.requirements for check in req.checks
            if isinstance(check, FlowCheck) for step in check.screens}


def walk_machine(bench: Bench, hands: Hands, reader: str, profile: Profile
                 ) -> type[RuleBasedStateMachine]:
    allowed = profile_classes(profile) | PASSING

    class Walk(RuleBasedStateMachine):
        @initialize()
        def fresh_morning(self) -> None:
            self.run = FlowRun(bench, hands, reader, "model_based")
            restore_morning(bench, hands)
            morning(self.run, profile)
            self.patient = Patient("patient-walk", "4321")
            self.wrong_in_a_row = 0

        def _after(self, seconds: float = 1.0) -> str | None:
            return self.run.wait(seconds).shows

        @rule()
        def card_in(self) -> None:
            hands.card_in(reader, self.patient)
            self._after()

        @rule()
        def card_out(self) -> None:
            before = self.run.last.shows if self.run.last else None
            hands.card_out(reader)
            after = self._after(2.0)
            if before == "completion":
                assert after == "first", \
                    f"CON-01: card out of the completion screen, then {after}, not first"

        @rule(matches=st.booleans())
        def face(self, matches: bool) -> None:
            hands.face(reader, matches=matches)
            self._after()

        @rule()
        def consent(self) -> None:
            hands.consent(reader)
            self._after(3.0)

        @rule(right=st.booleans())
        def pin(self, right: bool) -> None:
            on_pin_screen = self.run.last is not None and self.run.last.shows == "pin_entry"
            hands.pin(reader, self.patient.pin if right else WRONG_PIN)
            after = self._after()
            if not on_pin_screen:
                return
            self.wrong_in_a_row = 0 if right else self.wrong_in_a_row + 1
            if self.wrong_in_a_row >= 3:
                assert after == "pin_locked", \
                    f"AUTH-02: three wrong PINs in a row, then {after}, not pin_locked"

        @rule(button=st.sampled_from(BUTTONS))
        def press(self, button: str) -> None:
            hands.press(reader, button)
            self._after()

        @rule(seconds=st.sampled_from([5.0, 20.0, 40.0]))
        def wait(self, seconds: float) -> None:
            self._after(seconds)

        @invariant()
        def screen_is_one_the_profile_knows(self) -> None:
            last = self.run.last
            if last is None:
                return
            assert last.shows is not None, \
                f"an unrecognised screen (near {last.candidate}) after {self.run.record.path()}"
            assert last.shows in allowed, \
                f"{last.shows} is no screen of {profile.key}'s flows ({self.run.record.path()})"

    return Walk


def _cases(config: pytest.Config) -> list[object]:
    from harness.model.profiles import default_profiles_dir
    from harness.pytest_plugin import bench_spec

    profiles = ProfileSet.load(default_profiles_dir())
    return [pytest.param((r.name, r.maker), id=r.name,
                         marks=[pytest.mark.requirement("CON-01", "AUTH-02"),
                                pytest.mark.maker(r.maker)])
            for r in bench_spec(config).readers
            if r.kind == "face_auth_reader" and r.maker in profiles]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "walk_case" in metafunc.fixturenames:
        metafunc.parametrize("walk_case", _cases(metafunc.config))


def test_random_visits_follow_the_profile(walk_case, bench: Bench, hands: Hands,  # noqa: ANN001
                                          profiles: ProfileSet) -> None:
    reader, maker = walk_case
    machine = walk_machine(bench, hands, reader, profiles[maker])
    machine.TestCase.settings = settings(
        max_examples=3, stateful_step_count=10, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
