"""The USB-06 runner: a general reader pulled and plugged back in while the terminal runs,
and what the management app lists before and after. The notice's remedy for a terminal run
without a monitor is to set the reader up with a monitor attached (資格確認端末に別途モニター等を
接続いただいたうえで設定): on a monitor-less bench the rig cannot try that, and a restart
would recognise anything (a terminal that misses new USB devices with a monitor too), so
the verdict is not reached there (:func:`harness.model.wiring.judge_hotplug`)."""

from __future__ import annotations

import attrs

from harness.bench import Bench
from harness.flows.runner import FlowRun
from harness.flows.strategy import BenchStrategy
from harness.hands import Hands
from harness.model.profiles import ProfileSet

#: Seconds the cable stays out, and the terminal is given after plugging it back in.
UNPLUGGED_S = 5.0
SETTLE_S = 5.0


@attrs.frozen
class Replugged:
    listed: list[str]
    again: list[str]
    #: The bench's terminal runs without a monitor (remote desktop).
    monitorless: bool


def replug(bench: Bench, hands: Hands, profiles: ProfileSet, general: str) -> Replugged:
    """Pair-list on the first face-auth reader's management app, replug ``general``, list
    again. Raises RigError when the bench has no face-auth reader whose app lists readers."""
    from harness.errors import RigError

    host = next((r.name for r in bench.spec.readers if r.kind == "face_auth_reader"), None)
    if host is None:
        raise RigError("the bench has no face-auth reader whose app could list a general reader")
    run = FlowRun(bench, hands, host, "general_reader_hotplug")
    BenchStrategy(bench, hands).morning(run, profiles[bench.reader(host).maker])
    listed = hands.pair(host, general, run.patient)
    hands.usb_cable(general, plugged=False)
    hands.wait(UNPLUGGED_S)
    hands.usb_cable(general, plugged=True)
    hands.wait(SETTLE_S)
    again = hands.pair(host, general, run.patient)
    return Replugged(list(listed), list(again), bench.spec.terminal.monitorless)
