"""A screen whose picture comes near a reference without reaching the threshold is that
reference's only when every line of it shows character for character and nothing more is
written on it (harness/vision/by_text.py): the camera's halo on a sparse page no longer
fails a flow the reader did right, and a changed, missing or extra line still stays
unknown."""

from __future__ import annotations

import attrs
import pytest
from vision_helpers import BENCH_SEEDS, classifier, device_camera, references, screen

from harness.emulation.screen_renderer import Drawn
from harness.vision.by_text import recognised_by_text
from harness.vision.classify import UNKNOWN, Decision
from harness.vision.geometry import Calibration
from harness.vision.reference import ReferenceSet


def _near(device: str, content: Drawn, seed: int = BENCH_SEEDS[0], *, score: float = 0.72,
          margin: float = 0.5, rivals: dict[str, float] | None = None,
          at_most: dict[str, float] | None = None, refs: ReferenceSet | None = None
          ) -> Decision:
    """The decision on a camera frame of ``content``, turned into the near miss a halo and
    an exposure drift make of it (the picture's state as the runner-up, ``rivals``' states
    scored as given), then judged by its texts (against ``refs``, the device's by default)."""
    refs = refs or references(device)
    capture = device_camera(device, seed).capture(screen(device, content), 3.0)
    calibration = Calibration(capture.quad, capture.image.shape[1::-1], refs.size)
    clf = classifier(device)
    seen = clf.classify(calibration.rectify(capture.image, clf.fine_size))
    near = attrs.evolve(seen, state=UNKNOWN, reference=None, shows=None, overlay=None,
                        score=score, margin=margin, runner_up=content.state,
                        scores={**seen.scores, content.state: score, **(rivals or {})},
                        at_most=at_most or {},
                        why="no reference scores 0.8 or more")
    return recognised_by_text(near, capture.image, calibration, refs)


def _drawn(device: str, name: str, **change: object) -> Drawn:
    ref = references(device).get(name)
    drawn = Drawn(ref.state, ref.shows or ref.state, ref.texts, ref.buttons, ref.overlay,
                  ref.title)
    return attrs.evolve(drawn, **change)


@pytest.mark.parametrize(("device", "name"), [("atlas", "completion"), ("canon", "completion"),
                                              ("atlas", "error_901")])
def test_every_line_shown_makes_the_near_miss_its_reference(device: str, name: str) -> None:
    decision = _near(device, _drawn(device, name))
    assert decision.known and decision.reference == name, decision
    assert decision.why.startswith("recognised by its texts") and "0.72" in decision.why


@pytest.mark.parametrize("texts", [
    ("受付が完了しまた", "カードをお取りください"),      # a kana left out
    ("受付が完了しました",),                              # a line missing
    ("受付が完了しました", "カードをお取りください", "お会計は窓口でお願いします"),  # one more
])
def test_a_changed_missing_or_extra_line_stays_unknown(texts: tuple[str, ...]) -> None:
    decision = _near("atlas", _drawn("atlas", "completion", texts=texts))
    assert not decision.known, decision


def test_the_button_decides_between_references_of_one_state() -> None:
    # The first screen with the staff button and without: each is its own reference, never
    # the other (a button more or less is what AUTH-03/04 are about).
    with_staff = _near("atlas", _drawn("atlas", "first@staff"))
    assert with_staff.reference == "first@staff", with_staff
    plain = _near("atlas", _drawn("atlas", "first"))
    assert plain.reference == "first", plain


@pytest.mark.parametrize(("score", "margin"), [(0.45, 0.4), (0.75, 0.1)])
def test_too_far_or_too_close_to_a_rival_stays_unknown(score: float, margin: float) -> None:
    decision = _near("atlas", _drawn("atlas", "completion"), score=score, margin=margin)
    assert not decision.known, decision


def test_without_a_calibration_nothing_is_read() -> None:
    near = Decision(UNKNOWN, 0.72, 0.5, runner_up="completion", why="x")
    refs = references("atlas")
    frame = screen("atlas", _drawn("atlas", "completion"))
    assert recognised_by_text(near, frame, None, refs) is near


def _with_twin(device: str, of: str, **change: object) -> ReferenceSet:
    """The device's references and a copy of ``of`` as the reference of another state."""
    refs = references(device)
    twin = attrs.evolve(refs.get(of), name="twin", state="twin", **change)
    return ReferenceSet(refs.maker, refs.size, (*refs.references, twin), refs.directory)


@pytest.mark.parametrize("looked_at_closely", [True, False])
def test_a_rival_scored_near_is_ruled_out_by_its_texts(looked_at_closely: bool) -> None:
    # The network error's page scored near the completion's (or, not looked at closely,
    # might score so by its global score): its lines are not on the screen, so the reading
    # names the completion and says which rival it ruled out.
    rival = references("atlas").get("error_network")
    near = {rival.state: 0.67}
    decision = _near("atlas", _drawn("atlas", "completion"), score=0.72, margin=0.05,
                     rivals=near if looked_at_closely else None,
                     at_most=None if looked_at_closely else near)
    assert decision.reference == "completion", decision
    assert f"every rival ruled out by its texts ({rival.name})" in decision.why, decision.why


def test_a_rival_whose_texts_show_too_keeps_the_screen_unknown() -> None:
    # Another state drawn with the very same lines, scored near: the texts cannot tell
    # them apart either.
    refs = _with_twin("atlas", "completion")
    decision = _near("atlas", _drawn("atlas", "completion"), score=0.72, margin=0.05,
                     rivals={"twin": 0.67}, refs=refs)
    assert not decision.known, decision
    assert "by its texts it is completion or twin" in decision.why, decision.why


def test_a_rival_with_no_lines_to_read_keeps_the_screen_unknown() -> None:
    refs = _with_twin("atlas", "error_network", lines=())
    decision = _near("atlas", _drawn("atlas", "completion"), score=0.72, margin=0.05,
                     rivals={"twin": 0.67}, refs=refs)
    # Not read at all: nothing could rule the rival out.
    assert not decision.known and decision.why == "no reference scores 0.8 or more", decision


def test_a_runner_up_not_scored_closely_keeps_the_screen_unknown() -> None:
    # The margin says a state scored 0.67, but none of the states looked at closely did:
    # which one it was, and so what to read, is not known.
    decision = _near("atlas", _drawn("atlas", "completion"), score=0.72, margin=0.05)
    assert not decision.known, decision
