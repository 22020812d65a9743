"""``onshi-rig report merge RUN_DIR... --out DIR``: the runs of several benches as one
certification.

A lab certifies makers on different benches (one holds the Panasonic reader, another the
general readers); the merged folder is the one certification they hand over. Each maker's
requirements come from the run that certified it, and the report names which bench (name
and SHA-256 of its file) and which run decided each maker.

Two runs that certified the same maker must agree on every requirement's status. Where they
do not, that is a conflict: the requirement is ``failed`` in the merged report with a reason
naming each bench and what it said, the conflict is listed (``merged.conflicts``), and the
merge does not pass; one run's result never silently stands for both. A requirement one
run decided and the other left not run is a conflict too (which run should count is the
lab's call: merge the runs that certify what they should).

Only finished runs whose files still match their manifest are merged (an unfinished or
changed run is refused, exit 2). Each run is copied whole into ``run-N/`` of the merged
folder (its evidence, timeline and manifest: ``report verify DIR/run-N`` still checks it);
the merged folder gets ``certification.json``, ``certification.html`` (the same renderer),
``junit.xml`` (every run's suites, each with its bench's properties) and its own manifest.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import shutil
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from harness.errors import RigError
from harness.loading import json_loads
from harness.report.html import bench_file_shown
from harness.report.live import REPORT_FILE, RUN_FILE, claim_folder, write_json
from harness.report.stored import load_run

if TYPE_CHECKING:
    from harness.report.stop import Stop

RUN_PREFIX = "run-"


@attrs.define
class Conflict:
    maker: str
    requirement: str
    #: (run folder in the merged folder, bench name, bench SHA-256, status there).
    said: list[tuple[str, str, str, str]]

    def line(self) -> str:
        return f"CONFLICT {self.maker} {self.requirement}: " + ", ".join(
            f"{bench} ({sha[:12]}) {status.replace('_', ' ')}" for _, bench, sha, status
            in self.said)

    def as_json(self) -> dict[str, Any]:
        return {"maker": self.maker, "requirement": self.requirement,
                "runs": [{"folder": f, "bench": b, "sha256": s, "status": st}
                         for f, b, s, st in self.said]}


@attrs.define
class MergeResult:
    out: Path
    report: dict[str, Any]
    conflicts: list[Conflict]

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])


def _checked_run(run_dir: Path) -> dict[str, Any]:
    """A run fit to merge: its report whole, finished, and its files as sealed."""
    from harness.report.manifest import MANIFEST_FILE, check_manifest

    report = load_run(run_dir)
    state = report.get("state", "finished")
    if state != "finished":
        raise RigError(f"{run_dir}: the run did not finish (state {state}): finish it "
                       "(certify --resume --out DIR) before merging it")
    if report.get("merged") is not None:
        raise RigError(f"{run_dir}: a merged certification; merge the benches' own runs")
    if not (run_dir / MANIFEST_FILE).is_file():
        raise RigError(f"{run_dir}: no {MANIFEST_FILE}: its files cannot be checked "
                       "before they are handed over")
    check = check_manifest(run_dir)
    if not check.ok:
        raise RigError(f"{run_dir}: its files do not match {MANIFEST_FILE} "
                       f"({len(check.changed)} changed, {len(check.missing)} missing, "
                       f"{len(check.extra)} extra: onshi-rig report verify {run_dir})")
    return report


def _maker_folders(run_dir: Path, report: dict[str, Any]) -> dict[str, str]:
    """Maker -> the folder under the run holding its evidence ("" the run's own; a run
    certified in parts: its part's)."""
    out = dict.fromkeys(report["makers"], "")
    for part in report.get("parts", []):
        try:
            part_report = json_loads((run_dir / part / REPORT_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        for maker in part_report.get("makers", {}):
            out[maker] = part
    return out


def _moved_rows(rows: dict[str, Any], folder: str, maker_folder: str) -> dict[str, Any]:
    """A run's rows for the merged report: each verdict's evidence found under ``folder``
    (``run-N``), in the part or earlier run it was kept in."""
    rows = copy.deepcopy(rows)
    for row in rows.values():
        for verdict in row.get("verdicts", []):
            inner = verdict.get("folder") or maker_folder
            verdict["folder"] = f"{folder}/{inner}" if inner else folder
    return rows


def _bench_label(bench: dict[str, Any]) -> str:
    return f"{bench['name']} ({bench['sha256'][:12]})"


def _outside_runs(out: Path, run_dirs: list[Path], resolved: list[Path]) -> None:
    """``out`` is no run's folder nor inside one, before anything is copied: a run copied
    into itself copies its copy again, without end; and a sealed run would not verify."""
    from harness.report.manifest import outside_sealed_runs

    target = out.resolve()
    for run_dir, folder in zip(run_dirs, resolved, strict=True):
        if target == folder or folder in target.parents:
            raise RigError(f"--out {out}: inside the run folder {run_dir}: merging would copy "
                           "the run into itself; give a folder outside it")
    outside_sealed_runs("--out", out, "folder")


def merge_runs(run_dirs: list[Path], out: Path, stop: Stop | None = None) -> MergeResult:
    """Merge ``run_dirs`` into the new folder ``out`` (see the module's description);
    ``stop``: the command's signal handling, told when the folder is being put in place."""
    if len(run_dirs) < 2:
        raise RigError("report merge: give two or more run folders")
    resolved = [d.resolve() for d in run_dirs]
    for i, d in enumerate(resolved):
        if d in resolved[:i]:
            raise RigError(f"{run_dirs[i]}: given twice")
    _outside_runs(out, run_dirs, resolved)
    reports = [_checked_run(d) for d in run_dirs]
    _each_run_once(run_dirs, reports)
    _one_rig(run_dirs, reports)
    merge_id = uuid.uuid4().hex
    made = not out.exists()
    claim_folder(out, merge_id)  # the name taken (no other run gets it), left empty of work
    # Made beside it and renamed into place whole: a merge stopped part way (a signal, a
    # full disk) never leaves a folder that looks merged (a report saying passed, unsealed).
    work = out.parent / f".{out.name}.merging-{merge_id[:12]}"
    try:
        work.mkdir()
        shutil.copy2(out / RUN_FILE, work / RUN_FILE)
        result = _merge_into(work, out, run_dirs, reports, merge_id)
        if stop is not None:
            stop.finishing = True  # from here a signal is noted: the folder is put in place
        (out / RUN_FILE).unlink()
        work.rename(out)
    except BaseException:
        _undo(out, work, made)
        raise
    return MergeResult(out, result.report, result.conflicts)


def _each_run_once(run_dirs: list[Path], reports: list[dict[str, Any]]) -> None:
    """One run under two folder names (a copy of it) would count as two runs agreeing."""
    seen: dict[str, Path] = {}
    for run_dir, report in zip(run_dirs, reports, strict=True):
        run_id = report.get("run")
        if not isinstance(run_id, str):
            continue
        if run_id in seen:
            raise RigError(f"{run_dir}: the same run ({run_id}) as {seen[run_id]}: given "
                           "twice (a copy of one run is no second bench's word)")
        seen[run_id] = run_dir


def _rig_of(report: dict[str, Any]) -> dict[str, object]:
    """What judged a run: the rig's version and code, its profiles and the network
    scenarios they replay (the fields ``--resume`` compares too)."""
    rig = report.get("rig") if isinstance(report.get("rig"), dict) else {}
    profiles = rig.get("profiles") if isinstance(rig.get("profiles"), dict) else {}
    return {"rig version": rig.get("version"), "rig code (rig.code_sha256)":
            rig.get("code_sha256"), "profiles (rig.profiles.sha256)": profiles.get("sha256"),
            "network scenarios (rig.profiles.scenarios)": profiles.get("scenarios")}


def _one_rig(run_dirs: list[Path], reports: list[dict[str, Any]]) -> None:
    """Runs judged under other profiles or other rig code are not one certification: the
    merged report's ``rig`` would name the first run's only (a maker certified against a
    lab's weakened profiles handed over under the shipped profiles' hash). Refused."""
    first = _rig_of(reports[0])
    for run_dir, report in zip(run_dirs[1:], reports[1:], strict=True):
        other = _rig_of(report)
        differ = [f"{what}: {_short(first[what])} in {run_dirs[0]}, {_short(other[what])} "
                  f"here" for what in first if first[what] != other[what]]
        differ += [f"reference screens of {key} (rig.screens.{key}.sha256): "
                   f"{_short(then)} in {run_dirs[0]}, {_short(now)} here"
                   for key, (then, now) in screens_differ(reports[0], report).items()]
        if differ:
            raise RigError(f"{run_dir}: not judged as {run_dirs[0]} was ("
                           + "; ".join(differ) + "): runs under other profiles, reference "
                           "screens or rig code are not merged; certify them again alike")


def screens_of(report: dict[str, Any]) -> dict[str, object]:
    """Each maker's reference screens that judged a run, by digest (``rig.screens``)."""
    rig = report.get("rig") if isinstance(report.get("rig"), dict) else {}
    screens = rig.get("screens") if isinstance(rig.get("screens"), dict) else {}
    return {key: entry.get("sha256") if isinstance(entry, dict) else None
            for key, entry in screens.items()}


def screens_differ(one: dict[str, Any], other: dict[str, Any]
                    ) -> dict[str, tuple[object, object]]:
    """The makers both runs judged by reference screens, whose screens were not the same
    (a maker only one run certified has nothing to differ from)."""
    a, b = screens_of(one), screens_of(other)
    return {key: (a[key], b[key]) for key in sorted(set(a) & set(b)) if a[key] != b[key]}


def _short(value: object) -> str:
    if isinstance(value, str) and len(value) == 64:
        return value[:12]  # a SHA-256, as the HTML shows it
    return "none" if value is None else str(value)


def _undo(out: Path, work: Path, made: bool) -> None:
    """A merge that did not finish: its work removed and ``out`` as it was (gone when the
    merge made it), so that nothing half made is taken for a merge."""
    shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(OSError):
        (out / RUN_FILE).unlink()
    if made:
        with contextlib.suppress(OSError):
            out.rmdir()


def _merge_into(out: Path, shown: Path, run_dirs: list[Path], reports: list[dict[str, Any]],
                merge_id: str) -> MergeResult:
    """The merged folder's content written into ``out`` (to become ``shown``), sealed
    last."""
    from harness.report.html import write_html
    from harness.report.manifest import write_manifest

    folders = [f"{RUN_PREFIX}{i + 1}" for i in range(len(run_dirs))]
    for run_dir, folder in zip(run_dirs, folders, strict=True):
        try:
            shutil.copytree(run_dir, out / folder, symlinks=True)
        except OSError as exc:
            raise RigError(f"--out {shown}: cannot copy {run_dir} there: {exc}") from None

    runs_of: dict[str, list[int]] = {}
    for i, report in enumerate(reports):
        for maker in report["makers"]:
            runs_of.setdefault(maker, []).append(i)
    makers: dict[str, Any] = {}
    decided_by: dict[str, list[str]] = {}
    conflicts: list[Conflict] = []
    for maker, runs in runs_of.items():
        moved = [_moved_rows(reports[i]["makers"][maker], folders[i],
                             _maker_folders(run_dirs[i], reports[i])[maker]) for i in runs]
        decided_by[maker] = [folders[i] for i in runs]
        rows: dict[str, Any] = {}
        for req in dict.fromkeys(r for m in moved for r in m):
            said = [(folders[i], reports[i]["bench"]["name"], reports[i]["bench"]["sha256"],
                     m[req]["status"] if req in m else "absent")
                    for i, m in zip(runs, moved, strict=True)]
            if len({s[3] for s in said}) == 1:
                rows[req] = moved[0][req]
                continue
            conflict = Conflict(maker, req, said)
            conflicts.append(conflict)
            rows[req] = {
                "status": "failed",
                "tests": [t for m in moved for t in m.get(req, {}).get("tests", [])],
                "verdicts": [v for m in moved for v in m.get(req, {}).get("verdicts", [])],
                "reasons": [f"conflict: bench {name} (SHA-256 {sha}) says "
                            f"{status.replace('_', ' ')}" for _, name, sha, status in said],
            }
        makers[maker] = rows

    texts: dict[str, Any] = {}
    for report in reports:
        for maker, about in report.get("requirements", {}).items():
            texts.setdefault(maker, about)
    benches = [r["bench"] for r in reports]
    all_passed = all(row["status"] == "passed" for rows in makers.values()
                     for row in rows.values())
    merged = {
        "bench": {"name": " + ".join(b["name"] for b in benches),
                  "file": "; ".join(b["file"] for b in benches),
                  "file_shown": "; ".join(bench_file_shown(b) for b in benches),
                  "kind": "merged",
                  "sha256": "; ".join(f"{b['name']}: {b['sha256']}" for b in benches)},
        "started": min(r["started"] for r in reports),
        "ended": max(r["ended"] for r in reports),
        "passed": all_passed and not conflicts,
        "makers": makers,
        "requirements": texts,
        "operator": [step for r in reports for step in r.get("operator", [])],
        "bench_faults": [{**f, "test": f"{folders[i]}/{f['test']}"}
                         for i, r in enumerate(reports) for f in r.get("bench_faults", [])],
        "tests": {f"{folders[i]}/{nodeid}": {**record, "folder": f"{folders[i]}/"
                                             f"{record['folder']}" if record.get("folder")
                                             else folders[i]}
                  for i, r in enumerate(reports)
                  for nodeid, record in r.get("tests", {}).items()},
        "merged": {
            "runs": [{"folder": folders[i], "source": str(run_dirs[i]), "bench": r["bench"],
                      "run": r.get("run"), "started": r["started"], "ended": r["ended"],
                      "passed": r["passed"], "rig": r.get("rig"),
                      "makers": list(r["makers"])}
                     for i, r in enumerate(reports)],
            "decided_by": decided_by,
            "conflicts": [c.as_json() for c in conflicts],
        },
        "run": merge_id,
        "state": "finished",
        "interrupted": False,
        "merged_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    rig = reports[0].get("rig")
    if isinstance(rig, dict):
        # Every run's makers' screens (those both judged by are the same: _one_rig).
        screens = {key: entry for r in reports
                   for key, entry in ((r.get("rig") or {}).get("screens") or {}).items()}
        merged["rig"] = {**rig, "screens": screens} if screens else rig
    write_json(out / REPORT_FILE, merged)
    _merge_junit(out, [(f, r.get("run")) for f, r in zip(folders, reports, strict=True)],
                 merged)
    write_html(out, merged)
    write_manifest(out)
    return MergeResult(out, merged, conflicts)


def merged_junit(out: Path, merged: dict[str, Any]) -> Path:
    """A merged folder's ``junit.xml`` written again (``report render``) from its runs'."""
    from harness.report.junit import JUNIT_FILE

    _merge_junit(out, [(r["folder"], r.get("run")) for r in merged["merged"]["runs"]], merged)
    return out / JUNIT_FILE


def _merge_junit(out: Path, runs: list[tuple[str, str | None]],
                 merged: dict[str, Any]) -> None:
    """``junit.xml``: every run's suites (already named for their bench, with its
    properties), each told the merged certification's result and id; ``runs``: (folder,
    run id)."""
    from harness.report.junit import JUNIT_FILE, set_properties, suites_of, write_suites

    suites = []
    for folder, run_id in runs:
        path = out / folder / JUNIT_FILE
        if not path.is_file():
            raise RigError(f"{folder}: the run {run_id} has no {JUNIT_FILE}")
        try:
            top = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise RigError(f"{path}: not JUnit XML: {exc}") from None
        for suite in suites_of(top):
            set_properties(suite, [("merged_run", merged["run"]), ("merged_folder", folder),
                                   ("merged_certification",
                                    "passed" if merged["passed"] else "failed")])
            suites.append(suite)
    write_suites(out / JUNIT_FILE, f"certify {merged['bench']['name']}", suites)


def format_merge(result: MergeResult) -> list[str]:
    """The console's account: per maker, the bench that decided it and its counts; each
    conflict; the verdict line."""
    from harness.report.summary import counts, verdict_line

    report = result.report
    runs = {r["folder"]: r for r in report["merged"]["runs"]}
    width = max([16, *(len(m) + 1 for m in report["makers"])])
    lines = []
    for maker, rows in report["makers"].items():
        c = counts(rows)
        by = ", ".join(f"{_bench_label(runs[f]['bench'])} in {f}"
                       for f in report["merged"]["decided_by"][maker])
        lines.append(f"{maker:{width}} passed {c['passed']:3}  failed {c['failed']:3}  "
                     f"not run {c['not_run']:3}  decided by {by}")
    lines += [c.line() for c in result.conflicts]
    lines.append(f"merged {len(runs)} runs into {result.out}")
    line = verdict_line(report, result.out)
    if result.conflicts:
        line = line.replace("NOT PASSED: ", f"NOT PASSED: {len(result.conflicts)} "
                            "conflict(s), ", 1)
    lines.append(line)
    return lines
