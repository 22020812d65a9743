"""A camera on one screen: frames in, states and motion out, everything on the timeline.

The watcher is what suites use: ``wait_for("error_901", timeout_s=60)``,
``wait_stable(10, timeout_s=30)``, ``spinning(3)``. Each look reads one frame, classifies it (finding the
screen first, and again when the camera was knocked), feeds motion detection, and records
what changed as timeline events; the frames behind each decision can be kept as evidence.
Each observation carries a reading of the screen (``obs.reading.has_text("【901")``): an
unrecognised screen still shows the error codes found on it.
Time is the frames' own, so on an emulated bench every wait costs virtual seconds only.
A camera that freezes or stops is a bench fault (harness.vision.camera_faults gives the
bounds): the look raises :class:`~harness.errors.BenchFault`, never a verdict on the reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
import numpy as np

from harness.errors import BenchFault, DeviceTimeout
from harness.kept import Kept, pixels_key
from harness.model.clock import Clock
from harness.model.timeline import Timeline
from harness.model.wait import wait_until
from harness.protocols import (
    Box,
    CameraStopped,
    Frame,
    FrameSource,
    KnowsStillScene,
    PixelBox,
    ReadsOutRegion,
)
from harness.vision.by_text import recognised_by_text
from harness.vision.camera_faults import (
    STOPPED_BOUND_S,
    STOPPED_RETRY_S,
    FreezeWatch,
    repeats_frames,
)
from harness.vision.change import MotionDetector, MotionSample
from harness.vision.classify import Classifier, Decision
from harness.vision.evidence import Evidence, EvidenceStore
from harness.vision.geometry import Calibration
from harness.vision.lamps import LampReading, LampWatcher
from harness.vision.locate import CalibrationKeeper
from harness.vision.motion import MotionTracker
from harness.vision.ocr import ReadLine
from harness.vision.reading import ScreenReading, read_screen, read_text
from harness.vision.text_check import TextCheck, check_text, check_texts, rectify_for_text


@attrs.frozen(eq=False)
class Observation:
    frame: Frame
    decision: Decision
    motion: MotionSample | None
    #: This frame found that the camera had moved (and recalibrated).
    camera_moved: bool = False
    evidence: Evidence | None = None
    #: What the screen says (texts, buttons; an unknown screen's error codes): always
    #: there from :meth:`ScreenWatcher.look`.
    reading: ScreenReading | None = None
    #: The lamps the camera sees beside the screen (none declared: empty).
    lamps: tuple[LampReading, ...] = ()

    @property
    def t(self) -> float:
        return self.frame.t

    @property
    def state(self) -> str:
        return self.decision.state


#: A look this sure of its screen (its score, and its lead over every other state) stands
#: for its still scene alone, where its state is drawn one way only. Measured on the
#: emulated bench (each maker certified with every scene on two looks, 2026-12-04): every
#: second look at a still scene agreed with the first, lamps included (Atlas), 893 of 893,
#: the least sure pair at 0.82 and a lead of 0.02 (the first screen's variants, which
#: differ by a button: those keep their second look).
SURE_SCORE, SURE_LEAD = 0.9, 0.05


def _alike(a: Observation, b: Observation) -> bool:
    """Two looks judged the same: the same reference, the same lamps lit in the same colours."""
    return (a.decision.reference == b.decision.reference and a.state == b.state
            and [(x.name, x.lit, x.colour) for x in a.lamps]
            == [(x.name, x.lit, x.colour) for x in b.lamps])


#: Decision points' lines and verdicts by the rectified screen's pixels and what was judged
#: on them, in this process (:meth:`ScreenWatcher.read_texts`).
_JUDGED: Kept[tuple[tuple[ReadLine, ...], list[TextCheck]]] = Kept(256)


class ScreenWatcher:
    def __init__(
        self,
        source: FrameSource,
        classifier: Classifier,
        clock: Clock,
        *,
        timeline: Timeline | None = None,
        calibration: Calibration | None = None,
        evidence: EvidenceStore | None = None,
        interval_s: float = 0.25,
        lamps: LampWatcher | None = None,
    ) -> None:
        self.name = source.name
        self.source = source
        self.classifier = classifier
        self.clock = clock
        self.timeline = timeline
        self.keeper = CalibrationKeeper(classifier, calibration)
        self.evidence = evidence
        self.interval_s = interval_s
        self.lamps = lamps
        # A camera's noise can be far below its JPEG ringing at text edges, which changes
        # with the quality of each frame: a floor under the noise estimate keeps that still.
        # The spinner is learnt from several frame pairs: enough of them at this interval.
        self.motion = MotionTracker(MotionDetector(min_noise=2.5),
                                    spin_window_s=max(2.0, 6 * interval_s))
        self.last: Observation | None = None
        #: Why the camera gives no frame, while it gives none.
        self.stopped: str | None = None
        self._stopped_t = 0.0
        self.freeze = FreezeWatch(self.name)
        self._motion_t: float | None = None
        self._unchecked_noted = False
        #: The last real look may stand for its scene (see :meth:`_stands`): its next looks
        #: may be vouched for.
        self._agreed = False

    # -- one look -------------------------------------------------------------------------
    def look(self, *, fresh: bool = False) -> Observation:
        """One frame, read and judged; :class:`BenchFault` when the camera is frozen or
        stopped (harness.vision.camera_faults). A source that vouches nothing changed since
        the last look (an emulated camera; ``KnowsStillScene``) gives that observation
        again, stamped now, once a real look may stand for the scene (:meth:`_stands`),
        unless ``fresh``: a new frame is wanted (a text judged again)."""
        previous = self.last
        unchanged = None if fresh else self._unchanged()
        if unchanged is not None and self._agreed:
            return self._vouched(unchanged)
        # The scene unchanged since the last look: this frame confirms it (or not).
        confirming = unchanged is not None
        frame = self._read()
        repeat = self._see(frame)
        decision, moved = self.keeper.classify(frame.image, frame.t)
        calibration = self.keeper.calibration
        decision = recognised_by_text(decision, frame.image, calibration,
                                      self.classifier.references)
        lamps = (tuple(self.lamps.observe(frame.image, calibration, frame.t))
                 if self.lamps is not None and calibration is not None else ())
        motion = None
        # The screen the classifier rectified (grey, fine size): the frame is warped once.
        rectified = decision.screen if calibration is not None else None
        # Two looks at one instant (virtual time standing still) say nothing of motion, nor
        # does a sensor's buffer delivered again: a freeze must never pass for a still screen.
        if rectified is not None and not repeat and (
                self._motion_t is None or frame.t > self._motion_t):
            motion = self.motion.feed(rectified, frame.t, self._ignore(decision))
            self._motion_t = frame.t
        if moved:
            self.motion.reset()  # the old frames no longer line up
        if moved and self.timeline is not None:
            self.timeline.record(self.name, "camera.moved",
                                 shift_px=round(self.keeper.last_move_px or 0.0, 1))
        changed = self.last is None or self.last.state != decision.state
        evidence = None
        if changed and self.evidence is not None:
            evidence = self.evidence.keep(frame, decision.state, rectified=rectified,
                                          data=decision.as_json())
        if changed and self.timeline is not None:
            self.timeline.record(
                self.name, "screen.seen", **decision.as_json(),
                **({"evidence": evidence.image} if evidence else {}),
            )
        # The screen is searched only when it is unknown: a known one reads from its reference.
        reading = read_screen(self.classifier, decision, rectified)
        observation = Observation(frame, decision, motion, moved, evidence, reading, lamps)
        self._agreed = self._stands(observation, previous if confirming else None)
        self.last = observation
        return observation

    def _stands(self, obs: Observation, before: Observation | None) -> bool:
        """Whether ``obs`` may stand for its scene's next looks: settled, and either sure
        of a screen drawn one way only, or the second frame of a scene the source vouched
        unchanged since ``before``, judged alike (one frame misjudged, a lamp misread, a
        near duplicate taken for another, is not carried over the scene's looks)."""
        if not self._settled(obs):
            return False
        decision = obs.decision
        if (decision.score >= SURE_SCORE and decision.margin >= SURE_LEAD
                and sum(r.state == decision.state for r in self.classifier.references) == 1):
            return True
        return before is not None and self._settled(before) and _alike(before, obs)

    def _settled(self, obs: Observation) -> bool:
        """A screen recognised where the camera was calibrated, every lamp read. An
        unknown, dark or doubtful one is looked at again, as the keeper's patience and
        search schedule count looks (harness.vision.locate)."""
        decision = obs.decision
        return (self.keeper.calibration is not None and not obs.camera_moved
                and decision.known and not decision.blank
                and decision.score >= self.keeper.recheck_below
                and all(lamp.read for lamp in obs.lamps))

    def _unchanged(self) -> Frame | None:
        """The last look's frame, stamped now, when the source vouches nothing in front of
        it changed since (``KnowsStillScene``) but what the recognised reference masks (a
        clock: classifying and motion leave it out; a decision point's OCR then shows the
        time of the frame's capture there); None otherwise (a real camera)."""
        last = self.last
        if last is None or self.stopped is not None or not isinstance(
                self.source, KnowsStillScene):
            return None
        return self.source.still_frame(last.frame, self._masks(last.decision))

    def _masks(self, decision: Decision) -> tuple[Box, ...]:
        """The recognised reference's masks, as fractions of the screen."""
        if decision.reference is None:
            return ()
        refs = self.classifier.references
        width, height = refs.size
        return tuple((x / width, y / height, w / width, h / height) for x, y, w, h in
                     (r.box for r in refs.get(decision.reference).regions_of("mask")))

    def _vouched(self, frame: Frame) -> Observation:
        """The last observation again at ``frame``'s time: its scene is unchanged and the
        last real look may stand for it (:meth:`_stands`)."""
        last = self.last
        assert last is not None
        if frame.t <= last.t:  # a second look at one instant
            return last
        self.freeze.vouched(frame)
        motion = None
        if self._motion_t is not None and frame.t > self._motion_t:
            motion = self.motion.feed_unchanged(frame.t)
            self._motion_t = frame.t
        observation = attrs.evolve(last, frame=frame, motion=motion, camera_moved=False,
                                   evidence=None)
        self.last = observation
        return observation

    def _read_region(self) -> PixelBox | None:
        """Where this look reads its frame, for a source that reads out a region
        (``ReadsOutRegion``): the calibrated screen and the lamps, when the look can neither
        take nor compare the ring around the screen nor search (the keeper says); None
        (anywhere) otherwise, and before a frame of the calibration's size was seen."""
        if not isinstance(self.source, ReadsOutRegion) or self.last is None:
            return None
        calibration = self.keeper.calibration
        screen = self.keeper.read_region()
        if (screen is None or calibration is None or tuple(self.last.frame.image.shape[1::-1])
                != tuple(int(v) for v in calibration.frame_size)):
            return None
        boxes = [screen, *(self.lamps.boxes(calibration) if self.lamps is not None else ())]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def _read(self) -> Frame:
        """The camera's next frame; one that gives none is read again every
        STOPPED_RETRY_S for STOPPED_BOUND_S bench seconds (the rig's one bounded wait),
        then it is a stopped camera. A source that reads out a region is told this look's
        (:meth:`_read_region`) for the read, and anywhere again after it."""
        region = self._read_region()
        if region is None:
            return self._read_any()
        assert isinstance(self.source, ReadsOutRegion)
        self.source.read_out(region)
        try:
            return self._read_any()
        finally:
            self.source.read_out(None)

    def _read_any(self) -> Frame:
        reads = 0

        def attempt() -> Frame | CameraStopped:
            nonlocal reads
            reads += 1
            try:
                return self.source.read()
            except CameraStopped as exc:
                if self.stopped is None:
                    self._stopped_t = self.clock.now()
                    if self.timeline is not None:
                        self.timeline.record(self.name, "camera.stopped", why=exc.why)
                self.stopped = exc.why
                return exc

        waited = wait_until(self.clock, attempt, lambda got: isinstance(got, Frame),
                            STOPPED_BOUND_S, step_s=STOPPED_RETRY_S)
        if not waited.ok:
            raise BenchFault("camera.stopped", self.name,
                             f"no frame since t={self._stopped_t:.2f} s (read {reads} times "
                             f"over {STOPPED_BOUND_S:g} s): {self.stopped}",
                             bound_s=STOPPED_BOUND_S)
        if self.stopped is not None:  # back (a fault cleared, or within the bound)
            self._resumed(reads)
        return waited.last  # type: ignore[return-value]

    def _resumed(self, reads: int) -> None:
        # A gap in the frames is never silent: it stays on the timeline.
        if self.timeline is not None:
            self.timeline.record(self.name, "camera.resumed", reads=reads,
                                 after_s=round(self.clock.now() - self._stopped_t, 3))
        self.stopped = None

    def _see(self, frame: Frame) -> bool:
        """True when ``frame`` is the previous one again, byte for byte (a sensor's: no
        news of the screen); raises BenchFault when that has lasted the bound."""
        self.freeze.checked = not repeats_frames(self.source)
        if not self.freeze.checked and not self._unchecked_noted:
            self._unchecked_noted = True
            if self.timeline is not None:
                self.timeline.record(self.name, "camera.freeze_unchecked",
                                     why="a still screen gives this camera identical frames")
        try:
            return self.freeze.see(frame, self._freeze_region(frame)) and self.freeze.checked
        except BenchFault as fault:
            if self.timeline is not None:
                self.timeline.record(self.name, "camera.frozen", detail=fault.detail)
            raise

    def _freeze_region(self, frame: Frame) -> PixelBox | None:
        """Where a freeze is judged: the calibrated screen and its lamps (what the rig
        reads), for a frame of the calibration's size; the whole frame otherwise. An
        overlay drawn over a frozen picture elsewhere (a network camera's clock) must not
        keep it live (harness.vision.camera_faults)."""
        calibration = self.keeper.calibration
        if calibration is None or tuple(frame.image.shape[1::-1]) != tuple(
                int(v) for v in calibration.frame_size):
            return None
        quad = np.asarray(calibration.quad, np.float64)
        (x0, y0), (x1, y1) = np.floor(quad.min(axis=0)), np.ceil(quad.max(axis=0))
        boxes = [(int(x0), int(y0), int(x1) + 1, int(y1) + 1),
                 *(self.lamps.boxes(calibration) if self.lamps is not None else ())]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def read(self) -> ScreenReading:
        """Look once; what the screen says."""
        reading = self.look().reading
        assert reading is not None
        return reading

    def read_texts(self, obs: Observation, shown: Sequence[str] = (),
                   absent: Sequence[str] = ()) -> tuple[ScreenReading, list[TextCheck]]:
        """A decision point: the screen of ``obs``'s frame cut out at the references' own
        size, read by OCR (its lines, with confidences) and each text judged on it: ``shown``
        must be there character for character, ``absent`` must not. Lands on the timeline as
        ``screen.read``. Without a calibration nothing can be read: no lines, no checks."""
        reading = obs.reading
        calibration = self.keeper.calibration
        if reading is None or calibration is None or obs.decision.blank:
            return reading or ScreenReading(obs.state, obs.decision.score), []
        refs = self.classifier.references
        screen = rectify_for_text(obs.frame.image, calibration, refs)
        reading = attrs.evolve(reading, screen=screen, references=refs)
        # The same pixels read and judged again give the same lines and verdicts: an emulated
        # camera's frame of a scene filmed before, by this bench or one opened earlier in the
        # process (harness/emulation/scene_frames.py), is read once. A real sensor's noise
        # never repeats: there it is read every time.
        key = (pixels_key(screen), refs, reading.reference, tuple(shown), tuple(absent))
        lines, checks = _JUDGED.get(key, lambda: self._judge(reading, shown, absent))
        checks = list(checks)
        reading = attrs.evolve(reading, lines=lines)
        if self.timeline is not None:
            self.timeline.record(
                self.name, "screen.read", state=obs.state, frame_t=obs.t,
                lines=[line.as_json() for line in reading.lines],
                checks=[c.as_json() for c in checks])
        return reading, checks

    @staticmethod
    def _judge(reading: ScreenReading, shown: Sequence[str], absent: Sequence[str]
               ) -> tuple[tuple[ReadLine, ...], list[TextCheck]]:
        """OCR's lines on ``reading``'s screen and the verdicts of ``shown`` and ``absent``
        on it."""
        reading = read_text(reading)
        screen, refs, prefer = reading.screen, reading.references, reading.reference
        assert screen is not None and refs is not None
        # (The screen's OCR, just read, serves every check: it is not read again.)
        checks = check_texts(shown, screen, refs, prefer=prefer, read=False,
                             lines=reading.lines) if shown else []
        # A failure says what the screen shows instead: the OCR of where it was looked for.
        checks = [c if c.ok or c.read else check_text(c.expected, screen, refs, prefer=prefer,
                                                      lines=reading.lines)
                  for c in checks]
        checks += [reading.absent_text(text) for text in absent]
        return reading.lines, checks

    def _ignore(self, decision: Decision) -> np.ndarray | None:
        """The recognised reference's masks (a clock) at the rectified size."""
        if decision.reference is None:
            return None
        ref = self.classifier.references.get(decision.reference)
        return ref.masked(self.classifier.fine_size) if ref.regions_of("mask") else None

    # -- bounded waits ----------------------------------------------------------------------
    def wait_for(self, states: str | Iterable[str], timeout_s: float) -> Observation:
        """Look until the screen shows one of ``states``; a timeout names what was seen
        and carries the last observation."""
        wanted = {states} if isinstance(states, str) else set(states)
        seen: list[str] = []

        def look() -> Observation:
            obs = self.look()
            if not seen or seen[-1] != obs.state:
                seen.append(obs.state)
            return obs

        waited = wait_until(self.clock, look, lambda obs: obs.state in wanted, timeout_s,
                            step_s=self.interval_s)
        if not waited.ok:
            raise DeviceTimeout(self.name, f"screen {' or '.join(sorted(wanted))} "
                                f"(saw {' -> '.join(seen)})", timeout_s, waited.last)
        return waited.last

    def wait_stable(self, seconds: float, timeout_s: float, *,
                    ignore_spinner: bool = False) -> Observation:
        """Look until the screen has not changed for ``seconds`` (with ``ignore_spinner``,
        a turning loading circle does not count as a change)."""
        waited = wait_until(
            self.clock, self.look,
            lambda _: self.motion.stable(seconds, ignore_spinner=ignore_spinner),
            timeout_s, step_s=self.interval_s)
        if not waited.ok:
            raise DeviceTimeout(self.name, f"a screen still for {seconds:g} s (last: "
                                f"{waited.last.state})", timeout_s, waited.last)
        return waited.last

    def watch(self, seconds: float) -> list[Observation]:
        """Look every interval for ``seconds``; returns every observation."""
        end = self.clock.now() + seconds
        observations = [self.look()]
        while self.clock.now() + self.interval_s <= end + 1e-9:
            self.clock.sleep(self.interval_s)
            observations.append(self.look())
        return observations

    def spinning(self, window_s: float) -> bool:
        return self.motion.spinning(window_s)

    def still_for(self, *, ignore_spinner: bool = False) -> float:
        return self.motion.still_for(ignore_spinner=ignore_spinner)
