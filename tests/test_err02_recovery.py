"""ERR-02 (Fujitsu, the support vendor's お知らせ): the start-up network error may clear by itself (allowed, not
required); if it does not, the notice's step is to restart the connected devices, after which
the reader must reach its first screen. A reader that recovers only through the restart
passes; one that recovers neither way fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import BENCHES, DEFAULT_BENCH, deviant_bench_file, load_profiles, open_bench

from harness.emulation.hands import TwinHands
from harness.flows import run_flow
from harness.flows.drivers import Plan
from harness.model.flow_rules import check_flow
from harness.model.profiles import FlowCheck

FLOW = ("startup_network_error", ())

NO_SELF_RECOVERY = [
    {"change": "behaviour.transitions.error_network.retry", "to": "error_network",
     "why": "retries without ever recovering"},
    {"change": "behaviour.transitions.error_network.network_restored", "to": None,
     "why": "ignores the network coming back"},
]
#: ... and its restart comes back to the error, not the first screen.
NO_RECOVERY = [*NO_SELF_RECOVERY,
               {"change": "behaviour.transitions.link_wait.linked", "to": "error_network",
                "why": "shows the network error after every start"}]


@pytest.mark.parametrize(("deviations", "restarted", "passes"), [
    (None, False, True),
    (NO_SELF_RECOVERY, True, True),
    (NO_RECOVERY, True, False),
], ids=["recovers-by-itself", "recovers-after-restart", "never-recovers"])
def test_err02_follows_the_notices_procedure(tmp_path: Path, deviations, restarted: bool,  # noqa: ANN001
                                             passes: bool) -> None:
    profile = load_profiles()["fujitsu_japan"]
    check = profile.requirement("ERR-02").checks[0]
    assert isinstance(check, FlowCheck) and (check.flow, tuple(check.given)) == FLOW
    path = DEFAULT_BENCH if deviations is None else deviant_bench_file(
        tmp_path, "err02", readers={"fujitsu_japan": deviations})
    for bench in open_bench(path):
        record = run_flow(bench, TwinHands(bench), "fujitsu_japan", Plan.of(profile, *FLOW))
        problems = check_flow(check, record)
        restarts = [a.what for a in record.actions if a.what.startswith("restart:")]
        assert restarts == (["restart:connected_devices"] if restarted else []), restarts
        assert (problems == []) is passes, problems


def test_a_bench_outside_the_benches_folder_finds_its_bases_twins(tmp_path: Path) -> None:
    from harness.bench import check_bench_file

    nested = tmp_path / "lab" / "benches"
    nested.mkdir(parents=True)
    path = nested / "mine.yaml"
    path.write_text(f"base: {BENCHES / 'emulated.yaml'}\nbench: mine\n", encoding="utf-8")
    spec = check_bench_file(path)
    reader = next(r for r in spec.readers if r.name == "fujitsu_japan")
    assert reader.emulate is not None
    assert (nested / reader.emulate).resolve() == \
        (BENCHES / "../devices/face_auth/fujitsu_japan.yaml").resolve()
    # A path the deriving file gives itself stays its own.
    path.write_text(f"base: {BENCHES / 'emulated.yaml'}\nbench: mine\nreaders:\n"
                    "  - {name: fujitsu_japan, emulate: nowhere.yaml}\n", encoding="utf-8")
    with pytest.raises(Exception, match="nowhere.yaml"):
        check_bench_file(path)


#: The start-up error's code as the Fujitsu reader prints it: either of the notice's two
#: passes (FUJP55 emulated by the twin's screen text), anything else does not.
CODES = {
    "【FUJP55:タイムアウト】": True,
    "【FUJP56:タイムアウト】": False,
    "【011:ネットワ一クエラー】": False,  # 一 (kanji one) for ー (the long vowel mark)
}


@pytest.mark.parametrize("code", sorted(CODES))
def test_err02_takes_the_notices_codes_only(tmp_path: Path, code: str) -> None:
    profile = load_profiles()["fujitsu_japan"]
    check = profile.requirement("ERR-02").checks[0]
    path = deviant_bench_file(tmp_path, "err02-code", readers={"fujitsu_japan": [
        {"change": "behaviour.states.error_network.texts", "to": [code]}]})
    for bench in open_bench(path):
        record = run_flow(bench, TwinHands(bench), "fujitsu_japan", Plan.of(profile, *FLOW))
        problems = check_flow(check, record)
        assert (problems == []) is CODES[code], (code, problems, record.path())
