"""The whole-screen OCR (harness/vision/ocr.py's read_lines, the lines found by
harness/vision/text_lines.py) on camera frames of the terminal's dialogs and the readers'
screens, and on a drawn screen of frames.

A dialog has a window title (light on the window's dark bar), its own title (light on its
dark title bar), body text and a button label (dark on light, in a frame), thin borders and
a shadow. Read as one page with one polarity, it came out as lines of ``|`` or nothing.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_vision_text import shot
from vision_helpers import BENCH_SEEDS, HAND_HELD_SEEDS, references

from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
from harness.emulation.world import default_terminal_file
from harness.vision.ocr import read_lines
from harness.vision.text_check import drawn_form, normalise
from harness.vision.text_lines import find_lines

#: The window's title, as the terminal's twin draws it on its desktop.
WINDOW_TITLE = load_with_deviations(default_terminal_file(), TerminalBehaviour).display.title
#: A bench camera and a hand-held one. (Through the blurriest of the tests' cameras, bench
#: cameras 1, 3 and 4, the window title's 21-pixel kanji read as their neighbours: 資 as
#: 責 or 貢, 端 as 策; the dialog's own title and button still read.)
CAMERAS = ((BENCH_SEEDS[1], False), (HAND_HELD_SEEDS[0], True))
#: What Tesseract makes of a border or a frame's side.
STROKES = set("|｜丨!Il[]_-ー一")


def _in_order(wanted: list[str], read: list[str]) -> list[str]:
    """The wanted texts not found in ``read`` (normalised lines, joined) in order. A text of
    six characters or more may hold one OCR confusion (し read as じ through a bench
    camera's blur): these tests are of the lines found and their order; the glyph check,
    not OCR, judges a text character for character."""
    joined, at, missing = "".join(read), 0, []
    for text in wanted:
        found = joined.find(text, at)
        if found < 0 and len(text) >= 6:
            found = next((i for i in range(at, len(joined) - len(text) + 1)
                          if sum(a != b for a, b in zip(joined[i:i + len(text)], text,
                                                        strict=True)) <= 1),
                         -1)
        if found < 0:
            missing.append(text)
        else:
            at = found + len(text)
    return missing


def test_in_order_allows_one_confusion_in_a_long_text_only() -> None:
    assert _in_order(["発生しました。", "OK"], ["発生しま", "じた。", "OK"]) == []
    assert _in_order(["発生しました。"], ["発生じまじた。"]) == ["発生しました。"]
    assert _in_order(["エラー", "OK"], ["エラ一", "OK"]) == ["エラー"]
    assert _in_order(["OK", "発生しました。"], ["発生しました。", "OK"]) == ["発生しました。"]


def _centre_in(box: tuple[int, int, int, int], around: tuple[int, int, int, int],
               slack: int = 6) -> bool:
    x, y, w, h = around
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return x - slack <= cx <= x + w + slack and y - slack <= cy <= y + h + slack


@pytest.mark.parametrize("name", ["download_request_accepted", "update_ready",
                                  "network_error", "check_error_1"])
def test_a_dialog_reads_as_its_window_title_dialog_title_body_and_button_in_order(
        name: str) -> None:
    refs = references("terminal")
    ref = refs.get(name)
    # Where the window's title is: the desktop's only line (the picture without a dialog).
    (window,) = find_lines(cv2.cvtColor(refs.get("desktop").image, cv2.COLOR_BGR2GRAY))
    drawn = [window.box, *(line.box for line in ref.lines)]
    wanted = [normalise(t) for t in (WINDOW_TITLE, ref.title, *map(drawn_form, ref.texts),
                                     *ref.buttons)]
    title_bar = next(region.box for region in ref.regions if region.name == "title")
    for seed, hand_held in CAMERAS:
        fine = shot("terminal", ref, seed, hand_held=hand_held)
        # Read in the title bar alone (a box cut out of the screen, mostly text): the title.
        # (Tesseract reads a short word's first glyph twice at times: エエラー.)
        in_bar = read_lines(fine, reference_size=refs.size, box=title_bar)
        assert len(in_bar) == 1 and normalise(ref.title) in normalise(in_bar[0].text), \
            (seed, in_bar)
        lines = read_lines(fine, reference_size=refs.size)
        read = [normalise(line.text) for line in lines]
        assert _in_order(wanted, read) == [], (seed, read)
        # Nothing else: one line read for each line drawn, where it is drawn; none of stroke
        # debris (a border, a frame's side).
        assert len(lines) == len(drawn), (seed, read)
        assert all(any(_centre_in(line.box, box) for box in drawn) for line in lines), \
            (seed, [(line.text, line.box) for line in lines])
        assert not any(set(text) <= STROKES for text in read), (seed, read)


@pytest.mark.parametrize(("device", "name", "seed"), [
    # A header light on red, the body dark on a light page, a button light on dark grey.
    ("panasonic", "first@staff", BENCH_SEEDS[0]),
    # Light text on a dark page.
    ("atlas", "error_901", HAND_HELD_SEEDS[0]),
])
def test_a_reader_screen_reads_each_line_in_its_own_polarity(device: str, name: str,
                                                             seed: int) -> None:
    refs = references(device)
    ref = refs.get(name)
    fine = shot(device, ref, seed, hand_held=seed in HAND_HELD_SEEDS)
    read = [normalise(line.text) for line in read_lines(fine, reference_size=refs.size)]
    wanted = [normalise(drawn_form(t)) for t in ref.texts if "⚠" not in t]
    wanted += [normalise(b) for b in ref.buttons]
    assert _in_order(wanted, read) == [], read
    header = {"panasonic": "Panasonic顔認証付きカードリーダー", "atlas": "MATSUMURA"}[device]
    assert header in read, read


def _frames(labels: bool) -> np.ndarray:
    """A drawn dialog: a light page in a border, a dark title bar, a framed button and a
    shadow; with ``labels``, a light title on the bar and a dark label in the button."""
    page = np.full((360, 640), 235, np.uint8)
    cv2.rectangle(page, (10, 10), (629, 349), 90, 1)  # the window's border
    cv2.rectangle(page, (100, 60), (540, 300), 120, 1)  # the dialog's border
    page[302:308, 104:546] = 110  # its shadow
    page[300:306, 540:546] = 110
    page[61:95, 101:540] = 40  # its title bar
    cv2.rectangle(page, (380, 240), (520, 280), 70, 2)  # the button's frame
    cv2.rectangle(page, (230, 240), (370, 280), 70, 2)  # another, side by side
    if labels:
        cv2.putText(page, "Notice", (116, 86), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 240, 2)
        cv2.putText(page, "Close", (420, 268), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 20, 2)
    return cv2.GaussianBlur(page, (0, 0), 1.0)


def test_borders_frames_bars_and_shadows_are_no_lines() -> None:
    assert find_lines(_frames(labels=False)) == ()
    assert read_lines(_frames(labels=False)) == ()
    lines = find_lines(_frames(labels=True))
    # The title light on its bar, the label dark in its frame; each line the text's own
    # box (not the bar's, nor the frame's).
    assert [line.light_text for line in lines] == [True, False], lines
    title, label = (line.box for line in lines)
    assert _centre_in(title, (116, 70, 80, 18), slack=2) and title[2] < 100, lines
    assert _centre_in(label, (420, 252, 65, 18), slack=2) and label[2] < 80, lines
    assert [normalise(line.text) for line in read_lines(_frames(labels=True))] == \
        ["Notice", "Close"]
