"""One character of a notice's text, changed on the emulated bench, fails exactly the text
check that covers it, through the camera, with what was expected and what was read.

The screens of fixtures/benches/deviant-texts.yaml look like their references (one glyph
differs): they are recognised as the right state, and only the reading tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import Bench
from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.model.flow_rules import check_flow
from harness.model.observed import FlowRecord
from harness.model.profiles import FlowCheck, ProfileSet, default_profiles_dir

BENCHES = Path(__file__).resolve().parents[1] / "fixtures" / "benches"
E901 = ("e901", ("upgrade_pending_reboot",))
#: reader -> the notice's text that its deviation changes by one character.
BROKEN = {
    "panasonic": "【901",
    "canon": "【901",
    "usen_almex": "職員はオンライン資格確認等システムの障害発生状況を確認してください。"
                  "【901：オンライン資格確認等システムの障害発生】",
    "fujitsu_japan": "受付窓口にご連絡ください",
    "atlas": "受付窓口までお越しください",
}


def _wanting(profiles: ProfileSet, maker: str, text: str) -> set[str]:
    """The requirements whose E901 checks want ``text`` on the 901 screen."""
    return {req.id for req in profiles[maker].requirements for check in req.checks
            if isinstance(check, FlowCheck) and (check.flow, tuple(check.given)) == E901
            for step in check.screens
            if step.screen == "error_901" and text in (*step.texts, *step.contains)}


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


@pytest.fixture(scope="module")
def bench(profiles: ProfileSet) -> Iterator[Bench]:
    bench = Bench.load(BENCHES / "deviant-texts.yaml").open()
    try:
        yield bench
    finally:
        bench.close()


def _judged(profiles: ProfileSet, maker: str, record: FlowRecord,
            flow: tuple[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Every check of the maker's profile judged on ``record``: requirement -> problems."""
    out: dict[str, list[str]] = {}
    for req in profiles[maker].requirements:
        for check in req.checks:
            if isinstance(check, FlowCheck) and (check.flow, tuple(check.given)) == flow:
                out.setdefault(req.id, []).extend(check_flow(check, record))
    return out


@pytest.mark.parametrize("reader", list(BROKEN))
def test_one_character_of_the_901_screen(bench: Bench, profiles: ProfileSet,
                                         reader: str) -> None:
    record = run_flow(bench, TwinHands(bench), reader, Plan.of(profiles[reader], *E901))
    # The changed screen is the 901 screen, or an unknown one nearest it (a glyph changed in
    # a long line moves the rest of it): either way its texts were read and judged.
    nine01 = [s for s in record.screens if "error_901" in (s.shows, s.candidate)]
    assert nine01, record.path()
    # Every line on it was read, with a confidence.
    assert nine01[0].read and all(0 <= line.confidence <= 1 for line in nine01[0].read)
    judged = _judged(profiles, reader, record, E901)
    failed = {req for req, problems in judged.items() if problems}
    text = BROKEN[reader]
    wanting = _wanting(profiles, reader, text)
    assert wanting and failed == wanting, judged
    for requirement in wanting:
        message = "; ".join(judged[requirement])
        assert f"expected {text}, read " in message, message
        # Judged glyph by glyph against the panel's rendering, not by the reference's word.
        assert "(glyphs" in message, message


def test_one_character_of_a_dialog_title(bench: Bench, profiles: ProfileSet) -> None:
    flow = ("upgrade_manual", ())
    record = run_flow(bench, TwinHands(bench), "panasonic", Plan.of(profiles["panasonic"], *flow))
    judged = _judged(profiles, "panasonic", record, flow)
    problems = judged["UPD-05"]
    assert any("expected ダウンロード依頼の受付, read" in p for p in problems), problems
    assert [d.dialog for d in record.dialogs][:1] == ["download_request_accepted"]
