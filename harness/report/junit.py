"""JUnit XML of a certification (``junit.xml`` in the run folder), for CI servers.

pytest writes the file (``--junitxml``; each test case carries its verdicts as properties);
:func:`finish_junit` names the suite and adds the properties a CI server shows with it:
``bench``, ``bench_sha256``, ``commit``, ``certification`` (``passed`` or ``failed``: a
requirement can fail with every test passing, e.g. one no test decides) and one ``maker`` per
maker certified (and ``run``: the run's id). A run
certified in parts is merged into one file, one ``testsuite`` per part.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

JUNIT_FILE = "junit.xml"
_COUNTS = ("tests", "failures", "errors", "skipped")


def suites_of(root: ET.Element) -> list[ET.Element]:
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def set_properties(suite: ET.Element, properties: list[tuple[str, str]]) -> None:
    props = suite.find("properties")
    if props is None:
        props = ET.Element("properties")
        suite.insert(0, props)
    for name, value in properties:
        ET.SubElement(props, "property", name=name, value=value)


def finish_junit(target: Path, parts: Iterable[tuple[Path, list[str]]], *, bench: str,
                 bench_sha256: str, commit: str | None, passed: bool,
                 run: str | None = None) -> Path:
    """Write ``target`` from pytest's files: ``parts`` are (file, makers it certified). The
    suites are named ``certify <bench>`` and carry the run's properties."""
    suites = []
    for path, makers in parts:
        for suite in suites_of(ET.parse(path).getroot()):
            suite.set("name", f"certify {bench}" + (f" ({', '.join(makers)})" if makers else ""))
            set_properties(suite, [("bench", bench), ("bench_sha256", bench_sha256),
                                   ("commit", commit or "unknown"),
                                   ("certification", "passed" if passed else "failed"),
                                   *((("run", run),) if run else ()),
                                   *(("maker", m) for m in makers)])
            suites.append(suite)
    return write_suites(target, f"certify {bench}", suites)


def write_suites(target: Path, name: str, suites: Iterable[ET.Element]) -> Path:
    """``target``: the suites under one ``testsuites`` named ``name``, its counts and time
    their sums; written whole or not at all."""
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(_COUNTS, 0)
    time = 0.0
    for suite in suites:
        for key in _COUNTS:
            totals[key] += int(suite.get(key, "0"))
        time += float(suite.get("time", "0"))
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time:.3f}")
    ET.indent(root)
    tmp = target.with_suffix(".xml.tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(target)
    return target
