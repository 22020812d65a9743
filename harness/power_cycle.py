"""A device power-cycled through its relay channel: off, a bounded off time, on.

What a person does by pulling a plug and putting it back (the support vendor's お知らせ ②: PCの電源オンオフ,
ルーターの再起動), done by the bench's relay where the bench file names one. Each switch
lands on the timeline through ``switch`` (``power.switched``)."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from harness.model.clock import Clock


@attrs.frozen
class PowerCycle:
    #: Switches the device's mains: False off, True on.
    switch: Callable[[bool], None]
    clock: Clock
    #: How long the mains stay off (the bench file's, bounded there).
    off_s: float

    def __call__(self) -> None:
        self.switch(False)
        try:
            self.clock.sleep(self.off_s)
        finally:
            # Back on even when the wait is cut short (an interrupted run): the device is
            # the bench's, and it was on before the cycle.
            self.switch(True)
