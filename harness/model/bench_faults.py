"""The bench faults the rig names: what each is, which part of the bench it strikes, and
within what bound the rig notices it.

A bench fault is the bench failing, not the reader under test: the requirement being
checked is ``not_run`` with the fault as its reason (harness.errors.BenchFault). The same
names are used where the emulated bench injects them (harness/emulation/faults) and where
the rig reports them, so a test can check that what was injected is what was named.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class FaultKind:
    #: The part of the bench it strikes: a reader, a camera or a relay (by name), or one of
    #: the bench's single parts: ``pcscd``, ``network``, ``operator``, ``robot``.
    strikes: str
    #: What happens, in a sentence.
    what: str
    #: How the rig notices it, and within what bound (documented in the README).
    noticed: str


FAULT_KINDS: dict[str, FaultKind] = {
    "reader.gone": FaultKind(
        "reader", "the reader leaves USB and PC/SC in the middle of its next APDU exchange",
        "the exchange fails at once; the rig names the reader and the APDU"),
    "pcscd.restarted": FaultKind(
        "pcscd", "pcscd stops and starts again: the rig's PC/SC context and card handles "
        "go stale",
        "the next PC/SC call fails; the rig names the restart, and the next test opens a "
        "new context"),
    "camera.frozen": FaultKind(
        "camera", "the camera delivers the same frame, byte for byte, from now on",
        "a real sensor's noise makes two frames differ: identical frames over the bound "
        "are a frozen camera"),
    "camera.stopped": FaultKind(
        "camera", "the camera delivers no frame at all",
        "a read that returns no frame, retried up to the bound"),
    "relay.garbage": FaultKind(
        "relay", "the relay board answers garbage on its serial line",
        "the command's reply does not parse; named at once"),
    "relay.silent": FaultKind(
        "relay", "the relay board answers nothing on its serial line",
        "no reply within the serial timeout"),
    "network.dropped": FaultKind(
        "network", "the terminal's network goes down",
        "the bench's network monitor reports the drop within the check it happened in"),
    "operator.silent": FaultKind(
        "operator", "the person at the bench never answers",
        "the bench's operator timeout (operator.timeout_s)"),
    "operator.refused": FaultKind(
        "operator", "the person at the bench says a step cannot be done there (no OQS "
        "access, no phone, no such disk image)",
        "the answer 'no' (and why), at once: the step, and so the requirement, never ran"),
    "robot.error": FaultKind(
        "robot", "the robot refuses the lines it is sent (error:N) or answers outside its "
        "dialect",
        "the line's reply; named at once, and the next command goes on"),
    "robot.alarm": FaultKind(
        "robot", "the robot stops in an alarm (ALARM:N: a limit switch, a soft limit)",
        "the reply to the line that hit it; the next command resets and unlocks first"),
    "robot.silent": FaultKind(
        "robot", "the robot answers nothing on its serial line",
        "no reply within robot.reply_timeout_s (a move: robot.motion_timeout_s)"),
    "robot.missed": FaultKind(
        "robot", "the stylus's touches do not register (a knocked table or calibration, a "
        "capacitive panel that does not feel the stylus)",
        "a press on the terminal's dialog after which the terminal's camera still sees that "
        "dialog for MISSED_BOUND_S; on a reader's panel it cannot be told from a reader "
        "that ignores touches, which the flow fails"),
}

#: The bench's single parts a fault can strike (a fault on another part names its device).
SINGLE_PARTS = ("pcscd", "network", "operator", "robot")
