"""One character of a notice's text, changed on the emulated bench, fails exactly the text
check that covers it, through the camera, with what was expected and what was read.

The screens of fixtures/benches/deviant-texts.yaml look like their references (one glyph
differs): they are recognised as the right state, and only the reading tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow_helpers import BENCHES, failed, load_profiles, open_bench, run_judged

from harness.bench import Bench
from harness.model.profiles import FlowCheck, ProfileSet

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
    """The requirements whose E901 checks want ``text`` on the 901 screen (or, where any of
    several forms will do, only forms that begin with it: the changed character is in each)."""
    return {req.id for req in profiles[maker].requirements for check in req.checks
            if isinstance(check, FlowCheck) and (check.flow, tuple(check.given)) == E901
            for step in check.screens
            if step.screen == "error_901" and (text in (*step.texts, *step.contains) or (
                step.contains_any and all(t.startswith(text) for t in step.contains_any)))}


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return load_profiles()


@pytest.fixture(scope="module")
def bench(profiles: ProfileSet) -> Iterator[Bench]:
    yield from open_bench(BENCHES / "deviant-texts.yaml")


@pytest.mark.parametrize("reader", list(BROKEN))
def test_one_character_of_the_901_screen(bench: Bench, profiles: ProfileSet,
                                         reader: str) -> None:
    record, judged = run_judged(bench, profiles, reader, E901)
    # The changed screen is the 901 screen, or an unknown one nearest it (a glyph changed in
    # a long line moves the rest of it): either way its texts were read and judged.
    nine01 = [s for s in record.screens if "error_901" in (s.shows, s.candidate)]
    assert nine01, record.path()
    # Every line on it was read, with a confidence.
    assert nine01[0].read and all(0 <= line.confidence <= 1 for line in nine01[0].read)
    text = BROKEN[reader]
    wanting = _wanting(profiles, reader, text)
    assert wanting and failed(judged) == wanting, judged
    for requirement in wanting:
        message = "; ".join(judged[requirement])
        # (where any of several forms will do, each begins with the text: 【901】 for 【901)
        assert f"expected {text}" in message and ", read " in message, message
        # Judged glyph by glyph against the panel's rendering, not by the reference's word.
        assert "(glyphs" in message, message


def test_one_character_of_a_dialog_title(bench: Bench, profiles: ProfileSet) -> None:
    flow = ("upgrade_manual", ())
    record, judged = run_judged(bench, profiles, "panasonic", flow)
    problems = judged["UPD-05"]
    assert any("expected ダウンロード依頼の受付, read" in p for p in problems), problems
    assert [d.dialog for d in record.dialogs][:1] == ["download_request_accepted"]
