"""SP-06 and SP-07 (the support vendor's お知らせ 接続設定概要 《資格確認端末(PC)と汎用カードリーダーの接続(ペアリング)
手順》): the pairing reads nothing personal of the real card on the general reader (its APDU
transcript, judged against the card model), and is refused without the face-auth reader
connected; after the maker's restart a staff phone held on the paired general reader is read
through PC/SC.

Which wrong reader a weaker check would pass, and what here catches it:
- a pairing that reads a personal file (the holder's certificate, the 基本4情報 by a short EF
  identifier, a file nobody knows): the pure rule, and the deviant bench's Panasonic (flow);
- a pairing that reads nothing at all, or whose traffic the rig never saw: fails closed;
- a pairing done with the face-auth reader's cable out: the app must refuse it, and no
  smartphone button may follow the maker's restart (pure rule; the deviant Fujitsu app, on
  the twin);
- a button that shows while the paired general reader reads no phone (the deviant USEN-ALMEX,
  on the twin); a read test made on another reader, or that read a card, not a phone (pure rule).
The default bench passing SP-06 and SP-07 on a flow run: tests/test_drivers_never_mend.py's
pairing runs judge them (no run of their own here).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow_helpers import BENCHES, assert_fails_exactly, open_bench, run_judged

from harness.bench import Bench
from harness.devices.jpki_probe import probe_pcsc
from harness.emulation.hands import TwinHands
from harness.flows.pairing_evidence import STAFF_PHONE, CardWatch
from harness.hands import Patient
from harness.model.mynumber_card import FILES, card_file
from harness.model.observed import FlowRecord, PhoneRead, SeenApdu, SeenScreen
from harness.model.pairing_rules import check_card_reads, check_pairing_refused, check_phone_read
from harness.model.profiles import ProfileSet

PAIRING = ("pairing", ("not_paired",))
UNPLUGGED = ("pairing", ("face_reader_unplugged",))
GENERAL = "sanwa-adr-mnicu3"
SELECT_JPKI, SELECT_TOKEN, READ_32 = "00A4040C0AD392F000260100000001", "00A4020C020006", \
    "00B0000020"


@pytest.fixture(scope="module")
def deviant() -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-pairing-card.yaml")


def _record(*commands: str, general: str = GENERAL) -> FlowRecord:
    record = FlowRecord("pairing", "panasonic", ("not_paired",), paired_general=general)
    record.card_apdus = [SeenApdu(1.0 + i, general, c, "9000") for i, c in enumerate(commands)]
    return record


# -- SP-06: the transcript, judged by the pure rule -------------------------------------------
def test_the_card_model_says_why_of_every_file() -> None:
    assert all(f.why for f in FILES)
    assert not card_file("D392F000260100000001", "0006").personal  # the token
    for aid, fid in [("D392F000260100000001", "000A"), ("D392F000260100000001", "0001"),
                     ("D3921000310001010408", "0001"), ("D3921000310001010408", "0002")]:
        assert card_file(aid, fid).personal, (aid, fid)


def test_what_identifies_the_card_passes() -> None:
    assert check_card_reads(_record(SELECT_JPKI, SELECT_TOKEN, READ_32)) == []


@pytest.mark.parametrize(("commands", "said"), [
    # The holder's certificate, selected then read (the card answered: a real one would).
    ((SELECT_JPKI, "00A4020C02000A", "00B0000004"), "利用者証明用電子証明書"),
    # The 基本4情報 read by a short EF identifier (P1 = 80 | 02), no SELECT of the file.
    (("00A4040C0AD3921000310001010408", "00B0820000"), "基本4情報"),
    # A file the model does not know: not known to hold nothing personal.
    ((SELECT_JPKI, "00A4020C020005"), "does not know it"),
    # A read the rule cannot place (GET DATA).
    ((SELECT_JPKI, "00CA010100"), "INS CA"),
    # A selection by path: not followed, fails closed.
    (("00A4080C043F000001",), "cannot follow"),
    # (hunt H-1) The 券面事項入力補助AP selected on logical channel 1, its 基本4情報 selected
    # and read there, while channel 0 holds the JPKI AP: each channel its own selection.
    (("01A4040C0AD3921000310001010408", SELECT_JPKI, SELECT_TOKEN, "01A4020C020002",
      "01B0000000"), "基本4情報"),
    # ... and by a further channel's class byte (0x40 | 1: channel 5).
    (("41A4040C0AD3921000310001010408", "41B0820000"), "基本4情報"),
])
def test_a_pairing_touching_anything_else_fails(commands: tuple[str, ...], said: str) -> None:
    problems = check_card_reads(_record(*commands))
    assert problems and any(said in p for p in problems), problems


def test_no_transcript_or_an_unseen_one_fails_closed() -> None:
    assert "was not used" in check_card_reads(_record())[0]
    unseen = FlowRecord("pairing", "panasonic", paired_general=GENERAL,
                        card_apdus_unseen="on a real bench the general reader is the terminal's")
    assert "was not seen (on a real bench" in check_card_reads(unseen)[0]


def test_the_twin_pairing_talks_to_the_card_through_pc_sc(default_bench: Bench) -> None:
    """Default twin: the card on the general reader answers what identifies it; the command
    data kept is the AID and file ID, the answers by length and status word only."""
    hands = TwinHands(default_bench)
    hands.restore("after_upgrade")
    for name in default_bench.spec.switchable():
        default_bench.switch(name, True)
    hands.wait(200)
    watch = CardWatch(default_bench, GENERAL)
    hands.pair("fujitsu_japan", GENERAL, Patient("patient-sp06", "4321"))
    seen = watch.transcript()
    assert [(a.command, a.response) for a in seen] == [
        (SELECT_JPKI, "9000"), (SELECT_TOKEN, "9000"), (READ_32, "<32 bytes> 9000")]
    assert hands.pairing_outcome("fujitsu_japan") == "registered"
    # SP-06's negative half on the twin: the deviant app (on the deviant bench) pairs without
    # the face-auth reader; the default app refuses, and says so.
    hands.usb_cable("fujitsu_japan", plugged=False)
    hands.pair("fujitsu_japan", GENERAL, Patient("patient-sp06", "4321"))
    assert hands.pairing_outcome("fujitsu_japan").startswith("refused: ")


def test_the_deviant_app_pairs_without_the_face_auth_reader(deviant: Bench) -> None:
    hands = TwinHands(deviant)
    hands.restore("after_upgrade")
    for name in deviant.spec.switchable():
        deviant.switch(name, True)
    hands.wait(200)
    hands.usb_cable("fujitsu_japan", plugged=False)
    hands.pair("fujitsu_japan", GENERAL, Patient("patient-sp06", "4321"))
    record = FlowRecord("pairing", "fujitsu_japan", pairing_outcome=hands.pairing_outcome(
        "fujitsu_japan"), screens=[SeenScreen(1.0, 30.0, "first", "first")])
    assert "ended 'registered'" in check_pairing_refused(record)[0]


def test_the_refusal_rule_needs_the_refusal_and_no_button_after() -> None:
    first = SeenScreen(1.0, 30.0, "first", "first")
    refused = FlowRecord("pairing", "atlas", pairing_outcome="refused: not connected",
                         screens=[first])
    assert check_pairing_refused(refused) == []
    button = SeenScreen(31.0, 40.0, "first", "first", buttons=("smartphone",))
    refused.screens.append(button)
    assert "took effect" in check_pairing_refused(refused)[0]
    assert "not seen" in check_pairing_refused(FlowRecord("pairing", "atlas"))[0]
    assert "not seen after" in check_pairing_refused(
        FlowRecord("pairing", "atlas", pairing_outcome="refused: x"))[0]


# -- SP-07: the read test, judged by the pure rule --------------------------------------------
@pytest.mark.parametrize(("read", "said"), [
    (None, "no read test"),
    (PhoneRead(9.0, "sony-rc-s300-s1", True, "smartphone"), "not on the general reader paired"),
    (PhoneRead(9.0, GENERAL, False, detail="wait for card failed"), "was not read"),
    (PhoneRead(9.0, GENERAL, True, "card"), "not a phone"),
])
def test_a_read_test_that_does_not_prove_the_phone_fails(read: PhoneRead | None,
                                                         said: str) -> None:
    record = _record(SELECT_JPKI)
    record.phone_read = read
    problems = check_phone_read(record)
    assert problems and said in problems[0], problems


def test_the_paired_readers_phone_read_passes() -> None:
    record = _record(SELECT_JPKI)
    record.phone_read = PhoneRead(9.0, GENERAL, True, "smartphone")
    assert check_phone_read(record) == []


# -- the deviations, each failing exactly its requirement on a flow run -----------------------
def test_a_pairing_that_reads_the_holders_certificate_fails_exactly_sp06(
        deviant: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(deviant, profiles, "panasonic", PAIRING)
    assert_fails_exactly(judged, {"SP-06": "利用者証明用電子証明書"})
    assert record.phone_read is not None and record.phone_read.ok


def _phone_read_after_pairing(bench: Bench, reader: str,
                              placed_first: bool) -> tuple[str | None, bool]:
    """On the twin: ``reader`` paired with the general reader, then the staff phone held on
    it and probed through PC/SC as the flow's read test does: (the app's outcome, read)."""
    hands = TwinHands(bench)
    hands.restore("after_upgrade")
    for name in bench.spec.switchable():
        bench.switch(name, True)
    hands.wait(200)
    hands.pair(reader, GENERAL, Patient("patient-sp07", "4321"), placed_first=placed_first)
    hands.staff_phone(GENERAL, STAFF_PHONE, held=True)
    try:
        report = probe_pcsc(bench.pcsc, bench.emulation.pcsc_names[GENERAL], GENERAL, 10,
                            certificate=False)
    finally:
        hands.staff_phone(GENERAL, STAFF_PHONE, held=False)
    ok = bool(report.steps) and all(st.ok for st in report.steps) \
        and report.holder == "smartphone"
    return hands.pairing_outcome(reader), ok


def test_a_general_reader_that_reads_no_phone_after_pairing_fails_the_read_test(
        default_bench: Bench, deviant: Bench, profiles: ProfileSet) -> None:
    """SP-07's deviation on the twin (its flow run, failing exactly SP-07 with the button
    shown, is the mutation benchmark's): the deviant USEN-ALMEX app registers the pairing, and
    the paired reader then reads no phone; the default one reads it."""
    placed = profiles["usen_almex"].pairing_placed_first()  # its 置いた step
    assert _phone_read_after_pairing(default_bench, "usen_almex", placed) == ("registered", True)
    assert _phone_read_after_pairing(deviant, "usen_almex", placed) == ("registered", False)


def test_a_pairing_without_the_face_auth_reader_is_refused_on_the_default_bench(
        default_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, "panasonic", UNPLUGGED)
    assert judged == {"SP-06": []}, judged
    assert record.pairing_outcome.startswith("refused: ")
    assert any(a.what == "restart:management_app" for a in record.actions)
