"""From a frame to a verified registration photo: analyse, crop, encode, verify.

``make_photo(image, profile)`` is the one call the rest of the station uses. It refuses (raising
``NotConforming`` with the report) when a check fails; otherwise it crops from the eye line and face
width, encodes into the profile's byte window and proves the written bytes right before returning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from station.camera.crop import extract
from station.camera.encode import encode_to_window, verify_jpeg
from station.camera.errors import EncodeError, NotConforming
from station.camera.faces import FaceDetector
from station.camera.profiles import Profile, load_profile
from station.camera.quality import DEFAULT_THRESHOLDS, FAIL, PASS, Check, QualityReport, Thresholds, analyze
from station.i18n import Text


@dataclass(frozen=True)
class CaptureInfo:
    """How the frame was taken: ``auto`` or ``manual`` (with the officer's reason for any warnings)."""

    mode: str = "single"
    reason: str | None = None
    overridden_warnings: tuple[str, ...] = ()
    # When the photographed frame arrived (``time.monotonic``): the desk accepts an auto-capture only
    # of a frame taken after it armed, never one of the person seated before the card was read.
    frame_time: float | None = None


@dataclass(frozen=True)
class PhotoResult:
    jpeg_bytes: bytes
    quality: int
    report: QualityReport
    profile_id: str
    capture: CaptureInfo = field(default_factory=CaptureInfo)

    @property
    def size(self) -> int:
        return len(self.jpeg_bytes)


def make_photo(
    image: np.ndarray,
    profile: Profile | str | None = None,
    *,
    detector: FaceDetector | None = None,
    background: str | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    report: QualityReport | None = None,
    capture: CaptureInfo | None = None,
) -> PhotoResult:
    """A conforming, verified JPEG of ``image`` (BGR) for ``profile``, or ``NotConforming``."""
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    height, width = image.shape[:2]
    factor = float(report.extra.get("source_scale", 1.0)) if report is not None else 1.0
    if report is not None:
        # A report from the live analysis (possibly of a downscaled copy) is reused for this very
        # frame; one that does not match the frame's size or profile is not trusted.
        analysed_w, analysed_h = report.frame_size
        if (
            report.profile_id != profile.id
            or abs(analysed_w * factor - width) > 2
            or abs(analysed_h * factor - height) > 2
        ):
            report, factor = None, 1.0
    if report is None:
        report = analyze(image, profile, detector=detector, background=background, thresholds=thresholds)
    if not report.ok or report.placement is None:
        raise NotConforming(report)
    placement = report.placement
    if factor != 1.0:
        placement = placement.rescaled(factor, profile, (width, height))
    cropped = extract(image, placement, profile)
    try:
        encoded = encode_to_window(cropped, profile)
    except EncodeError as exc:
        raise NotConforming(
            report.with_check(Check("output_file", FAIL, {"code": exc.code}, exc.message))
        ) from exc
    problems = verify_jpeg(encoded.data, profile)
    if problems:
        message = Text(zh=";".join(p.zh for p in problems), en="; ".join(p.en for p in problems))
        raise NotConforming(
            report.with_check(Check("output_file", FAIL, {"bytes": len(encoded.data)}, message))
        )
    value = {
        "bytes": len(encoded.data),
        "quality": encoded.quality,
        "width": profile.width,
        "height": profile.height,
        "dpi": profile.dpi,
    }
    verified = Check("output_file", PASS, value, Text(zh="照片文件已校验", en="photo file verified"))
    return PhotoResult(
        encoded.data, encoded.quality, report.with_check(verified), profile.id, capture or CaptureInfo()
    )
