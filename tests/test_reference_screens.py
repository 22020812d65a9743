"""The committed reference screens: one per state of every maker's reader and of the
terminal, the notices' texts where they give them, valid regions, and exactly what the
twins draw (so a change to a twin's screen cannot leave stale references behind)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest
from seed_texts import E901_TEXTS

from harness.emulation.behaviour import TerminalBehaviour, load_with_deviations
from harness.emulation.device_spec import load_device_spec
from harness.emulation.world import MAKERS, default_terminal_file, maker_file
from harness.errors import BadInput, RigError
from harness.model.screens import SCREENS
from harness.vision.reference import INDEX, ReferenceSet, read_index, screens_dir_for


@pytest.mark.parametrize("maker", MAKERS)
def test_every_twin_state_has_a_reference(maker: str) -> None:
    refs = ReferenceSet.load(screens_dir_for(maker))
    behaviour = load_device_spec(maker_file(maker)).behaviour
    assert behaviour is not None
    covered = {r.name for r in refs}
    for name, entry in read_index(refs.directory).references.items():
        covered |= set(entry.also)
        assert entry.file == f"{name}.png"
    assert set(behaviour.states) <= {n.split("@")[0] for n in covered}
    for ref in refs:
        assert ref.shows in SCREENS, ref.name
        assert ref.image.shape[1::-1] == refs.size
        assert (refs.directory / f"{ref.name}.png").is_file()


def test_the_terminal_dialogs_have_references() -> None:
    refs = ReferenceSet.load(screens_dir_for("terminal"))
    dialogs = load_with_deviations(default_terminal_file(), TerminalBehaviour).dialogs
    assert {"off", "desktop", *dialogs} == {r.name for r in refs}
    first, second = refs.get("check_error_1"), refs.get("check_error_2")
    assert first.texts != second.texts  # the two error dialogs can be told apart
    assert all(r.regions_of("match") for r in refs if r.state not in ("off", "desktop"))


@pytest.mark.parametrize("maker", sorted(E901_TEXTS))
def test_901_references_carry_the_notice_texts(maker: str) -> None:
    ref = ReferenceSet.load(screens_dir_for(maker)).get("error_901")
    assert [t.replace("⚠️", "") for t in ref.texts] == E901_TEXTS[maker]
    codes = [r for r in ref.regions if r.name == "code"]
    assert codes, "the 901 code must be a must-match region"
    assert all(r.kind == "match" for r in codes)


def test_canon_please_wait_says_what_the_notice_says() -> None:
    ref = ReferenceSet.load(screens_dir_for("canon")).get("please_wait")
    assert ref.texts == ("しばらくお待ちください",)


@pytest.mark.parametrize("maker", ["usen_almex", "fujitsu_japan"])
def test_loading_circle_references(maker: str) -> None:
    refs = ReferenceSet.load(screens_dir_for(maker))
    wait, consent = refs.get("consent_wait"), refs.get("consent_2")
    assert wait.overlay == "spinner" and wait.texts == consent.texts
    assert [r.kind for r in wait.regions if r.name == "spinner"] == ["spinner"]


def test_clock_areas_are_masked() -> None:
    for maker in ("panasonic", "fujitsu_japan"):
        refs = ReferenceSet.load(screens_dir_for(maker))
        lit = [r for r in refs if r.shows != "dark"]
        assert all(any(m.name == "clock" for m in r.regions_of("mask")) for r in lit)


# (The committed references are what the twins draw: `onshi-rig references --check`,
# tests/test_cli_vision.py.)


def test_broken_reference_folders_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "panasonic"
    shutil.copytree(screens_dir_for("panasonic"), folder)
    (folder / "first.png").write_bytes(b"not a png")
    with pytest.raises(BadInput, match=r"references\.first\.file: cannot read first.png"):
        ReferenceSet.load(folder)
    cv2.imwrite(str(folder / "first.png"), cv2.imread(str(folder / "off.png"))[:100])
    with pytest.raises(BadInput, match="the index says 1024x600"):
        ReferenceSet.load(folder)
    text = (folder / INDEX).read_text(encoding="utf-8").replace("box: [", "box: [-5, ", 1)
    (folder / INDEX).write_text(text, encoding="utf-8")
    with pytest.raises(BadInput, match=str(folder / INDEX)):
        ReferenceSet.load(folder)
    with pytest.raises(RigError, match="no reference screens for 'nosuch' in .*; known: .*canon"):
        screens_dir_for("nosuch")
