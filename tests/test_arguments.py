"""Command-line values checked while parsing (harness.arguments): out of range, not a
number, not finite, a file where a folder is wanted: exit 2 naming the argument."""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

import pytest

from harness.arguments import (
    existing_file,
    finite_positive_seconds,
    image_file,
    positive_int,
    writable_folder,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="onshi-rig certify")
    p.add_argument("--jobs", type=positive_int, default=2)
    p.add_argument("--frames", type=positive_int, default=8)
    p.add_argument("--timeout", type=finite_positive_seconds, default=30.0)
    p.add_argument("--out", type=writable_folder, default=None)
    p.add_argument("--bench", type=existing_file, default=None)
    p.add_argument("images", nargs="*", type=image_file)
    return p


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(list(argv))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", "", "1e3", "0x2"])
def test_jobs_must_be_a_whole_number_of_one_or_more(capsys, value: str) -> None:  # noqa: ANN001
    err = refused(capsys, "--jobs", value) if not value.startswith("-") else \
        refused(capsys, f"--jobs={value}")
    assert "argument --jobs" in err


def test_good_numbers_pass_through_unchanged(tmp_path: Path) -> None:
    args = parser().parse_args(["--jobs", "3", "--frames", "1", "--timeout", "0.5",
                                "--out", str(tmp_path / "new" / "run")])
    assert (args.jobs, args.frames, args.timeout) == (3, 1, 0.5)
    assert args.out == tmp_path / "new" / "run"


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "-inf", "1e9", "soon", "NaN"])
def test_timeout_is_finite_positive_seconds(capsys, value: str) -> None:  # noqa: ANN001
    err = refused(capsys, f"--timeout={value}")
    assert "argument --timeout" in err


def test_out_on_a_file_is_refused(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    plain = tmp_path / "report.json"
    plain.write_text("{}", encoding="utf-8")
    assert "a file, not a folder" in refused(capsys, "--out", str(plain))
    # a folder to be made under a file cannot be made either
    assert "is a file, not a folder" in refused(capsys, "--out", str(plain / "run"))


def test_bench_must_be_an_existing_file(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    assert "no such file" in refused(capsys, "--bench", str(tmp_path / "none.yaml"))
    assert "not a file" in refused(capsys, "--bench", str(tmp_path))


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


@pytest.mark.parametrize("head", [png_header(20000, 20000), jpeg_header(20000, 20000),
                                  jpeg_header(65535, 65535), png_header(0, 600)])
def test_an_image_declaring_a_huge_or_empty_size_is_refused_before_decoding(
        capsys, tmp_path: Path, head: bytes) -> None:  # noqa: ANN001
    path = tmp_path / "huge.img"
    path.write_bytes(head)
    err = refused(capsys, str(path))
    assert "huge.img" in err and "declares" in err


def test_a_real_frame_sized_image_passes(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), np.zeros((1080, 1920, 3), np.uint8))
    png = tmp_path / "frame.png"
    cv2.imwrite(str(png), np.zeros((600, 1024, 3), np.uint8))
    assert parser().parse_args([str(path), str(png)]).images == [path, png]
