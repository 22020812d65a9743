"""The evidence store: files, index, downscaling, safe names, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.protocols import Frame
from harness.vision.evidence import Evidence, EvidenceStore, safe_name


def frame(width: int = 1920, height: int = 1080, *, t: float = 12.3456, index: int = 7) -> Frame:
    image = np.zeros((height, width, 3), np.uint8)
    # Left half white, right half blue: survives downscaling and JPEG, and shows orientation.
    image[:, : width // 2] = 255
    image[:, width // 2 :] = (255, 0, 0)
    return Frame(image, t, index, "cam1")


def test_keep_writes_the_frame_the_screen_and_one_index_line(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev")
    assert not (tmp_path / "ev").exists()  # created on first use
    rectified = np.zeros((90, 160), np.uint8)
    rectified[10:20, 30:90] = 200
    item = store.keep(
        frame(),
        "pin_entry",
        rectified=rectified,
        data={"scores": {"pin_entry": np.float32(0.875), "first": 0.1}, "region": (1, 2)},
    )
    assert item.image == "cam1/000007-12.346-pin_entry.jpg"
    assert item.rectified == "cam1/000007-12.346-pin_entry.rectified.png"
    assert item.scale == pytest.approx(0.5)

    jpeg = cv2.imread(str(tmp_path / "ev" / item.image))
    assert jpeg.shape == (540, 960, 3)  # max_width, aspect kept
    assert jpeg[270, 100].tolist() == pytest.approx([255, 255, 255], abs=8)
    assert jpeg[270, 860].tolist() == pytest.approx([255, 0, 0], abs=8)
    png = cv2.imread(str(tmp_path / "ev" / item.rectified), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(png, rectified)  # lossless, not downscaled

    lines = (tmp_path / "ev" / "evidence.jsonl").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record == {
        "source": "cam1",
        "index": 7,
        "t": 12.3456,
        "label": "pin_entry",
        "image": item.image,
        "rectified": item.rectified,
        "scale": 0.5,
        "data": {"scores": {"pin_entry": 0.875, "first": 0.1}, "region": [1, 2]},
    }


def test_small_frames_are_not_enlarged_and_items_accumulate(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_width=960, jpeg_quality=95)
    a = store.keep(frame(640, 360, index=1, t=1.0), "first")
    b = store.keep(frame(640, 360, index=1, t=1.0), "first")  # the same frame, twice
    c = store.keep(frame(640, 360, index=2, t=2.5), "completion")
    assert a.scale == 1.0 and cv2.imread(str(tmp_path / a.image)).shape == (360, 640, 3)
    assert a.rectified is None
    assert len({a.image, b.image, c.image}) == 3
    assert all((tmp_path / x.image).is_file() for x in (a, b, c))
    assert EvidenceStore.load(tmp_path) == [a, b, c]


def test_labels_and_sources_cannot_escape_the_directory(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev")
    shot = Frame(frame(100, 50).image, 0.0, 0, "../../etc")
    item = store.keep(shot, "../../x/y z?*:")
    written = (tmp_path / "ev" / item.image).resolve()
    assert written.is_relative_to((tmp_path / "ev").resolve())
    assert "/" not in item.image.split("/", 1)[1] and ".." not in item.image
    assert item.label == "../../x/y z?*:"  # the record keeps the label as given
    assert safe_name("エラー 901/画面") == "エラー_901_画面"
    assert safe_name("...") == "item"


@pytest.mark.parametrize(
    "data",
    [
        {"pin": "1234"},
        {"PIN": "1234"},
        {"user_pin": "1234"},
        {"pinCode": "1234"},
        {"pin-code": "1234"},
        {"pin1": "1234"},
        {"staff passcode": "0000"},
        {"Password": "x"},
        {"暗証番号": "1234"},
        {"card": {"holder": {"pin": "1234"}}},
        {"attempts": [{"typed": 1}, {"passcode": "0000"}]},
    ],
)
def test_secret_looking_keys_are_refused_and_nothing_is_written(
    tmp_path: Path, data: dict[str, object]
) -> None:
    store = EvidenceStore(tmp_path / "ev")
    with pytest.raises(ValueError, match="looks like a secret"):
        store.keep(frame(), "pin_entry", data=data)
    assert not (tmp_path / "ev").exists()


def test_harmless_keys_that_contain_pin_are_kept(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = {"spinner": True, "pinned": 1, "scores": {"sp_pin": 0.4, "staff_passcode": 0.2}}
    item = store.keep(frame(), "pin_entry", data=data)
    assert item.data == data


def test_data_that_is_not_json_is_refused_before_writing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev")
    with pytest.raises(TypeError, match="not JSON"):
        store.keep(frame(), "x", data={"what": object()})
    assert not (tmp_path / "ev").exists()


def test_evidence_paths_are_relative_for_reports(tmp_path: Path) -> None:
    item = EvidenceStore(tmp_path).keep(frame(), "first")
    assert isinstance(item, Evidence)
    assert not Path(item.image).is_absolute()
