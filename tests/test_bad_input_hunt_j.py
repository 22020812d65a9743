"""Bad input and interruptions the J hunt found, each said as ``file:line: field: problem``
(exit 2, no traceback) or kept whole, never judged against a maker.

- J-3: a USB port path in full-width or other-script digits, or with leading zeros, read as
  a number yet compared as written: the reader "not found", its maker failing USB-02.
- J-1: a PIN or passcode typed back at the rig's prompt recorded on the timeline.
- J-7: an operator script's bare ``answer: 0123`` typed as passcode 83, ``1:30`` as 90.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_bad_input_more import bench, run

from harness.hands import OWN_PIN, ManualHands, Phone
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.paths import project_file

NOT_A_PATH = "not a USB port path like '1-4' or '1-4.2' (ASCII digits, no leading zeros)"


@pytest.mark.parametrize("at", ["２-2", "2-٢", "2-02", "02-2", "2-1.03"])
def test_a_port_path_not_as_linux_writes_it_is_bad_input(
        at: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, "readers:\n  - {name: canon, usb: {vid: \"FFFF\", pid: \"F002\", "
                           f"placeholder: true, path: \"{at}\"}}}}\n")
    assert run(capsys, "scan", "--bench", str(path)) == (
        2, [f"{path}:4: readers[1].usb.path: {NOT_A_PATH}: {at!r}"])


@pytest.mark.parametrize(("text", "field"), [
    ("terminal:\n  usb_ports:\n    - {path: \"２-1\", usb: \"3.0\"}\n",
     "5: terminal.usb_ports[0].path"),
    ("hubs:\n  - {name: hub2, path: \"1-04\", usb: \"2.0\"}\n", "4: hubs[1].path"),
])
def test_terminal_ports_and_hubs_take_the_same_paths(
        text: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench(tmp_path, text)
    code, lines = run(capsys, "scan", "--bench", str(path))
    assert code == 2
    assert lines[0].startswith(f"{path}:{field}: {NOT_A_PATH}")


def test_an_operator_answer_yaml_reads_as_a_number_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "op.yaml"
    script.write_text('- ask: "passcode"\n  answer: 0123\n- ask: "restart"\n  answer: 1:30\n'
                      '- ask: "x"\n  answer: "0123"\n', encoding="utf-8")
    path = tmp_path / "real.yaml"
    path.write_text(
        "bench: real\nkind: real\n"
        f"sysfs_root: {project_file('fixtures/sysfs/terminal-a')}\nusb_devices: sysfs\n"
        "readers:\n  - {name: pasori, kind: general_reader, maker: Sony, model: RC-S300/S1,"
        " usb: {vid: '054C', pid: '0DC8'}}\n"
        "operator: {timeout_s: 5, script: op.yaml}\n", encoding="utf-8")
    quote = "write it in quotes, as it is typed: YAML reads it unquoted as the number"
    assert run(capsys, "certify", "--plan", "--bench", str(path)) == (2, [
        f"{script}:2: [0].answer: {quote} 83 (a bare 0123 is 83, 1:30 is 90)",
        f"{script}:4: [1].answer: {quote} 90 (a bare 0123 is 83, 1:30 is 90)"])


@pytest.mark.parametrize("typed", ["7391", "PIN 7391", "ok"])
def test_a_secret_typed_back_at_the_prompt_never_reaches_the_timeline(typed: str) -> None:
    """J-1: the prompt says "type ... 7391 ... press Enter"; a person who types the digits
    at the rig's prompt, not the reader's, had them recorded as the answer."""
    clock = VirtualClock()
    timeline = Timeline(clock)
    hands = ManualHands(clock, ask=lambda shown: typed.replace("7391", _digits(shown)),
                        timeline=timeline)
    hands.pin("canon", "7391", entry=OWN_PIN)
    hands.passcode("canon", "4821")
    hands.phone_pin("canon", Phone("phone-1", "android", "7391"), "7391")
    hands.card_out("canon")
    answers = [e.data["answer"] for e in timeline.events("operator.answered")]
    assert answers == [f"({len(typed)} {'digits' if typed.isdigit() else 'characters'})"] * 3 \
        + [typed.replace("7391", "").strip()]
    assert not any(re.search("7391|4821", repr(e)) for e in timeline)


def _digits(shown: str) -> str:
    found = re.search(r"\b\d{4}\b", shown)
    return found.group(0) if found else ""
