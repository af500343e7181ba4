"""The capture thread: reads at the source's pace, keeps only the newest frame, analyses at its own rate.

Two plain threads (no Qt; the services layer wraps this for the GUI):

* the reader pulls frames from the source as fast as it delivers them and puts each in a one-slot
  mailbox; a frame nobody took before the next one arrived is counted as dropped, never queued;
* the analyser wakes every ``analysis_interval`` seconds, takes the newest frame, makes a downscaled
  copy (at most ``analysis_width`` pixels wide) and runs the analyzer on it.

When the source stops delivering (camera unplugged, stream down, file gone) the reader reports
``lost`` and retries opening it every ``reconnect_interval`` seconds until it is back or stopped.
Every wait has a timeout, and ``stop()`` joins both threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from station.camera.errors import CameraError
from station.camera.sources import FrameSource, SourceState

log = logging.getLogger("station.camera")

Analyzer = Callable[[np.ndarray, float], Any]


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    index: int
    timestamp: float


@dataclass(frozen=True)
class CaptureStats:
    read: int
    taken: int
    dropped: int
    analysed: int
    reconnects: int


class CaptureThread:
    def __init__(
        self,
        source: FrameSource,
        *,
        analyzer: Analyzer | None = None,
        analysis_interval: float = 0.2,
        analysis_width: int = 1280,
        reconnect_interval: float = 0.5,
        on_state: Callable[[SourceState], None] | None = None,
        on_analysis: Callable[[Frame, Any], None] | None = None,
    ) -> None:
        self.source = source
        self._analyzer = analyzer
        self._analysis_interval = analysis_interval
        self._analysis_width = analysis_width
        self._reconnect_interval = reconnect_interval
        self._on_state = on_state
        self._on_analysis = on_analysis
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._latest_taken = True
        self._analysis: tuple[Frame, Any] | None = None
        self._opened_at = 0.0  # frames older than the last (re)open belong to a picture that is gone
        self._state = SourceState.CLOSED
        self._read = self._taken = self._dropped = self._analysed = self._reconnects = 0
        self._threads: list[threading.Thread] = []
        self.last_error: CameraError | None = None

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._threads = [threading.Thread(target=self._reader, name="camera-reader", daemon=True)]
        if self._analyzer is not None:
            self._threads.append(
                threading.Thread(target=self._analysis_loop, name="camera-analysis", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 3.0) -> bool:
        """Stop both threads and close the source; True when they ended within ``timeout``."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(t.is_alive() for t in self._threads)
        if stopped:
            self._threads = []
        return stopped

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def stats(self) -> CaptureStats:
        with self._cond:
            return CaptureStats(self._read, self._taken, self._dropped, self._analysed, self._reconnects)

    # -- consumers -------------------------------------------------------------------------------
    def latest_frame(self) -> Frame | None:
        """The newest frame, marking it taken (the preview calls this when it can paint)."""
        with self._cond:
            if self._latest is not None and not self._latest_taken:
                self._latest_taken = True
                self._taken += 1
            return self._latest

    def wait_for_frame(self, after_index: int = -1, timeout: float = 1.0) -> Frame | None:
        """The newest frame with an index above ``after_index``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._stop.is_set():
                if self._latest is not None and self._latest.index > after_index:
                    if not self._latest_taken:
                        self._latest_taken = True
                        self._taken += 1
                    return self._latest
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        return None

    def latest_analysis(self) -> tuple[Frame, Any] | None:
        with self._cond:
            return self._analysis

    def wait_for_analysis(self, newer_than: float, timeout: float = 1.0) -> tuple[Frame, Any] | None:
        """The newest analysis of a frame seen after ``newer_than`` (monotonic), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._stop.is_set():
                if self._analysis is not None and self._analysis[0].timestamp > newer_than:
                    return self._analysis
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        return None

    # -- threads ---------------------------------------------------------------------------------
    def _set_state(self, state: SourceState) -> None:
        if state == self._state:
            return
        with self._cond:
            self._state = state
            if state is SourceState.OPEN:
                self._opened_at = time.monotonic()
            if state in (SourceState.OPEN, SourceState.LOST):
                # A lost camera's last picture and its analysis must never be taken for live, nor
                # come back as if new when it reopens (a closed one keeps them for inspection).
                self._latest = None
                self._analysis = None
        log.info("camera source %s: %s", self.source.kind, state.value)
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # a listener's bug must not kill the camera
                log.exception("camera state listener failed")

    def _open(self) -> bool:
        try:
            self.source.open()
            self.last_error = None
        except CameraError as exc:
            self.last_error = exc
            return False
        except Exception as exc:  # driver-level surprises count as "not there yet"
            log.warning("camera open failed: %s", type(exc).__name__)
            return False
        return True

    def _reader(self) -> None:
        ever_opened = False
        try:
            while not self._stop.is_set():
                if self._state != SourceState.OPEN:
                    if self._open():
                        if ever_opened:
                            with self._cond:
                                self._reconnects += 1
                        ever_opened = True
                        self._set_state(SourceState.OPEN)
                    else:
                        self._set_state(SourceState.LOST)
                        self._stop.wait(self._reconnect_interval)
                        continue
                try:
                    image = self.source.read()
                except Exception as exc:  # a driver error mid-stream is an unplugged camera
                    log.warning("camera read failed: %s", type(exc).__name__)
                    image = None
                if image is None:
                    if self.source.state == SourceState.ENDED:
                        self._set_state(SourceState.ENDED)
                        return
                    self.source.close()
                    self._set_state(SourceState.LOST)
                    self._stop.wait(self._reconnect_interval)
                    continue
                with self._cond:
                    self._read += 1
                    if not self._latest_taken:
                        self._dropped += 1
                    self._latest = Frame(image, self._read, time.monotonic())
                    self._latest_taken = False
                    self._cond.notify_all()
        finally:
            try:
                self.source.close()
            except Exception:
                log.exception("closing the camera source failed")
            if self._state != SourceState.ENDED:
                self._set_state(SourceState.CLOSED)

    def _analysis_loop(self) -> None:
        assert self._analyzer is not None
        next_tick = time.monotonic()
        last_index = -1
        while not self._stop.is_set():
            next_tick += self._analysis_interval
            now = time.monotonic()
            if next_tick < now:  # analysis overran: skip the missed ticks rather than bunch up
                next_tick = now
            self._stop.wait(max(0.0, next_tick - now))
            if self._stop.is_set():
                return
            with self._cond:
                frame = self._latest
            if frame is None or frame.index == last_index:
                continue
            last_index = frame.index
            image, scale = self._downscaled(frame.image)
            try:
                result = self._analyzer(image, scale)
            except Exception:
                log.exception("frame analysis failed")
                continue
            with self._cond:
                if frame.timestamp < self._opened_at or self._state is not SourceState.OPEN:
                    continue  # analysed while the camera was lost: a picture that is gone
                self._analysis = (frame, result)
                self._analysed += 1
                self._cond.notify_all()
            if self._on_analysis is not None:
                try:
                    self._on_analysis(frame, result)
                except Exception:
                    log.exception("analysis listener failed")

    def _downscaled(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        width = image.shape[1]
        if width <= self._analysis_width:
            return image, 1.0
        scale = width / self._analysis_width
        size = (self._analysis_width, round(image.shape[0] / scale))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale
