"""CLI conventions (issue 17 item 6): every subcommand's ``--help`` says what it does, shows
an example that parses with the command's own options, and lists its exit codes (2, bad
input, always among them); a maker is ``--vendor KEY`` on every command that takes one."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from harness.cli import build_parser, main
from harness.cli_help import HELP, TOP, commands
from harness.paths import project_file

COMMANDS = commands(build_parser())
#: How a --vendor option's help says it is a maker.
MAKER_WORDS = re.compile(r"\bmaker\b", re.I)


def test_every_command_is_documented() -> None:
    assert sorted(COMMANDS) == sorted(HELP), "a command without its help texts (cli_help.HELP)"


@pytest.mark.parametrize("command", ["", *sorted(COMMANDS)])  # "": onshi-rig --help
def test_help_has_description_example_and_exit_codes(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command.split(), "--help"]) == 0
    text = capsys.readouterr().out
    usage, _, rest = text.partition("\n\n")
    assert usage.startswith(f"usage: onshi-rig {command}".strip())
    description = rest.split("\n\n")[0]
    # A sentence of its own, not the options list.
    assert not description.startswith(("positional arguments", "options")), text
    assert description.strip().endswith("."), description
    assert "\nexample:\n  onshi-rig " in text, text
    codes = text.split("\nexit codes:\n", 1)[1]
    listed = [int(line.split()[0].rstrip(",")) for line in codes.splitlines()
              if re.match(r"^  \d", line)]
    assert 0 in listed and 2 in listed, codes
    assert listed == sorted(listed), codes
    assert len(set(listed)) == len(listed), codes  # a code's meanings on its one line
    # How a signal stops it: the shell's 128 + N, or (emulate) its way out.
    signals = {int(n) for line in codes.splitlines() if re.match(r"^  \d", line)
               for n in line.split("  ")[1].split(", ")}
    assert {129, 130, 143} <= signals or "0  stopped by Ctrl-C, SIGTERM or SIGHUP" in codes, codes
    # A word is never split at its hyphens (fonts-noto-cjk, a folder copied from the help).
    assert not re.search(r"[A-Za-z0-9]-\n\s*[A-Za-z0-9]", text), text


def test_the_top_levels_examples_parse() -> None:
    for example in TOP.examples:
        words = shlex.split(example)
        if "COMMAND" not in words:
            assert build_parser().parse_args(words[1:]).command == words[1]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_example_parses(command: str) -> None:
    parser = build_parser()
    for example in HELP[command].examples:
        words = shlex.split(example.split(" > ")[0])
        assert words[0] == "onshi-rig"
        args = parser.parse_args(words[1:])  # a wrong option exits 2 here
        # A shipped file it names is there: the example works as written in a checkout.
        assert all(project_file(w).exists() for w in words if w.startswith("fixtures/")), \
            example
        assert args.command == command.split()[0]
        if " " in command:
            assert getattr(args, "report_command", None) == command.split()[1]


def test_a_maker_is_vendor_everywhere() -> None:
    # No command names a maker otherwise (an old alias stays only unadvertised).
    other = {"--maker", "--makers", "--device", "--devices", "--vendors", "--make"}
    for command, parser in COMMANDS.items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            assert not other & set(action.option_strings), (command, action.option_strings)
    # The commands that pick a maker take it as --vendor, the maker's key.
    for command in ("certify", "classify", "learn", "references"):
        [vendor] = [a for a in COMMANDS[command]._actions if "--vendor" in a.option_strings]
        assert MAKER_WORDS.search(vendor.help or ""), (command, vendor.help)


def test_references_keeps_its_old_option_name(capsys: pytest.CaptureFixture[str]) -> None:
    # --device still works for scripts written before --vendor, and is not advertised.
    assert main(["references", "--device", "nosuch"]) == 2
    assert "--vendor nosuch: no such device" in capsys.readouterr().err
    assert main(["references", "--help"]) == 0
    assert "--device" not in capsys.readouterr().out


def test_the_screens_folder_is_screens_everywhere() -> None:
    # Every command that takes a folder of reference screens takes it as --screens
    # (references' --out stays, its older name).
    for command in ("classify", "learn", "calibrate", "references"):
        assert any("--screens" in a.option_strings for a in COMMANDS[command]._actions), command
    args = build_parser().parse_args(["references", "--screens", "lab-screens"])
    assert str(args.out) == "lab-screens"


def test_a_card_is_named_alike_everywhere() -> None:
    # `emulate --card phone` and `probe --card phone` put the same shipped phone; a file is
    # a file on both.
    shipped = {"card": project_file("fixtures/cards/mynumber-card.yaml"),
               "phone": project_file("fixtures/cards/mynumber-phone.yaml")}
    for command in (["emulate"], ["probe", "--reader", "r"]):
        for word, path in shipped.items():
            assert build_parser().parse_args([*command, "--card", word]).card == path
        assert str(build_parser().parse_args([*command, "--card", "lab/c.yaml"]).card) \
            == "lab/c.yaml"
