"""Reading a screen through the camera: what it says, not only which state it is. A faulty
901 screen that is not the 901 screen still shows the 901 code; another error's code is
never taken for it; the buttons a first screen shows.

Frames come from the emulated camera (vision_helpers) and, for the faulty Fujitsu reader,
from a twin world watched by a ScreenWatcher, as a suite has it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from seed_texts import E901_TEXTS
from twin_helpers import check_in_by_face, patient, started_world
from vision_helpers import (
    BENCH_SEEDS,
    HAND_HELD_SEEDS,
    classifier,
    describe,
    device_camera,
    rectified,
    references,
    screen,
)

from harness.emulation.device_spec import load_device_spec
from harness.emulation.screen_renderer import Drawn
from harness.emulation.screen_source import primed_renderer, reader_camera
from harness.emulation.world import MAKERS, maker_file
from harness.model.bench_spec import Deviation
from harness.vision.classify import UNKNOWN, Classifier, ClassifierParams
from harness.vision.geometry import Calibration
from harness.vision.reading import ScreenReading, read_screen, variant_buttons
from harness.vision.reference import INDEX, Reference, ReferenceSet, screens_dir_for
from harness.vision.watcher import ScreenWatcher

FUJITSU = "fujitsu_japan"
#: Fujitsu's 901 code line, and the line a faulty reader leaves out (E901-05).
FUJITSU_CODE = "【901: オンライン資格確認等システムの障害】"
FUJITSU_MISSING = E901_TEXTS[FUJITSU][0]
#: Two bench cameras and a hand-held one.
CAMERAS = ((BENCH_SEEDS[0], False), (BENCH_SEEDS[2], False), (HAND_HELD_SEEDS[0], True))


def read(device: str, content: Reference | Drawn, seed: int, *, hand_held: bool = False,
         t: float = 3.0) -> ScreenReading:
    """A frame of ``content`` classified as the watcher does it (the frame and the
    camera's corners), and read from the screen rectified at the fine size."""
    clf = classifier(device)
    capture = device_camera(device, seed, hand_held=hand_held).capture(screen(device, content),
                                                                       t)
    frame = (capture.image.shape[1], capture.image.shape[0])
    decision = clf.classify_frame(capture.image,
                                  Calibration(capture.quad, frame, clf.references.size))
    return read_screen(clf, decision, rectified(capture, clf))


def drawn_like(device: str, name: str, texts: tuple[str, ...]) -> Drawn:
    """A reference's screen with other texts (a faulty reader's)."""
    ref = references(device).get(name)
    return Drawn(ref.state, ref.shows or ref.state, texts, ref.buttons, ref.overlay)


# -- the fragment search ----------------------------------------------------------------------


@pytest.mark.parametrize("maker", MAKERS)
def test_the_901_code_is_found_on_its_screen_and_on_no_other(maker: str) -> None:
    clf = classifier(maker)
    refs = references(maker)
    others = ["first", "first@staff+smartphone", "consent_1", "checking", "error_network",
              *(["error_account"] if maker == "canon" else [])]
    for seed, hand_held in CAMERAS:
        cam = device_camera(maker, seed, hand_held=hand_held)
        for name in ("error_901", *others):
            fine = rectified(cam.capture(screen(maker, refs.get(name)), 2.0 + seed), clf)
            score = clf.find_region(fine, "error_901", "code")
            if name == "error_901":
                assert score >= clf.accept, f"{maker} camera {seed}: {score:.3f}"
            else:
                assert score < clf.accept, f"{maker} camera {seed}, {name}: {score:.3f}"


def test_canon_codes_of_one_length_are_told_apart() -> None:
    """【901】, 【011】 and 【906】: same place, same width, same brackets; the whole patch
    correlates at 0.83-0.88 between them, so each glyph must be checked."""
    clf = classifier("canon")
    refs = references("canon")
    codes = {"error_901": "【901】", "error_network": "【011】", "error_account": "【906】"}
    for name, text in codes.items():
        assert refs.get(name).region("code").text == text
    for seed, hand_held in CAMERAS:
        cam = device_camera("canon", seed, hand_held=hand_held)
        for shown in codes:
            fine = rectified(cam.capture(screen("canon", refs.get(shown)), 4.0), clf)
            for sought in codes:
                score = clf.find_region(fine, sought, "code")
                assert (score >= clf.accept) is (sought == shown), \
                    f"camera {seed}: {codes[sought]} on {codes[shown]}: {score:.3f}"


def test_a_code_moved_by_a_missing_line_is_found_and_not_at_its_place() -> None:
    clf = classifier(FUJITSU)
    panel = screen(FUJITSU, drawn_like(FUJITSU, "error_901", (E901_TEXTS[FUJITSU][1],)))
    fine = rectified(device_camera(FUJITSU, BENCH_SEEDS[1]).capture(panel, 1.0), clf)
    assert clf.find_region(fine, "error_901", "code") >= clf.accept
    # In the rows the reference has it, only part of it: the search is what finds it.
    narrow = Classifier(clf.references, ClassifierParams(search_band=0.0))
    assert narrow.find_region(fine, "error_901", "code") < clf.accept


# -- readings through the camera ------------------------------------------------------------


@pytest.mark.parametrize("maker", MAKERS)
def test_each_makers_901_reads_as_the_901_screen_with_all_its_texts(maker: str) -> None:
    ref = references(maker).get("error_901")
    for seed, hand_held in CAMERAS[::2]:
        reading = read(maker, ref, seed, hand_held=hand_held)
        assert reading.state == "error_901", reading
        assert reading.texts == ref.texts and reading.has_text("【901")
        assert reading.shows == "error_901" and reading.candidate is None
        assert reading.reference == "error_901" and reading.known


@pytest.mark.parametrize("maker", ["canon", "panasonic", "atlas"])
def test_a_901_screen_missing_its_other_lines_still_shows_the_code(maker: str) -> None:
    ref = references(maker).get("error_901")
    code = ref.region("code").text
    assert code == "【901】"
    panel = drawn_like(maker, "error_901", (code,))
    for seed, hand_held in CAMERAS:
        reading = read(maker, panel, seed, hand_held=hand_held)
        assert reading.state == UNKNOWN, reading
        assert reading.candidate == "error_901" and reading.texts == (code,), reading


@pytest.mark.parametrize("maker", ["canon", "usen_almex"])
def test_a_network_error_does_not_read_as_901(maker: str) -> None:
    ref = references(maker).get("error_network")
    code = ref.region("code").text
    assert code is not None and code.startswith("【011")
    for seed, hand_held in CAMERAS:
        reading = read(maker, ref, seed, hand_held=hand_held)
        assert reading.state == "error_network", reading
        assert reading.has_text("【011") and not reading.has_text("901")
    # The same screen with a line more is not the network error screen, but its code is
    # still read, and it is not the 901's.
    faulty = drawn_like(maker, "error_network", (*ref.texts, "受付窓口にお越しください"))
    for seed, hand_held in CAMERAS:
        reading = read(maker, faulty, seed, hand_held=hand_held)
        assert reading.state == UNKNOWN, reading
        assert reading.texts == (code,) and reading.candidate == "error_network", reading
        assert not reading.has_text("901")


@pytest.mark.parametrize("maker", MAKERS)
def test_an_unknown_screen_without_codes_reads_nothing(maker: str) -> None:
    """A first screen with another message: unknown, nothing confirmed on it."""
    panel = drawn_like(maker, "first", ("カードを読み取れませんでした",))
    reading = read(maker, panel, BENCH_SEEDS[1])
    assert reading.state == UNKNOWN and reading.texts == (), reading
    assert not reading.has_text("【")


@pytest.mark.parametrize("maker", ["panasonic", "fujitsu_japan", "atlas"])
def test_the_first_screens_buttons_read_by_name(maker: str) -> None:
    refs = references(maker)
    both = read(maker, refs.get("first@staff+smartphone"), BENCH_SEEDS[3])
    assert both.state == "first", both
    assert both.buttons == ("staff", "smartphone")
    assert both.labels == ("職員用ボタン", "スマートフォンを利用")
    staff = read(maker, refs.get("first@staff"), BENCH_SEEDS[3])
    assert (staff.reference, staff.buttons) == ("first@staff", ("staff",)), staff
    plain = read(maker, refs.get("first"), BENCH_SEEDS[3])
    assert (plain.reference, plain.buttons, plain.labels) == ("first", (), ()), plain


# -- the faulty Fujitsu reader, watched as a suite watches it --------------------------------


def fujitsu_watcher(**world_kw: object) -> tuple[object, object, ScreenWatcher]:
    world, reader = started_world(FUJITSU, upgrade="installed", **world_kw)
    renderer = primed_renderer(load_device_spec(maker_file(FUJITSU)).display, FUJITSU)
    source = reader_camera(f"cam-{FUJITSU}", reader, renderer, world.clock, seed=7)
    watcher = ScreenWatcher(source, classifier(FUJITSU), world.clock, interval_s=0.5)
    assert watcher.read().state == "first"
    check_in_by_face(world, reader, patient())
    world.terminal.press("OK")
    world.terminal.press("OK")
    return world, reader, watcher


def test_the_faulty_fujitsu_901_shows_the_code_but_not_the_notices_text() -> None:
    dropped = Deviation(change="behaviour.states.error_901.texts", to=[E901_TEXTS[FUJITSU][1]],
                        why="a line of the 901 screen missing")
    world, reader, watcher = fujitsu_watcher(deviations={FUJITSU: [dropped]})
    assert reader.screen().shows == "error_901"  # the twin shows its (wrong) 901 screen
    for obs in watcher.watch(2.0):
        reading = obs.reading
        assert reading is not None and reading.state == UNKNOWN, describe(obs.decision)
        assert reading.candidate == "error_901", reading
        assert reading.texts == (FUJITSU_CODE,) and reading.has_text("【901")
        assert not reading.has_text(FUJITSU_MISSING)


def test_the_good_fujitsu_901_shows_the_notices_text() -> None:
    world, reader, watcher = fujitsu_watcher()
    reading = watcher.wait_for("error_901", timeout_s=3).reading
    assert reading is not None and reading.has_text(FUJITSU_MISSING)
    assert reading.has_text(FUJITSU_CODE) and reading.texts == tuple(E901_TEXTS[FUJITSU])


def test_a_known_screen_is_read_without_a_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """look() costs what it did for recognised screens: the search is for unknown ones."""
    clf = Classifier(references(FUJITSU))
    calls: list[str] = []
    original = clf.find_region

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(clf, "find_region", counted)
    ref = references(FUJITSU).get("error_901")
    capture = device_camera(FUJITSU, BENCH_SEEDS[0]).capture(screen(FUJITSU, ref), 1.0)
    decision = clf.classify(rectified(capture, clf))
    assert read_screen(clf, decision, rectified(capture, clf)).state == "error_901"
    assert calls == []
    faulty = drawn_like(FUJITSU, "error_901", (E901_TEXTS[FUJITSU][1],))
    capture = device_camera(FUJITSU, BENCH_SEEDS[0]).capture(screen(FUJITSU, faulty), 1.0)
    decision = clf.classify(rectified(capture, clf))
    assert read_screen(clf, decision, rectified(capture, clf)).has_text("【901")
    assert "error_901" in calls
    # Without the screen, an unknown decision reads as its closest state only.
    assert read_screen(clf, decision) == ScreenReading(UNKNOWN, decision.score,
                                                       candidate=decision.runner_up)


# -- the index and the reading's parts -------------------------------------------------------


@pytest.mark.parametrize("device", [*MAKERS, "terminal"])
def test_code_and_button_regions_name_their_text(device: str) -> None:
    codes = 0
    for ref in references(device):
        for region in ref.regions:
            if region.name.startswith("button:"):
                assert region.text == region.name.removeprefix("button:")
                assert region.text in ref.buttons
            elif region.name == "code":
                codes += 1
                assert region.text is not None and region.text.startswith("【")
                assert region.text.endswith("】")
                assert any(region.text in t for t in ref.texts), (ref.name, region.text)
            else:
                assert region.text is None, (ref.name, region.name)
    assert codes >= (2 if device != "terminal" else 0)


def test_an_index_without_region_texts_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "canon"
    shutil.copytree(screens_dir_for("canon"), folder)
    index = folder / INDEX
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    index.write_text("".join(x for x in lines if not x.lstrip().startswith("text: ")),
                     encoding="utf-8")
    refs = ReferenceSet.load(folder)
    assert all(r.text is None for ref in refs for r in ref.regions)
    # Nothing to read an unknown screen's codes by: it reads as nothing, not as an error.
    clf = Classifier(refs)
    panel = screen("canon", drawn_like("canon", "error_901", ("【901】",)))
    fine = rectified(device_camera("canon", BENCH_SEEDS[0]).capture(panel, 1.0), clf)
    reading = read_screen(clf, clf.classify(fine), fine)
    assert reading.state == UNKNOWN and reading.texts == ()


def test_variant_buttons_and_has_text() -> None:
    assert variant_buttons("first@staff+smartphone") == ("staff", "smartphone")
    assert variant_buttons("first@staff") == ("staff",)
    assert variant_buttons("first") == ()
    reading = ScreenReading(UNKNOWN, 0.3, texts=("【901: 障害】",), candidate="error_901")
    assert reading.has_text("【901") and reading.has_text("障害】")
    assert not reading.has_text("【011") and not reading.known
    assert reading.as_json()["texts"] == ["【901: 障害】"]


def test_a_decision_point_reads_the_screen_once_for_all_its_checks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The faulty Fujitsu 901 judged at a decision point: the text it leaves out fails with
    what was read there, a text no reference draws is judged by OCR, and the screen's OCR
    (a tenth of a second a screen) is read once for the reading and every check."""
    from harness.vision import ocr, reading, text_check
    from harness.vision import watcher as watcher_module

    watcher_module._JUDGED.clear()  # another test's reading of these pixels is not counted
    dropped = Deviation(change="behaviour.states.error_901.texts", to=[E901_TEXTS[FUJITSU][1]],
                        why="a line of the 901 screen missing")
    _, _, watcher = fujitsu_watcher(deviations={FUJITSU: [dropped]})
    obs = watcher.look()
    reads: list[tuple[int, ...]] = []

    def counted(image, **kwargs):  # noqa: ANN001, ANN003, ANN202
        reads.append(image.shape)
        return ocr.read_lines(image, **kwargs)

    monkeypatch.setattr(reading, "read_lines", counted)
    monkeypatch.setattr(text_check, "read_lines", counted)
    read, checks = watcher.read_texts(obs, (FUJITSU_MISSING, FUJITSU_CODE, "受付番号：１２３"))
    assert len(reads) == 1, reads
    assert read.lines and [c.ok for c in checks] == [False, True, False], checks
    missing, _, unknown = checks
    assert missing.method == "glyphs" and missing.read, missing  # what shows there instead
    # judged on the same OCR: the read line closest to it
    assert unknown.method == "ocr" and unknown.read in {line.text for line in read.lines}
