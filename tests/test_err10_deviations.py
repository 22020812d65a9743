"""ERR-10 proved through run_flow: the terminal's browser at https://www.lineauth.mnw, read by
the terminal's camera, shows 「回線認証接続済み」 when connected and the 「希望する/希望しない」
buttons when line authentication is cut; 「希望する」 reconnects, and a patient's check then
goes through (the support vendor's お知らせ 《 オンライン資格確認端末のネットワーク関連のトラブル時に… 》 ③④).

Which wrong terminal a weaker check would pass: one whose 「希望する」 does not reconnect (a
check that read the page only before pressing, or did not check in after it); a page whose
text is off by a character is the generated text mutants' (benchmarks/mutants.py).
"""

from __future__ import annotations

from pathlib import Path

from flow_helpers import (
    Flow,
    assert_fails_exactly,
    deviant_bench_file,
    deviation,
    failed,
    open_bench,
    run_judged,
)

from harness.bench import Bench
from harness.model.profiles import ProfileSet

ERR10: Flow = ("line_auth_page", ())
READER = "usen_almex"


def test_the_default_bench_passes(default_bench: Bench, profiles: ProfileSet) -> None:
    record, judged = run_judged(default_bench, profiles, READER, ERR10)
    assert set(judged) == {"ERR-10"} and failed(judged) == set(), judged
    pages = [d.dialog for d in record.dialogs]
    assert pages == ["line_auth_page_connected", "line_auth_page_cut",
                     "line_auth_page_connected"]
    # Each text was read off the terminal's monitor, not taken from the reference.
    found = {(d.dialog, f.expected): f.found for d in record.dialogs for f in d.findings}
    assert found == {("line_auth_page_connected", "回線認証接続済み"): True,
                     ("line_auth_page_cut", "希望する"): True,
                     ("line_auth_page_cut", "希望しない"): True}
    assert record.dialogs[1].closed_by == "希望する"
    assert record.result == "handed_over"


def test_a_page_whose_button_does_not_reconnect_fails_exactly_err10(
        tmp_path: Path, profiles: ProfileSet) -> None:
    path = deviant_bench_file(tmp_path, "lineauth-no-reconnect", terminal={"deviations": [
        deviation("network.line_auth_reconnects", "希望しない", "希望する does not reconnect")]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, profiles, READER, ERR10)
        assert_fails_exactly(judged, {"ERR-10": "line_auth_page_connected"})
        assert [d.dialog for d in record.dialogs][-1] == "line_auth_page_cut"
