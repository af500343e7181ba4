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

from station.camera.photo import PhotoResult
from station.camera.session import CaptureSession

DISPLAY_INTERVAL_MS = 33  # about 30 frames per second


def to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of a BGR frame (the numpy buffer may be reused by the camera thread)."""
    height, width = image.shape[:2]
    contiguous = np.ascontiguousarray(image)
    return QImage(contiguous.data, width, height, contiguous.strides[0], QImage.Format.Format_BGR888).copy()


class CameraFeed(QObject):
    frame_ready = Signal(QImage)
    report_ready = Signal(object)  # station.camera.quality.QualityReport
    state_changed = Signal(str)  # station.camera.sources.SourceState value
    photo_ready = Signal(object)  # PhotoResult from auto-capture

    def __init__(self, session_factory, parent: QObject | None = None) -> None:
        super().__init__(parent)
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

    def stop(self) -> None:
        self._timer.stop()
        self._session.stop()

    def rearm(self) -> None:
        self._session.rearm()

    def _deliver(self, photo: PhotoResult) -> None:  # runs on the camera's analysis thread
        with self._mailbox_lock:
            self._mailbox = photo

    def _poll(self) -> None:
        state = str(self._session.state)
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
