"""A sixth maker from data only (issue 17 item 4; docs/adding-a-maker.md): a made-up maker,
Acme, gets a profile in a lab's profiles folder, a twin behaviour file, reference screens
drawn from that twin, and a bench file deriving from the emulated bench with its reader
added; ``onshi-rig certify --vendor acme`` then certifies it with no change to the rig's
code or shipped files: exit 0, each of its requirements passed.

The certification is restricted (``-k`` through PYTEST_ADDOPTS, as test_allure_results.py
does) to Acme's cases; its profile holds a wiring rule, the upgrade's distribution and delivery list, and a
901 screen read character for character, so the camera, the screen locator, the classifier with Acme's own references
and the OCR all run on it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from cli_fork import run_cli

from harness.cli import main
from harness.paths import project_file

MAKER = "acme"
#: The 901 screen of Acme's twin, as its (made-up) notice prints it.
TEXTS = ["【901】", "受付窓口へお声がけください"]

TWIN = """\
# Twin of the (made-up) Acme AF-100 face-auth reader.
name: Acme AF-100 face-auth reader (emulated)
usb:
  vid: "FFFF"
  pid: "F0A6"
  placeholder: true
  manufacturer: "Acme (placeholder)"
  product: "placeholder: Acme AF-100"
  serial: "EMU-acme-0001"
  bcd_usb: "3.00"
  max_speed_mbps: 5000
base: {common_flow}
behaviour:
  start: {{seconds: 12}}
  states:
    please_wait: {{shows: please_wait, texts: ["しばらくお待ちください"]}}
    error_901: {{shows: error_901, texts: {texts}}}
  transitions:
    checking: {{check_failed: please_wait}}
    please_wait: {{error_901: error_901}}
display:
  title: AF-100
  text_size: 44
  header_height: 64
  normal: {{background: "#f4f1fa", text: "#1d1433", band: "#5e35b1"}}
  error: {{background: "#fbeaea", text: "#3b0a0a", band: "#c62828"}}
  button: {{background: "#5e35b1", text: "#ffffff", band: "#3f1f8a"}}
"""

PROFILE = """\
key: acme
kind: face_auth_reader
maker_name: "Acme (a made-up sixth maker)"
products: [AF-100]
usb_ids: []
requirements:
  - id: USB-02
    statement: Connect the face-auth reader directly to the terminal, never through a USB hub.
    source: "Acme AF-100 installation notice (made up for the sixth-maker test)"
    check: {{kind: wiring, max_hubs_between: 0}}
  # The distribution the notices give every maker: the E901 flow finds its window here.
  - id: UPD-01
    statement: "The upgrade is distributed nightly 2026-01-19..01-30 except 01-25, 20:00 to 05:00 (JST), all day from 01-31; manual download from 01-19 13:00."
    source: "Acme AF-100 upgrade notice (made up for the sixth-maker test)"
    check:
      kind: distribution_schedule
      nightly_from: 2026-01-19
      nightly_to: 2026-01-30
      nightly_except: [2026-01-25]
      window: {{start: "20:00", end: "05:00"}}
      all_day_from: 2026-01-31
      manual_from: 2026-01-19T13:00:00+09:00
      powered: [terminal, reader]
  - id: UPD-04
    statement: In the management tool's 配信実績の確認 list, face-auth library (顔認証ライブラリ) version 5.1.0 means the upgrade is downloaded or complete.
    source: "Acme AF-100 upgrade notice (made up for the sixth-maker test)"
    check:
      kind: delivery_version
      component: 顔認証ライブラリ
      version: 5.1.0
      meaning: "materials downloaded, or upgrade complete"
  - id: E901-05
    statement: "After the second error dialog's OK the reader shows the 901 screen, word for word."
    source: "Acme AF-100 E901 notice (made up for the sixth-maker test)"
    check:
      kind: flow
      flow: e901
      given: [upgrade_pending_reboot]
      dialogs:
        - {{dialog: check_error_1, texts_unknown: "not given", press: OK}}
        - {{dialog: check_error_2, texts_unknown: "not given", press: OK}}
      screens:
        - {{screen: error_901, texts: {texts}}}
      result: none
"""

BENCH = """\
base: {emulated}
bench: sixth-maker
description: The default emulated bench with a sixth maker's reader, Acme's AF-100.
readers:
  - name: acme
    kind: face_auth_reader
    maker: acme
    usb: {{vid: "FFFF", pid: "F0A6", placeholder: true, path: "2-6"}}
    power: {{relay: mains, channel: 7}}
    camera: cam-acme
    emulate: twins/acme.yaml
cameras:
  - {{name: cam-acme, watches: acme, source: emulated}}
power_on:
  - switch_on: [panasonic, canon, usen_almex, fujitsu_japan, atlas, acme]
    wait_s: 20
  - switch_on: [terminal]
    wait_s: 120
  - switch_on: [receipt_computer]
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lab's folder: its twin, profiles, screens and bench, and onshi-rig.toml naming
    the screens (profiles are given by --profiles)."""
    lab = tmp_path_factory.mktemp("lab")
    texts = json.dumps(TEXTS, ensure_ascii=False)
    (lab / "twins").mkdir()
    (lab / "twins" / "acme.yaml").write_text(TWIN.format(
        common_flow=project_file("fixtures/devices/face_auth/common-flow.yaml"),
        texts=texts), "utf-8")
    shutil.copytree(project_file("vendor_profiles"), lab / "profiles")
    (lab / "profiles" / "acme.yaml").write_text(PROFILE.format(texts=texts), "utf-8")
    shutil.copytree(project_file("fixtures/screens"), lab / "screens")
    (lab / "bench.yaml").write_text(
        BENCH.format(emulated=project_file("fixtures/benches/emulated.yaml")), "utf-8")
    (lab / "onshi-rig.toml").write_text('screens = "screens"\n', "utf-8")
    return lab


def test_its_references_are_drawn_from_its_twin(lab: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["references", "--vendor", MAKER, "--twin", str(lab / "twins" / "acme.yaml"),
                 "--out", str(lab / "screens")]) == 0
    assert f"{MAKER}: " in capsys.readouterr().out
    index = yaml.safe_load((lab / "screens" / MAKER / "screens.yaml").read_text("utf-8"))
    assert index["maker"] == MAKER
    shows = {entry.get("shows") for entry in index["references"].values()}
    assert {"error_901", "please_wait", "first"} <= shows
    # Its own look, not another maker's: no shipped maker's references are these.
    canon = (project_file("fixtures/screens/canon") / "error_901.png").read_bytes()
    assert (lab / "screens" / MAKER / "error_901.png").read_bytes() != canon
    # --twin draws one maker, named by --vendor.
    assert main(["references", "--twin", str(lab / "twins" / "acme.yaml"),
                 "--out", str(lab / "screens")]) == 2
    assert "--twin FILE: give the maker it is with one --vendor KEY" in capsys.readouterr().err


def test_it_is_certified_with_no_code_change(lab: Path) -> None:
    assert (lab / "screens" / MAKER / "screens.yaml").is_file(), "drawn by the test above"
    out = lab / "run"
    proc = run_cli(["certify", "--bench", str(lab / "bench.yaml"), "--profiles",
                    str(lab / "profiles"), "--vendor", MAKER, "--jobs", "1", "--out", str(out),
                    "--no-evidence", "--plain"], timeout=600, cwd=lab,
                   env={**os.environ, "PYTEST_ADDOPTS": f"-k '{MAKER}-'"})
    said = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, said
    report = json.loads((out / "certification.json").read_text("utf-8"))
    rows = report["makers"][MAKER]
    assert sorted(rows) == ["E901-05", "UPD-01", "UPD-04", "USB-02"], said
    assert all(row["status"] == "passed" for row in rows.values()), said
    assert report["passed"] is True
    assert list(report["makers"]) == [MAKER]


def test_the_guide_commands_parse() -> None:
    """Every command line of docs/adding-a-maker.md parses with the rig's own options."""
    import re
    import shlex

    from harness.cli import build_parser

    text = project_file("docs/adding-a-maker.md").read_text("utf-8").replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith("onshi-rig ")]
    # And those in the prose, `onshi-rig ...` (a span may wrap).
    lines += [" ".join(span.split()) for span in re.findall(r"`(onshi-rig [^`]+)`", text)]
    lines = [line.split(" > ")[0].split("  #")[0] for line in lines]
    assert len(lines) >= 9, lines
    parser = build_parser()
    for line in lines:
        parser.parse_args(shlex.split(line)[1:])  # a wrong option exits 2 here
