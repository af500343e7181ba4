"""The camera in the GUI: the newest frame and the latest guidance, polled on the GUI thread.

The camera's own threads (``station.camera.session.CaptureSession``) read and analyse; this bridge
only *polls* the newest frame at the display rate with a QTimer, so a slow analysis or a busy GUI can
never build up a queue of frames, and no camera thread ever touches a widget. An auto-captured photo
is handed over through a one-slot mailbox for the same reason.

What leaves here is plain values: a ``LiveGuidance`` per analysed frame (is a face in view, the one
instruction to act on, every check as a sentence -- never a check name), the camera's ``SourceState``,
and finished photos. A camera that stops delivering is a state, not a frozen picture: the guidance
is withdrawn at once (``guidance_lost``) so no stale green check stays on screen.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from station.camera.display import for_display
from station.camera.errors import CameraError
from station.camera.photo import PhotoResult
from station.camera.session import CaptureSession
from station.camera.sources import STATE_MESSAGES, SourceState
from station.capture.guidance import Instruction, primary_instruction
from station.capture.panels import FaceGuide
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane

__all__ = ["CameraFeed", "CheckLine", "LiveGuidance", "SourceState", "state_message", "to_qimage"]

# The poll runs faster than the camera so no frame waits for the next tick (a 33 ms poll beats against
# a 30 fps camera and drops one frame in eight); a poll without a new frame costs a few microseconds.
DISPLAY_INTERVAL_MS = 10
STALE_AFTER_S = 1.5  # no new analysis for this long while the camera is "open": the picture froze
# A manual capture may use a frame seen this long before the key press: what the officer saw on
# screen when deciding. Never older, so never the previous student's picture.
REACTION_S = 0.3


def to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of a BGR frame (the numpy buffer may be reused by the camera thread)."""
    height, width = image.shape[:2]
    contiguous = np.ascontiguousarray(image)
    return QImage(contiguous.data, width, height, contiguous.strides[0], QImage.Format.Format_BGR888).copy()


def state_message(state: SourceState) -> Text:
    """What the officer reads about the camera in ``state``."""
    return STATE_MESSAGES[state]


@dataclass(frozen=True)
class CheckLine:
    status: str  # pass | warn | fail | skipped
    message: Text


@dataclass(frozen=True)
class LiveGuidance:
    """One analysed frame as the desk shows it."""

    frame_time: float  # time.monotonic() when the frame arrived
    face_present: bool
    primary: Instruction
    checks: tuple[CheckLine, ...]
    conforms: bool  # no check fails (warnings allowed)
    all_pass: bool  # auto-capture may fire on it
    framing_ok: bool | None  # None: no face


def guidance_of(report, frame_time: float) -> LiveGuidance:  # type: ignore[no-untyped-def]
    checks = tuple(CheckLine(c.status, c.message) for c in report.checks if c.status != "skipped")
    framing = next((c.status for c in report.checks if c.name == "framing"), None)
    return LiveGuidance(
        frame_time=frame_time,
        face_present=report.face is not None,
        primary=primary_instruction(report.checks),
        checks=checks,
        conforms=report.ok,
        all_pass=report.all_pass,
        framing_ok=None if framing in (None, "skipped") else framing == "pass",
    )


class CameraFeed(QObject):
    """Signals:
    frame_ready(QImage): the newest frame, at most at the display rate.
    guidance_ready(LiveGuidance): the latest analysis of the live picture.
    guidance_lost(): no analysis is current any more (camera lost, picture frozen).
    state_changed(SourceState): the camera opened, was lost, came back, closed.
    photo_ready(PhotoResult): an automatic capture (a manual capture answers its own callback).
    """

    frame_ready = Signal(QImage)
    guidance_ready = Signal(object)
    guidance_lost = Signal()
    state_changed = Signal(object)
    photo_ready = Signal(object)

    def __init__(
        self, session_factory, ops: BackgroundOps | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._ops = ops
        self._started = False
        self._mailbox: PhotoResult | None = None
        self._mailbox_lock = threading.Lock()
        self._session: CaptureSession = session_factory(self._deliver)
        self._session.disarm()  # nobody is photographed before the desk says who sits there
        self._last_index = -1
        self._last_analysis = None
        self._last_analysis_at = 0.0
        self._last_state: SourceState | None = None
        self._current: LiveGuidance | None = None
        self.displayed = 0
        self.display_width = 0  # the preview's width in device pixels; 0: full frames
        self.longest_gap_s = 0.0  # the benchmark's "longest GUI stall" as seen by the display timer
        self._last_tick: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(DISPLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def session(self) -> CaptureSession:
        return self._session

    @property
    def state(self) -> SourceState:
        return self._session.state

    @property
    def current(self) -> LiveGuidance | None:
        """The guidance of the latest analysed frame, None when there is no current picture."""
        return self._current

    def face_guide(self) -> FaceGuide:
        profile = self._session.profile
        return FaceGuide.from_targets(
            profile.width,
            profile.height,
            profile.eye_mid_x.target,
            profile.eye_line.target,
            profile.crown_gap.target,
            profile.face_width.target,
        )

    def start(self) -> None:
        self._session.start()
        self._timer.start()
        self._started = True

    def stop(self) -> None:
        self._timer.stop()
        if self._started:
            self._session.stop()
            self._started = False

    def rearm(self) -> None:
        self._session.rearm()

    def disarm(self) -> None:
        self._session.disarm()
        with self._mailbox_lock:
            self._mailbox = None  # a photo made before the disarm is never handed over

    def capture_manual(self, reason: str | None, on_photo, on_refused) -> None:  # type: ignore[no-untyped-def]
        """Take the photo now (the JPEG search runs on a worker): ``on_photo(photo)`` or
        ``on_refused(CameraError)`` follow on the GUI thread. The frame is one seen after the key
        press (or at most a moment before: the officer reacted to what was on screen)."""
        pressed = time.monotonic() - REACTION_S
        if self._ops is None:
            try:
                photo = self._session.capture_manual(reason, not_before=pressed)
            except CameraError as error:
                on_refused(error)
                return
            on_photo(photo)
            return
        self._ops.run(
            lambda: self._session.capture_manual(reason, not_before=pressed),
            lane=Lane.WORK,
            on_success=on_photo,
            on_failure=on_refused,
            label="manual capture",
        )

    def _deliver(self, photo: PhotoResult) -> None:  # runs on the camera's analysis thread
        with self._mailbox_lock:
            self._mailbox = photo

    def _poll(self) -> None:
        now = time.monotonic()
        if self._last_tick is not None:
            self.longest_gap_s = max(self.longest_gap_s, now - self._last_tick)
        self._last_tick = now
        state = self._session.state
        if state != self._last_state:
            self._last_state = state
            if state is not SourceState.OPEN:
                self._withdraw()
            self.state_changed.emit(state)
        frame = self._session.latest_frame()
        if frame is not None and frame.index != self._last_index and state is SourceState.OPEN:
            self._last_index = frame.index
            self.displayed += 1
            self.frame_ready.emit(to_qimage(for_display(frame.image, self.display_width)))
        analysis = self._session.latest_analysis()
        if analysis is not None and analysis is not self._last_analysis and state is SourceState.OPEN:
            self._last_analysis, self._last_analysis_at = analysis, now
            frame_of, report = analysis
            self._current = guidance_of(report, frame_of.timestamp)
            self.guidance_ready.emit(self._current)
        elif self._current is not None and now - self._last_analysis_at > STALE_AFTER_S:
            self._withdraw()  # the picture froze without the source saying so
        with self._mailbox_lock:
            photo, self._mailbox = self._mailbox, None
        if photo is not None:
            self.photo_ready.emit(photo)

    def _withdraw(self) -> None:
        if self._current is not None:
            self._current = None
            self.guidance_lost.emit()
