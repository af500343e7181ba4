"""Frame sources behind one interface: camera, video file, image folder, network stream (and the simulator).

A source opens, hands out BGR frames one at a time and closes. It never buffers: pacing and dropping
are the capture thread's job. ``state`` tells whether it is open, lost (unplugged / stream down: the
capture thread keeps reopening it) or ended (a file without looping). ``station.camera.opening``
builds a source from a setting such as ``camera:0`` or ``url:rtsp://...``.
"""

from __future__ import annotations

import enum
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from station.camera.errors import SourceError
from station.i18n import Text


class SourceState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    LOST = "lost"  # was open, stopped delivering; reconnecting
    ENDED = "ended"  # a finite source reached its end


STATE_MESSAGES = {
    SourceState.CLOSED: Text(zh="摄像头未打开", en="camera closed"),
    SourceState.OPEN: Text(zh="摄像头已连接", en="camera connected"),
    SourceState.LOST: Text(zh="摄像头已断开,正在重新连接…", en="camera disconnected, reconnecting…"),
    SourceState.ENDED: Text(zh="视频已结束", en="video ended"),
}


class FrameSource:
    """Base class: subclasses implement ``open``, ``read`` and ``close``."""

    kind = "source"
    live = True  # frames arrive at the device's pace (a file or folder is paced by the reader)

    def __init__(self) -> None:
        self._state = SourceState.CLOSED
        self._listeners: list[Callable[[SourceState], None]] = []
        self._lock = threading.Lock()
        self.size: tuple[int, int] | None = None
        self.fps: float = 30.0

    @property
    def state(self) -> SourceState:
        return self._state

    def subscribe(self, listener: Callable[[SourceState], None]) -> None:
        self._listeners.append(listener)

    def _set_state(self, state: SourceState) -> None:
        with self._lock:
            changed = state != self._state
            self._state = state
        if changed:
            for listener in list(self._listeners):
                listener(state)

    def mark_lost(self) -> None:
        self._set_state(SourceState.LOST)

    def _pace(self) -> None:
        """Release recorded frames (file, folder) at ``fps`` when ``live``, like a camera would."""
        if not self.live:
            return
        delay = self._next_time - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_time = max(self._next_time + 1.0 / self.fps, time.monotonic() - 1.0 / self.fps)

    def open(self) -> None:
        raise NotImplementedError

    def read(self) -> np.ndarray | None:
        """The next frame (BGR uint8), or None when the source is lost or ended (see ``state``)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def _backends() -> list[int]:
    if sys.platform.startswith("linux"):
        return [cv2.CAP_V4L2, cv2.CAP_ANY]
    if sys.platform == "win32":
        return [cv2.CAP_MSMF, cv2.CAP_DSHOW]
    if sys.platform == "darwin":
        return [cv2.CAP_AVFOUNDATION]
    return [cv2.CAP_ANY]


def camera_index_for_name(name: str) -> int:
    """Linux: the /dev/videoN whose V4L2 name contains ``name`` (case-insensitive)."""
    root = Path("/sys/class/video4linux")
    if root.is_dir():
        for entry in sorted(root.glob("video*")):
            label = (entry / "name").read_text(errors="replace").strip() if (entry / "name").exists() else ""
            if name.lower() in label.lower():
                return int(entry.name.removeprefix("video"))
    raise SourceError(
        "camera_not_found",
        Text(zh=f"找不到名称包含“{name}”的摄像头", en=f"no camera whose name contains '{name}'"),
    )


class _OpenCvSource(FrameSource):
    def __init__(self) -> None:
        super().__init__()
        self._cap: cv2.VideoCapture | None = None

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        self._set_state(SourceState.CLOSED)

    def _grab(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return frame


class CameraSource(_OpenCvSource):
    """A local camera by index or name, negotiating resolution and frame rate (MJPG when offered)."""

    kind = "camera"

    def __init__(
        self, device: int | str = 0, size: tuple[int, int] = (1920, 1080), fps: float = 30.0
    ) -> None:
        super().__init__()
        self.device = device
        self.requested_size = size
        self.requested_fps = fps

    def open(self) -> None:
        index = self.device if isinstance(self.device, int) else camera_index_for_name(self.device)
        for backend in _backends():
            cap = cv2.VideoCapture(index, backend)
            if not cap.isOpened():
                cap.release()
                continue
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.requested_size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.requested_size[1])
            cap.set(cv2.CAP_PROP_FPS, self.requested_fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a driver-side backlog
            self._cap = cap
            # What the driver actually granted: resolution and rate are a negotiation.
            self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
            self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or self.requested_fps
            self._set_state(SourceState.OPEN)
            return
        raise SourceError(
            "camera_unavailable",
            Text(zh=f"无法打开摄像头 {self.device}", en=f"cannot open camera {self.device}"),
        )

    def read(self) -> np.ndarray | None:
        frame = self._grab()
        if frame is None:
            self.mark_lost()
        return frame


class VideoFileSource(_OpenCvSource):
    """A video file, optionally looped and paced at its own frame rate like a camera."""

    kind = "file"

    def __init__(self, path: str | Path, loop: bool = False, realtime: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.live = realtime
        self._next_time = 0.0

    def _open_capture(self) -> bool:
        self._release()
        if not self.path.is_file():
            return False
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            return False
        self._cap = cap
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
        return True

    def open(self) -> None:
        if not self._open_capture():
            raise SourceError(
                "file_unavailable",
                Text(zh=f"无法打开视频文件 {self.path.name}", en=f"cannot open video file {self.path.name}"),
            )
        self._next_time = time.monotonic()
        self._set_state(SourceState.OPEN)

    def read(self) -> np.ndarray | None:
        self._pace()
        frame = self._grab()
        if frame is None and self.loop:
            # End of the pass: start again. A file that has gone away counts as an unplugged camera.
            if not self._open_capture():
                self.mark_lost()
                return None
            frame = self._grab()
        if frame is None:
            if self._cap is None:
                self.mark_lost()
            else:
                self._set_state(SourceState.ENDED)
        return frame


class StreamSource(_OpenCvSource):
    """A network stream (RTSP/HTTP) read through OpenCV's FFmpeg backend."""

    kind = "url"

    def __init__(self, url: str, timeout_ms: int = 2000) -> None:
        super().__init__()
        self.url = url
        # Bounded waits: a dead camera server must not hang the reader past its reconnect loop.
        self.timeout_ms = timeout_ms

    def open(self) -> None:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            self.timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            self.timeout_ms,
        ]
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                "stream_unavailable", Text(zh="无法连接网络视频流", en="cannot connect to the network stream")
            )
        self._cap = cap
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        self._set_state(SourceState.OPEN)

    def read(self) -> np.ndarray | None:
        frame = self._grab()
        if frame is None:
            self.mark_lost()
        return frame


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def read_image(path: str | Path) -> np.ndarray | None:
    """Decode an image file to BGR (None when unreadable, refused or too large: ``imagefile.load_image``
    says why); handles non-ASCII paths."""
    from station.camera.imagefile import load_image
    from station.errors import OfficerError

    try:
        return load_image(path)
    except OfficerError:
        return None


class ImageFolderSource(FrameSource):
    """The images of a folder in name order, at ``fps``, optionally looped."""

    kind = "folder"

    def __init__(self, path: str | Path, fps: float = 5.0, loop: bool = True, realtime: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.fps = fps
        self.loop = loop
        self.live = realtime
        self._files: list[Path] = []
        self._position = 0
        self._next_time = 0.0

    def open(self) -> None:
        files = (
            sorted(p for p in self.path.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if self.path.is_dir()
            else []
        )
        if not files:
            raise SourceError(
                "folder_empty",
                Text(zh=f"文件夹 {self.path.name} 中没有图片", en=f"no images in folder {self.path.name}"),
            )
        self._files, self._position = files, 0
        self._next_time = time.monotonic()
        self._set_state(SourceState.OPEN)

    def read(self) -> np.ndarray | None:
        self._pace()
        for _ in range(len(self._files)):
            if self._position >= len(self._files):
                if not self.loop:
                    self._set_state(SourceState.ENDED)
                    return None
                self._position = 0
            path = self._files[self._position]
            self._position += 1
            image = read_image(path)
            if image is not None:
                self.size = (image.shape[1], image.shape[0])
                return image
        self.mark_lost()
        return None

    def close(self) -> None:
        self._files = []
        self._set_state(SourceState.CLOSED)
