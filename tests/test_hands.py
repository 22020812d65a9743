"""The bench's hands: the twins acted on through the same protocol a real bench's operator
answers, and what they did seen through the cameras."""

from __future__ import annotations

import ast
import re

import pytest

from harness.errors import BenchFault
from harness.hands import ManualHands, Patient
from harness.model.clock import VirtualClock
from harness.paths import project_file


def test_a_check_in_by_hands_seen_through_the_camera(bench, hands, eyes) -> None:  # noqa: ANN001
    watcher = eyes("canon")
    assert watcher.look().state == "first"
    hands.card_in("canon", Patient("patient-h1", "4321"))
    assert watcher.wait_for("face_auth", timeout_s=5).state == "face_auth"
    hands.face("canon", matches=False)
    assert watcher.wait_for("pin_entry", timeout_s=5).state == "pin_entry"
    hands.pin("canon", "4321")
    watcher.wait_for("consent_1", timeout_s=5)
    hands.consent("canon")
    watcher.wait_for("consent_2", timeout_s=5)
    hands.consent("canon")
    hands.wait(5)
    assert watcher.wait_for("completion", timeout_s=10).state == "completion"
    hands.card_out("canon")
    assert watcher.wait_for("first", timeout_s=5).state == "first"
    # The PIN typed by the hands is nowhere on the timeline.
    # (As a value of its own: bench times and scores print digits that may hold 4321.)
    assert not any(re.search(r"(?<![\d.])4321(?!\d)", repr(e)) for e in bench.timeline)


def test_manual_hands_ask_the_operator() -> None:
    asked: list[str] = []
    hands = ManualHands(VirtualClock(), ask=lambda q: asked.append(q) or "")
    hands.card_in("panasonic-1", Patient("patient-7", "1234"))
    hands.terminal_press("OK")
    assert "patient-7's My Number card on panasonic-1" in asked[0] and "'OK'" in asked[1]
    refusing = ManualHands(VirtualClock(), ask=lambda q: "no")
    # The bench could not do the step: a bench fault, never the reader's failure.
    with pytest.raises(BenchFault, match=r"^bench fault \(operator.refused\): operator: "
                                         r"refused: restart the eligibility terminal"):
        refusing.reboot_terminal()
    assert "1234" not in repr(Patient("p", "1234"))


def test_suites_never_import_the_emulation() -> None:
    for path in sorted(project_file("suites").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith("harness.emulation") for n in names), path.name
