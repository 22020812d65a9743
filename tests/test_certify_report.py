"""What a certification leaves for people: ``certification.html`` (read in a real browser),
``junit.xml``, ``devices.json``, and no PIN or passcode typed during the run in any file.

One certification serves every test here: Canon on the deviant-e901 bench (its reader goes
back to its first screen when the 901 sequence starts: E901-02 fails), run through a small
wrapper that notes every PIN and passcode the hands type, outside the run folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from cli_fork import run_python
from PIL import Image
from test_certify import failed

from harness.paths import project_file
from harness.pytest_plugin import missing_part
from harness.report.notices import COPY
from harness.report.provenance import git_commit, tree_sha256

BENCH = project_file("fixtures/benches/deviant-e901.yaml")
#: The families left out: the upgrade schedule's probes, the boot and the error flows, where
#: no PIN or passcode is typed (CI's time). The rest is certified: the wiring, E901 (the
#: failure), every flow where a PIN or a passcode is typed (AUTH, SP: the phone's PIN, CON:
#: the staff path) and the walks.
LEFT_OUT = ("UPD", "ERR", "BOOT")
SELECTED = "not (" + " or ".join(f"-{family}-" for family in LEFT_OUT) + ")"

#: The wrapper: the hands' secrets noted as typed (whatever the suites type), and OQS's
#: passcodes drawn from codes no report prints by itself (a random 4-digit code could equal a
#: year or a serial's digits and fail this test for nothing). Then ``onshi-rig certify``.
WRAPPER = textwrap.dedent('''
    import inspect, itertools, json, secrets, sys, types
    from pathlib import Path
    import harness.emulation.terminal as terminal
    from harness.emulation.hands import TwinHands

    codes = itertools.cycle([7093, 8157, 6248, 5371])
    terminal.secrets = types.SimpleNamespace(randbelow=lambda n: next(codes) % n,
                                             compare_digest=secrets.compare_digest)
    typed = {"pin": set(), "passcode": set(), "issued": set()}

    def spy(name, kind, pick):
        original = getattr(TwinHands, name)
        signature = inspect.signature(original)
        def wrapped(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            typed[kind].update(v for v in pick(signature.bind(self, *args, **kwargs).arguments,
                                               out) if v)
            return out
        setattr(TwinHands, name, wrapped)

    spy("pin", "pin", lambda a, out: [a["pin"]])
    spy("phone_pin", "pin", lambda a, out: [a["pin"], a["phone"].pin])
    spy("hold_phone", "pin", lambda a, out: [a["phone"].pin])
    spy("card_in", "pin", lambda a, out: [a["patient"].pin])
    spy("pair", "pin", lambda a, out: [a["patient"].pin])
    spy("passcode", "passcode", lambda a, out: [a["code"]])
    spy("issue_passcode", "issued", lambda a, out: [out])

    from harness.cli import main
    code = main(sys.argv[2:])
    Path(sys.argv[1]).write_text(json.dumps({k: sorted(v) for k, v in typed.items()}))
    sys.exit(code)
''')


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("certify-report")
    out, typed = base / "run", base / "typed.json"
    proc = run_python(["-c", WRAPPER, str(typed), "certify", "--bench", str(BENCH), "--vendor",
                       "canon", "--jobs", "1", "--out", str(out), "--", "-k", SELECTED],
                      timeout=900, cwd=project_file("."))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # E901-02 fails
    report = json.loads((out / "certification.json").read_text(encoding="utf-8"))
    # Exactly what the deviation breaks (this is the deviant bench's certification of Canon:
    # tests/test_certify_deviant.py certifies the bench's other makers), the families left
    # out not run.
    rows = report["makers"]["canon"]
    assert {r for r, row in rows.items() if row["status"] == "failed"} == {"E901-02"}, \
        proc.stdout[-3000:]
    assert {r for r, row in rows.items() if row["status"] == "not_run"} == \
        {r for r in rows if r.split("-")[0] in LEFT_OUT}
    assert failed(report)["canon"] - {"E901-02"}
    return {"out": out, "report": report, "typed": json.loads(typed.read_text()),
            "stdout": proc.stdout, "html": (out / "certification.html").read_text("utf-8")}


def _failing_verdict(report: dict[str, Any]) -> dict[str, Any]:
    row = report["makers"]["canon"]["E901-02"]
    assert row["status"] == "failed"
    return next(v for v in row["verdicts"] if v["status"] != "passed")


# -- the HTML as a browser shows it ---------------------------------------------------------

#: Appended to a copy of the report: where the browser laid out what a reader must see, and
#: whether it is on top at its centre (nothing covers it).
PROBE = """
<script>
window.addEventListener("load", () => {
  const pick = {badge: "article.failure .badge.failed", explanation: "article.failure .problems",
                picture: "article.failure .strip.big .thumb", matrix_head: "table.matrix thead th.req",
                matrix_row: "table.matrix tbody tr .badge", overall: "#overall"};
  const out = {};
  for (const [key, selector] of Object.entries(pick)) {
    const el = document.querySelector(selector);
    if (!el) { out[key] = null; continue; }
    const r = el.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    out[key] = {box: [r.left, r.top, r.width, r.height],
                on_top: top !== null && (top === el || el.contains(top) || top.contains(el))};
  }
  document.body.setAttribute("data-probe", JSON.stringify(out));
});
</script>
"""
#: Tall enough for the header, what failed (E901-02 on the card's and the phone's path, and
#: on the nightly flow's failed checks since hunt G33) and what was not run (the families
#: left out), then the matrix.
WINDOW = (1400, 12000)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    missing_part("Debian's chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


def _browser(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A profile of its own: never the user's, never shared with a browser already running.
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", *args],
        capture_output=True, text=True, timeout=120)


def _colour_share(region: np.ndarray, bgr: tuple[int, int, int], tol: int = 40) -> float:
    near = np.all(np.abs(region.astype(int) - np.array(bgr)) <= tol, axis=2)
    return float(near.mean())


def test_the_report_shows_the_matrix_a_failure_and_its_picture_in_a_browser(
        run: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "probed.html"
    page.write_text(run["html"].replace("</body>", PROBE + "</body>"), encoding="utf-8")
    # One load of the page: where the probe found each part, and the picture the browser
    # drew (the probe draws nothing; the report holds its pictures, a copy shows them too).
    shot = tmp_path / "shot.png"
    dom = _browser(tmp_path / "chromium-profile", "--virtual-time-budget=5000", "--dump-dom",
                   f"--screenshot={shot}", page.as_uri())
    found = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    image = cv2.imread(str(shot))
    assert image is not None, dom.stderr[-2000:]
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])

    def region(key: str) -> np.ndarray:
        item = probe[key]
        assert item is not None, f"{key}: not in the page"
        assert item["on_top"], f"{key}: covered by something else"
        x, y, w, h = (round(v) for v in item["box"])
        assert w > 4 and h > 4 and x >= 0 and y + h <= WINDOW[1], f"{key}: off screen {item}"
        return image[y:y + h, x:x + w]

    red = (0x28, 0x28, 0xC6)  # the failure colour (#c62828), BGR
    assert _colour_share(region("overall"), red) > 0.6
    assert _colour_share(region("badge"), red) > 0.5
    green = (0x37, 0x7F, 0x1A)  # the pass colour (#1a7f37): the matrix's first row passed
    assert _colour_share(region("matrix_row"), green) > 0.5
    # The explanation: red text (the problem) on the failure's pale background.
    explanation = region("explanation")
    assert 0.02 < _colour_share(explanation, red, tol=70) < 0.6
    # The matrix's head: dark text on its grey band.
    head = cv2.cvtColor(region("matrix_head"), cv2.COLOR_BGR2GRAY)
    assert head.min() < 100 and np.median(head) > 200
    # The evidence picture: a camera frame (texture, a screen, a desk), not a flat box.
    picture = cv2.cvtColor(region("picture"), cv2.COLOR_BGR2GRAY)
    assert picture.std() > 20 and 30 < picture.mean() < 230
    # The whole page is not blank.
    assert cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).std() > 20


# -- the HTML's content ---------------------------------------------------------------------

def test_the_report_is_self_contained(run: dict[str, Any]) -> None:
    html = run["html"]
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(?:src|href)="(?!#|data:image/png;base64,)', html), \
        "a link out of the page"
    assert all(u.startswith("data:image/") for u in re.findall(r"url\(([^)]*)\)", html))
    assert not COPY.search(html), "a kept notice's file name reached the report"


def test_the_header_says_what_produced_the_run(run: dict[str, Any]) -> None:
    html, report = run["html"], run["report"]
    sha = hashlib.sha256(BENCH.read_bytes()).hexdigest()
    commit = git_commit()["commit"]
    profiles = tree_sha256(project_file("vendor_profiles"))
    assert report["rig"]["commit"] == commit and report["rig"]["profiles"]["sha256"] == profiles
    header = html.split("<nav>", 1)[0]
    # The bench file as a person reads it, never the certifying host's absolute path.
    shown = report["bench"]["file_shown"]
    assert shown.endswith(BENCH.name) and not shown.startswith("/")
    assert str(BENCH) not in html
    for fact in ("deviant-e901", f"<code>{shown}</code>", sha, commit, profiles,
                 report["started"], report["ended"], report["rig"]["host"], "FAILED"):
        assert fact in header, fact


def test_failures_come_first_each_explained(run: dict[str, Any]) -> None:
    html, report = run["html"], run["report"]
    verdict = _failing_verdict(report)
    failure = html.index('id="failure-canon-E901-02"')
    assert failure < html.index('id="maker-canon"')  # before the matrix
    article = html[failure:html.index("</article>", failure)]
    statement = report["requirements"]["canon"]["requirements"]["E901-02"]["statement"]
    assert statement.replace("'", "&#39;") in article  # what the notice requires
    assert "厚生労働省保険局医療介護連携政策課 事務連絡 令和7年12月24日" in article  # cited
    # What the bench saw: each problem as said, its coined names marked with what they are.
    plain = re.sub(r"</?abbr[^>]*>", "", article)
    for problem in verdict["problems"]:
        assert problem.replace(">", "&gt;") in plain
    assert '<abbr title="' in article and ">please_wait</abbr>" in article
    t0, t1 = verdict["evidence"]["span"]
    assert f"bench time {t0:.1f} s to {t1:.1f} s" in article  # when
    assert "on the bench&#39;s clock from 2026-" in article
    assert article.count('class="thumb ') >= 3  # the frames of the flow
    frames = verdict["evidence"]["frames"]  # the verdict names the frames it was decided on
    assert frames and all((run["out"] / "evidence" / f).is_file() for f in frames)
    assert '<img alt="timeline of E901-02 on canon"' in article  # and its timeline
    assert (run["out"] / "timelines" / "canon-E901-02-canon.png").is_file()
    # Every passing requirement is in the matrix, not among the failures.
    failures = html[html.index('id="failures"'):html.index('id="maker-canon"')]
    passed = [r for r, row in report["makers"]["canon"].items() if row["status"] == "passed"]
    assert passed and not any(f'id="failure-canon-{r}"' in failures for r in passed)
    assert all(f'id="row-canon-{r}"' in html for r in report["makers"]["canon"])


def test_the_devices_are_listed_with_their_identities(run: dict[str, Any]) -> None:
    from harness.bench import check_bench_file

    devices = json.loads((run["out"] / "devices.json").read_text(encoding="utf-8"))
    spec = check_bench_file(BENCH)
    by_name = {d["name"]: d for d in devices["devices"]}
    assert set(by_name) >= {r.name for r in spec.readers}
    html = run["html"][run["html"].index('id="devices"'):]
    for reader in spec.readers:
        row = by_name[reader.name]
        assert row["present"] and row["usb_path"] == reader.usb.path and row["twin"]
        assert row["serial"] and row["serial"] in html
        assert f"{row['vid']}:{row['pid']}" in html
        assert row["firmware"] == row["version"]  # the bcdDevice the scan read
    # The general readers' twins give their bcdDevice: the report shows it, not "not read".
    general = [by_name[r.name] for r in spec.readers if r.kind == "general_reader"]
    assert general and all(g["firmware"] and f"<td>{g['firmware']}</td>" in html
                           for g in general)
    behind_hub = [d for d in devices["devices"] if d["hubs_between"]]
    assert behind_hub and all(d["hubs"] for d in behind_hub)  # the hubs by name


# -- JUnit ------------------------------------------------------------------------------------

def test_junit_xml_names_the_bench_commit_and_maker(run: dict[str, Any]) -> None:
    root = ET.parse(run["out"] / "junit.xml").getroot()
    (suite,) = root.iter("testsuite")
    props = [(p.get("name"), p.get("value")) for p in suite.iter("property")
             if p.get("name") != "onshi_rig.verdict"]
    assert ("bench", "deviant-e901") in props and ("maker", "canon") in props
    assert ("commit", git_commit()["commit"]) in props
    assert ("certification", "failed") in props
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    failed = cases["test_flow_requirement[canon-E901-02]"]
    assert failed.find("failure") is not None
    assert int(suite.get("tests", "0")) == len(cases) >= 20


# -- no secrets -------------------------------------------------------------------------------

def _secret_patterns(secrets: list[str]) -> list[re.Pattern[str]]:
    patterns = []
    for s in secrets:
        raw = s.encode()
        # As a value of its own (a bench time 14321.5 or a hash holds any digits), and as
        # the hex of its characters, as an APDU transcript would carry it.
        patterns.append(re.compile(rf"(?<![0-9A-Za-z.]){re.escape(s)}(?![0-9A-Za-z]|\.\d)"))
        for hexed in {raw.hex(), raw.hex().upper(), raw.hex(" "), raw.hex(" ").upper()}:
            patterns.append(re.compile(re.escape(hexed)))
    return patterns


def _json_strings(value: Any) -> list[str]:
    # JSON numbers are times, indexes and counts; PINs and passcodes travel as strings.
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_json_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [value] if isinstance(value, str) else []


def _image_metadata(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as im:
        return repr(im.info) + repr(dict(im.getexif()))


UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def test_no_pin_or_passcode_typed_in_the_run_reaches_any_file(run: dict[str, Any]) -> None:
    typed = run["typed"]
    # The run did type secrets: the patient's PINs (right and wrong), OQS's passcodes.
    assert {"4321", "9999"} <= set(typed["pin"]), typed
    assert len(typed["passcode"]) >= 2 and typed["issued"], typed
    # OQS drew them from the wrapper's codes (else the twin draws passcodes another way now:
    # the wrapper must follow, or a random code could match a year and fail for nothing).
    assert set(typed["issued"]) <= {"7093", "8157", "6248", "5371"}, typed
    patterns = _secret_patterns(typed["pin"] + typed["passcode"] + typed["issued"])
    written = sorted(p for p in run["out"].rglob("*") if p.is_file())
    kinds = {p.suffix for p in written}
    assert {".html", ".json", ".jsonl", ".xml", ".jpg", ".png"} <= kinds, kinds
    assert any(p.parent.name == "allure" for p in written)
    for path in written:
        data = path.read_bytes()
        if path.suffix in (".jpg", ".jpeg", ".png"):
            texts = [_image_metadata(data)]
        elif path.suffix == ".json":
            texts = _json_strings(json.loads(data))
        elif path.suffix == ".jsonl":
            texts = [s for line in data.decode().splitlines() if line.strip()
                     for s in _json_strings(json.loads(line))]
        else:
            text = data.decode("utf-8", "replace")
            pictures = re.findall(r"data:image/\w+;base64,([A-Za-z0-9+/=]+)", text)
            texts = [re.sub(r"data:image/\w+;base64,[A-Za-z0-9+/=]+", "", text)]
            texts += [_image_metadata(base64.b64decode(p)) for p in pictures]
        for text in texts:
            # Identifiers (allure's UUIDs, run ids) are random hex: a group of four digits
            # in one is no PIN typed.
            text = UUID.sub("<uuid>", text)
            for pattern in patterns:
                hit = pattern.search(text)
                assert hit is None, (f"{pattern.pattern!r} in {path.relative_to(run['out'])}: "
                                     f"...{text[max(0, hit.start() - 60):hit.end() + 60]}...")
