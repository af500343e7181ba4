"""``CaptureSession``: the small, Qt-free camera API the GUI drives.

It ties a frame source, the capture thread, the quality analysis and auto-capture together::

    session = CaptureSession(SimulatedCamera(), "moe-480", on_autocapture=handle_photo)
    session.start()
    frame = session.latest_frame()      # paint it (newest only)
    report = session.latest_report()    # show the guidance
    photo = session.capture_manual("lighting warning accepted: desk lamp broken")
    session.stop()

Callbacks run on the camera's analysis thread; the services layer turns them into Qt signals.
A capture reuses the analysis of the chosen frame (made on a downscaled copy) and crops the
full-resolution frame with the placement scaled back up; the written bytes are verified either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from station.camera.autocapture import AutoCapture, CaptureRefused, manual_decision
from station.camera.capture import CaptureThread, Frame
from station.camera.errors import CameraError, NotConforming
from station.camera.faces import FaceDetector, create_detector
from station.camera.photo import CaptureInfo, PhotoResult, make_photo
from station.camera.profiles import Profile, load_profile
from station.camera.quality import DEFAULT_THRESHOLDS, QualityReport, Thresholds, analyze
from station.camera.sources import FrameSource, SourceState
from station.i18n import Text

log = logging.getLogger("station.camera")


class CaptureSession:
    def __init__(
        self,
        source: FrameSource,
        profile: Profile | str | None = None,
        *,
        background: str | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        detector_factory: Callable[[], FaceDetector] = create_detector,
        analysis_interval: float = 0.2,
        analysis_width: int = 1280,
        steady_seconds: float = 0.6,
        auto: bool = True,
        on_autocapture: Callable[[PhotoResult], None] | None = None,
        on_report: Callable[[Frame, QualityReport], None] | None = None,
        on_state: Callable[[SourceState], None] | None = None,
    ) -> None:
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.background = background
        self.thresholds = thresholds
        self.auto = auto
        self._detector_factory = detector_factory
        self._analysis_detector: FaceDetector | None = None
        self._capture_lock = threading.Lock()
        self._autocapture = AutoCapture(steady_seconds=steady_seconds)
        self._on_autocapture = on_autocapture
        self._on_report = on_report
        self.last_photo: PhotoResult | None = None
        self._thread = CaptureThread(
            source,
            analyzer=self._analyze,
            analysis_interval=analysis_interval,
            analysis_width=analysis_width,
            on_state=on_state,
            on_analysis=self._analysed,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> bool:
        return self._thread.stop(timeout)

    @property
    def state(self) -> SourceState:
        return self._thread.state

    @property
    def stats(self):
        return self._thread.stats

    def rearm(self) -> None:
        """Allow the next auto-capture (after the officer moved on to the next student)."""
        self._autocapture.arm()

    def disarm(self) -> None:
        """No auto-capture until ``rearm`` (the desk waits for the right person to sit down)."""
        self._autocapture.disarm()

    @property
    def source(self) -> FrameSource:
        """The frame source (the demo moves its simulated person through it)."""
        return self._thread.source

    # -- what the GUI reads ----------------------------------------------------------------------
    def latest_frame(self) -> Frame | None:
        return self._thread.latest_frame()

    def wait_for_frame(self, after_index: int = -1, timeout: float = 1.0) -> Frame | None:
        return self._thread.wait_for_frame(after_index, timeout)

    def latest_analysis(self) -> tuple[Frame, QualityReport] | None:
        """The newest analysed frame with its report (the frame's timestamp says when it was seen)."""
        return self._thread.latest_analysis()

    def latest_report(self) -> QualityReport | None:
        analysis = self._thread.latest_analysis()
        return None if analysis is None else analysis[1]

    # -- capture ---------------------------------------------------------------------------------
    def capture_manual(
        self, reason: str | None = None, *, not_before: float | None = None, wait_s: float = 3.0
    ) -> PhotoResult:
        """Photograph the newest analysed frame; warnings need ``reason``, failures refuse.

        With ``not_before`` (a ``time.monotonic`` instant, e.g. the officer's key press) the frame
        must have been seen after it, waiting up to ``wait_s`` for one: never a picture from before
        the officer looked. A frame is never photographed twice (two photos are two moments). The wait
        is normally one analysis interval; its bound is generous because a busy county PC can take
        well over a second for one analysis, and a refused key press costs the officer more.
        """
        taken_before = self.last_photo.capture.frame_time if self.last_photo is not None else None
        newer_than = max(t for t in (not_before, taken_before, float("-inf")) if t is not None)
        if newer_than == float("-inf"):
            analysis = self._thread.latest_analysis()
        else:
            analysis = self._thread.wait_for_analysis(newer_than, wait_s)
        if analysis is None:
            raise CaptureRefused(
                "no_frame",
                Text(
                    zh="无法拍照：摄像头还没有新的画面，请稍候再拍。",
                    en="Cannot take the photo: the camera has shown no new picture yet; try again in a moment.",
                ),
            )
        frame, report = analysis
        decision = manual_decision(frame.image, report, frame.timestamp, reason)
        info = CaptureInfo("manual", decision.reason, decision.overridden_warnings, frame.timestamp)
        return self._produce(frame.image, report, info)

    def _produce(self, image: np.ndarray, report: QualityReport, info: CaptureInfo) -> PhotoResult:
        with self._capture_lock:
            photo = make_photo(image, self.profile, report=report, capture=info)
            self.last_photo = photo
            return photo

    def _detector(self) -> FaceDetector:
        # Only the analysis thread detects faces; the detector is built there, on first use.
        if self._analysis_detector is None:
            self._analysis_detector = self._detector_factory()
        return self._analysis_detector

    def _analyze(self, image: np.ndarray, source_scale: float) -> QualityReport:
        return analyze(
            image,
            self.profile,
            detector=self._detector(),
            background=self.background,
            thresholds=self.thresholds,
            source_scale=source_scale,
        )

    def _analysed(self, frame: Frame, report: QualityReport) -> None:
        if self._on_report is not None:
            self._on_report(frame, report)
        if not self.auto:
            return
        decision = self._autocapture.observe(frame.image, report, frame.timestamp)
        if decision is None:
            return
        try:
            info = CaptureInfo("auto", frame_time=decision.timestamp)
            photo = self._produce(decision.image, decision.report, info)
        except NotConforming:
            # The crop or the file failed at full resolution: keep guiding.
            self._autocapture.arm()
            return
        except CameraError as exc:
            log.warning("auto-capture failed: %s", exc.code)
            self._autocapture.arm()
            return
        if self._on_autocapture is not None:
            self._on_autocapture(photo)
