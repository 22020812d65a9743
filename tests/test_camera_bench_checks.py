"""A bench file's cameras are tied to what they watch: one device is one camera, and the
readers' ``camera`` and the cameras' ``watches`` agree (huntR R2, R10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import check_bench_file
from harness.errors import BadInput

LAB = Path(__file__).resolve().parents[1] / "fixtures" / "benches" / "lab-example.yaml"


def _bench(tmp_path: Path, cameras: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(f"base: {LAB}\nbench: mine\ncameras:\n{cameras}", "utf-8")
    return path


@pytest.mark.parametrize("source", ["/dev/video0", "0", "' 0'"])
def test_two_cameras_of_one_source_are_bad_input_at_the_line(tmp_path: Path,
                                                              source: str) -> None:
    path = _bench(tmp_path, (
        "  - {name: cam-panasonic, watches: panasonic-1, source: /dev/video0}\n"
        "  - {name: cam-terminal, watches: terminal, source: /dev/video4}\n"
        f"  - {{name: cam-atlas, watches: atlas-1, source: {source}}}\n"))
    with pytest.raises(BadInput) as caught:
        check_bench_file(path)
    text = str(caught.value)
    assert f"{path}:6:" in text and "cameras[cam-atlas].source" in text
    assert "also camera 'cam-panasonic'" in text


def test_two_cameras_of_one_stream_url_are_bad_input(tmp_path: Path) -> None:
    url = "rtsp://nvr.lab:554/ch1"
    path = _bench(tmp_path, (
        f"  - {{name: cam-panasonic, watches: panasonic-1, source: '{url}'}}\n"
        f"  - {{name: cam-terminal, watches: terminal, source: '{url}'}}\n"
        "  - {name: cam-atlas, watches: atlas-1, source: /dev/video2}\n"))
    with pytest.raises(BadInput, match=r"bench.yaml:5: cameras\[cam-terminal\].source"):
        check_bench_file(path)


def test_a_readers_camera_contradicting_watches_is_bad_input_at_both_lines(
        tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(
        f"base: {LAB}\nbench: mine\n"
        "cameras:\n"
        "  - {name: cam-panasonic, watches: atlas-1, source: /dev/video0}\n"
        "  - {name: cam-terminal, watches: terminal, source: /dev/video4}\n"
        "  - {name: cam-atlas, watches: panasonic-1, source: /dev/video2}\n", "utf-8")
    with pytest.raises(BadInput) as caught:
        check_bench_file(path)
    text = str(caught.value)
    # The cameras' lines are this file's; the readers' are the base's.
    assert f"{path}:4: cameras[cam-panasonic].watches" in text
    assert "its camera 'cam-panasonic' watches 'atlas-1'" in text


def test_the_shipped_benches_agree() -> None:
    for path in sorted(LAB.parent.glob("*.yaml")):
        check_bench_file(path)


# -- a camera's latency (huntR R11) -----------------------------------------------------------
def test_a_network_stream_without_its_latency_is_bad_input(tmp_path: Path) -> None:
    path = _bench(tmp_path, (
        "  - {name: cam-panasonic, watches: panasonic-1, source: 'rtsp://nvr.lab/1'}\n"
        "  - {name: cam-terminal, watches: terminal, source: /dev/video4}\n"
        "  - {name: cam-atlas, watches: atlas-1, source: /dev/video2}\n"))
    with pytest.raises(BadInput, match=r"bench.yaml:4: cameras\[cam-panasonic\].source: .*latency_s"):
        check_bench_file(path)
    path.write_text(path.read_text("utf-8").replace(
        "source: 'rtsp://nvr.lab/1'", "source: 'rtsp://nvr.lab/1', latency_s: 1.2"), "utf-8")
    spec = check_bench_file(path)
    assert spec.cameras[0].latency_s == 1.2


def test_a_deriving_file_that_changes_a_source_gives_its_latency_again(
        tmp_path: Path) -> None:
    """The base's latency was measured on the base's source: a stream put in its place (a
    recorder, a proxy) lags as it lags."""
    base = _bench(tmp_path, (
        "  - {name: cam-panasonic, watches: panasonic-1, source: 'http://box/p.mjpg', "
        "latency_s: 0}\n"
        "  - {name: cam-terminal, watches: terminal, source: 'http://box/t.mjpg', "
        "latency_s: 0}\n"
        "  - {name: cam-atlas, watches: atlas-1, source: /dev/video2}\n"))
    check_bench_file(base)
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"base: {base}\nbench: lab\ncameras:\n"
                   "  - {name: cam-terminal, source: 'http://nvr:47811/t.mjpg'}\n", "utf-8")
    with pytest.raises(BadInput, match=r"lab.yaml:4: cameras\[cam-terminal\].source: .*latency_s"):
        check_bench_file(lab)
    # The same source again keeps what was measured on it.
    lab.write_text(f"base: {base}\nbench: lab\ncameras:\n"
                   "  - {name: cam-terminal, source: 'http://box/t.mjpg', width: 640}\n",
                   "utf-8")
    assert check_bench_file(lab).cameras[1].latency_s == 0
