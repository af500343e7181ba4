"""The photo: frame sources, the capture thread, face detection, quality checks, crop and JPEG output.

No Qt here. The GUI's services layer uses this small API::

    from station.camera import CaptureSession, SimulatedCamera, make_photo

    session = CaptureSession(SimulatedCamera(), "moe-480", on_autocapture=callback)
    session.start(); session.latest_frame(); session.latest_report(); session.stop()
    photo = make_photo(bgr_image, "moe-480")   # PhotoResult(jpeg_bytes, quality, report) or NotConforming

Module map: ``sources`` (camera, file, folder, stream), ``simulated`` (demo/test camera from real
photographs), ``capture`` (reader + analysis threads), ``faces`` (Haar / YuNet);
``quality`` runs ``checks`` and ``backdrop`` into a ``report``; ``measures`` (pixel measurements),
``profiles`` (output profiles), ``crop``, ``encode`` (JPEG),
``autocapture``, ``photo`` (make_photo), ``session`` (CaptureSession), ``cli`` (``station photo``).
"""

from __future__ import annotations

from station.camera.autocapture import CaptureRefused
from station.camera.capture import CaptureThread, Frame
from station.camera.errors import (
    CameraError,
    EncodeError,
    ImageError,
    NotConforming,
    ProfileError,
    SourceError,
)
from station.camera.opening import open_source
from station.camera.photo import CaptureInfo, PhotoResult, make_photo
from station.camera.profiles import Profile, available_profiles, load_profile
from station.camera.quality import Check, QualityReport, Thresholds, analyze, thresholds_from
from station.camera.session import CaptureSession
from station.camera.simulated import SimulatedCamera
from station.camera.sources import (
    STATE_MESSAGES,
    CameraSource,
    FrameSource,
    ImageFolderSource,
    SourceState,
    StreamSource,
    VideoFileSource,
)

__all__ = [
    "STATE_MESSAGES",
    "CameraError",
    "CameraSource",
    "CaptureInfo",
    "CaptureRefused",
    "CaptureSession",
    "CaptureThread",
    "Check",
    "EncodeError",
    "Frame",
    "FrameSource",
    "ImageError",
    "ImageFolderSource",
    "NotConforming",
    "PhotoResult",
    "Profile",
    "ProfileError",
    "QualityReport",
    "SimulatedCamera",
    "SourceError",
    "SourceState",
    "StreamSource",
    "Thresholds",
    "VideoFileSource",
    "analyze",
    "available_profiles",
    "load_profile",
    "make_photo",
    "open_source",
    "thresholds_from",
]
