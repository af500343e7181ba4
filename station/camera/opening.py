"""Frame sources by name: ``open_source(spec)`` builds (does not open) the source a setting names.

``camera:0``, ``camera:NAME`` (Linux: matched against the V4L2 device name), ``file:PATH`` (a video),
``folder:PATH`` (still images), ``url:URL`` (an IP camera stream) and ``sim`` / ``sim:WxH`` (the
simulated camera of the demo and of officer training). It lives apart from ``sources`` so the real
sources and the simulator each depend only on the source interface, never on each other.
"""

from __future__ import annotations

from station.camera.errors import SourceError
from station.camera.simulated import SimulatedCamera
from station.camera.sources import CameraSource, FrameSource, ImageFolderSource, StreamSource, VideoFileSource
from station.i18n import Text


def open_source(spec: str, size: tuple[int, int] | None = None) -> FrameSource:
    """Build (not open) a source from a spec string such as ``camera:0`` or ``file:/tmp/a.avi``;
    ``size`` is the resolution asked of a local camera (the driver may grant another)."""
    kind, _, rest = spec.partition(":")
    if kind == "camera":
        device = int(rest) if rest.isdigit() else rest or 0
        return CameraSource(device, size) if size else CameraSource(device)
    if kind == "file" and rest:
        return VideoFileSource(rest)
    if kind == "folder" and rest:
        return ImageFolderSource(rest)
    if kind == "url" and rest:
        return StreamSource(rest)
    if kind == "sim":
        if rest:
            width, _, height = rest.partition("x")
            if width.isdigit() and height.isdigit():
                return SimulatedCamera(size=(int(width), int(height)))
        else:
            return SimulatedCamera()
    raise SourceError(
        "source_spec_invalid",
        Text(zh=f"无法识别的视频源:{spec}", en=f"unrecognised frame source: {spec}"),
    )
