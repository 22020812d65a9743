"""benchmarks/mutants.py makes sound mutants: bench files that load, must_fail sets that name
the maker's requirements, text mutants one character off; nothing is certified here (the
benchmark does that)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import attrs
import pytest

from harness.bench import check_bench_file
from harness.model.profiles import ProfileSet
from harness.paths import project_file

_spec = importlib.util.spec_from_file_location("mutants", project_file("benchmarks/mutants.py"))
assert _spec is not None and _spec.loader is not None
mutants = importlib.util.module_from_spec(_spec)
sys.modules["mutants"] = mutants
_spec.loader.exec_module(mutants)


@pytest.fixture(scope="module")
def every(profiles: ProfileSet) -> list:
    return mutants.all_mutants(profiles, mutants.face_auth_makers(profiles), None, seed=0)


def test_both_sources_and_every_kind(every: list, profiles: ProfileSet) -> None:
    kinds = {(m.source, m.kind) for m in every if m.source == "generated"}
    # The twins' timers are all ones no notice gives: each is equivalent, none certified
    # (test_equivalent_mutants_are_named_with_why_and_not_certified).
    assert {k for _, k in kinds} == {"text", "redirect"}
    assert any(m.source == "catalogue" for m in every)
    # Every face-auth maker gets mutants of its own.
    assert {m.maker for m in every} == set(mutants.face_auth_makers(profiles))
    assert len({m.id for m in every}) == len(every)


def test_must_fail_names_the_makers_requirements(every: list, profiles: ProfileSet) -> None:
    for m in every:
        ids = {r.id for r in profiles.profiles[m.maker].requirements}
        assert m.must_fail, m.id
        assert m.must_fail <= ids, (m.id, sorted(m.must_fail - ids))


def test_mutant_benches_load(every: list, tmp_path: Path) -> None:
    # One of each kind per maker keeps this fast; every bench is written the same way.
    picked = {(m.maker, m.source, m.kind, m.on): m for m in every}.values()
    for m in picked:
        path = mutants.write_bench(m, tmp_path)
        spec = check_bench_file(path)
        target = spec.terminal if m.on == "terminal" else next(
            r for r in spec.readers if r.name == m.maker)
        assert [(d.change, d.to) for d in target.deviations] == list(m.changes), m.id
        # Written outside the repo, never into it.
        assert project_file(".") not in path.resolve().parents


def test_text_mutants_differ_by_one_character(every: list) -> None:
    texts = [m for m in every if m.kind == "text"]
    assert texts
    for m in texts:
        before, after = m.text
        assert len(before) == len(after), m.id
        assert sum(a != b for a, b in zip(before, after, strict=True)) == 1, m.id


def test_text_oracle_knows_which_check_reads_which_part(every: list) -> None:
    # Canon's 901 screen: 【901 is read by UPD-03, E901-04 and E901-05; its other line by none.
    canon = [m for m in every if m.maker == "canon" and m.kind == "text"
             and m.changes[0][0] == "behaviour.states.error_901.texts"]
    assert canon and all(m.must_fail == {"UPD-03", "E901-04", "E901-05"} for m in canon)


def test_a_network_error_text_is_read_by_the_renewal_check_too(every: list) -> None:
    # Fujitsu's 011 screen: ERR-02 reads it, and NET-01 on every try of the long cut (its
    # renewal's error step, not a listed screen).
    fujitsu = [m for m in every if m.maker == "fujitsu_japan" and m.kind == "text"
               and m.changes[0][0] == "behaviour.states.error_network.texts"
               and "ネットワークエラー" in m.text[0]]
    assert fujitsu and all(m.must_fail == {"ERR-02", "NET-01"} for m in fujitsu)


def test_redirects_fail_the_requirements_whose_flow_passes_there(every: list) -> None:
    by_id = {m.id: m for m in every}
    # (AUTH-01's staff-flow check, of the card's visit after the staff visits, is reached
    # through a completion's card-out in the generator's one-route model; the reader's own
    # time-out back to the first screen spares it on a twin: a known over-inclusion.)
    assert by_id["canon-redirect-completion-card_out"].must_fail - {"AUTH-01"} == {"CON-01"}
    assert by_id["canon-redirect-completion-card_out"].changes == (
        ("behaviour.transitions.completion.card_out", "completion"),)
    assert by_id["canon-redirect-checking-check_failed"].must_fail == {"E901-02"}
    assert "AUTH-02" in by_id["canon-redirect-pin_entry-pin_wrong"].must_fail


def test_judge() -> None:
    m = mutants.Mutant(id="x", maker="canon", source="generated", kind="redirect",
                       on="reader", changes=(), must_fail=frozenset({"CON-01"}), why="")
    assert mutants.judge(m, frozenset({"CON-01"})) == "exact"
    assert mutants.judge(m, frozenset({"CON-01", "AUTH-01"})) == "others"
    assert mutants.judge(m, frozenset({"AUTH-01"})) == "missed"
    assert mutants.judge(m, frozenset()) == "missed"


def test_sample_spreads_and_repeats(every: list) -> None:
    first = mutants.sample(every, 10, seed=3)
    assert first == mutants.sample(every, 10, seed=3)
    assert len({m.maker for m in first}) >= 4
    assert mutants.sample(every, 10, seed=4) != first


def test_bad_catalogue_is_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "mutants.yaml"
    bad.write_text("mutants:\n  - id: x\n    makers: [canon]\n    changes: []\n    why: y\n",
                   encoding="utf-8")
    with pytest.raises(mutants.BadInput, match=r"mutants\.yaml:\d+: mutants\[0\]\.changes"):
        mutants.load_catalogue(bad)


def test_unknown_maker_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert mutants.main(["--maker", "kanon", "--list"]) == 2
    assert "kanon" in capsys.readouterr().err


def test_equivalent_mutants_are_named_with_why_and_not_certified(
        every: list, profiles: ProfileSet) -> None:
    """A generated mutant that breaks no rule of the notices (a time no notice gives) is left
    out of the certification and listed with why; every entry of the catalogue's
    ``equivalent`` names at least one generated mutant (no stale excuse)."""
    catalogue = mutants.load_catalogue()
    makers = mutants.face_auth_makers(profiles)
    left_out = mutants.equivalents(profiles, makers, 0, catalogue)
    assert left_out and all(why for _, why in left_out)
    assert not {m.id for m, _ in left_out} & {m.id for m in every}
    for key in catalogue.equivalent:
        assert any(m.id == key or m.id.endswith(f"-{key}") for m, _ in left_out), key
    # Only timers no notice gives are excused: never a text or a redirect.
    assert {m.kind for m, _ in left_out} == {"timer"}


def test_a_redirect_names_what_its_flows_own_route_breaks(every: list) -> None:
    """The oracle follows each flow's route out of the first screen: a phone's way broken
    fails CON-02 too (judged on the phone's path), the card's way broken fails no phone
    requirement, and the staff's way broken fails CON-02 (judged on the staff path)."""
    by_id = {m.id: m for m in every}
    phone = by_id["atlas-redirect-first-smartphone_button"].must_fail
    assert {"SP-01", "SP-02", "SP-03", "CON-02"} <= phone
    card = by_id["atlas-redirect-first-card_in"].must_fail
    assert "CON-02" in card and not {r for r in card if r.startswith("SP-")}
    assert "CON-02" in by_id["atlas-redirect-first-staff_button"].must_fail


def test_a_dialog_only_check_needs_the_card_route_up_to_the_request(every: list) -> None:
    """E901-03 lists only the terminal's dialogs, which a check request opens: every
    transition of the card's way from the first screen to the request is in its must_fail
    (first on card_in, the face, each consent screen), as for the checks that judge a
    result handed over (ERR-09's intermittent half, ERR-11, NET-01)."""
    by_id = {m.id: m for m in every}
    for maker in ("atlas", "canon", "fujitsu_japan", "panasonic", "usen_almex"):
        for way in ("first-card_in", "face_auth-face_match", "consent_1-consent_answer",
                    "consent_2-consent_answer"):
            must = by_id[f"{maker}-redirect-{way}"].must_fail
            assert {"E901-03", "UPD-02", "ERR-08", "ERR-09", "ERR-11", "NET-01"} <= must, \
                (maker, way)


def test_a_check_whose_flow_never_takes_the_route_is_not_listed(every: list) -> None:
    """No requirement of a flow that never leaves the first screen by the card (a phone's,
    the staff's path, pairing, a manual download) is failed by a redirect on the card's way;
    and a redirect on the card's way is no phone's. But for AUTH-05, whose staff path's
    consent screens are held to the card path's (``screens_as``): kept from them, the card
    path leaves nothing to compare with, so AUTH-05 fails too."""
    card = {m.must_fail for m in every if m.kind == "redirect"
            and m.id.endswith(("-first-card_in", "-face_auth-face_match"))}
    assert card
    for must in card:
        assert not {r for r in must if r.startswith(("SP-", "AUTH-03", "AUTH-04"))}
        assert "AUTH-05" in must
        assert "UPD-05" not in must  # upgrade_manual: dialogs, no visit
    # After the card, the staff path and the phone's share the consent screens.
    by_id = {m.id: m for m in every}
    assert {"AUTH-05", "SP-03"} <= by_id["canon-redirect-consent_2-consent_answer"].must_fail


def test_the_oracle_follows_the_drives_route_not_the_shortest_way(every: list) -> None:
    """The E901 drive answers both consent screens and the check fails; the card is not
    taken out on a consent screen. Atlas's reader goes back to its first screen on the
    failed check and shows 901 there: E901-02 (consent, then the first screen) needs the
    failed check's way, not consent_1's card-out, and the 901 checks need it too."""
    by_id = {m.id: m for m in every}
    assert "atlas-redirect-consent_1-card_out" not in by_id
    assert by_id["atlas-redirect-checking-check_failed"].must_fail == {
        "E901-02", "E901-04", "E901-05", "UPD-03"}
    assert by_id["atlas-redirect-first-error_901"].must_fail == {"E901-04", "E901-05", "UPD-03"}
    # The dialogs come from the terminal whatever the reader does after the request.
    assert "E901-03" not in by_id["atlas-redirect-checking-check_failed"].must_fail


def test_a_network_cut_reaches_a_reader_left_on_the_first_screen(every: list) -> None:
    """The network flows cut the network on the consent screen: a redirect before it
    leaves the reader on the first screen, where the network's loss still shows Canon's
    network error (ERR-05's error holds); after it, ERR-05 fails. ERR-08's dialog needs the
    request either way. (ERR-05's remedy, the terminal restarted, ends in a check-in that
    passes every way: any redirect on it fails ERR-05 too.)"""
    by_id = {m.id: m for m in every}
    for way in ("first-card_in", "face_auth-face_match"):
        must = by_id[f"canon-redirect-{way}"].must_fail
        assert "ERR-08" in must and "ERR-05" in must
    assert "ERR-05" in by_id["canon-redirect-consent_2-consent_answer"].must_fail
    assert by_id["canon-redirect-checking-check_network_error"].must_fail == {"ERR-05"}


def test_the_startup_network_error_needs_the_error_not_a_way_back(every: list) -> None:
    """ERR-02's drive (watched from power-on, the LAN out) never takes a card out: the
    error comes as the reader links with the network down (network_lost on its first
    screen); the first screen comes back by the network restored, the reader's own
    retries, or the reader restarted, so no one transition of that way is needed."""
    by_id = {m.id: m for m in every}
    assert "fujitsu_japan-redirect-error_network-card_out" not in by_id
    assert by_id["fujitsu_japan-redirect-first-network_lost"].must_fail == {"ERR-02"}
    assert not any("ERR-02" in m.must_fail for m in every
                   if m.kind == "redirect" and "-redirect-error_network-" in m.id)


def test_an_unrecognised_screen_fails_what_saw_it_on_the_default_bench() -> None:
    """The oracle of a catalogue row's ``unrecognised``: the requirements whose flow passed
    the screen (the verdict's observed path) or whose walks saw it in force, nothing else."""
    def row(*observed: str) -> dict:
        return {"status": "passed", "verdicts": [{"evidence": {"observed": list(observed)}}]}

    report = {"makers": {"canon": {
        "E901-01": row("first -> face_auth -> consent_1 -> consent_2 -> first", "no dialog"),
        "AUTH-03": row("first[staff] -> staff_passcode -> consent_2@staff -> completion"),
        "AUTH-02": row("first -> face_auth -> pin_entry -> pin_locked -> first"),
        # An event list or a dialog naming the word is no screen of the path.
        "ERR-04": row("first -> error_network", "10.0:consent_2 11.0:card_out"),
        "SP-04": {"status": "passed", "verdicts": [{"evidence": {}}]},
    }}}
    walks = {"readers": {
        "canon": {"maker": "canon", "screens": {"consent_2": ["CON-01", "AUTH-01"],
                                                "first": ["SP-04"]}},
        "atlas": {"maker": "atlas", "screens": {"consent_2": ["SP-01"]}}}}
    seen = mutants.seen_by(report, walks, "canon", frozenset({"consent_2"}))
    assert seen == {"E901-01", "AUTH-03", "CON-01", "AUTH-01"}
    assert mutants.seen_by(report, walks, "canon", frozenset({"pin_locked"})) == {"AUTH-02"}


def test_a_catalogue_row_carries_its_unrecognised_screens(every: list) -> None:
    rows = [m for m in every if m.kind == "limit-consent-shown"]
    assert rows and all(m.unrecognised == {"consent_2"} for m in rows)
    assert all("CON-02" in m.must_fail for m in rows)


def test_certify_judges_an_unrecognised_screen_against_the_default_bench(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default bench is certified once per maker, before the mutant; its run must have
    passed, and the mutant is judged against ``must_fail`` grown by what saw the screen."""
    runs: list[Path | None] = []

    def fake(maker: str, bench: Path | None, out: Path, timeout_s: float):  # noqa: ANN202
        runs.append(bench)
        out.mkdir(parents=True)
        if bench is None:  # the default bench: E901-01's flow passed consent_2
            path = "first -> face_auth -> consent_1 -> consent_2 -> checking"
            rows = {"E901-01": {"status": "passed",
                                "verdicts": [{"evidence": {"observed": [path]}}]},
                    "CON-02": {"status": "passed", "verdicts": []}}
            return {"passed": baseline_passed, "makers": {maker: rows}}, out
        failed = {"status": "failed"}
        return {"makers": {maker: {"E901-01": failed, "CON-02": failed}}}, out

    monkeypatch.setattr(mutants, "_certification", fake)
    m = mutants.Mutant(id="canon-x", maker="canon", source="catalogue", kind="x",
                       on="reader", changes=(), must_fail=frozenset({"CON-02"}), why="",
                       unrecognised=frozenset({"consent_2"}))
    baseline_passed = True
    baselines = mutants.Baselines(tmp_path)
    outcome = mutants.certify(m, tmp_path, baselines)
    assert outcome.verdict == "exact" and outcome.mutant.must_fail == {"CON-02", "E901-01"}
    # Once per maker: a second mutant reuses the default bench's run.
    again = mutants.certify(attrs.evolve(m, id="canon-y"), tmp_path, baselines)
    assert again.verdict == "exact" and runs.count(None) == 1
    # A default bench that did not pass says nothing of what a screen breaks: an error.
    baseline_passed = False
    outcome = mutants.certify(m, tmp_path / "other", mutants.Baselines(tmp_path / "other"))
    assert outcome.verdict == "error" and "did not pass" in outcome.detail


def test_host_rows_go_to_the_reader_that_drives_the_general_readers(
        profiles: ProfileSet) -> None:
    """``reader: host`` follows harness.cases: the mutant changes the face-auth reader the
    general readers' flows are driven by, whichever the default bench makes it."""
    from harness.bench import check_bench_file
    from harness.cases import flow_cases

    rows = mutants.catalogued(mutants.load_catalogue(), ["general_readers"], profiles)
    hosted = [m for m in rows if m.kind.startswith("host-")]
    spec = check_bench_file(mutants.BASE_BENCH)
    drivers = {c.reader for c in flow_cases(spec, profiles) if c.general is not None}
    assert len(hosted) == 4 and drivers and {m.reader for m in hosted} == drivers


def test_an_unrecognised_name_that_is_no_state_is_bad_input(tmp_path: Path,
                                                             profiles: ProfileSet) -> None:
    bad = tmp_path / "mutants.yaml"
    bad.write_text("mutants:\n  - id: x\n    makers: [canon]\n"
                   "    changes: [{change: behaviour.states.consent_2.texts, to: [x]}]\n"
                   "    unrecognised: [consent_3]\n    must_fail: [CON-02]\n    why: y\n",
                   encoding="utf-8")
    with pytest.raises(mutants.BadInput, match=r"x\.unrecognised: no state consent_3"):
        mutants.catalogued(mutants.load_catalogue(bad), ["canon"], profiles)


def test_every_flow_that_leaves_the_first_screen_has_its_route() -> None:
    """A flow with no route is taken for one that never leaves the first screen, and the
    oracle would follow the twin's shortest way for it (the Android E901 flow, added
    without one, sent Atlas's oracle through a card-out on the first consent screen). A new
    flow must be given its route, or be named here as one that stays on the first screen."""
    from harness.flows.drivers import DRIVERS

    stays = {"account_error", "first_screen", "no_power", "pairing", "passcode_first_issue",
             "upgrade_manual", "usb_link_lost"}
    assert set(DRIVERS) - set(mutants.FLOW_ROUTES) == stays
