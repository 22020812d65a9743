"""Schemas for authors (issue 17 item 3): ``onshi-rig schema KIND`` is generated from the
models, the committed copies in schemas/ are up to date, every shipped file names its
schema on its first line and fits it, the schemas refuse what the rig refuses, and a file's
problems are reported all at once, each as ``file:line: field: problem``."""

from __future__ import annotations

import copy
import functools
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from schema_check import problems

from harness.cli import main
from harness.cli_schema import schema as _schema
from harness.cli_schema import schema_files, schema_text
from harness.paths import project_file

ROOT = project_file(".")
#: Which schema each shipped folder's files use.
GROUPS = {
    "bench": "fixtures/benches/*.yaml",
    "profile": "vendor_profiles/*.yaml",
    "behaviour": "fixtures/devices/*/*.yaml",
    "card": "fixtures/cards/*.yaml",
}
HINT = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")
#: ``file:line: field: problem`` (a problem of the whole file has no field).
LINE = re.compile(r"^\S+\.yaml:\d+: ([^:]+: )?\S.*$")


@functools.cache
def schema(kind: str, part: bool = False) -> dict[str, Any]:
    """Each kind's schema made once for the module (the tests only read it)."""
    return _schema(kind, part)


def _shipped() -> list[tuple[str, Path]]:
    return [(kind, path) for kind, pattern in GROUPS.items()
            for path in sorted(ROOT.glob(pattern))]


def _schema_of(kind: str, path: Path) -> str:
    # A file written only as others' base: every key optional.
    return f"{kind}-part.json" if path.name == "common-flow.yaml" else f"{kind}.json"


def test_the_committed_schemas_are_the_models() -> None:
    folder = ROOT / "schemas"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(schema_files())
    for name, (kind, part) in schema_files().items():
        assert (folder / name).read_text("utf-8") == schema_text(kind, part), (
            f"schemas/{name} is out of date: run `onshi-rig schema {kind}"
            f"{' --part' if part else ''} > schemas/{name}`")


def test_the_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "bench"]) == 0
    printed = capsys.readouterr().out
    assert printed == (ROOT / "schemas" / "bench.json").read_text("utf-8")
    # base and deviations: a deriving file's key, and the bench's changes to a twin.
    parsed = schema("bench")
    assert "base" in parsed["$defs"]["PartBenchSpec"]["properties"]
    assert "deviations" in parsed["$defs"]["Reader"]["properties"]
    assert "base" in schema("behaviour")["$defs"]["PartDeviceSpec"]["properties"]
    # A profile stands on no base: its schema does not pretend it may.
    assert "base" not in schema("profile")["$defs"]["Profile"]["properties"]
    assert main(["schema", "profile", "--part"]) == 2
    assert capsys.readouterr().err.strip() == \
        "onshi-rig schema: --part: a profile file names no base"
    assert main(["schema", "bus"]) == 2


@pytest.mark.parametrize(("kind", "path"), _shipped(), ids=lambda x: getattr(x, "name", x))
def test_each_shipped_file_names_its_schema_and_fits_it(kind: str, path: Path) -> None:
    text = path.read_text("utf-8")
    hint = HINT.match(text)
    assert hint, f"{path}: the first line is not the yaml-language-server hint"
    target = (path.parent / hint.group(1)).resolve()
    assert target == (ROOT / "schemas" / _schema_of(kind, path)).resolve()
    data = yaml.safe_load(text)
    # The committed file is the generated one (test above): the parsed generated one serves.
    kind_of = target.name.removesuffix(".json").removesuffix("-part")
    assert problems(schema(kind_of, target.name.endswith("-part.json")), data) == []


def _bench() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "fixtures/benches/emulated.yaml").read_text("utf-8"))


def _twin() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "fixtures/devices/face_auth/canon.yaml").read_text("utf-8"))


def _edit(data: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    change(data)
    return data


# What an editor must flag, as the rig does: a schema that passed these would be no help.
REFUSED = [
    ("bench", lambda: _edit(_bench(), lambda d: d.update(colour="red")), "/colour"),
    ("bench", lambda: _edit(_bench(), lambda d: d["readers"][0].update(kind="face_auth")),
     "/readers/0"),
    ("bench", lambda: _edit(_bench(), lambda d: d["readers"][0]["usb"].update(vid="XYZ1")),
     "/readers/0/usb/vid"),
    ("bench", lambda: _edit(_bench(), lambda d: d.pop("bench")), "/bench: required"),
    # A deriving file may leave keys out, but not misspell them.
    ("bench", lambda: {"base": "emulated.yaml", "readers": [{"name": "canon", "emulat": "x"}]},
     "/readers"),
    ("behaviour", lambda: _edit(_twin(), lambda d: d["behaviour"]["transitions"].update(
        {"first": {"card_inn": "face_auth"}})), "/"),
    ("card", lambda: {"name": "c", "applets": []}, "/atr: required"),
    ("profile", lambda: {"key": "x", "kind": "face_auth_reader", "maker_name": "X",
                         "requirements": [{"statement": "s", "source": "s",
                                           "check": {"kind": "manual", "how": "h"}}]},
     "/requirements/0"),
    # The shared vocabulary's names (harness/model/screens.py): a misspelt one is flagged.
    ("profile", lambda: _flow_step(no_buttons=["staf"]), "/requirements/0"),
    ("profile", lambda: _flow_step(stays_through=["card_ot"]), "/requirements/0"),
    ("profile", lambda: _flow_step(upon="press:staf", within_s=5), "/requirements/0"),
    ("profile", lambda: _flow_step(screen="frist"), "/requirements/0"),
]


def _flow_step(**step: Any) -> dict[str, Any]:
    """A profile with one flow check of one screen step (``first``, changed by ``step``)."""
    return {"key": "x", "kind": "face_auth_reader", "maker_name": "X", "requirements": [
        {"id": "AUTH-03", "statement": "s", "source": "s",
         "check": {"kind": "flow", "flow": "first_screen",
                   "screens": [{"screen": "first", **step}]}}]}


@pytest.mark.parametrize(("kind", "make", "where"), REFUSED)
def test_the_schemas_refuse_what_the_rig_refuses(kind: str, make: Any, where: str) -> None:
    found = problems(schema(kind), make())
    assert any(p.startswith(where) for p in found), found


def test_the_schemas_take_what_the_rig_takes() -> None:
    assert problems(schema("profile"), _flow_step(no_buttons=["staff"], stays_through=[
        "card_out"], upon="press:smartphone", within_s=5)) == []
    # A deriving file: only what changes; null takes the base's key away.
    assert problems(schema("bench"), {"base": "emulated.yaml", "bench": "b",
                                      "readers": [{"name": "canon", "camera": None}]}) == []
    # A transition written as the state's name, one mapping or a list.
    twin = _edit(_twin(), lambda d: d["behaviour"]["transitions"].update(
        {"first": {"card_in": "face_auth", "cancel": {"to": "first"},
                   "card_out": [{"to": "first", "if": "card_present"}]}}))
    assert problems(schema("behaviour"), twin) == []
    # USB IDs as hex text or a number.
    bench = _edit(_bench(), lambda d: d["readers"][0]["usb"].update(vid=4660, pid="0x12ab"))
    assert problems(schema("bench"), bench) == []


def _errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    first, *rest = captured.err.strip().splitlines()
    prefix = f"onshi-rig {argv[0]}: "
    assert first.startswith(prefix)
    found = [first.removeprefix(prefix), *rest]
    assert all(LINE.match(line) for line in found), found
    return found


def test_a_bench_file_problems_all_at_once(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bench = tmp_path / "bad.yaml"
    bench.write_text(
        f"base: {ROOT / 'fixtures/benches/emulated.yaml'}\n"
        "bench: bad\n"
        "readers:\n"
        "  - name: panasonic\n"
        "    deviations:\n"
        "      - {change: behaviour.start.seconds, to: -1}\n"
        "      - {change: behaviour.states.first.shows, to: nonsense}\n"
        "  - name: canon\n"
        "    deviations:\n"
        "      - {change: behaviour.nothing.here, to: 1}\n", encoding="utf-8")
    found = _errors(capsys, ["pcscd-config", "--bench", str(bench)])
    assert len(found) == 3, found
    # Each on its deviation's own line.
    assert found[0].startswith(f"{bench}:6: readers[panasonic].deviations[0]: "
                               "behaviour.start.seconds: ")
    assert found[1].startswith(f"{bench}:7: readers[panasonic].deviations[1]: "
                               "behaviour.states.first.shows: 'nonsense' is not")
    assert found[2] == (f"{bench}:10: readers[canon].deviations[0]: behaviour.nothing: "
                        "unknown field (a typo?) (canon.yaml as deviated)")
    # The file's own fields: each typo on its line.
    bench.write_text("bench: b\nkind: emulated\ncolour: red\nreaders:\n  - {name: x, knd: y}\n",
                     encoding="utf-8")
    found = _errors(capsys, ["pcscd-config", "--bench", str(bench)])
    assert f"{bench}:3: colour: unknown field (a typo?)" in found
    assert f"{bench}:5: readers[0].knd: unknown field (a typo?)" in found
    assert f"{bench}:5: readers[0].kind: required field is missing" in found


def test_a_twin_file_problems_all_at_once(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(ROOT / "fixtures/devices", tmp_path / "devices")
    twin = tmp_path / "devices" / "face_auth" / "bad.yaml"
    twin.write_text("base: canon.yaml\n"
                    "behaviour:\n"
                    "  transitions:\n"
                    "    nowhere: {card_in: first}\n"
                    "    first: {card_in: limbo}\n", encoding="utf-8")
    bench = tmp_path / "benches" / "b.yaml"
    bench.parent.mkdir()
    shutil.copy(ROOT / "fixtures/benches/emulated.yaml", bench)
    (tmp_path / "benches" / "bad.yaml").write_text(
        "base: b.yaml\nreaders:\n  - {name: canon, emulate: ../devices/face_auth/bad.yaml}\n",
        encoding="utf-8")
    found = _errors(capsys, ["pcscd-config", "--bench", str(tmp_path / "benches" / "bad.yaml")])
    assert sorted(found) == [
        f"{twin}:4: behaviour.transitions.nowhere: no such state",
        f"{twin}:5: behaviour.transitions.first.card_in[0].to: no state 'limbo'"]


def test_profiles_problems_all_at_once(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(ROOT / "vendor_profiles", folder)
    canon = folder / "canon.yaml"
    canon.write_text(canon.read_text("utf-8").replace("key: canon", "key: kanon"), "utf-8")
    atlas = folder / "atlas.yaml"
    data = yaml.safe_load(atlas.read_text("utf-8"))
    first = data["requirements"][0]["id"]
    atlas.write_text(atlas.read_text("utf-8") + f"  - {{id: {first}, statement: s, source: s,"
                     " check: {kind: manual, how: h}}\n  - {id: X-1}\n", "utf-8")
    found = _errors(capsys, ["catalogue", "--profiles", str(folder)])
    n = len(data["requirements"])
    lines = len(atlas.read_text("utf-8").splitlines())
    assert f"{atlas}:{lines}: requirements[{n + 1}].id: 'X-1' is not a requirement ID like " \
        "USB-01 (families: UPD, E901, USB, BOOT, ERR, NET, AUTH, SP, CON)" in found
    assert f"{atlas}:{lines}: requirements[{n + 1}].statement: required field is missing" \
        in found
    assert f"{canon}:{_line(canon, 'key: kanon')}: key: is 'kanon', the file is canon" in found
    # The duplicate is found in the file once its fields are right.
    atlas.write_text(atlas.read_text("utf-8").replace("  - {id: X-1}\n", ""), "utf-8")
    found = _errors(capsys, ["catalogue", "--profiles", str(folder)])
    assert found == [f"{atlas}:{lines - 1}: requirements[{n}].id: {first} is listed twice",
                     f"{canon}:{_line(canon, 'key: kanon')}: key: is 'kanon', the file is canon"]


def _line(path: Path, text: str) -> int:
    return next(i for i, row in enumerate(path.read_text("utf-8").splitlines(), 1)
                if row.startswith(text))
