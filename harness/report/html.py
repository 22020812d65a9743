"""``certification.html``: the certification as a person reads it and hands it over.

One self-contained file beside ``certification.json`` (styles and pictures inline, nothing
fetched): the header (bench, rig, profiles, times, host, overall verdict), what failed first
(each failure explained: what the notice requires, what the reader did, when, with the text
read and the camera frames), what was not checked (each not-run requirement with why, in
plain words: never among the failures, and the badge then says NOT PASSED, as the console
does, not FAILED), then per maker the requirement matrix, and the bench's devices.

Everything comes from the run folder: ``certification.json`` (with its requirements'
statements and notices), ``devices.json``, the evidence store (``evidence/``) and the
timeline. A verdict's pictures are its own frames (``Evidence.frames``) and the frames the
cameras on its subject (and on the terminal) kept during its span: the screen decisions the
rule judged. Each picture is embedded once (a CSS class), however many verdicts show it;
a thumbnail opens it full size (a CSS ``:target`` overlay, no script).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import cv2
import jinja2
import markupsafe
import numpy as np

from harness.loading import json_loads
from harness.report.devices import load_devices
from harness.report.glossary import Entry, glossary, screens_seen
from harness.report.live import atomic_write
from harness.report.provenance import shown_path
from harness.vision.evidence import EvidenceStore

HTML_FILE = "certification.html"
TIMELINES_DIR = "timelines"
TEMPLATES = Path(__file__).with_name("templates")
#: Embedded picture widths (px): every frame small; a frame behind a failure also full.
SMALL_W, FULL_W = 480, 960
#: Timeline pictures drawn per report (about 0.2 s each): a bench that fails everything
#: gets the first ones; the rest have their frames and timeline.jsonl.
MAX_TIMELINES = 24
STATUS_WORDS = {"passed": "passed", "failed": "FAILED", "not_run": "not run"}


@attrs.frozen
class Picture:
    key: str
    caption: str
    t: float
    source: str
    image: Path
    rectified: Path | None


@attrs.define
class _Folder:
    """One folder's evidence and clock (a run spread over pytest-xdist workers has one per
    worker, each with its own bench)."""

    path: Path
    evidence: list[Any]
    anchors: list[tuple[float, dt.datetime]]
    cameras: dict[str, list[str]]
    terminal: str | None
    _events: list[dict[str, Any]] | None = None

    def events(self) -> list[dict[str, Any]]:
        """The run's timeline (read once, when a picture of it is drawn)."""
        if self._events is None:
            timeline = self.path / "timeline.jsonl"
            self._events = [] if not timeline.is_file() else [
                json_loads(line) for line in timeline.read_text("utf-8").splitlines()
                if line.strip()]
        return self._events


def _anchors(folder: Path, devices: dict[str, Any] | None) -> list[tuple[float, dt.datetime]]:
    """Bench seconds -> the bench's clock: where the run saw both (the scan, and each time
    the bench was restored to another day)."""
    out: list[tuple[float, dt.datetime]] = []
    clock = (devices or {}).get("clock")
    if clock:
        out.append((float(clock["t"]), dt.datetime.fromisoformat(clock["wallclock"])))
    timeline = folder / "timeline.jsonl"
    if timeline.is_file():
        with timeline.open(encoding="utf-8") as f:
            for line in f:
                if '"bench.restored"' not in line:  # the only events that set the clock
                    continue
                event = json_loads(line)
                if event.get("wallclock"):
                    out.append((float(event["t"]), dt.datetime.fromisoformat(event["wallclock"])))
    return sorted(out, key=lambda a: a[0])


def _folder(path: Path) -> _Folder:
    devices = load_devices(path) if (path / "devices.json").is_file() else None
    cameras: dict[str, list[str]] = {}
    for cam in (devices or {}).get("cameras", []):
        cameras.setdefault(cam["watches"], []).append(cam["name"])
    return _Folder(path, EvidenceStore.load(path / "evidence"), _anchors(path, devices),
                   cameras, (devices or {}).get("terminal"))


def _folders(run_dir: Path, report: dict[str, Any]) -> dict[str, _Folder]:
    """Maker -> the folder that certified it."""
    whole = _folder(run_dir)
    by_maker = dict.fromkeys(report["makers"], whole)
    for part in report.get("parts", []):
        try:
            part_report = json_loads((run_dir / part / "certification.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        folder = _folder(run_dir / part)
        for maker in part_report.get("makers", {}):
            by_maker[maker] = folder
    return by_maker


def _clock_at(folder: _Folder, t: float) -> dt.datetime | None:
    before = [a for a in folder.anchors if a[0] <= t + 1e-6]
    if not before:
        return None
    t0, wall = before[-1]
    return wall + dt.timedelta(seconds=t - t0)


def _when(folder: _Folder, span: list[float] | None) -> str:
    if not span:
        return ""
    t0, t1 = span
    text = f"bench time {t0:.1f} s to {t1:.1f} s ({t1 - t0:.1f} s)"
    start = _clock_at(folder, t0)
    if start is not None:
        text += f"; on the bench's clock from {start:%Y-%m-%d %H:%M:%S}"
        if start.utcoffset() is not None:
            text += " " + start.isoformat()[-6:]
        if any(t0 + 1e-6 < t < t1 - 1e-6 for t, _ in folder.anchors):
            text += " (the bench was set to another time during it)"
    return text


class _Pictures:
    """The pictures a report shows, each embedded once."""

    def __init__(self) -> None:
        self.by_path: dict[Path, Picture] = {}
        self.full: set[str] = set()
        #: Failures' timeline pictures by file name (also written beside the report).
        self.timelines: dict[str, bytes] = {}

    def add(self, folder: _Folder, item: Any) -> Picture | None:
        image = folder.path / "evidence" / item.image
        if image in self.by_path:
            return self.by_path[image]
        if not image.is_file():
            return None
        rectified = folder.path / "evidence" / item.rectified if item.rectified else None
        pic = Picture(f"p{len(self.by_path)}", f"{item.source} at {item.t:.1f} s: {item.label}",
                      item.t, item.source, image, rectified)
        self.by_path[image] = pic
        return pic

    def css(self) -> str:
        rules = []
        for pic in self.by_path.values():
            wide = pic.key in self.full
            rules.append(f".{pic.key}{{background-image:url(data:image/jpeg;base64,"
                         f"{_jpeg(pic.image, FULL_W if wide else SMALL_W)})}}")
            if wide and pic.rectified is not None and pic.rectified.is_file():
                rules.append(f".{pic.key}r{{background-image:url(data:image/jpeg;base64,"
                             f"{_jpeg(pic.rectified, FULL_W)})}}")
        return "\n".join(rules)


def _jpeg(path: Path, width: int) -> str:
    """The picture as base64 JPEG at most ``width`` wide; re-encoded, so no metadata of the
    original file travels with it."""
    try:
        st = path.stat()
    except OSError:
        return ""
    # The page is written again as the run goes: each picture is encoded once per version
    # of its file.
    return _jpeg_of(path, st.st_mtime_ns, st.st_size, width)


@functools.lru_cache(maxsize=4096)
def _jpeg_of(path: Path, mtime_ns: int, size: int, width: int) -> str:
    data = np.frombuffer(path.read_bytes(), np.uint8)
    image = None
    if path.suffix.lower() in (".jpg", ".jpeg"):
        # Decoded at half size by the codec itself (its scaled inverse DCT, a third of the
        # cost of decoding whole and shrinking): a frame's thumbnail, while wide enough.
        half = cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2)
        if half is not None and half.shape[1] >= width:
            image = half
    if image is None:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        return ""
    if image.shape[1] > width:
        size = (width, max(1, round(image.shape[0] * width / image.shape[1])))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return base64.b64encode(buf.tobytes()).decode("ascii") if ok else ""


def _verdict_pictures(folder: _Folder, verdict: dict[str, Any],
                      pictures: _Pictures) -> list[Picture]:
    evidence = verdict.get("evidence", {})
    wanted: list[Any] = []
    named = set(evidence.get("frames", []))
    span = evidence.get("span")
    sources = set(folder.cameras.get(verdict["subject"], []))
    if folder.terminal is not None:
        sources |= set(folder.cameras.get(folder.terminal, []))
    for item in folder.evidence:
        during = bool(span) and span[0] - 1e-6 <= item.t <= span[1] + 1e-6
        if item.image in named or (during and item.source in sources):
            wanted.append(item)
    out = [p for p in (pictures.add(folder, item) for item in wanted) if p is not None]
    return sorted(out, key=lambda p: (p.t, p.source))


def _timeline(folder: _Folder, verdict: dict[str, Any], title: str) -> bytes:
    from harness.report.timeline_picture import flow_timeline_png

    ev = verdict["evidence"]
    terminal = folder.terminal
    return flow_timeline_png(
        folder.events(), ev["span"], reader=verdict["subject"],
        reader_cameras=folder.cameras.get(verdict["subject"], []), terminal=terminal,
        terminal_cameras=folder.cameras.get(terminal, []) if terminal else [],
        observed=ev.get("observed", []), title=title, windows=ev.get("windows", ()))


def _split_expected(expected: str) -> tuple[str, str]:
    """``statement [check]`` -> (statement, check): the rule in words, and its check."""
    if expected.endswith("]") and " [" in expected:
        head, _, tail = expected.rpartition(" [")
        return head, tail[:-1]
    return expected, ""


def _table(rows: Any) -> tuple[tuple[str, ...], ...]:
    """A verdict's table of what was seen (Evidence.table), header first; none unless it is
    a list of rows of one width (a report edited by hand shows its ``seen`` line instead)."""
    if not isinstance(rows, list) or len(rows) < 2 or not all(isinstance(r, list) for r in rows):
        return ()
    if len({len(r) for r in rows}) != 1:
        return ()
    return tuple(tuple(str(c) for c in r) for r in rows)


@attrs.frozen
class VerdictView:
    subject: str
    status: str
    expected: str
    check: str
    seen: str
    problems: tuple[str, ...]
    read: tuple[str, ...]
    observed: tuple[str, ...]
    when: str
    pictures: tuple[Picture, ...]
    #: A failure's timeline picture (base64 PNG), None for a pass or no span.
    timeline: str | None = None
    timeline_name: str | None = None
    #: What was seen as a table (header first), shown instead of ``seen`` (UPD-01's nights).
    table: tuple[tuple[str, ...], ...] = ()


@attrs.frozen
class RowView:
    maker: str
    maker_name: str
    req: str
    status: str
    statement: str
    notices: tuple[str, ...]
    checks: tuple[str, ...]
    verdicts: tuple[VerdictView, ...]
    #: What went wrong outside a verdict (a test that failed before judging, no test).
    reasons: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return f"{self.maker}-{self.req}"

    @property
    def why_not_run(self) -> tuple[str, ...]:
        """A not-run requirement's reasons in plain words, each once (no test's node id:
        the tests are listed beside them)."""
        return not_run_words(self.reasons, self.tests)


def not_run_words(reasons: Iterable[str], tests: Iterable[str]) -> tuple[str, ...]:
    """Why requirements were not checked, as a lab's manager reads it: ``suites/...::t[x]:
    not run: deselected by ...`` is "left out of this run by the operator's selection"."""
    from harness.report.certification import DESELECTED
    from harness.report.live import INTERRUPTED, PENDING

    plain = {DESELECTED: "left out of this run by the operator's selection (the pytest "
                         "options given to certify after --)",
             PENDING: "not run yet: the run is still going",
             INTERRUPTED: "not reached: the run was interrupted before it",
             "not_run": "not reached: the run ended before it",
             "skipped": "skipped"}
    out: list[str] = []
    for reason in reasons:
        for test in tests:
            if reason.startswith(f"{test}: "):
                reason = reason[len(test) + 2:]
                break
        if reason.startswith("bench fault"):
            reason = f"the bench failed, not the reader: {reason}"
        reason = plain.get(reason, reason)
        if reason not in out:
            out.append(reason)
    return tuple(out)


def _rows(report: dict[str, Any], folders: dict[str, _Folder],
          pictures: _Pictures, run_dir: Path) -> dict[str, list[RowView]]:
    texts = report.get("requirements", {})
    out: dict[str, list[RowView]] = {}
    earlier: dict[str, _Folder] = {}
    for maker, rows in report["makers"].items():
        about = texts.get(maker, {})
        views = []
        for req, row in rows.items():
            text = about.get("requirements", {}).get(req, {})
            verdicts = []
            for v in row.get("verdicts", []):
                # Its evidence in a folder of its own: the worker's that ran it, or (kept
                # from before a --resume) the earlier run's.
                kept = v.get("folder")
                if kept and kept not in earlier:
                    earlier[kept] = _folder(run_dir / kept)
                folder = earlier[kept] if kept else folders[maker]
                expected, check = _split_expected(v["expected"])
                ev = v.get("evidence", {})
                pics = _verdict_pictures(folder, v, pictures)
                picture, name = None, None
                if v["status"] != "passed":
                    pictures.full.update(p.key for p in pics)
                    # (Not before its folder's timeline is written, at its bench's close:
                    # while the run goes, a picture of the hands alone, lanes empty.)
                    if (ev.get("span") and len(pictures.timelines) < MAX_TIMELINES
                            and folder.events()):
                        name = f"{maker}-{req}-{v['subject']}.png"
                        # One requirement failed by several tests on one subject (BOOT-01 by
                        # the bench's start and at its window's edges): a picture each.
                        k = 2
                        while name in pictures.timelines:
                            name, k = f"{maker}-{req}-{v['subject']}-{k}.png", k + 1
                        png = _timeline(folder, v, f"{req} {maker} on {v['subject']}")
                        pictures.timelines[name] = png
                        picture = base64.b64encode(png).decode("ascii")
                verdicts.append(VerdictView(
                    v["subject"], v["status"], expected, check, v["seen"],
                    tuple(v.get("problems", ())), tuple(ev.get("read", ())),
                    tuple(o for o in ev.get("observed", ()) if o), _when(folder, ev.get("span")),
                    tuple(pics), picture, name, _table(ev.get("table"))))
            judged = {v.subject for v in verdicts if v.status != "passed"}
            # A failing verdict's own reason is shown with it; the others stand alone.
            reasons = tuple(r for r in row.get("reasons", ())
                            if not any(r.startswith(f"{s}: ") for s in judged))
            views.append(RowView(maker, about.get("name", maker), req, row["status"],
                                 text.get("statement", ""), tuple(text.get("notices", ())),
                                 tuple(text.get("checks", ())), tuple(verdicts), reasons,
                                 tuple(row.get("tests", ()))))
        out[maker] = views
    return out


def _glossary(folder: _Folder, views: list[RowView]) -> tuple[Entry, ...]:
    """The screen and dialog names a maker's lines use, said in words (its checks, what was
    seen, what went wrong), by what this run's cameras on its readers and terminal saw."""
    subjects = {v.subject for row in views for v in row.verdicts}
    if folder.terminal is not None:
        subjects.add(folder.terminal)
    cameras = {c for s in subjects for c in folder.cameras.get(s, [])}
    texts = [t for row in views for t in (*row.checks, *row.reasons,
                                          *(x for v in row.verdicts for x in (v.seen, *v.problems)))]
    return glossary(texts, screens_seen(folder.path / "timeline.jsonl", cameras))


def _duration(report: dict[str, Any]) -> str:
    try:
        seconds = (dt.datetime.fromisoformat(report["ended"])
                   - dt.datetime.fromisoformat(report["started"])).total_seconds()
    except (KeyError, ValueError):
        return "unknown"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _counts(rows: Iterable[RowView]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_WORDS, 0)
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def _comparison(run_dir: Path, report: dict[str, Any]) -> dict[str, Any] | None:
    """The run this one was compared with (``report render --compared-with``), if any, and
    whether it still describes this report (``stale``: the report changed since)."""
    from harness.report.diff import COMPARISON_FILE
    from harness.report.live import REPORT_FILE
    from harness.report.manifest import file_sha256

    path = run_dir / COMPARISON_FILE
    if not path.is_file():
        return None
    data = json_loads(path.read_text("utf-8"))
    if not isinstance(data, dict) or data.get("run") != report.get("run"):
        raise ValueError(f"{path}: a comparison of another run (run {data.get('run')!r})")
    report_file = run_dir / REPORT_FILE
    data["stale"] = not report_file.is_file() or \
        file_sha256(report_file) != data.get("certification_sha256")
    data["kinds"] = {m: {req: kind for kind, reqs in kinds.items() for req in reqs
                         if kind != "unchanged"}
                     for m, kinds in data.get("makers", {}).items()}
    return data


def templates() -> jinja2.Environment:
    """The reports' templates (from :data:`TEMPLATES` as it is now): one environment per
    folder and process, which compiles each template once (the live report is written
    again as a run goes) and again when its file changes."""
    return _environment(TEMPLATES)


@functools.cache
def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder),
                             autoescape=jinja2.select_autoescape(("html", "j2")),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["bench_file"] = bench_file_shown
    env.filters["glossed"] = glossed
    env.filters["folder_shown"] = lambda folder: shown_path(Path(str(folder)))
    return env


def glossed(text: str, entries: Sequence[Entry]) -> markupsafe.Markup:
    """``text`` escaped, each of the glossary's coined names in it (``please_wait``,
    ``check_error_2``: a name with an underscore; plain words read as they are) marked with
    what it is, so a failure's line is read where it stands."""
    out = str(markupsafe.escape(text))
    coined = sorted((e for e in entries if "_" in e.name), key=lambda e: -len(e.name))
    if not coined:
        return markupsafe.Markup(out)
    titles = {e.name: e.meaning + (f"; its words: {e.words}" if e.words else "")
              for e in coined}
    pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(e.name) for e in coined)
                         + r")(?![\w])")
    return markupsafe.Markup(pattern.sub(
        lambda m: f'<abbr title="{markupsafe.escape(titles[m[1]])}">{m[1]}</abbr>', out))


def bench_file_shown(bench: dict[str, Any]) -> str:
    """A report's bench file as a person reads it: ``file_shown`` (relative to the folder
    the run was made in, or the name), or for a report written before it had one, the
    name of each file (a merged report's ``file`` is several, ``; `` between)."""
    shown = bench.get("file_shown")
    if isinstance(shown, str) and shown:
        return shown
    return "; ".join(Path(f).name for f in str(bench.get("file", "unknown")).split("; "))


def render_html(run_dir: Path, report: dict[str, Any],
                timelines: dict[str, bytes] | None = None) -> str:
    """The report's HTML; ``timelines`` (if given) receives the failures' timeline pictures
    by file name."""
    folders = _folders(run_dir, report)
    pictures = _Pictures()
    rows = _rows(report, folders, pictures, run_dir)
    names = {maker: _glossary(folders[maker], views) for maker, views in rows.items()}
    if timelines is not None:
        timelines.update(pictures.timelines)
    # What failed is the readers' (or the bench's) failures only; what was not checked is
    # said apart, in plain words: a requirement the run left out is not the reader's doing.
    failures = [r for views in rows.values() for r in views if r.status == "failed"]
    not_checked = [r for views in rows.values() for r in views if r.status == "not_run"]
    devices = load_devices(run_dir)
    # A face-auth reader wired against the rules may not come up: said above what failed,
    # so that its maker's flows that never started are read in that light.
    miswired = [f"{d.get('name')}: {v.get('requirement')} ({v.get('detail')})"
                for d in (devices or {}).get("devices", []) if isinstance(d, dict)
                and d.get("kind") == "face_auth_reader" for v in d.get("violations", ())
                if isinstance(v, dict)] if isinstance(devices, dict) else []
    from harness.report.diff import KINDS, WORSE

    return templates().get_template("certification.html.j2").render(
        report=report, rows=rows, failures=failures, not_checked=not_checked, names=names,
        miswired=miswired,
        comparison=_comparison(run_dir, report), change_words=KINDS, worse_kinds=WORSE,
        counts={m: _counts(v) for m, v in rows.items()},
        total=_counts(r for views in rows.values() for r in views),
        duration=_duration(report), devices=devices, status_words=STATUS_WORDS,
        pictures=list(pictures.by_path.values()), full=pictures.full,
        picture_css=pictures.css(), css=(TEMPLATES / "report.css").read_text("utf-8"),
    )


def write_html(run_dir: Path, report: dict[str, Any]) -> Path:
    target = run_dir / HTML_FILE
    timelines: dict[str, bytes] = {}
    html = render_html(run_dir, report, timelines)
    if timelines:  # the failures' timeline pictures as files too, to attach elsewhere
        folder = run_dir / TIMELINES_DIR
        folder.mkdir(exist_ok=True)
        for name, png in timelines.items():
            (folder / name).write_bytes(png)
    atomic_write(target, html.encode("utf-8"))  # rewritten while the run goes: never half
    return target
