"""The capture thread against real video files and the simulated camera.

Frames are handed over newest-first and dropped, never queued; the analysis runs at its own rate on
a downscaled copy; a source that disappears is reported lost and reconnected; stop is clean.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from station.camera.capture import CaptureThread
from station.camera.session import CaptureSession
from station.camera.simulated import SimulatedCamera
from station.camera.sources import SourceState, VideoFileSource


def write_video(path, frames: int = 40, fps: float = 100.0, size=(320, 240)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "MJPG/avi writer unavailable"
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), (i * 6) % 256, np.uint8)
        writer.write(frame)
    writer.release()


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "desk.avi"
    write_video(path)
    return path


def test_slow_consumer_gets_newest_frame_and_stale_ones_are_dropped(video):
    thread = CaptureThread(VideoFileSource(video, loop=True, realtime=True))
    thread.start()
    try:
        assert wait_until(lambda: thread.stats.read > 5)
        for _ in range(8):
            time.sleep(0.06)  # a preview that paints far slower than the 100 fps source
            read_before = thread.stats.read
            frame = thread.latest_frame()
            assert frame.index >= read_before  # the newest frame, not an old queued one
        stats = thread.stats
        assert stats.dropped > stats.taken  # most frames were never taken: dropped, not queued
        assert stats.taken + stats.dropped <= stats.read
    finally:
        assert thread.stop(timeout=3.0)


def test_clean_stop_releases_everything(video):
    states = []
    thread = CaptureThread(
        VideoFileSource(video, loop=True), analyzer=lambda image, scale: image.shape, on_state=states.append
    )
    thread.start()
    assert wait_until(lambda: thread.stats.read > 3)
    before = {t.name for t in threading.enumerate()}
    assert {"camera-reader", "camera-analysis"} <= before
    assert thread.stop(timeout=3.0)  # both threads ended within the stop's own wait
    assert not thread.running
    assert not {"camera-reader", "camera-analysis"} & {t.name for t in threading.enumerate()}
    assert thread.state == SourceState.CLOSED and states[-1] == SourceState.CLOSED
    assert thread.source.state == SourceState.CLOSED
    assert thread.wait_for_frame(10**9, timeout=0.2) is None  # a stopped thread never blocks a caller


def test_reconnects_after_the_source_disappears(video, tmp_path):
    states = []
    thread = CaptureThread(VideoFileSource(video, loop=True), reconnect_interval=0.05, on_state=states.append)
    thread.start()
    try:
        assert wait_until(lambda: thread.state == SourceState.OPEN)
        hidden = tmp_path / "unplugged.avi"
        video.rename(hidden)  # the camera is unplugged: the next pass cannot reopen it
        assert wait_until(lambda: thread.state == SourceState.LOST)
        read_while_lost = thread.stats.read
        time.sleep(0.2)
        assert thread.stats.read == read_while_lost
        hidden.rename(video)  # plugged back in
        assert wait_until(lambda: thread.state == SourceState.OPEN)
        assert wait_until(lambda: thread.stats.read > read_while_lost + 5)
        assert thread.stats.reconnects >= 1
        assert states[:3] == [SourceState.OPEN, SourceState.LOST, SourceState.OPEN]
    finally:
        assert thread.stop(timeout=3.0)


def test_missing_source_at_start_is_reported_lost_then_found(tmp_path):
    path = tmp_path / "later.avi"
    thread = CaptureThread(VideoFileSource(path), reconnect_interval=0.05)
    thread.start()
    try:
        assert wait_until(lambda: thread.state == SourceState.LOST)
        assert thread.last_error is not None and thread.last_error.code == "file_unavailable"
        write_video(path)
        assert wait_until(lambda: thread.stats.read > 0)
    finally:
        assert thread.stop(timeout=3.0)


def test_finite_file_ends(video):
    thread = CaptureThread(VideoFileSource(video, loop=False, realtime=False))
    thread.start()
    assert wait_until(lambda: thread.state == SourceState.ENDED)
    assert thread.stats.read == 40
    assert thread.stop(timeout=3.0)


def test_analysis_runs_on_a_downscaled_copy_at_its_own_rate(tmp_path):
    path = tmp_path / "wide.avi"
    write_video(path, frames=20, fps=100.0, size=(1280, 720))
    calls = []

    def analyzer(image, scale):
        calls.append((image.shape[1], scale))
        return image.shape

    thread = CaptureThread(
        VideoFileSource(path, loop=True), analyzer=analyzer, analysis_interval=0.1, analysis_width=640
    )
    thread.start()
    try:
        assert wait_until(lambda: len(calls) >= 4)
    finally:
        assert thread.stop(timeout=3.0)
    assert all(width == 640 and scale == pytest.approx(2.0) for width, scale in calls)
    # Analysis runs at its own pace, not once per frame: most frames are never analysed.
    assert thread.stats.read > 3 * len(calls)
    frame, result = thread.latest_analysis()
    assert result == (360, 640, 3) and frame.image.shape == (720, 1280, 3)


def test_session_auto_captures_a_verified_photo_from_the_simulated_camera():
    photos = []
    got_photo = threading.Event()

    def on_photo(photo):
        photos.append(photo)
        got_photo.set()

    session = CaptureSession(
        SimulatedCamera(size=(1280, 720)),
        "moe-480",
        analysis_interval=0.1,
        steady_seconds=0.3,
        on_autocapture=on_photo,
    )
    session.start()
    try:
        assert got_photo.wait(timeout=20.0), session.latest_report() and session.latest_report().as_dict()
        report = session.latest_report()
        assert report is not None and report.profile_id == "moe-480"
        frame = session.latest_frame()
        assert frame is not None and frame.image.shape == (720, 1280, 3)
    finally:
        assert session.stop(timeout=5.0)
    photo = photos[0]
    assert photo.capture.mode == "auto"
    assert photo.report.check("output_file").status == "pass"
    assert 24 * 1024 <= photo.size <= 38 * 1024
    assert len(photos) == 1  # disarmed after firing until the next student


def test_session_manual_capture_needs_a_reason_only_for_warnings():
    from station.camera.autocapture import CaptureRefused

    session = CaptureSession(
        SimulatedCamera(size=(1280, 720)), "ga461-358", analysis_interval=0.1, auto=False
    )
    with pytest.raises(CaptureRefused) as info:
        session.capture_manual()
    assert info.value.code == "no_frame"
    session.start()
    try:
        assert wait_until(lambda: session.latest_report() is not None, timeout=10.0)
        photo = session.capture_manual()
    finally:
        assert session.stop(timeout=5.0)
    assert photo.capture.mode == "manual" and photo.profile_id == "ga461-358"
    assert 14 * 1024 <= photo.size <= 20000


def test_simulated_unplug_and_replug_is_reported():
    camera = SimulatedCamera(size=(320, 180), fps=60.0)
    states = []
    thread = CaptureThread(camera, reconnect_interval=0.05, on_state=states.append)
    thread.start()
    try:
        assert wait_until(lambda: thread.stats.read > 5)
        camera.set_plugged(False)
        assert wait_until(lambda: thread.state == SourceState.LOST)
        assert wait_until(lambda: thread.last_error is not None)  # the first reopen attempt failed
        assert thread.last_error.code == "camera_unavailable"
        camera.set_plugged(True)
        assert wait_until(lambda: thread.state == SourceState.OPEN)
        read_back = thread.stats.read
        assert wait_until(lambda: thread.stats.read > read_back + 5)
    finally:
        assert thread.stop(timeout=3.0)
    assert states[:3] == [SourceState.OPEN, SourceState.LOST, SourceState.OPEN]


class GlitchingCamera(SimulatedCamera):
    """A camera whose driver raises mid-stream a few times, as a USB glitch does."""

    def __init__(self) -> None:
        super().__init__(size=(320, 180), fps=100.0)
        self.glitches = 3

    def read(self):
        if self._index >= 10 and self.glitches:
            self.glitches -= 1
            raise RuntimeError("driver glitch")
        return super().read()


def test_driver_errors_are_survived_as_reconnects():
    thread = CaptureThread(GlitchingCamera(), reconnect_interval=0.02)
    thread.start()
    try:
        assert wait_until(lambda: thread.stats.read > 30)
        assert thread.stats.reconnects == 3 and thread.running
    finally:
        assert thread.stop(timeout=3.0)
