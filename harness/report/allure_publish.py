"""The rig's structure handed to allure-pytest (harness.report.allure_results says what).

Labels, title, description and links go in when a test's setup is over (allure-pytest sets
the title and description from the test function then: set earlier, they would be
overwritten); links as allure's own link markers on the item (``allure.dynamic.link``
keeps one link per URL, and a notice without a URL has none). Steps and attachments go in
when the test hands its verdicts to ``judge``, through ``allure.step`` and
``allure.attach``: the steps are what the bench's timeline holds, replayed at that moment
and titled with their bench time.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.model.verdict import Verdict
from harness.report.allure_results import (
    TestLabels,
    apdu_transcript,
    flow_steps,
    frame_file,
    usb_tree_text,
    verdict_frames,
)

if TYPE_CHECKING:
    from pluggy import PluginManager

    from harness.bench import Bench
    from harness.model.profiles import ProfileSet


class NotJudged(Exception):
    """A verdict step's status: the rule could not be judged (allure: broken)."""


def allure_active(config: pytest.Config) -> bool:
    """Whether this run writes allure results (``--alluredir``)."""
    return bool(getattr(config.option, "allure_report_dir", None))


def link_attachments(evidence: Path, manager: PluginManager | None = None) -> None:
    """allure's results writer made to attach a file of the evidence store under
    ``evidence`` as a hard link to it where it can. The store writes each frame once, to a
    new name, and never changes it: a copy of each (2,000 a certification, 40 % of its
    bytes) only cost time. Any other file is copied as allure does (it may be rewritten
    after), and so is a frame where the file system refuses a link. ``manager``: allure's
    plugin manager (a test's own)."""
    import allure_commons
    from allure_commons.logger import AllureFileLogger

    manager = manager or allure_commons.plugin_manager
    for plugin in manager.get_plugins():
        if type(plugin) is AllureFileLogger:  # allure-pytest's own, for --alluredir
            # The same object registered again (allure-pytest's clean-up unregisters it by
            # its name, which is its id), now of the subclass that links.
            manager.unregister(plugin)
            plugin.__class__ = _linking_logger()
            plugin.evidence = evidence.resolve()
            manager.register(plugin)


@functools.cache
def _linking_logger() -> type:
    from allure_commons import hookimpl
    from allure_commons.logger import AllureFileLogger

    class LinkingFileLogger(AllureFileLogger):
        evidence: Path

        @hookimpl
        def report_attached_file(self, source: str, file_name: str) -> None:
            if Path(source).resolve().is_relative_to(self.evidence):
                try:
                    os.link(source, self._report_dir / file_name)
                    return
                except OSError:
                    pass
            super().report_attached_file(source, file_name)

    return LinkingFileLogger


def publish_labels(item: pytest.Item, labels: TestLabels,
                   parameters: dict[str, str] | None = None) -> None:
    import allure

    for name, value in (parameters or {}).items():
        allure.dynamic.parameter(name, value)

    allure.dynamic.epic(*labels.epics)
    allure.dynamic.feature(*labels.features)
    allure.dynamic.story(*labels.stories)
    allure.dynamic.tag(*labels.stories)
    allure.dynamic.severity(allure.severity_level(labels.severity))
    allure.dynamic.title(labels.title)
    if labels.description:
        allure.dynamic.description(labels.description)
    have = {(m.args[0], m.kwargs.get("name")) for m in item.iter_markers("allure_link")}
    for url, name in labels.links:
        if (url, name) not in have:
            item.add_marker(pytest.mark.allure_link(url, name=name, link_type="link"))


def _step(title: str, failure: BaseException | None = None, attach: object = None) -> None:
    """One step; ``failure`` sets its status (an AssertionError: failed; else broken);
    ``attach()`` is called inside it."""
    import allure

    context = allure.step(title)
    context.__enter__()
    try:
        if callable(attach):
            attach()
    finally:
        context.__exit__(type(failure) if failure else None, failure, None)


def _attach_file(path: Path, name: str) -> None:
    import allure

    kind = allure.attachment_type.PNG if path.suffix == ".png" else allure.attachment_type.JPG
    allure.attach.file(str(path), name=name, attachment_type=kind)


def _cameras(bench: Bench) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for camera in bench.spec.cameras:
        out.setdefault(camera.watches, []).append(camera.name)
    return out


def _verdict_step(verdict: Verdict, bench: Bench, events: list, store: Path | None,
                  cameras: dict[str, list[str]]) -> None:
    import allure

    on_subject = cameras.get(verdict.subject, [])
    frames = verdict_frames(verdict, events, on_subject)
    attached: set[str] = set()

    def attach() -> None:
        allure.attach(json.dumps(verdict.as_json(), ensure_ascii=False, indent=2),
                      name=f"verdict {verdict.requirement} ({verdict.maker})",
                      attachment_type=allure.attachment_type.JSON)
        for frame in frames:
            found = frame_file(store, frame.path)
            if found is not None and frame.path not in attached:
                attached.add(frame.path)
                _attach_file(found, frame.caption())
            if not verdict.passed:
                rectified = frame_file(store, frame.rectified)
                if rectified is not None:
                    _attach_file(rectified, f"rectified screen: {frame.caption()}")
        if not verdict.passed and verdict.evidence.span is not None:
            allure.attach(_timeline_png(verdict, bench, events, cameras),
                          name=f"timeline {verdict.requirement} on {verdict.subject}",
                          attachment_type=allure.attachment_type.PNG)

    if verdict.passed:
        failure: BaseException | None = None
    else:
        kind = AssertionError if verdict.status == "failed" else NotJudged
        failure = kind("; ".join(verdict.problems) + f" [seen: {verdict.seen}]")
    word = {"passed": "passed", "failed": "failed",
            "error": "could not be judged"}[verdict.status]
    _step(f"{verdict.requirement} ({verdict.maker}) on {verdict.subject}: {word}",
          failure, attach)


def _timeline_png(verdict: Verdict, bench: Bench, events: list,
                  cameras: dict[str, list[str]]) -> bytes:
    from harness.report.timeline_picture import flow_timeline_png

    terminal = bench.spec.terminal.name
    span = verdict.evidence.span
    assert span is not None
    rows = [{"t": e.t, "source": e.source, "kind": e.kind, **e.data} for e in events]
    return flow_timeline_png(
        rows, span, reader=verdict.subject, reader_cameras=cameras.get(verdict.subject, []),
        terminal=terminal, terminal_cameras=cameras.get(terminal, []),
        observed=verdict.evidence.observed, windows=verdict.evidence.windows,
        title=f"{verdict.requirement} {verdict.maker} on {verdict.subject}")


def publish_verdicts(verdicts: Sequence[Verdict], bench: Bench, profiles: ProfileSet,
                     store: Path | None, since: float | None) -> None:
    """The test's steps and attachments for its verdicts; ``since``: bench time its call
    began (its APDUs when a verdict has no span)."""
    import allure

    from harness.report.devices import describe_devices

    events = bench.timeline.events()
    cameras = _cameras(bench)
    spans: dict[tuple[float, float], list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.evidence.span is not None:
            spans.setdefault(verdict.evidence.span, []).append(verdict)
    for span, judged in spans.items():
        subjects = ", ".join(dict.fromkeys(v.subject for v in judged))
        steps = flow_steps(events, judged, span)

        def replay(steps=steps) -> None:  # noqa: ANN001
            for step in steps:
                _step(step.title, attach=lambda step=step: [_step(c) for c in step.children])

        _step(f"on {subjects}: bench time {span[0]:.1f} s to {span[1]:.1f} s "
              f"({len(steps)} steps)", attach=replay)
    for verdict in verdicts:
        _verdict_step(verdict, bench, events, store, cameras)
    now = bench.clock.now()
    try:
        tree = usb_tree_text(describe_devices(bench, profiles),
                             {h.path: h.name for h in bench.spec.hubs}, now)
    except Exception as exc:  # noqa: BLE001 (the scan's failure is said, never a test's)
        tree = f"the bench's USB tree could not be scanned at bench time {now:.1f} s: {exc}\n"
    allure.attach(tree, name="USB tree", attachment_type=allure.attachment_type.TEXT)
    windows = [span for span in spans] or ([(since, now)] if since is not None else [])
    apdus = [e for e in events if e.kind == "apdu"
             and any(a - 1e-6 <= e.t <= b + 1e-6 for a, b in windows)]
    transcript = apdu_transcript(apdus)
    if transcript:
        allure.attach(transcript, name="APDU transcript (redacted)",
                      attachment_type=allure.attachment_type.TEXT)
