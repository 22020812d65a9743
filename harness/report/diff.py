"""``onshi-rig report diff OLD_RUN NEW_RUN``: what changed from one certification to the next.

A lab certifies again after every firmware or terminal update; what it needs first is what
changed. Per maker, each requirement is put in one kind (:data:`KINDS`) by its status then and
now; a requirement in only one of the runs counts as not run in the other (a requirement the
new run left out is not certified by it). A requirement that failed both times but now fails
on a reader that passed it before is worse too (``failing_more``). For each requirement that
changed, the verdicts are paired by subject (the reader judged) and check (the test that
judged it: a requirement with ``also:`` checks has a verdict per check on one reader) and
every changed one is shown side by side: what was expected, what was seen, the problems,
the text read, and (in the HTML) the evidence pictures of both runs, drawn from each run's
own folder as ``certification.html`` draws them. A verdict in one run only is said to be.

Two runs of different benches, makers, rigs or profiles are still compared on what they have
in common, and the difference is said first (:attr:`RunDiff.notes`; benches by their file's
SHA-256, whatever their names). Both folders must match their ``manifest.sha256``
(``report verify``): a report changed since its run sealed it, or one that cannot be checked,
is refused, never compared. The devices of both runs are listed whole, each identity field
(VID:PID, serial, firmware, PC/SC name, port) then and now, the changed ones marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from harness.report.devices import load_devices
from harness.report.stored import load_run

#: Requirement kinds, worst first, with their words.
KINDS = {"newly_failing": "newly failing", "newly_not_run": "newly not run",
         "failing_more": "still failing, on more readers", "newly_passing": "newly passing",
         "unchanged": "unchanged"}
WORSE = ("newly_failing", "newly_not_run", "failing_more")
_BAD = ("failed", "error")
#: A device's identity, as devices.json holds it (the scan's row and what it adds), with
#: its words: ``version`` is the USB bcdDevice the scan read (a firmware update moves it).
IDENTITY = {"vid_pid": "VID:PID", "serial": "serial", "version": "USB bcdDevice (firmware)",
            "firmware": "firmware (read otherwise)", "pcsc_name": "PC/SC name",
            "product": "product", "usb_path": "port path", "speed_mbps": "speed (Mbit/s)",
            "hubs_between": "hubs between", "present": "present", "twin": "twin"}
_RIG = ("version", "commit", "modified", "code_sha256")


def _kind(old: str | None, new: str | None) -> str:
    old, new = old or "not_run", new or "not_run"
    if old == new:
        return "unchanged"
    return {"failed": "newly_failing", "not_run": "newly_not_run",
            "passed": "newly_passing"}[new]


@attrs.frozen
class VerdictPair:
    """One check's verdict on one subject, then and now (None: not judged in that run).

    A requirement with several checks (``also:``: E901-02's face, phone, PIN and staff's
    ways) has several verdicts on one reader: they are told apart by ``check``, the test
    that judged them (its node id) or, where a report does not say, the check's words."""

    subject: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    #: What tells this verdict from the subject's others: the judging test's node id (or
    #: the check's words), with ``#n`` for the n-th verdict of one test on one subject.
    check: str = ""
    #: The check in words (the bracketed part of ``expected``), for a person.
    label: str = ""

    @property
    def changed(self) -> bool:
        """Judged in one run only, another status, or failing otherwise (a pass seen
        differently, e.g. another PC/SC name order, is no change)."""
        if self.old is None or self.new is None or self.old["status"] != self.new["status"]:
            return True
        return self.new["status"] in _BAD and any(
            self.old.get(k) != self.new.get(k) for k in ("seen", "problems"))

    @property
    def worse(self) -> bool:
        was = self.old["status"] if self.old else None
        return self.new is not None and self.new["status"] in _BAD and was not in _BAD

    @property
    def heading(self) -> str:
        """``canon (check: e901_phone given ...)``: whose verdict, on which check."""
        return f"{self.subject} (check: {self.label})" if self.label else self.subject

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "check": self.check, "label": self.label,
                "old": self.old, "new": self.new}


@attrs.frozen
class RequirementDiff:
    maker: str
    req: str
    kind: str
    old_status: str | None
    new_status: str | None
    old_reasons: tuple[str, ...]
    new_reasons: tuple[str, ...]
    verdicts: tuple[VerdictPair, ...]

    def as_json(self) -> dict[str, Any]:
        return {"requirement": self.req, "kind": self.kind, "old": self.old_status,
                "new": self.new_status, "old_reasons": list(self.old_reasons),
                "new_reasons": list(self.new_reasons),
                "verdicts": [p.as_json() for p in self.verdicts if p.changed],
                "other_reasons": list(self.other_reasons),
                "old_other_reasons": list(self.old_other_reasons)}

    def _uncarried(self, reasons: tuple[str, ...], new: bool) -> tuple[str, ...]:
        carried = set()
        for p in self.verdicts:
            side = p.new if new else p.old
            if p.changed and side is not None:
                carried.add(f"{p.subject}: " + "; ".join(side.get("problems", ())))
        return tuple(r for r in reasons if r not in carried)

    @property
    def other_reasons(self) -> tuple[str, ...]:
        """The new run's reasons no changed verdict shown carries (a test that failed
        before judging, one not run, no test at all): said beside the verdicts, never
        dropped."""
        return self._uncarried(self.new_reasons, True)

    @property
    def old_other_reasons(self) -> tuple[str, ...]:
        """The same of the old run's reasons (why it was not run then, say)."""
        return self._uncarried(self.old_reasons, False)


@attrs.frozen
class DeviceDiff:
    name: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    changed: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"device": self.name, "old": self.old, "new": self.new,
                "changed": list(self.changed)}


@attrs.frozen
class RunDiff:
    old_dir: Path
    new_dir: Path
    old: dict[str, Any]
    new: dict[str, Any]
    #: Per maker both runs certified, its requirements (worst kind first).
    makers: dict[str, tuple[RequirementDiff, ...]]
    devices: tuple[DeviceDiff, ...]
    #: What makes the two runs differ beyond their verdicts (benches, makers, rig, state).
    notes: tuple[str, ...]

    @property
    def lost(self) -> list[str]:
        """Makers certified then and not now: what was known of them is no longer."""
        return _lost(self.old, self.new)

    @property
    def worse(self) -> bool:
        return bool(self.lost) or any(r.kind in WORSE for rows in self.makers.values()
                                      for r in rows)

    def of_kind(self, maker: str, kind: str) -> list[str]:
        return [r.req for r in self.makers[maker] if r.kind == kind]

    @property
    def same_bench(self) -> bool:
        """Both runs on the same bench file (its SHA-256; a name proves nothing), over the
        same files it loads (its base files and twins) where both reports record them."""
        ob, nb = self.old["bench"], self.new["bench"]
        return ob["sha256"] == nb["sha256"] and not _loads_changed(ob, nb)

    def as_json(self) -> dict[str, Any]:
        return {
            "old": _run_facts(self.old_dir, self.old), "new": _run_facts(self.new_dir, self.new),
            "same_bench": self.same_bench, "notes": list(self.notes), "worse": self.worse,
            "makers": {m: {**{kind: self.of_kind(m, kind) for kind in KINDS},
                           "changes": [r.as_json() for r in rows if r.kind != "unchanged"]}
                       for m, rows in self.makers.items()},
            "devices": [d.as_json() for d in self.devices],
        }


def _run_facts(run_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    return {"folder": str(run_dir), "run": report.get("run"), "state": report.get("state"),
            "passed": report["passed"], "started": report["started"], "ended": report["ended"],
            "bench": report["bench"], "rig": report.get("rig")}


def _check_words(verdict: dict[str, Any]) -> str:
    """The check part of ``statement [check]`` (html._split_expected's), else ""."""
    expected = str(verdict.get("expected", ""))
    if expected.endswith("]") and " [" in expected:
        return expected.rpartition(" [")[2][:-1]
    return ""


def _judging_tests(req: str, row: dict[str, Any], tests: dict[str, Any]
                   ) -> list[str | None]:
    """Per verdict of ``row`` (requirement ``req``), the node id of the test that judged it
    (None: not recorded). A test's record holds it with the same subject and rule
    (``expected``); the n-th such verdict of the row is the n-th of its tests' (one test
    may judge a subject twice, BOOT-01 at both edges)."""
    queue: dict[tuple[str, str], list[str]] = {}
    for nodeid in row.get("tests", ()):
        for v in (tests.get(nodeid) or {}).get("verdicts", ()):
            if isinstance(v, dict) and v.get("requirement") == req:
                queue.setdefault((str(v.get("subject")), str(v.get("expected"))),
                                 []).append(nodeid)
    out: list[str | None] = []
    for v in row.get("verdicts", []):
        left = queue.get((v["subject"], v["expected"]))
        out.append(left.pop(0) if left else None)
    return out


def _keyed(row: dict[str, Any] | None, by_test: list[str | None] | None
           ) -> dict[tuple[str, str], dict[str, Any]]:
    """A row's verdicts by (subject, check): the judging test's node id (``by_test``) or,
    without it, the check's words; the n-th of one key ``#n``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    verdicts = (row or {}).get("verdicts", [])
    for i, v in enumerate(verdicts):
        base = (by_test[i] if by_test else None) or _check_words(v)
        check, n = base, 1
        while (v["subject"], check) in out:
            n += 1
            check = f"{base} #{n}"
        out[(v["subject"], check)] = v
    return out


def _verdict_pairs(req: str, old: dict[str, Any] | None, new: dict[str, Any] | None,
                   old_tests: dict[str, Any] | None = None,
                   new_tests: dict[str, Any] | None = None) -> tuple[VerdictPair, ...]:
    """Each verdict paired with its own check's in the other run (never one per subject:
    the last of a reader's verdicts would stand for all); one in one run only pairs with
    None."""
    tested = [_judging_tests(req, row, tests or {}) if row else []
              for row, tests in ((old, old_tests), (new, new_tests))]
    # Both runs by their tests where both record every verdict's; else both by the checks'
    # words (an older report): one key for both sides, or nothing would pair.
    by_test = all(None not in t for t in tested)
    then = _keyed(old, tested[0] if by_test else None)
    now = _keyed(new, tested[1] if by_test else None)
    keys = list(then) + [k for k in now if k not in then]
    return tuple(VerdictPair(subject, then.get((subject, check)), now.get((subject, check)),
                             check, _check_words(now.get((subject, check))
                                                 or then[(subject, check)]))
                 for subject, check in keys)


def _requirements(maker: str, old: dict[str, Any], new: dict[str, Any],
                  old_tests: dict[str, Any] | None = None,
                  new_tests: dict[str, Any] | None = None) -> tuple[RequirementDiff, ...]:
    """``old``/``new``: the maker's rows of each run; ``*_tests``: each report's ``tests``
    (which test judged each verdict)."""
    out = []
    for req in list(old) + [r for r in new if r not in old]:
        o, n = old.get(req), new.get(req)
        pairs = _verdict_pairs(req, o, n, old_tests, new_tests)
        kind = _kind(o and o["status"], n and n["status"])
        if kind == "unchanged" and n and n["status"] == "failed" and any(p.worse for p in pairs):
            kind = "failing_more"
        out.append(RequirementDiff(
            maker, req, kind, o and o["status"], n and n["status"],
            tuple((o or {}).get("reasons", ())) if o else ("not in this run",),
            tuple((n or {}).get("reasons", ())) if n else ("not in this run",), pairs))
    order = list(KINDS)
    return tuple(sorted(out, key=lambda r: order.index(r.kind)))


def _identity(device: dict[str, Any]) -> dict[str, Any]:
    vid, pid = device.get("vid"), device.get("pid")
    out = {"vid_pid": f"{vid}:{pid}" if vid or pid else None}
    out.update({k: device.get(k) for k in IDENTITY if k != "vid_pid"})
    return out


def _devices(old: dict[str, Any] | None, new: dict[str, Any] | None,
             notes: list[str]) -> tuple[DeviceDiff, ...]:
    for side, data in (("old", old), ("new", new)):
        if data is None:
            notes.append(f"the {side} run has no devices.json: its devices are unknown")
        elif data.get("error"):
            notes.append(f"the {side} run's devices: {data['error']}")
    then = {d["name"]: _identity(d) for d in (old or {}).get("devices", []) if d.get("name")}
    now = {d["name"]: _identity(d) for d in (new or {}).get("devices", []) if d.get("name")}
    out = []
    for name in list(then) + [n for n in now if n not in then]:
        o, n = then.get(name), now.get(name)
        changed = tuple(IDENTITY) if o is None or n is None else \
            tuple(k for k in IDENTITY if o.get(k) != n.get(k))
        out.append(DeviceDiff(name, o, n, changed))
    return tuple(out)


def _loads_changed(ob: dict[str, Any], nb: dict[str, Any]) -> list[str]:
    """The files the bench file loads (its base chain, twins) that differ between two runs'
    reports; none when either report does not record them (an older rig)."""
    then, now = ob.get("loads"), nb.get("loads")
    if not isinstance(then, dict) or not isinstance(now, dict):
        return []
    return sorted(str(k) for k in {*then, *now} if then.get(k) != now.get(k))


def _lost(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Makers the old run decided something of (a requirement passed or failed) that the
    new run does not certify."""
    return [m for m, rows in old["makers"].items() if m not in new["makers"]
            and any(isinstance(r, dict) and r.get("status") in ("passed", "failed")
                    for r in rows.values())]


def _notes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    notes = []
    ob, nb = old["bench"], new["bench"]
    if ob["sha256"] != nb["sha256"]:
        notes.append(f"different benches: {ob['name']} ({Path(ob['file']).name}, SHA-256 "
                     f"{ob['sha256']}) then, {nb['name']} ({Path(nb['file']).name}, "
                     f"SHA-256 {nb['sha256']}) now; what they have in common is compared")
    elif _loads_changed(ob, nb):
        notes.append(f"the same bench file (SHA-256 {nb['sha256']}) over other files it "
                     f"loads: {', '.join(_loads_changed(ob, nb))} changed (another bench: "
                     "what changed may be the bench's, not the readers')")
    elif ob["name"] != nb["name"]:
        notes.append(f"the same bench file (SHA-256 {nb['sha256']}) under another name: "
                     f"{ob['name']} then, {nb['name']} now")
    lost = _lost(old, new)
    undecided = [m for m in old["makers"] if m not in new["makers"] and m not in lost]
    only_new = [m for m in new["makers"] if m not in old["makers"]]
    if lost:
        notes.append(f"makers certified then, not now (worse: nothing of them is known "
                     f"now): {', '.join(lost)}")
    if undecided:
        notes.append(f"makers in the old run only, nothing of them decided then (not "
                     f"compared): {', '.join(undecided)}")
    if only_new:
        notes.append(f"makers certified now only (not compared): {', '.join(only_new)}")
    orig, nrig = old.get("rig") or {}, new.get("rig") or {}
    changed = [k for k in _RIG if orig.get(k) != nrig.get(k)]
    if changed:
        notes.append("the rig differs: " + ", ".join(
            f"{k} {orig.get(k)} then, {nrig.get(k)} now" for k in changed))
    op, np_ = (orig.get("profiles") or {}).get("sha256"), (nrig.get("profiles") or {}).get("sha256")
    if op != np_:
        notes.append(f"the vendor profiles differ (SHA-256 {str(op)[:12]} then, "
                     f"{str(np_)[:12]} now): requirements may have changed")
    os_, ns = (orig.get("profiles") or {}).get("scenarios"), \
        (nrig.get("profiles") or {}).get("scenarios")
    if os_ != ns and os_ is not None and ns is not None:
        notes.append("the network scenarios the profiles replay differ: NET-01's cuts may "
                     "have changed")
    from harness.report.merge import screens_differ

    for key, (then, now) in screens_differ(old, new).items():
        notes.append(f"the reference screens of {key} differ (SHA-256 {str(then)[:12]} then, "
                     f"{str(now)[:12]} now): its screens were judged by other references")
    for side, report in (("old", old), ("new", new)):
        state = report.get("state", "finished")
        if state != "finished":
            notes.append(f"the {side} run did not finish ({state}): what it did not run is "
                         "not run")
    return notes


def diff_runs(old_dir: Path, new_dir: Path) -> RunDiff:
    """The two run folders compared; :class:`~harness.errors.RigError` for a folder without
    a readable certification, or whose files do not match its manifest."""
    from harness.report.manifest import require_sealed

    old, new = load_run(old_dir), load_run(new_dir)
    for run_dir in (old_dir, new_dir):
        require_sealed(run_dir, "a comparison")
    notes = [*_same_run(old_dir, new_dir, old, new), *_notes(old, new)]
    makers = {m: _requirements(m, old["makers"][m], new["makers"][m],
                               old.get("tests") or {}, new.get("tests") or {})
              for m in old["makers"] if m in new["makers"]}
    devices = _devices(load_devices(old_dir), load_devices(new_dir), notes)
    return RunDiff(old_dir, new_dir, old, new, makers, devices, tuple(notes))


def _same_run(old_dir: Path, new_dir: Path, old: dict[str, Any], new: dict[str, Any]
              ) -> list[str]:
    """A note when OLD and NEW are one run (the folder twice, or a copy of it: the same
    run id and the same report): "nothing got worse" alone read as a firmware update that
    changed nothing (K2-23). A run before and after its ``--resume`` (same id, another
    report) is two states of it: no note."""
    from harness.report.live import REPORT_FILE
    from harness.report.manifest import file_sha256

    if old.get("run") != new.get("run"):
        return []
    try:
        same = file_sha256(old_dir / REPORT_FILE) == file_sha256(new_dir / REPORT_FILE)
    except OSError:
        return []
    return [f"the same run ({new.get('run')}) as OLD, the same report: nothing is compared "
            "(the folder given twice, or a copy of it)"] if same else []


def _verdict_line(v: dict[str, Any] | None) -> str:
    if v is None:
        return "not judged in this run (no such verdict)"
    text = f"{v['status']}: {v['seen']}"
    if v.get("problems"):
        text += " [" + "; ".join(v["problems"]) + "]"
    return text


def _run_line(label: str, run_dir: Path, report: dict[str, Any]) -> str:
    rig = report.get("rig") or {}
    verdict = "passed" if report["passed"] else "failed"
    return (f"{label} {run_dir}: bench {report['bench']['name']} "
            f"({Path(report['bench']['file']).name}), rig {rig.get('version', '?')} commit "
            f"{str(rig.get('commit'))[:12]}, {report.get('state', 'finished')}, {verdict}, "
            f"started {report['started']}")


def format_diff(diff: RunDiff) -> str:
    """The comparison for a terminal: changes first, each verdict then and now."""
    lines = [_run_line("old", diff.old_dir, diff.old), _run_line("new", diff.new_dir, diff.new)]
    lines += [f"note: {n}" for n in diff.notes]
    for maker, rows in diff.makers.items():
        counts = ", ".join(f"{len(diff.of_kind(maker, k))} {w}" for k, w in KINDS.items())
        lines.append(f"{maker}: {counts}")
        for row in rows:
            if row.kind == "unchanged":
                continue
            lines.append(f"  {KINDS[row.kind].upper()} {row.req}: "
                         f"{row.old_status or 'absent'} -> {row.new_status or 'absent'}")
            shown = [pair for pair in row.verdicts if pair.changed]
            for pair in shown:
                lines.append(f"    {pair.heading}")
                lines.append(f"      then: {_verdict_line(pair.old)}")
                lines.append(f"      now:  {_verdict_line(pair.new)}")
            if not shown:  # no verdict changed: the reasons are all there is to say
                lines.append(f"    then: {'; '.join(row.old_reasons) or '-'}")
                lines.append(f"    now:  {'; '.join(row.new_reasons) or '-'}")
            else:
                lines += [f"    also then: {r}" for r in row.old_other_reasons]
                lines += [f"    also now: {r}" for r in row.other_reasons]
        same = diff.of_kind(maker, "unchanged")
        if same:
            lines.append(f"  unchanged: {', '.join(same)}")
    changed = [d for d in diff.devices if d.changed]
    same = len(diff.devices) - len(changed)
    lines.append(f"devices: {len(changed)} changed, {same} as they were"
                 + (" (VID:PID, serial, firmware, PC/SC name, port)" if same else ""))
    for d in changed:
        if d.old is None or d.new is None:
            side, ident = ("now only", d.new) if d.old is None else ("then only", d.old)
            assert ident is not None
            lines.append(f"  {d.name} ({side}): {ident['vid_pid']}, serial {ident['serial']}, "
                         f"bcdDevice {ident['version']}, at {ident['usb_path']}, "
                         f"PC/SC {ident['pcsc_name']}")
        else:
            lines.append(f"  {d.name}: " + "; ".join(
                f"{k} {d.old.get(k)} -> {d.new.get(k)}" for k in d.changed))
    same = next((n for n in diff.notes if n.startswith("the same run (")), None)
    lines.append("something got worse" if diff.worse else
                 "nothing got worse: OLD and NEW are the same run" if same else
                 "nothing got worse")
    return "\n".join(lines)


def render_diff_html(diff: RunDiff) -> str:
    """The comparison as one self-contained HTML page, the evidence pictures of both runs
    side by side (each run's frames from its own folder)."""
    from harness.report import html

    pictures = html._Pictures()
    runs = ((diff.old_dir, diff.old), (diff.new_dir, diff.new))
    folders = [html._folders(d, r) for d, r in runs]
    kept: dict[Path, Any] = {}

    def shown(side: int, maker: str, verdict: dict[str, Any] | None) -> list[Any]:
        if verdict is None:
            return []
        run_dir = runs[side][0]
        folder = verdict.get("folder")  # kept from before a --resume: its own folder
        if folder:
            path = run_dir / folder
            if path not in kept:
                kept[path] = html._folder(path)
            return html._verdict_pictures(kept[path], verdict, pictures)
        return html._verdict_pictures(folders[side][maker], verdict, pictures)

    views = {}
    for maker, rows in diff.makers.items():
        views[maker] = [
            (row, [(pair, shown(0, maker, pair.old), shown(1, maker, pair.new))
                   for pair in row.verdicts if pair.changed])
            for row in rows if row.kind != "unchanged"]
    return html.templates().get_template("diff.html.j2").render(
        diff=diff, views=views, kinds=KINDS, worse_kinds=WORSE,
        counts={m: {k: len(diff.of_kind(m, k)) for k in KINDS} for m in diff.makers},
        devices=diff.devices, changed_devices=sum(bool(d.changed) for d in diff.devices),
        identity=IDENTITY,
        pictures=list(pictures.by_path.values()), picture_css=pictures.css(),
        css=(html.TEMPLATES / "report.css").read_text("utf-8"),
        run_facts=[_run_facts(d, r) for d, r in runs])


def write_diff_html(diff: RunDiff, target: Path) -> Path:
    from harness.report.live import atomic_write

    atomic_write(target, render_diff_html(diff).encode("utf-8"))
    return target


#: In a run folder: the run it was compared with (``report render --compared-with``), which
#: its ``certification.html`` names.
COMPARISON_FILE = "comparison.json"


def comparison(diff: RunDiff) -> dict[str, Any]:
    """What the new run's report says of the old one: which run exactly (its id, bench and the
    SHA-256 of its ``certification.json`` and manifest), what differs beyond the verdicts,
    and per maker the requirements of each kind."""
    from harness.report.live import REPORT_FILE
    from harness.report.manifest import MANIFEST_FILE, file_sha256

    old = _run_facts(diff.old_dir, diff.old)
    old["certification_sha256"] = file_sha256(diff.old_dir / REPORT_FILE)
    old["manifest_sha256"] = file_sha256(diff.old_dir / MANIFEST_FILE)
    return {"compared_with": old, "run": diff.new.get("run"),
            # The report compared: a later change to it (a --resume) makes this stale.
            "certification_sha256": file_sha256(diff.new_dir / REPORT_FILE),
            "same_bench": diff.same_bench,
            "notes": list(diff.notes), "worse": diff.worse,
            "makers": {m: {kind: diff.of_kind(m, kind) for kind in KINDS}
                       for m in diff.makers},
            "devices_changed": [d.name for d in diff.devices if d.changed]}


def write_comparison(diff: RunDiff) -> Path:
    from harness.report.live import write_json

    target = diff.new_dir / COMPARISON_FILE
    write_json(target, comparison(diff))
    return target
