"""The names both sides share (harness/model/screens.py): every name a profile, a reference
index or a bench file gives is one the runner and the panels know, so that no rule waits
for an action no flow takes or a button no panel has (and passes for it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.model.robot_spec import DEFAULT_BUTTONS
from harness.model.screens import ACTIONS, BUTTONS, check_action
from harness.paths import project_file
from harness.vision.reference import ReferenceSet


@pytest.mark.parametrize("name", [*ACTIONS, "press:staff", "press:cancel", "terminal:OK",
                                  "terminal:確認しました", "hold_phone:front",
                                  "phone_away:sony-rc-s380", "staff_phone:sony-rc-s380"])
def test_the_actions_flows_take_are_known(name: str) -> None:
    assert check_action(name) == name


@pytest.mark.parametrize(("name", "problem"), [
    ("card_ot", "did you mean card_out"),
    ("press:staf", "'staf' is not a known reader button"),
    ("terminal:", "not an action a flow takes"),
    ("hold_phone: ", "not an action a flow takes"),
    ("pin", "not an action a flow takes"),
    ("face:match", "not an action a flow takes"),  # the walk's own, not a flow's record
])
def test_an_action_no_flow_takes_is_refused(name: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_action(name)


def test_the_robot_knows_a_label_for_every_button_the_profiles_name() -> None:
    assert set(DEFAULT_BUTTONS) == set(BUTTONS)


def test_a_flow_that_logs_an_unknown_action_is_the_rigs_mistake() -> None:
    from harness.flows.runner import FlowRun

    class Record:  # the least a FlowRun.do needs: nothing is done before the name is checked
        pass

    done: list[str] = []
    with pytest.raises(ValueError, match="not an action a flow takes"):
        FlowRun.do(Record(), "card_ot", lambda: done.append("acted"))  # type: ignore[arg-type]
    assert done == []


def _screens_with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    folder = tmp_path / "canon"
    shutil.copytree(project_file("fixtures/screens/canon"), folder)
    index = folder / "screens.yaml"
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(n for n, text in enumerate(lines, 1) if text.strip() == old)
    lines[line - 1] = lines[line - 1].replace(old, new)
    index.write_text("".join(lines), encoding="utf-8")
    return index, line


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("shows: first", "shows: frist", "'frist' is not a known screen class or terminal dialog"),
    ("shows: completion", "shows: completed", "'completed' is not a known screen class"),
    # A terminal dialog's name on a reader's screen (the reader's class is error_network).
    ("shows: error_network", "shows: network_error",
     "'network_error' is not one of a reader's screens"),
    # A misspelt button in a variant's name would be read as a button no rule names.
    ("first@staff:", "first@stafff:", "'stafff' after '@' is not a reader button: did you mean staff"),
])
def test_a_reference_of_no_known_class_is_bad_input(tmp_path: Path, old: str, new: str,
                                                    problem: str) -> None:
    """A reference whose ``shows`` is misspelt would be seen as a class no rule names: a
    reader showing it done would pass every ``never: [completion]``."""
    index, line = _screens_with(tmp_path, old, new)
    with pytest.raises(BadInput) as info:
        ReferenceSet.load(index.parent)
    assert str(info.value).startswith(f"{index}:{line}: "), str(info.value)
    assert problem in str(info.value)


def test_a_reference_of_no_class_at_all_still_loads(tmp_path: Path) -> None:
    """A lab's own screen that is none of the classes leaves ``shows`` out (a state whose
    only reference it is: one of a state whose other references give a class is refused,
    tests/test_cli_vision.py)."""
    index, _ = _screens_with(tmp_path, "shows: link_wait", "")
    refs = ReferenceSet.load(index.parent)
    assert None in {r.shows for r in refs}


def test_the_terminals_references_show_its_dialogs_only(tmp_path: Path) -> None:
    folder = tmp_path / "terminal"
    shutil.copytree(project_file("fixtures/screens/terminal"), folder)
    index = folder / "screens.yaml"
    text = index.read_text(encoding="utf-8")
    index.write_text(text.replace("shows: no_update", "shows: completion"), "utf-8")
    with pytest.raises(BadInput, match="'completion' is not one of the terminal's screens"):
        ReferenceSet.load(folder)


def test_learn_refuses_a_screen_class_no_rule_knows(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["learn", "--vendor", "canon", "--state", "starting",
                                   "--shows", "startng"])
    assert info.value.code == 2
    assert "'startng' is not a screen class" in capsys.readouterr().err
    args = build_parser().parse_args(["learn", "--vendor", "canon", "--state", "starting",
                                      "--shows", "starting"])
    assert args.shows == "starting"


def test_every_broken_reference_is_named_at_its_line(tmp_path: Path) -> None:
    """A picture that is not there and a region past the screen's edge: both listed, each
    at its own line of the index."""
    index, file_line = _screens_with(tmp_path, "file: first.png", "file: frist.png")
    text = index.read_text(encoding="utf-8")
    old = "      box: [48, 296, 928, 71]"  # starting's text region, the first of several
    index.write_text(text.replace(old, "      box: [2000, 296, 928, 71]", 1), "utf-8")
    box_line = text.splitlines().index(old) + 1
    with pytest.raises(BadInput) as info:
        ReferenceSet.load(index.parent)
    lines = str(info.value).splitlines()
    assert len(lines) == 2, lines
    assert {line.split(": ")[0] for line in lines} == {f"{index}:{box_line}",
                                                        f"{index}:{file_line}"}
    assert any(": frist.png: no such file" in line for line in lines)


@pytest.mark.parametrize(("argv", "problem"), [
    (["--state", "first", "--name", "first@stafff"], "--name: 'stafff' after '@' is not a reader"),
    (["--state", "x", "--shows", "network_error"], "--shows: 'network_error' is not one of a "
                                                    "reader's screens"),
])
def test_learn_checks_names_before_the_camera(argv: list[str], problem: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["learn", "--vendor", "canon", "--screens", str(tmp_path), *argv]) == 2
    assert problem in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), "nothing written"
