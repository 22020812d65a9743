"""The run's own files in its ``allure/`` folder, written by ``onshi-rig certify``.

``environment.properties``: what produced the results (the bench's name, file and SHA-256,
the rig's version and git commit, the profiles' SHA-256), in Java's properties format (what
the allure generator reads: ISO-8859-1, anything else escaped as ``\\uXXXX``).

``categories.json``: allure's categories, matched on what the rig writes (first match wins):

- *Bench faults (not the reader)*: a test stopped by a bench fault (harness.errors.BenchFault:
  its message starts ``bench fault (KIND)``): the requirement is ``not_run``, never the
  maker's failure;
- *Requirements that could not be judged*: a verdict with status ``error``
  (``Verdict.explain``: ``could not be judged``), the rule could not be tried;
- *Reader failures (a requirement broken)*: a verdict that failed (the ``judge`` fixture's
  ``Failed: ... failed: ...``) or any other test failure;
- *Rig errors*: anything else broken: the rig itself raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENVIRONMENT_FILE = "environment.properties"
CATEGORIES_FILE = "categories.json"
ALLURE_DIR = "allure"

#: What the rig's messages say (harness.errors.BenchFault, harness.model.verdict.Verdict).
BENCH_FAULT = r"bench fault \("
NOT_JUDGED = r"could not be judged"

CATEGORIES: list[dict[str, Any]] = [
    {"name": "Bench faults (not the reader)", "matchedStatuses": ["failed", "broken"],
     "messageRegex": rf"(?s).*{BENCH_FAULT}.*"},
    {"name": "Requirements that could not be judged", "matchedStatuses": ["failed", "broken"],
     "messageRegex": rf"(?s)(?!.*{BENCH_FAULT}).*{NOT_JUDGED}.*"},
    {"name": "Reader failures (a requirement broken)", "matchedStatuses": ["failed"],
     "messageRegex": rf"(?s)(?!.*{BENCH_FAULT})(?!.*{NOT_JUDGED}).*"},
    {"name": "Rig errors", "matchedStatuses": ["broken"],
     "messageRegex": rf"(?s)(?!.*{BENCH_FAULT})(?!.*{NOT_JUDGED}).*"},
]


def _escape(text: str, key: bool = False) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif key and ch in " =:#!":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            # Java reads \\u escapes as UTF-16 code units: a pair for characters beyond them.
            units = ch.encode("utf-16-be")
            out += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
        else:
            out.append(ch)
    text = "".join(out)
    # A value's leading spaces would be dropped by the reader.
    return text if key or not text.startswith(" ") else "\\" + text


def environment(report: dict[str, Any]) -> dict[str, str]:
    """The properties of a certification report (``certification.json``)."""
    bench, rig = report.get("bench", {}), report.get("rig", {})
    commit = rig.get("commit") or "unknown (not a git checkout)"
    if rig.get("modified"):
        commit += " (with local changes)"
    return {
        "bench": str(bench.get("name", "unknown")),
        "bench.kind": str(bench.get("kind", "unknown")),
        "bench.file": Path(str(bench.get("file", "unknown"))).name,
        "bench.sha256": str(bench.get("sha256", "unknown")),
        "rig.version": str(rig.get("version", "unknown")),
        "rig.commit": commit,
        "profiles.sha256": str(rig.get("profiles", {}).get("sha256", "unknown")),
        "run": str(report.get("run", "unknown")),
        "started": str(report.get("started", "unknown")),
    }


def environment_properties(report: dict[str, Any]) -> str:
    return "".join(f"{_escape(k, key=True)}={_escape(v)}\n"
                   for k, v in environment(report).items())


def write_run_files(folder: Path, report: dict[str, Any]) -> None:
    """``environment.properties`` and ``categories.json`` into the run's allure folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ENVIRONMENT_FILE).write_text(environment_properties(report), encoding="ascii")
    (folder / CATEGORIES_FILE).write_text(json.dumps(CATEGORIES, indent=2) + "\n",
                                          encoding="utf-8")
