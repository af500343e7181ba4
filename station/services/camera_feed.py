"""The camera in the GUI: the newest frame and the latest guidance, polled on the GUI thread.

The camera's own threads (``station.camera.session.CaptureSession``) read and analyse; this bridge
only *polls* the newest frame at the display rate with a QTimer, so a slow analysis or a busy GUI can
never build up a queue of frames, and no camera thread ever touches a widget. An auto-captured photo
is handed over through a one-slot mailbox for the same reason.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from station.camera.errors import CameraError
from station.camera.photo import PhotoResult
from station.camera.session import CaptureSession
from station.camera.sources import STATE_MESSAGES, SourceState
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane

DISPLAY_INTERVAL_MS = 33  # about 30 frames per second


def to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of a BGR frame (the numpy buffer may be reused by the camera thread)."""
    height, width = image.shape[:2]
    contiguous = np.ascontiguousarray(image)
    return QImage(contiguous.data, width, height, contiguous.strides[0], QImage.Format.Format_BGR888).copy()


def state_message(state: SourceState) -> Text:
    """What the officer reads about the camera in ``state``."""
    return STATE_MESSAGES[state]


class CameraFeed(QObject):
    """Signals:
    frame_ready(QImage): the newest frame, at most at the display rate.
    report_ready(QualityReport): the latest analysis of the live picture.
    state_changed(SourceState): the camera opened, was lost, came back, closed.
    photo_ready(PhotoResult): a finished photo (auto-capture, or a manual capture's result).
    """

    frame_ready = Signal(QImage)
    report_ready = Signal(object)
    state_changed = Signal(object)
    photo_ready = Signal(object)

    def __init__(self, session_factory, ops: BackgroundOps | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ops = ops
        self._started = False
        self._mailbox: PhotoResult | None = None
        self._mailbox_lock = threading.Lock()
        self._session: CaptureSession = session_factory(self._deliver)
        self._last_index = -1
        self._last_report = None
        self._last_state = None
        self.displayed = 0
        self._timer = QTimer(self)
        self._timer.setInterval(DISPLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def session(self) -> CaptureSession:
        return self._session

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

    def latest_report(self):  # type: ignore[no-untyped-def]
        return self._session.latest_report()

    def capture_manual(self, reason: str | None, on_photo, on_refused) -> None:  # type: ignore[no-untyped-def]
        """Take the photo now (the JPEG search runs on a worker): ``on_photo(photo)`` or
        ``on_refused(CameraError)`` follow on the GUI thread."""
        if self._ops is None:
            try:
                photo = self._session.capture_manual(reason)
            except CameraError as error:
                on_refused(error)
                return
            on_photo(photo)
            return
        self._ops.run(
            lambda: self._session.capture_manual(reason),
            lane=Lane.WORK,
            on_success=on_photo,
            on_failure=on_refused,
            label="manual capture",
        )

    def _deliver(self, photo: PhotoResult) -> None:  # runs on the camera's analysis thread
        with self._mailbox_lock:
            self._mailbox = photo

    def _poll(self) -> None:
        state = self._session.state
        if state != self._last_state:
            self._last_state = state
            self.state_changed.emit(state)
        frame = self._session.latest_frame()
        if frame is not None and frame.index != self._last_index:
            self._last_index = frame.index
            self.displayed += 1
            self.frame_ready.emit(to_qimage(frame.image))
        report = self._session.latest_report()
        if report is not None and report is not self._last_report:
            self._last_report = report
            self.report_ready.emit(report)
        with self._mailbox_lock:
            photo, self._mailbox = self._mailbox, None
        if photo is not None:
            self.photo_ready.emit(photo)
