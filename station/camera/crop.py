"""Crop placement from the eye line and face width, and the crop itself; never padding.

The output is a pure crop and resample of the source frame: the eye midpoint goes to the profile's
horizontal centre, the face width to the profile's target width, and the eye line (or, for profiles
anchored on the crown, the crown gap) to its target, each moved only as far as needed inside the
profile's allowed ranges for the crop to fit the frame. When no placement fits, framing fails: the
station never invents pixels to fill a border (docs/photo-profiles.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from station.camera.errors import CameraError
from station.camera.faces import Face
from station.camera.profiles import Profile
from station.i18n import Text

# Lab distance (OpenCV 8-bit Lab units) at which a pixel no longer looks like the backdrop.
CROWN_COLOUR_DISTANCE = 18.0


@dataclass(frozen=True)
class Placement:
    """Where the output rectangle sits in the source frame, and the geometry it gives.

    ``scale`` is output pixels per source pixel; ``left``/``top`` the crop origin in source pixels.
    ``overflow`` is how far the crop leaves the frame on each side (source pixels, 0 when inside).
    """

    scale: float
    left: float
    top: float
    eye_line: float
    eye_mid_x: float
    face_width: float
    crown_gap: float | None
    overflow: dict[str, float]

    @property
    def fits(self) -> bool:
        return not any(v > 1e-6 for v in self.overflow.values())

    def source_rect(self, profile: Profile) -> tuple[float, float, float, float]:
        return (
            self.left,
            self.top,
            self.left + profile.width / self.scale,
            self.top + profile.height / self.scale,
        )

    def rescaled(self, factor: float, profile: Profile, frame_size: tuple[int, int]) -> Placement:
        """The same crop in a frame ``factor`` times larger (the analysis ran on a downscaled copy)."""
        left, top, scale = self.left * factor, self.top * factor, self.scale / factor
        width, height = profile.width / scale, profile.height / scale
        if self.fits:
            # Rounding of the downscaled copy's size may leave a fraction of a pixel over an edge:
            # shift the crop that fraction inward rather than refuse it.
            left = min(max(left, 0.0), max(0.0, frame_size[0] - width))
            top = min(max(top, 0.0), max(0.0, frame_size[1] - height))
        overflow = _overflow(left, top, width, height, *frame_size)
        return replace(self, scale=scale, left=left, top=top, overflow=overflow)

    def to_output(self, point: tuple[float, float]) -> tuple[float, float]:
        return ((point[0] - self.left) * self.scale, (point[1] - self.top) * self.scale)


def find_crown(frame: np.ndarray, face: Face) -> float | None:
    """The y of the top of the head (hair) above ``face``, by scanning a central column band downward.

    The backdrop colour of each column is taken from the top rows of the band (per column, so a
    striped or shaded backdrop does not read as hair); the crown is the first row where at least a
    third of the band departs from it. Returns 0.0 when the head reaches the frame's top edge
    and None when no crown can be told from the backdrop (e.g. hair matching the backdrop colour).
    """
    mid_x, mid_y = face.eye_mid
    half = max(2, int(face.face_width * 0.2))
    x0, x1 = max(0, int(mid_x) - half), min(frame.shape[1], int(mid_x) + half)
    y0 = max(0, int(mid_y - 2.2 * face.face_width))
    y1 = max(y0 + 1, int(mid_y))
    band = frame[y0:y1, x0:x1]
    if band.shape[0] < 6 or band.shape[1] < 2:
        return None
    lab = cv2.cvtColor(band, cv2.COLOR_BGR2LAB).astype(np.float32)
    reference = np.median(lab[:3], axis=0)[None, :, :]
    distance = np.linalg.norm(lab - reference, axis=2)
    departed = (distance > CROWN_COLOUR_DISTANCE).mean(axis=1) > 0.33
    rows = np.flatnonzero(departed)
    if rows.size == 0:
        return None
    if rows[0] == 0 and y0 == 0:
        return 0.0
    if rows[0] < 3:
        # The band's own top is already hair: the head reaches higher than we looked.
        return 0.0 if y0 == 0 else None
    return float(y0 + rows[0])


def _overflow(left: float, top: float, width: float, height: float, fw: int, fh: int) -> dict[str, float]:
    return {
        "left": max(0.0, -left),
        "top": max(0.0, -top),
        "right": max(0.0, left + width - fw),
        "bottom": max(0.0, top + height - fh),
    }


def plan_crop(
    face: Face, crown_y: float | None, frame_size: tuple[int, int], profile: Profile, margin: float = 0.0
) -> Placement:
    """Best placement: target geometry first, then the nearest one inside the ranges that fits.

    Placements that keep ``margin`` source pixels clear of every frame edge are preferred (a subject
    who sways a little stays framed); failing that, any placement that fits at all.
    """
    nominal: Placement | None = None
    fallback: Placement | None = None
    for clearance in (margin, 0.0) if margin > 0 else (0.0,):
        full, partial, first = _search(face, crown_y, frame_size, profile, clearance)
        nominal = nominal or first
        if full is not None:
            return full
        fallback = fallback or partial
    assert nominal is not None
    return fallback or nominal


def _search(
    face: Face, crown_y: float | None, frame_size: tuple[int, int], profile: Profile, clearance: float
) -> tuple[Placement | None, Placement | None, Placement]:
    """(fits with every range met, fits with the crown gap missed, the target placement)."""
    frame_w, frame_h = frame_size
    mid_x, mid_y = face.eye_mid
    source_fw = max(face.face_width, 1e-6)
    widths = np.linspace(profile.face_width.min, profile.face_width.max, 33)
    widths = sorted([profile.face_width.target, *widths], key=lambda w: abs(w - profile.face_width.target))
    fallback: Placement | None = None
    nominal: Placement | None = None
    for out_fw in widths:
        s = out_fw / source_fw
        left = mid_x - profile.eye_mid_x.target / s
        crown_dist = (mid_y - crown_y) * s if crown_y is not None else None
        # Output eye-line positions allowed by the profile and by the frame's top and bottom edges.
        low = max(profile.eye_line.min, profile.height - s * (frame_h - clearance - mid_y))
        high = min(profile.eye_line.max, s * (mid_y - clearance))
        if crown_dist is not None and profile.vertical_anchor == "crown":
            preferred = profile.crown_gap.target + crown_dist
        else:
            preferred = profile.eye_line.target
        eye_line = min(max(preferred, profile.eye_line.min), profile.eye_line.max)
        if low <= high:
            eye_line = min(max(preferred, low), high)
            if crown_dist is not None:
                c_low = max(low, profile.crown_gap.min + crown_dist)
                c_high = min(high, profile.crown_gap.max + crown_dist)
                if c_low <= c_high:
                    eye_line = min(max(preferred, c_low), c_high)
        top = mid_y - eye_line / s
        width, height = profile.width / s, profile.height / s
        placement = Placement(
            scale=s,
            left=left,
            top=top,
            eye_line=eye_line,
            eye_mid_x=profile.eye_mid_x.target,
            face_width=out_fw,
            crown_gap=None if crown_dist is None else eye_line - crown_dist,
            overflow=_overflow(left, top, width, height, frame_w, frame_h),
        )
        nominal = nominal or placement
        clear = _overflow(
            left - clearance, top - clearance, width + 2 * clearance, height + 2 * clearance, frame_w, frame_h
        )
        if not placement.fits or any(v > 1e-6 for v in clear.values()):
            continue
        if placement.crown_gap is None or profile.crown_gap.contains(placement.crown_gap):
            return placement, fallback, nominal
        fallback = fallback or placement
    assert nominal is not None
    return None, fallback, nominal


def extract(frame: np.ndarray, placement: Placement, profile: Profile) -> np.ndarray:
    """Resample the crop to the profile's size; refuses a placement that would need padding."""
    if not placement.fits:
        raise CameraError(
            "crop_outside_frame",
            Text(zh="取景超出画面,不能补边", en="the crop leaves the frame and padding is not allowed"),
        )
    x0, y0, x1, y1 = placement.source_rect(profile)
    # Integer source window that covers the crop, then an exact affine resample into the output.
    ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    ix1, iy1 = min(frame.shape[1], int(np.ceil(x1)) + 1), min(frame.shape[0], int(np.ceil(y1)) + 1)
    window = frame[iy0:iy1, ix0:ix1]
    s = placement.scale
    if s < 1.0:
        # Pre-filter before shrinking so the resample does not alias (INTER_AREA-like quality).
        sigma = 0.5 / s - 0.5 if s < 0.8 else 0.0
        if sigma > 0.05:
            window = cv2.GaussianBlur(window, (0, 0), sigma)
    matrix = np.array([[s, 0.0, (ix0 - x0) * s], [0.0, s, (iy0 - y0) * s]], dtype=np.float64)
    return cv2.warpAffine(
        window, matrix, (profile.width, profile.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def view_for_analysis(
    frame: np.ndarray, placement: Placement, profile: Profile
) -> tuple[np.ndarray, int, int]:
    """The part of the crop that lies inside the frame, at output scale, and its offset in the output.

    Used to judge background and clothing even when the crop does not fit (the check then reports
    framing as failed; nothing here is ever saved).
    """
    x0, y0, x1, y1 = placement.source_rect(profile)
    cx0, cy0 = max(0.0, x0), max(0.0, y0)
    cx1, cy1 = min(float(frame.shape[1]), x1), min(float(frame.shape[0]), y1)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return np.zeros((0, 0, 3), np.uint8), 0, 0
    window = frame[int(cy0) : int(np.ceil(cy1)), int(cx0) : int(np.ceil(cx1))]
    out_w = max(1, round((cx1 - cx0) * placement.scale))
    out_h = max(1, round((cy1 - cy0) * placement.scale))
    interpolation = cv2.INTER_AREA if placement.scale < 1 else cv2.INTER_LINEAR
    view = cv2.resize(window, (out_w, out_h), interpolation=interpolation)
    return view, round((cx0 - x0) * placement.scale), round((cy0 - y0) * placement.scale)
