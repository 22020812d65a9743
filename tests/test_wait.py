"""The one bounded wait (harness/model/wait.py) on a virtual clock: when it looks, that
it looks at the deadline itself, and what a wait that ran out hands back."""

from __future__ import annotations

import math

import pytest

from harness.model.clock import VirtualClock
from harness.model.wait import wait_until


def _times(clock: VirtualClock) -> tuple[list[float], object]:
    seen: list[float] = []

    def look() -> float:
        seen.append(clock.now())
        return clock.now()

    return seen, look


def test_looks_soon_then_less_often_and_at_the_deadline() -> None:
    clock = VirtualClock()
    seen, look = _times(clock)
    waited = wait_until(clock, look, lambda t: False, 20.0, step_s=8.0, first_s=1.0)
    assert not waited.ok
    assert seen == [0.0, 1.0, 3.0, 7.0, 15.0, 20.0]  # gaps 1, 2, 4, 8, then the deadline
    assert waited.last == 20.0 and waited.looks == 6 and waited.waited_s == 20.0


def test_an_event_exactly_at_the_deadline_is_seen() -> None:
    clock = VirtualClock()
    seen, look = _times(clock)
    waited = wait_until(clock, look, lambda t: t >= 9.5, 9.5, step_s=4.0)
    assert waited.ok and waited.last == 9.5 and seen[-1] == 9.5


def test_stops_at_the_first_look_that_holds() -> None:
    clock = VirtualClock()
    seen, look = _times(clock)
    waited = wait_until(clock, look, lambda t: t >= 5.0, 100.0, step_s=2.0)
    assert waited.ok and waited.last == 6.0 and clock.now() == 6.0 and seen[0] == 0.0


def test_a_zero_timeout_looks_once() -> None:
    clock = VirtualClock()
    seen, look = _times(clock)
    assert not wait_until(clock, look, lambda t: False, 0.0, step_s=1.0).ok
    assert seen == [0.0]


def test_time_passes_through_the_given_sleep() -> None:
    clock = VirtualClock()
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock.advance(s)

    wait_until(clock, clock.now, lambda t: False, 5.0, step_s=2.0, sleep=sleep)
    assert slept == [2.0, 2.0, 1.0]


@pytest.mark.parametrize("timeout", [math.inf, math.nan, -1.0])
def test_an_unbounded_or_negative_timeout_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError, match="finite timeout"):
        wait_until(VirtualClock(), lambda: 0, lambda _: False, timeout, step_s=1.0)


@pytest.mark.parametrize("step", [0.0, -1.0, math.nan])
def test_a_step_that_cannot_advance_is_refused(step: float) -> None:
    with pytest.raises(ValueError, match="step"):
        wait_until(VirtualClock(), lambda: 0, lambda _: True, 1.0, step_s=step)


def test_a_timeline_read_from_where_the_reader_left_it() -> None:
    """The collector reads only the events new since its last look (the timeline holds a
    whole run's); the filters apply to that part alone."""
    from harness.model.timeline import Timeline

    timeline = Timeline(VirtualClock())
    for i in range(5):
        timeline.record("operator" if i % 2 else "reader", "operator.answered", i=i)
    assert [e.data["i"] for e in timeline.events(source="operator")] == [1, 3]
    assert [e.data["i"] for e in timeline.events(source="operator", start=2)] == [3]
    assert [e.data["i"] for e in timeline.events(start=1, stop=3)] == [1, 2]
    assert [e.data["i"] for e in timeline.events("operator", start=4)] == [4]
    assert timeline.events(start=len(timeline)) == []
