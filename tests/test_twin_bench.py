"""The twins on the emulated bench: relay power, USB cables, power-on order, deviant benches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import usb.core
from cli_fork import run_cli
from twin_helpers import check_in_by_face, patient

from harness.bench import Bench
from harness.errors import BadInput
from harness.paths import project_file

BENCHES = project_file("fixtures/benches")
FACE_AUTH = ["panasonic", "canon", "usen_almex", "fujitsu_japan", "atlas"]


@pytest.fixture
def bench():
    with Bench.load() as b:
        yield b


def open_bench(name: str) -> Bench:
    return Bench.load(BENCHES / name).open()


def test_power_on_sequence_lands_on_the_timeline(bench: Bench) -> None:
    power = [(e.t, e.source) for e in bench.timeline.events("power.on")]
    readers = [t for t, source in power if source in FACE_AUTH]
    terminal = [t for t, source in power if source == "terminal"]
    rc = [t for t, source in power if source == "receipt_computer"]
    assert len(readers) == 5 and len(terminal) == 1 and len(rc) == 1
    assert terminal[0] - max(readers) == 20
    started = [e.t for e in bench.timeline.events("reader.started")]
    assert len(started) == 5 and rc[0] > max(started)
    world = bench.emulation.world
    assert all(r.screen().shows == "first" for r in world.readers.values())
    assert world.terminal.app_running and world.terminal.upgrade == "applied"


def test_relay_powers_the_reader_twin_and_its_usb_presence(bench: Bench) -> None:
    reader = bench.emulation.world.reader("panasonic")
    relay = bench.relays["mains"]
    found = lambda: usb.core.find(idVendor=0xFFFF, idProduct=0xF001, backend=bench.emulation.usb_backend)  # noqa: E731
    assert found() is not None
    relay.off(1)
    assert reader.screen().shows == "dark" and not reader.started
    assert found() is None
    kinds = [e.kind for e in bench.timeline.events(source="panasonic")]
    off = kinds.index("power.off")
    assert {"reader.stopped", "usb.detach", "screen"} <= set(kinds[off:])
    relay.on(1)
    assert reader.screen().shows == "starting"
    bench.clock.sleep(60)
    # Powered again while the terminal runs: it starts and links up again.
    assert reader.screen().shows == "first"
    assert found() is not None


def test_pulling_the_usb_cable_leaves_canon_waiting(bench: Bench) -> None:
    reader = bench.emulation.world.reader("canon")
    bench.emulation.unplug("canon")
    assert reader.screen().has_text("顔認証付きカードリーダー資格確認端末からの接続待ち")
    bench.emulation.plug("canon")
    assert reader.screen().shows == "first"


def test_a_check_reaches_the_receipt_computer(bench: Bench) -> None:
    world = bench.emulation.world
    check_in_by_face(world, world.reader("fujitsu_japan"), patient("bench-patient"))
    assert world.receipt_computer is not None
    assert [r.card for r in world.receipt_computer.results] == ["bench-patient"]


def test_deviant_boot_bench() -> None:
    with open_bench("deviant-boot.yaml") as b:
        world = b.emulation.world
        assert world.reader("panasonic").screen().shows == "link_wait"  # 40 s start: missed
        assert world.reader("atlas").screen().shows == "dark"  # no auto-start
        assert all(world.reader(m).screen().shows == "first" for m in ("canon", "usen_almex", "fujitsu_japan"))
        assert world.reader("atlas").press_power_button()


def test_deviant_order_bench() -> None:
    with open_bench("deviant-order.yaml") as b:
        t = {e.source: e.t for e in b.timeline.events("power.on")}
        assert t["terminal"] < t["panasonic"] and t["receipt_computer"] < t["panasonic"]
        assert b.emulation.world.reader("panasonic").screen().shows == "link_wait"


def test_deviant_e901_bench() -> None:
    with open_bench("deviant-e901.yaml") as b:
        world = b.emulation.world
        canon = world.reader("canon")
        check_in_by_face(world, canon, patient())
        assert canon.screen().shows == "first"  # not 「しばらくお待ちください」
        world.terminal.press("OK")
        world.terminal.press("OK")
        fujitsu = world.reader("fujitsu_japan")
        check_in_by_face(world, fujitsu, patient("p2"))
        world.terminal.press("OK")
        world.terminal.press("OK")
        assert fujitsu.screen().shows == "error_901"
        assert not fujitsu.screen().has_text("受付窓口にご連絡ください")
        usen = world.reader("usen_almex")
        check_in_by_face(world, usen, patient("p3"))
        assert usen.screen().overlay == "spinner"
        usen.remove_card()
        assert usen.screen().shows == "first"


def test_deviant_dialogs_bench() -> None:
    with open_bench("deviant-dialogs.yaml") as b:
        world = b.emulation.world
        atlas = world.reader("atlas")
        check_in_by_face(world, atlas, patient())
        world.terminal.press("OK")
        assert atlas.screen().shows == "error_901"  # already after the first dialog
        assert [d.id for d in world.terminal.dialogs] == ["check_error_2"]


def test_deviant_staff_bench() -> None:
    with open_bench("deviant-staff.yaml") as b:
        world = b.emulation.world
        world.terminal.issue_passcode()
        assert world.reader("canon").screen().has_button("staff")  # no restart needed
        world.terminal.reboot()
        b.clock.sleep(300)
        assert not world.reader("atlas").screen().has_button("staff")
        assert world.reader("panasonic").screen().shows == "first"


def test_a_broken_deviation_names_the_bench_file(tmp_path: Path) -> None:
    # A copy of the fixtures, so the bench's relative paths hold.
    for part in ("benches", "devices"):
        shutil.copytree(project_file(f"fixtures/{part}"), tmp_path / "fixtures" / part)
    broken = tmp_path / "fixtures" / "benches" / "broken.yaml"
    broken.write_text(
        "base: emulated.yaml\n"
        "bench: broken\n"
        "readers:\n"
        "  - name: canon\n"
        "    deviations:\n"
        "      - {change: behaviour.start.secnds, to: 40}\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInput) as caught:
        Bench.load(broken).open()
    message = str(caught.value)
    assert "broken.yaml" in message and "readers[canon]" in message and "secnds" in message
    run = run_cli(["scan", "--bench", str(broken)], timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "secnds" in run.stderr


def test_a_reader_named_like_the_terminal_is_refused(tmp_path: Path) -> None:
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        f"base: {BENCHES / 'emulated.yaml'}\nbench: clash\nreceipt_computer: {{name: atlas}}\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match="names used twice: atlas"):
        Bench.load(clash)


def test_every_shipped_bench_file_is_valid() -> None:
    from harness.bench import check_bench_file
    from harness.paths import project_file

    files = sorted(project_file("fixtures/benches").glob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        spec = check_bench_file(path)
        assert spec.cameras, path.name
    lab = check_bench_file(project_file("fixtures/benches/lab-example.yaml"))
    assert lab.cameras[0].width == 1920 and lab.cameras[0].exposure == 150


def test_a_behaviour_file_is_loaded_again_when_it_or_its_base_changes(tmp_path: Path) -> None:
    """Twins built again from the same files share one loaded model; a change to the file,
    to a file of its base chain, or other deviations load it anew."""
    import os

    from harness.emulation.device_spec import load_device_spec
    from harness.model.bench_spec import Deviation
    from harness.paths import project_file

    shipped = project_file("fixtures/devices/face_auth")
    for name in ("canon.yaml", "common-flow.yaml"):
        shutil.copy(shipped / name, tmp_path / name)
    path = tmp_path / "canon.yaml"
    first = load_device_spec(path)
    assert load_device_spec(path) is first
    assert first.behaviour is not None and first.behaviour.start.seconds == 15
    slower = [Deviation(change="behaviour.start.seconds", to=40)]
    deviated = load_device_spec(path, slower)
    assert deviated is not first and deviated.behaviour.start.seconds == 40
    assert load_device_spec(path, slower) is deviated
    assert load_device_spec(path, [Deviation(change="behaviour.start.seconds", to=41)]
                            ).behaviour.start.seconds == 41
    # The base changes (the time stamp alone may not: the size does).
    base = tmp_path / "common-flow.yaml"
    base.write_text(base.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    again = load_device_spec(path)
    assert again is not first and again == first
    text = path.read_text(encoding="utf-8").replace("start: {seconds: 15}", "start: {seconds: 25}")
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert load_device_spec(path).behaviour.start.seconds == 25


def test_a_linked_behaviour_files_base_is_the_one_loaded(tmp_path: Path) -> None:
    """A behaviour file reached through a link stands on the base beside the link, as the
    loader reads it: a change to that base is seen (not one beside the linked file)."""
    from harness.emulation.device_spec import load_device_spec
    from harness.paths import project_file

    shipped = project_file("fixtures/devices/face_auth")
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.mkdir()
    shutil.copy(shipped / "canon.yaml", real / "canon.yaml")
    for folder in (real, link):
        shutil.copy(shipped / "common-flow.yaml", folder / "common-flow.yaml")
    (link / "canon.yaml").symlink_to(real / "canon.yaml")
    first = load_device_spec(link / "canon.yaml")
    base = link / "common-flow.yaml"
    base.write_text(base.read_text(encoding="utf-8").replace(
        "start: {seconds: 10}", "start: {seconds: 12}"), encoding="utf-8")
    assert load_device_spec(real / "canon.yaml").behaviour.start.seconds == 15
    # canon.yaml sets its own start; the base's change shows in a fresh model all the same.
    again = load_device_spec(link / "canon.yaml")
    assert again is not first
