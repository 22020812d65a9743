"""The stock pcscd just works (issue 17 item 2): which vpcd slot serves which emulated
reader under which PC/SC name, in the rig's reader.conf (every general reader, each entry
with its own copy of the driver) and in Debian's stock one ("Virtual PCD", two slots);
``emulate`` proving each card shows where it says, and failing closed otherwise; and
``emulate`` against a pcscd with Debian's stock configuration, in namespaces of the test's
own (pcsc_scan and pyscard see its card in "Virtual PCD 00 00")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from harness.bench import default_bench_path
from harness.emulation.bench import load_twins
from harness.emulation.card import FileSystemCard
from harness.emulation.pcscd import (
    DRIVER_COPIES,
    STOCK_PORT,
    VpcdSlot,
    find_vpcd_driver,
    reader_conf,
    write_reader_conf,
)
from harness.emulation.vpcd_cards import insert_shown
from harness.emulation.vpcd_layout import (
    VpcdBinding,
    bind_names,
    choose_layout,
    rig_slots,
    stock_slots,
)
from harness.errors import DeviceTimeout, MissingSystemPart, RigError
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.paths import project_file

GENERAL = ["sanwa-adr-mnicu3", "iodata-usb-nfc4e", "abcircle-cir315a-02",
           "maxell-m-1850s-n2", "elecom-mr-ica001bk", "sony-rc-s300-s1"]


@pytest.fixture(scope="module")
def bench() -> tuple[BenchSpec, dict]:
    path = default_bench_path()
    spec = load_yaml_model(path, BenchSpec, layered=True)
    return spec, load_twins(spec, path)


def _listed(slots: dict[str, VpcdSlot]) -> list[str]:
    """What pcscd lists for these entries: both slots of each (the second stays empty)."""
    names = []
    for slot in slots.values():
        names += [f"{slot.friendly_name} 00 {slot.slot:02X}"]
        if slot.friendly_name != "Virtual PCD":
            names += [f"{slot.friendly_name} 00 01"]
    return names


def test_the_rig_layout_serves_every_general_reader_under_a_name_of_its_own(bench) -> None:
    spec, twins = bench
    slots = rig_slots(spec, twins)
    assert list(slots) == GENERAL
    # Two ports per entry (vpcd opens CHANNELID and CHANNELID+1): reader i on base + 2i.
    assert [s.port for s in slots.values()] == [35971 + 2 * i for i in range(6)]
    assert {s.slot for s in slots.values()} == {0}
    # Four are re-badged "Circle CIR315 CL": the serial in brackets tells them apart, as
    # pcsc-lite's CCID driver does for a real one, and the rules read the name without it.
    names = [s.friendly_name for s in slots.values()]
    assert len(set(names)) == 6
    assert names[0] == "Circle CIR315 CL (EMU-sanwa-adr-mnicu3)"
    assert names[5] == "SONY FeliCa Port/PaSoRi 4.0 (EMU-sony-rc-s300-s1)"
    from harness.model.wiring import reader_base_name

    assert reader_base_name(names[5] + " 00 00") == "SONY FeliCa Port/PaSoRi 4.0"


def test_the_stock_layout_gives_its_two_slots_to_the_first_readers(bench) -> None:
    spec, twins = bench
    slots = stock_slots(spec, twins)
    assert [(r, s.friendly_name, s.port, s.slot) for r, s in slots.items()] == [
        ("sanwa-adr-mnicu3", "Virtual PCD", 35963, 0),
        ("iodata-usb-nfc4e", "Virtual PCD", 35964, 1)]
    assert STOCK_PORT == 35963  # Debian's /etc/reader.conf.d/vpcd: CHANNELID 0x8C7B
    chosen = spec.model_copy(update={"pcsc": spec.pcsc.model_copy(
        update={"vpcd_reader": "sony-rc-s300-s1"})})
    assert list(stock_slots(chosen, twins)) == ["sony-rc-s300-s1", "sanwa-adr-mnicu3"]


def test_the_layout_is_chosen_by_the_ports_that_listen(bench) -> None:
    spec, twins = bench
    rig, stock = rig_slots(spec, twins), stock_slots(spec, twins)
    rig_ports = {s.port for s in rig.values()}
    both = _listed(rig) + _listed(stock)
    found = choose_layout(spec, twins, both, rig_ports | {35963, 35964})
    assert found.layout == "rig"  # every reader, by its own name, wins over two slots
    assert found.names["iodata-usb-nfc4e"] == "Circle USBNFC4 (EMU-iodata-usb-nfc4e) 00 00"
    assert found.gap("iodata-usb-nfc4e") is None
    # One of the rig's ports missing (a reader.conf of another bench): not the rig's layout.
    found = choose_layout(spec, twins, both, (rig_ports - {35981}) | {35963, 35964})
    assert found.layout == "stock"
    assert found.names == {"sanwa-adr-mnicu3": "Virtual PCD 00 00",
                           "iodata-usb-nfc4e": "Virtual PCD 00 01"}
    assert "2 slots, taken by sanwa-adr-mnicu3, iodata-usb-nfc4e" in found.gap("sony-rc-s300-s1")
    assert "'Virtual PCD 00 00'" in found.name_gap("sanwa-adr-mnicu3")
    # Only the first stock port: fail closed, naming the ports of both layouts.
    with pytest.raises(RigError) as none:
        choose_layout(spec, twins, both, {35963})
    assert "ports 35971, 35973, 35975, 35977, 35979, 35981" in str(none.value)
    assert "(ports 35963, 35964)" in str(none.value)
    assert "missing: 35971, 35973, 35975, 35977, 35979, 35981 and 35964" in str(none.value)


def test_a_slot_binds_to_exactly_one_name_of_its_own_form() -> None:
    slots = {"a": VpcdSlot("Virtual PCD", 35963, 0, "a"), "b": VpcdSlot("Virtual PCD", 35964, 1, "b")}
    # pcsc-lite's index may differ from 00; the slot number may not.
    assert bind_names(slots, ["Virtual PCD 02 01", "Virtual PCD 02 00"]) == {
        "a": "Virtual PCD 02 00", "b": "Virtual PCD 02 01"}
    with pytest.raises(RigError, match=r"b \(vpcd port 35964\): pcscd lists no reader "
                       r"'Virtual PCD NN 01'; pcscd lists: Virtual PCD 00 00, Virtual PCD X 00 01"):
        bind_names(slots, ["Virtual PCD 00 00", "Virtual PCD X 00 01"])
    # Two readers of that form (another stock entry): which is on the port cannot be told.
    with pytest.raises(RigError, match=r"a \(vpcd port 35963\): pcscd lists 2 readers "
                       r"'Virtual PCD NN 00' \('Virtual PCD 00 00', 'Virtual PCD 01 00'\)"):
        bind_names(slots, ["Virtual PCD 00 00", "Virtual PCD 01 00", "Virtual PCD 00 01"])
    # A longer name is another reader's, not this slot's.
    with pytest.raises(RigError, match="lists no reader 'Virtual PCD NN 00'"):
        bind_names({"a": slots["a"]}, ["Virtual PCD 2 00 00"])


def test_each_entry_loads_its_own_copy_of_the_driver(tmp_path: Path, bench) -> None:
    spec, twins = bench
    slots = list(rig_slots(spec, twins).values())
    try:
        driver = find_vpcd_driver()
    except MissingSystemPart as exc:
        from harness.pytest_plugin import missing_part

        missing_part(str(exc))
    conf = write_reader_conf(tmp_path / "conf", slots)
    text = conf.read_text()
    libs = [line.split()[1] for line in text.splitlines() if line.startswith("LIBPATH")]
    assert len(libs) == 6 and len(set(libs)) == 6
    for lib, slot in zip(libs, slots, strict=True):
        copy = Path(lib)
        assert copy.parent == (tmp_path / "conf" / DRIVER_COPIES).resolve()
        # A copy, not a link: the loader would share one file's globals between entries.
        assert not copy.is_symlink() and copy.stat().st_ino != driver.resolve().stat().st_ino
        assert copy.read_bytes() == driver.read_bytes()
        assert f"CHANNELID    {slot.port}\n" in text and f'"{slot.friendly_name}"' in text
    # pcscd reads every file of the folder as a reader.conf: nothing else is there.
    assert sorted(p.name for p in (tmp_path / "conf").iterdir()) == ["onshi-rig", DRIVER_COPIES]
    with pytest.raises(RigError, match="first slot, not slot 1"):
        reader_conf([VpcdSlot("Virtual PCD", 35964, 1, "x")], tmp_path)


# -- emulate's proof that each card shows where it says ------------------------------------

@attrs.define
class _Pcsc:
    """pcscd as emulate sees it: which name shows a card with which ATR."""

    shown: dict[str, bytes] = attrs.Factory(dict)
    route: dict[int, str] = attrs.Factory(dict)  # port -> the name a card there shows in
    #: name -> the ATR it shows whatever card went in.
    foreign: dict[str, bytes] = attrs.Factory(dict)

    def card_present(self, name: str) -> bool:
        return name in self.shown

    def wait_for_card(self, name: str, timeout: float) -> None:
        if name not in self.shown:
            raise DeviceTimeout(name, "card", timeout)

    def connect(self, name: str) -> object:
        pcsc = self

        class Conn:
            atr = pcsc.shown[name]

            def close(self) -> None:
                pass
        return Conn()


@attrs.define
class _Emu:
    vpcd: VpcdBinding
    pcsc: _Pcsc
    removed: list[str] = attrs.Factory(list)

    def insert_card(self, reader: str, card: FileSystemCard) -> None:
        port = self.vpcd.slots[reader].port
        if port in self.pcsc.route:
            name = self.pcsc.route[port]
            self.pcsc.shown[name] = self.pcsc.foreign.get(name, card.atr)

    def remove_card(self, reader: str) -> None:
        self.removed.append(reader)


def _emulated(route: dict[int, str], shown: dict[str, bytes] | None = None):  # noqa: ANN202
    slots = {"a": VpcdSlot("Virtual PCD", 35963, 0, "a"), "b": VpcdSlot("Virtual PCD", 35964, 1, "b")}
    binding = VpcdBinding("stock", slots, {"a": "Virtual PCD 00 00", "b": "Virtual PCD 00 01"})
    pcsc = _Pcsc(dict(shown or {}), route)
    return type("B", (), {"emulation": _Emu(binding, pcsc), "pcsc": pcsc})()


def test_emulate_says_where_each_card_showed(test_card: FileSystemCard) -> None:
    bench = _emulated({35963: "Virtual PCD 00 00", 35964: "Virtual PCD 00 01"})
    shown = insert_shown(bench, lambda _r: test_card)
    assert [(s.reader, s.pcsc_name, s.port) for s in shown] == [
        ("a", "Virtual PCD 00 00", 35963), ("b", "Virtual PCD 00 01", 35964)]


def test_emulate_fails_closed_when_a_card_shows_elsewhere_or_not_at_all(test_card) -> None:
    # The ports the other way round: a's card shows in b's name, never in a's.
    bench = _emulated({35963: "Virtual PCD 00 01", 35964: "Virtual PCD 00 00"})
    with pytest.raises(RigError, match=r"the card put in a on vpcd port 35963 did not show in "
                       r"'Virtual PCD 00 00' within 3 s: that port is not the slot"):
        insert_shown(bench, lambda _r: test_card)
    assert bench.emulation.removed == ["a"]  # taken out again, and b's never put in
    # Someone's virtual card already on the slot.
    bench = _emulated({35963: "Virtual PCD 00 00"}, {"Virtual PCD 00 00": b"\x3b\x00"})
    with pytest.raises(RigError, match=r"'Virtual PCD 00 00' already holds a card before the "
                       r"rig put a's in: another virtual card is on its slot \(port 35963\)"):
        insert_shown(bench, lambda _r: test_card)
    # b's name shows a card, but not the one put in (another card on b's slot at once).
    bench = _emulated({35963: "Virtual PCD 00 00", 35964: "Virtual PCD 00 01"})
    bench.pcsc.foreign["Virtual PCD 00 01"] = bytes.fromhex("3b80800101")
    with pytest.raises(RigError, match=r"'Virtual PCD 00 01' shows a card with ATR "
                       r"3B 80 80 01 01, not the one put in b on vpcd port 35964"):
        insert_shown(bench, lambda _r: test_card)


# -- Debian's stock pcscd, in namespaces of the test's own ---------------------------------

#: Runs inside ``unshare --mount --net``: loopback up, its own /run/pcscd, pcscd with
#: Debian's stock configuration (no -c: /etc/reader.conf.d), then ``emulate``, pcsc_scan
#: and pyscard; prints one JSON object. Nobody else's pcscd or ports are seen or touched.
STOCK_CHILD = r'''
import fcntl, json, signal, socket, struct, subprocess, sys, time
from pathlib import Path
work = Path(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # ip link set lo up
    req = struct.pack("16sh14x", b"lo", 0)
    flags = struct.unpack("16sh14x", fcntl.ioctl(s, 0x8913, req))[1]
    fcntl.ioctl(s, 0x8914, struct.pack("16sh14x", b"lo", flags | 1))
(work / "run").mkdir()
Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
subprocess.run(["mount", "--bind", str(work / "run"), "/run/pcscd"], check=True)
pcscd = subprocess.Popen([sys.argv[2], "--foreground"], stdout=open(work / "pcscd.log", "w"),
                         stderr=subprocess.STDOUT)
out = {}
emulate = None
try:
    for _ in range(100):
        if (work / "run" / "pcscd.comm").exists():
            break
        time.sleep(0.05)
    emulate = subprocess.Popen([sys.executable, "-m", "harness.cli", "emulate"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in emulate.stdout:
        lines.append(line)
        if line.startswith("try:"):
            break
    out["emulate"] = "".join(lines)
    if emulate.poll() is None:
        out["pcsc_scan"] = subprocess.run(["pcsc_scan", "-t", "1", "-n"], capture_output=True,
                                          text=True, timeout=20).stdout
        from smartcard.System import readers
        reader = next(r for r in readers() if str(r) == "Virtual PCD 00 00")
        conn = reader.createConnection()
        conn.connect()
        data, sw1, sw2 = conn.transmit(list(bytes.fromhex("00A4040009F06F6E736869726967")))
        out["pyscard"] = [bytes(conn.getATR()).hex(), f"{sw1:02X}{sw2:02X}"]
        conn.disconnect()
finally:
    try:
        if emulate is not None:
            emulate.send_signal(signal.SIGINT)
            try:
                out["emulate_exit"] = emulate.wait(timeout=20)
            except subprocess.TimeoutExpired:
                emulate.kill()  # a failed run leaves no emulator behind
                emulate.wait()
                raise
    finally:  # nor its pcscd
        pcscd.terminate()
        pcscd.wait(timeout=10)
        subprocess.run(["umount", "/run/pcscd"])
print(json.dumps(out))
'''


def test_emulate_attaches_to_debians_stock_pcscd(tmp_path: Path, test_card) -> None:
    import shutil

    from tests.conftest import need_own_pcscd

    need_own_pcscd("a pcscd in namespaces of the test's own needs root")
    if not Path("/etc/reader.conf.d/vpcd").exists() or shutil.which("pcsc_scan") is None:
        from harness.pytest_plugin import missing_part

        missing_part("Debian's stock vpcd reader.conf or pcsc_scan is missing "
                     "(apt-get install vsmartcard-vpcd pcsc-tools)")
    from harness.emulation.pcscd import find_pcscd

    env = {k: v for k, v in os.environ.items() if k != "PCSCLITE_CSOCK_NAME"}
    done = subprocess.run(
        ["unshare", "--mount", "--net", "--propagation", "private", "--",
         sys.executable, "-c", STOCK_CHILD, str(tmp_path), find_pcscd()],
        capture_output=True, text=True, timeout=90, env=env, cwd=project_file("."))
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    emulate = out["emulate"]
    # The bench's first two general readers in the stock slots, each said with its port.
    assert "'Virtual PCD 00 00'                            <- sanwa-adr-mnicu3 (vpcd port " \
        "35963)" in emulate, emulate
    assert "'Virtual PCD 00 01'                            <- iodata-usb-nfc4e (vpcd port " \
        "35964)" in emulate, emulate
    assert "  sony-rc-s300-s1: not served through vpcd: Debian's stock vpcd reader has 2 " \
        "slots, taken by sanwa-adr-mnicu3, iodata-usb-nfc4e; `onshi-rig pcscd-config` " \
        "serves every reader" in emulate
    atr = test_card.atr.hex(" ").upper()
    scan = out["pcsc_scan"]
    assert "Reader 0: Virtual PCD 00 00\n" in scan and scan.count(f"ATR: {atr}") == 2, scan
    assert out["pyscard"] == [test_card.atr.hex(), "9000"]
    assert out["emulate_exit"] == 0
