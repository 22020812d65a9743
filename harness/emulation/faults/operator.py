"""Bench faults: the operator (see the package).

An emulated bench has no person at it: its hands act on the twins (harness.emulation.hands),
so there is nobody to fall silent or say no: ``operator.silent`` and ``operator.refused``
are refused here, in one line.
The fault is the rig's on a bench with an operator (harness.hands.ManualHands, asked on the
terminal or from a script): a step unanswered within ``operator.timeout_s`` raises
``BenchFault("operator.silent")`` (harness.operator.OperatorSilent), a step the person says
cannot be done ``operator.refused`` (harness.operator.OperatorRefused).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.errors import RigError

if TYPE_CHECKING:
    from harness.bench import Bench


def operator_silent(bench: Bench, target: str) -> Callable[[], None]:
    raise RigError(f"operator.silent: the emulated bench {bench.name!r} has no operator to "
                   "silence (its hands act on the twins); a bench with an operator names it "
                   "after operator.timeout_s")


def operator_refused(bench: Bench, target: str) -> Callable[[], None]:
    raise RigError(f"operator.refused: the emulated bench {bench.name!r} has no operator to "
                   "refuse a step (its hands act on the twins); a bench with an operator "
                   "names the step the person said 'no' to")


#: Fault kind -> handler (harness.emulation.faults.Handler).
HANDLERS: dict[str, Callable[[Bench, str], Callable[[], None]]] = {
    "operator.silent": operator_silent,
    "operator.refused": operator_refused,
}
