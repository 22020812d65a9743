"""The loaders' caches (harness.loading.file_stamp) know a file by its content: a file
written again at the same size within one tick of a coarse file-system clock (a test's or
the mutant generator's deviations, on a kernel that keeps jiffy times) is read anew, never
taken for the file it replaced."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.config import CONFIG_FILE, lab_config
from harness.emulation.device_spec import load_device_spec
from harness.errors import BadInput
from harness.loading import MAX_BYTES, layered_stamp, read_yaml
from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file


def _rewrite_keeping_time(path: Path, text: str) -> None:
    """``text`` into ``path``, same size, and the old modification time put back."""
    before = path.stat()
    assert len(text.encode("utf-8")) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_a_yaml_file_rewritten_in_the_same_tick_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "given.yaml"
    path.write_text("answer: 1\n", encoding="utf-8")
    assert read_yaml(path)[0] == {"answer": 1}
    _rewrite_keeping_time(path, "answer: 2\n")
    assert read_yaml(path)[0] == {"answer": 2}


def test_a_behaviour_base_rewritten_in_the_same_tick_is_loaded_again(tmp_path: Path) -> None:
    """A twin's behaviour comes from its file and the files of its ``base`` chain: a
    change to the base alone is a new behaviour."""
    shipped = project_file("fixtures/devices/face_auth")
    for name in ("canon.yaml", "common-flow.yaml"):
        shutil.copy(shipped / name, tmp_path / name)
    base = tmp_path / "common-flow.yaml"
    (tmp_path / "canon.yaml").write_text(
        (shipped / "canon.yaml").read_text("utf-8").replace("start: {seconds: 15}", ""),
        encoding="utf-8")  # canon's own start time out: the base's counts
    first = load_device_spec(tmp_path / "canon.yaml")
    assert first.behaviour.start.seconds == 10
    text = base.read_text("utf-8")
    _rewrite_keeping_time(base, text.replace("start: {seconds: 10}", "start: {seconds: 12}", 1))
    assert load_device_spec(tmp_path / "canon.yaml").behaviour.start.seconds == 12


def test_a_profile_rewritten_in_the_same_tick_is_loaded_again(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(default_profiles_dir(), tmp_path / "profiles"))
    first = ProfileSet.load(folder)
    path = folder / "canon.yaml"
    text = path.read_text("utf-8")
    assert first.profiles["canon"].maker_name == "キヤノン (Canon)"
    _rewrite_keeping_time(path, text.replace("キヤノン (Canon)", "キヤノン (CANON)", 1))
    assert ProfileSet.load(folder).profiles["canon"].maker_name == "キヤノン (CANON)"


def test_a_file_that_never_ends_is_not_read_whole(tmp_path: Path) -> None:
    """The stamp reads what the parser would, at most one byte past the largest file the
    rig reads: /dev/zero as a behaviour file is refused, not read until memory runs out."""
    endless = Path("/dev/zero")
    with pytest.raises(BadInput, match="larger than"):
        read_yaml(endless)
    assert layered_stamp(endless) is None  # the loader then says why
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 10))
    with pytest.raises(BadInput, match="larger than"):
        read_yaml(big)


def test_an_unreadable_lab_config_is_bad_input(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / CONFIG_FILE).mkdir()  # a folder of that name
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInput, match="cannot read"):
        lab_config()


def test_each_read_of_a_kept_file_is_a_copy_of_its_own(tmp_path: Path) -> None:
    # Deviations change what they are given: a change must reach neither the kept parse
    # nor the next reader; nor, where the file names one block twice (an alias), its
    # other place.
    path = tmp_path / "bench.yaml"
    path.write_text("base: &b {power: {channel: 1}, tags: [a, b], when: 2026-01-05}\n"
                    "other: *b\nwhen: 2026-01-05 09:00:00\n", encoding="utf-8")
    first, _ = read_yaml(path)
    assert first["other"] == first["base"] and first["base"]["when"].year == 2026
    first["base"]["power"]["channel"] = 9
    first["base"]["tags"].append("c")
    assert first["other"] == {"power": {"channel": 1}, "tags": ["a", "b"],
                              "when": first["base"]["when"]}
    again, _ = read_yaml(path)
    assert again["base"] == again["other"] == first["other"]
    assert again["when"] == first["when"]


def test_two_benches_asking_for_one_deviated_twin_share_it_and_a_bad_one_blames_each(
        tmp_path: Path) -> None:
    from harness.bench import load_bench_spec
    from harness.emulation.bench import load_twins

    change = {"change": "behaviour.staff_button.passcode_digits", "to": 6, "why": "the same"}
    broken = {"change": "behaviour.no_such_key.at_all", "to": 1, "why": "broken"}
    twins = []
    for name, deviations in (("a", [change]), ("b", [change]), ("c", [broken]),
                             ("d", [broken])):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            f"base: {project_file('fixtures/benches/emulated.yaml')}\nbench: {name}\n"
            f"readers:\n  - name: canon\n    deviations: {deviations!r}\n", encoding="utf-8")
        try:
            twins.append(load_twins(load_bench_spec(path), path))
        except BadInput as exc:
            assert str(path) in str(exc) and "no_such_key" in str(exc)
            twins.append(None)
    a, b, c, d = twins
    assert a is not None and b is not None and c is None and d is None
    assert a["canon"] is b["canon"] and a["atlas"] is b["atlas"]
    assert a["canon"] is not load_twins(*_default())["canon"]


def _default() -> tuple[object, Path]:
    from harness.bench import load_bench_spec

    path = project_file("fixtures/benches/emulated.yaml")
    return load_bench_spec(path), path
