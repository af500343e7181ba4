"""The photo quality checks of docs/photo-profiles.md §5 on one frame: ``analyze(frame, profile)``.

It detects the face, plans the crop, runs every automatic check (``checks``) and returns a
``QualityReport`` (``report``): fail blocks the capture, warn is a hint the officer may override with a
recorded reason, skipped means not judged because no face was found. Thresholds marked [PROP] in the
docs are starting points; they live in ``Thresholds`` so a desk can be calibrated. The items no camera
can judge come back as ``checklist`` for the officer to confirm.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from station.camera import checks as c
from station.camera import measures as m
from station.camera.backdrop import background_checks
from station.camera.crop import find_crown, plan_crop, view_for_analysis
from station.camera.errors import ImageError
from station.camera.faces import FaceDetector, create_detector
from station.camera.profiles import Profile, load_profile
from station.camera.report import (
    CHECKLIST,
    DEFAULT_THRESHOLDS,
    FAIL,
    PASS,
    PITCH_ITEM,
    SKIPPED,
    WARN,
    Check,
    ChecklistItem,
    QualityReport,
    Thresholds,
    thresholds_from,
)
from station.camera.scene import CAUSES, likely_cause
from station.i18n import Text

__all__ = [
    "CHECK_NAMES", "DEFAULT_THRESHOLDS", "FAIL", "PASS", "SKIPPED", "WARN", "Check", "ChecklistItem",
    "QualityReport", "Thresholds", "analyze", "default_detector", "ensure_bgr", "thresholds_from",
]  # fmt: skip

_local = threading.local()


def default_detector() -> FaceDetector:
    """One detector per thread: OpenCV cascades are not documented as safe to share across threads."""
    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = create_detector()
        _local.detector = detector
    return detector


def ensure_bgr(frame: Any) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.size == 0 or frame.ndim not in (2, 3):
        raise ImageError("image_invalid", Text(zh="图像数据无效", en="invalid image data"))
    if frame.dtype != np.uint8:
        raise ImageError("image_invalid", Text(zh="图像必须为 8 位", en="the image must be 8-bit"))
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.shape[2] != 3:
        raise ImageError("image_invalid", Text(zh="不支持的图像通道数", en="unsupported number of channels"))
    return frame


def analyze(
    frame: np.ndarray,
    profile: Profile | str | None = None,
    *,
    detector: FaceDetector | None = None,
    background: str | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    source_scale: float = 1.0,
) -> QualityReport:
    """Run every automatic check on one BGR frame.

    ``source_scale`` is camera pixels per pixel of ``frame`` when the caller analyses a downscaled
    copy, so the source-resolution check still speaks of the camera's pixels.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    frame = ensure_bgr(frame)
    detector = detector or default_detector()
    t = thresholds
    size = (frame.shape[1], frame.shape[0])
    checklist = list(CHECKLIST)
    faces = detector.detect(frame)
    if not faces:
        cause = likely_cause(frame)  # "too dark", "nobody there"... rather than "face the camera"
        skipped = [Check(name, SKIPPED, None, _SKIPPED) for name in CHECK_NAMES[1:]]
        first = Check("one_face", FAIL, {"faces": 0, "cause": cause}, CAUSES[cause])
        return QualityReport(profile.id, [first, *skipped], checklist, size, extra={"faces": 0, "cause": cause})
    face = faces[0]
    crown = find_crown(frame, face)
    placement = plan_crop(face, crown, size, profile, margin=t.edge_margin * max(size))
    pose, pitch_measured = c.pose_check(face, t)
    if not pitch_measured:
        checklist.append(PITCH_ITEM)
    results = [
        c.one_face_check(faces, t),
        c.resolution_check(face.ied * source_scale, t),
        c.output_ied_check(face.ied * placement.scale, profile),
        c.roll_check(face, t),
        pose,
        c.framing_check(placement, profile, size, t),
    ]

    patch, factor, x0, y0 = m.normalised_face(frame, (face.x, face.y, face.w, face.h), face.ied)
    geometry = c.PatchGeometry(face, factor, x0, y0)
    sharp = c.face_sharpness(geometry.box(patch), geometry.ied, t.sharpness_ied)
    results.append(c.sharpness_check(sharp, t))
    exposure = c.exposure_checks(patch, geometry, t)
    face_clipped = any(x.name == "clipping" and x.status == FAIL for x in exposure)
    results += [*exposure, c.symmetry_check(patch, geometry, t), c.skin_check(patch, geometry)]
    results.append(c.glare_check(patch, geometry, t, face_clipped))

    view, ox, oy = view_for_analysis(frame, placement, profile)
    results += background_checks(view, ox, oy, placement, profile, background, t)
    order = {name: i for i, name in enumerate(CHECK_NAMES)}
    results.sort(key=lambda x: order.get(x.name, len(order)))
    extra = {"faces": len(faces), "crown_y": crown, "source_scale": source_scale}
    return QualityReport(profile.id, results, checklist, size, face, placement, sharp, extra)


CHECK_NAMES = (
    "one_face", "source_resolution", "output_ied", "roll", "pose", "framing", "sharpness", "exposure",
    "clipping", "shadows", "dynamic_range", "lighting_symmetry", "skin_colour", "glasses_glare",
    "background_uniformity", "background_colour", "clothing_contrast",
)  # fmt: skip
_SKIPPED = Text(zh="未检测到人脸,无法判断", en="not judged: no face")
