"""What each subcommand's ``--help`` says beyond its options: what it does, an example and
its exit codes, in one table so every command says the three the same way.

A command without an entry keeps argparse's bare help; tests/test_cli_help.py walks every
subcommand and fails on it (and parses each example, so an example cannot drift from the
options).
"""

from __future__ import annotations

import argparse
import textwrap

import attrs

#: Said by every command: a usage mistake or a broken file never gives a traceback.
BAD_INPUT = "2  bad input or usage (one message per problem, file:line: field: problem), " \
            "or a missing system part (with how to fix it)"


@attrs.frozen
class Help:
    description: str
    examples: tuple[str, ...]
    #: ``code  meaning`` lines; the bad-input line is added to every command's.
    exits: tuple[str, ...]


#: Said by every command that does not say how a signal stops it its own way.
STOPPED = "129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM"

#: ``onshi-rig --help``'s own.
TOP = Help(
    "Test rig for the face-auth card readers of Japan's online eligibility system.",
    ("onshi-rig certify --plan", "onshi-rig certify --vendor canon",
     "onshi-rig scan --json", "onshi-rig COMMAND --help"),
    ("0  done, every rule kept", "1  a rule violated (each command's --help says its own)",
     "3  certify: only bench faults kept it from a pass"))

HELP: dict[str, Help] = {
    "scan": Help(
        "Find the bench's readers, identify each by its USB IDs and PC/SC name against the "
        "vendor profiles, and check the USB wiring rules (direct connection, USB 3 ports, "
        "hubs).",
        ("onshi-rig scan --json", "onshi-rig scan --bench fixtures/benches/miswired.yaml"),
        ("0  every reader found and wired as its maker requires",
         "1  a wiring rule is violated or a reader is missing")),
    "emulate": Help(
        "Run the emulated bench until Ctrl-C, SIGTERM or SIGHUP: the general readers hold the test "
        "card in pcscd through vpcd (pcsc_scan, OpenSC and pyscard see them), each said "
        "with the PC/SC name it shows under: all of them with pcscd-config's reader.conf, "
        "the first two in Debian's stock \"Virtual PCD 00 00\" and \"00 01\" (ports 35963, "
        "35964) otherwise; the relay board on a serial port, the NFC frontends; --hardware "
        "serves it through real interfaces only (a bench in a box).",
        ("onshi-rig emulate", "onshi-rig emulate --fault relay.garbage:mains"),
        ("0  stopped by Ctrl-C, SIGTERM or SIGHUP (the bench closed, its cards taken out)",
         "2  pcscd not running, or a vpcd slot missing, ambiguous or not showing the "
         "card put in it")),
    "pcscd-config": Help(
        "Write the reader.conf that gives pcscd every general reader of the emulated bench "
        "(one entry each, each with its own copy of the vpcd driver in DIR/onshi-rig-vpcd); "
        "start pcscd with it as root. Without --dir it only prints the file as --dir "
        "/etc/reader.conf.d would write it (the driver copies it names are made by --dir).",
        ("onshi-rig pcscd-config --dir /tmp/onshi-rig-readers",
         "onshi-rig pcscd-config --dir /etc/reader.conf.d"),
        ("0  written (or printed)",)),
    "certify": Help(
        "Run the suites against the bench and write the certification: per maker, each "
        "requirement passed, failed or not run, with its evidence (certification.json, "
        "certification.html, junit.xml, allure results) in a new report folder.",
        ("onshi-rig certify --vendor canon --out reports/canon",
         "onshi-rig certify --plan"),
        ("0  every requirement of the chosen makers passed",
         "1  a requirement failed or was not run (--plan: a requirement has no test)",
         "3  nothing failed, but bench faults left requirements not run",
         "129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM (the report is finished first)")),
    "catalogue": Help(
        "Print the requirement catalogue (docs/requirements.md) as Markdown, from the "
        "vendor profiles.",
        ("onshi-rig catalogue > docs/requirements.md",),
        ("0  printed",)),
    "probe": Help(
        "Read a My Number card or phone on one general reader through PC/SC (the JPKI "
        "applet's steps, timed) and check the name the management app shows (USB-05).",
        ("onshi-rig probe --reader sony-rc-s300-s1 --card card",),
        ("0  the card was read and the reader's name matches",
         "1  a step failed or the name differs")),
    "classify": Help(
        "Say which screen state each picture shows, against a maker's reference screens "
        "(and, with --read, the text it reads).",
        ("onshi-rig classify --vendor canon --read fixtures/screens/canon/first.png",),
        ("0  every picture shows a known screen",
         "1  a picture shows no known screen")),
    "learn": Help(
        "Capture a new reference screen of a maker from a live camera (or a recorded "
        "video): the frames averaged, the screen found, the reference written into the "
        "maker's folder of the lab's screens. Bring the reader to the state first: a "
        "picture recognised as another state's reference is refused (--force learns it).",
        ("onshi-rig learn --vendor acme --state first --shows first --camera cam-acme "
         "--bench lab.yaml --screens lab-screens",),
        ("0  the reference was written",)),
    "calibrate": Help(
        "Find the screen on a bench camera's live frames and save where it is as JSON next "
        "to the bench file (BENCH.CAMERA.calibration.json), and set the camera's "
        "'calibration:' key in the bench file to that file (a file the key already names is "
        "rewritten in place). The watcher then knows the screen from the first frame, a "
        "switched-off panel included.",
        ("onshi-rig calibrate --camera cam-canon --bench lab.yaml",),
        ("0  the screen was found and its calibration written",
         "1  no known screen was found (the bench file is unchanged)")),
    "references": Help(
        "Draw the reference screens from the twins' behaviour files (needs fonts-noto-cjk), "
        "or with --check compare the committed ones with what the twins draw. --twin draws "
        "a maker's from a behaviour file of the lab's own.",
        ("onshi-rig references --check",
         "onshi-rig references --vendor acme --twin acme.yaml --out lab-screens"),
        ("0  drawn (--check: the committed screens are what the twins draw)",
         "1  --check: a screen differs")),
    "report": Help(
        "Work on a run folder after the run: render its HTML again, verify its files, "
        "compare two runs, merge several benches' runs.",
        ("onshi-rig report verify reports/certify-20260202-083000",),
        ("0  see each action's --help", "1  see each action's --help")),
    "report render": Help(
        "Write certification.html and junit.xml again from the folder's "
        "certification.json (a sealed folder that was intact is sealed again).",
        ("onshi-rig report render reports/certify-20260202-083000",),
        ("0  written", "129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM while writing: it "
         "waited, the folder is rendered (and sealed again if it was intact)")),
    "report verify": Help(
        "Check every file of a run folder against its manifest.sha256.",
        ("onshi-rig report verify reports/certify-20260202-083000",),
        ("0  every file as sealed", "1  a file changed, missing or extra (each listed)")),
    "report diff": Help(
        "What changed from one run to another: requirements newly failing, passing, not "
        "run.",
        ("onshi-rig report diff reports/old reports/new --html diff.html",),
        ("0  nothing got worse", "1  a requirement newly fails or is newly not run, or a "
         "maker certified then is not now")),
    "report allure": Help(
        "Generate the run's allure report (RUN_DIR/allure-report) with allure's command "
        "line; --history-from carries the previous report's history/ of the same bench, "
        "so the trend spans the bench's runs.",
        ("onshi-rig report allure reports/new --history-from reports/old",),
        ("0  generated",)),
    "report merge": Help(
        "The runs of several benches as one certification: each maker from the bench that "
        "certified it, conflicts shown, never overwritten.",
        ("onshi-rig report merge reports/bench-a reports/bench-b --out reports/merged",),
        ("0  the merged certification passes",
         "1  a requirement failed or not run, or two benches disagree on a maker",
         "129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM: nothing merged, --out as it "
         "was")),
    "schema": Help(
        "Print the JSON Schema of a kind of file the rig reads, generated from the models "
        "that load it (a file naming a base holds only what it changes). Editors that "
        "speak yaml-language-server use it from a file's first line: "
        "'# yaml-language-server: $schema=PATH'; the repository's schemas/ holds each "
        "kind's.",
        ("onshi-rig schema bench > schemas/bench.json",),
        ("0  printed",)),
}


def filled(text: str, **kwargs: str) -> str:
    # A word is never split at its hyphens: a package (fonts-noto-cjk), a folder or an
    # editor's hint copied from the help must work.
    return textwrap.fill(text, 78, break_on_hyphens=False, break_long_words=False, **kwargs)


class Wrapping(argparse.HelpFormatter):
    """argparse's, never splitting a word at its hyphens."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False,
                             break_long_words=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False,
                             break_long_words=False)


class Formatter(Wrapping):
    """A subcommand's: its description and epilog as :func:`document` laid them out
    (argparse would run their lines together)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in text.splitlines(keepends=True))


def _code(line: str) -> int:
    return int(line.split()[0].rstrip(","))


def epilog(entry: Help, before: str | None) -> str:
    # A command's own meaning of a code the bad-input line has is said on that line.
    own = {_code(x): x.split(None, 1)[1] for x in entry.exits}
    bad = BAD_INPUT + (f"; {own[2]}" if 2 in own else "")
    # A command that says how a signal stops it says so itself (emulate: 0, its way out).
    stopped = [] if any("SIG" in x for x in entry.exits) else [STOPPED]
    exits = sorted([*(x for x in entry.exits if _code(x) != 2), bad, *stopped], key=_code)
    lines = [filled(before.strip()), ""] if before else []
    lines += ["example:", *(f"  {e}" for e in entry.examples), "", "exit codes:"]
    lines += [filled(x, initial_indent="  ", subsequent_indent="      ") for x in exits]
    return "\n".join(lines)


def document(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Give every subcommand under ``parser`` its description, examples and exit codes."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            key = f"{path} {name}".strip()
            entry = HELP.get(key)
            if entry is not None:
                sub.description = filled(sub.description or entry.description)
                sub.epilog = epilog(entry, sub.epilog)
                sub.formatter_class = Formatter
            document(sub, key)


def commands(parser: argparse.ArgumentParser, path: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every subcommand under ``parser`` by its words (``report diff``)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                key = f"{path} {name}".strip()
                found[key] = sub
                found.update(commands(sub, key))
    return found
