"""The bench strategy: bringing the bench to a state a runner starts from, as labgrid's
strategies do for a board.

Every runner starts from a restored bench (the terminal's image from before or after the
upgrade, its clock where the rule needs it), arranged with the givens a flow names, switched
on by the maker's own routine (:mod:`harness.flows.power_on`, from its profile) and then
observed. A transition follows the notices' procedures only: what did not come is recorded
on the run (``FlowRecord.unmet``) and fails every check judged on it; nothing is mended.
The BOOT runner is the exception by design: it judges the bench file's own routine, so it
only restores the bench (:func:`harness.flows.setup.restore_morning`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from harness.flows.runner import FlowRun
from harness.flows.setup import (
    arrange_after_power,
    arrange_before_power,
    light_the_panel,
    morning,
    restore_for,
    restore_morning,
)
from harness.model.profiles import Profile

if TYPE_CHECKING:
    from harness.bench import Bench
    from harness.hands import Hands


@attrs.frozen
class BenchStrategy:
    bench: Bench
    hands: Hands

    def flow_start(self, run: FlowRun, profile: Profile, given: tuple[str, ...], *,
                   before_power: tuple[str, ...] = (), keep_off: tuple[str, ...] = (),
                   record_power_on: bool = False) -> None:
        """Where a flow of ``profile`` with ``given`` starts: the camera shown the lit
        panel once, the bench restored for the flow and its givens, arranged, switched on by
        the maker's routine, the givens that need power arranged. ``record_power_on``: the
        flow is watched from power-on (a fault in place: no first screen is expected)."""
        light_the_panel(run)
        restore_for(run, profile, run.record.flow, given)
        arrange_before_power(run, given + before_power)
        if not record_power_on:
            run.pause_recording()
        morning(run, profile, keep_off=keep_off, expect_first=not record_power_on)
        # Once the procedure has not brought the reader where the flow starts, its checks
        # fail with that: setting up from elsewhere would only add noise.
        if not run.record.unmet:
            arrange_after_power(run, profile, given)
        if not record_power_on:
            run.start_recording()

    def morning(self, run: FlowRun, profile: Profile) -> bool:
        """The upgraded image on the bench file's morning, switched on by the maker's
        routine: True if the reader shows its first screen."""
        restore_morning(self.bench, self.hands)
        return morning(run, profile)

    def before_upgrade(self, run: FlowRun, profile: Profile, at: dt.datetime) -> str | None:
        """The image from before the upgrade with the terminal's clock at ``at``, switched
        on by the maker's routine; what did not come, if anything."""
        self.hands.restore("before_upgrade", at)
        morning(run, profile)
        unmet = "; ".join(run.record.unmet + run.record.problems)
        return f"the bench did not come up: {unmet}" if unmet else None
