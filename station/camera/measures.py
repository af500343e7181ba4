"""Pixel measurements behind the quality checks (docs/photo-profiles.md §5): pure functions on numpy arrays.

Colours: 8-bit sRGB in BGR order as OpenCV delivers them; luma Y' is BT.601; CIELAB is computed in
float (L 0-100) so ΔE00 values mean what the standards mean.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def luma(bgr: np.ndarray) -> np.ndarray:
    """BT.601 Y' (0-255 float32) of a BGR image."""
    b, g, r = (bgr[..., i].astype(np.float32) for i in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b


def lab_of(bgr: np.ndarray) -> np.ndarray:
    """CIELAB (L 0-100, a, b) of BGR pixels, float32, same shape."""
    as_float = np.ascontiguousarray(bgr, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(as_float, cv2.COLOR_BGR2LAB).reshape(bgr.shape)


def lab_of_rgb(rgb: tuple[int, int, int]) -> np.ndarray:
    return lab_of(np.array([[rgb[::-1]]], np.uint8))[0, 0]


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 colour difference of two Lab colours (Sharma, Wu & Dalal 2005)."""
    l1, a1, b1 = (float(v) for v in lab1)
    l2, a2, b2 = (float(v) for v in lab2)
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    c_mean = (c1 + c2) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dhp = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lp_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_mean = (h1p + h2p) / 2
    else:
        hp_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hp_mean - 30))
        + 0.24 * math.cos(math.radians(2 * hp_mean))
        + 0.32 * math.cos(math.radians(3 * hp_mean + 6))
        - 0.20 * math.cos(math.radians(4 * hp_mean - 63))
    )
    d_theta = 30 * math.exp(-(((hp_mean - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    sl = 1 + 0.015 * (lp_mean - 50) ** 2 / math.sqrt(20 + (lp_mean - 50) ** 2)
    sc = 1 + 0.045 * cp_mean
    sh = 1 + 0.015 * cp_mean * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh))


def normalised_face(
    frame: np.ndarray, box: tuple[float, float, float, float], ied: float
) -> tuple[np.ndarray, float, int, int]:
    """The face box (+10 % margin) resampled so the inter-eye distance is at most 100 px.

    Faces already smaller are kept at native size rather than upscaled: an upscaled face would look
    blurred for a reason the resolution check already reports. Returns (patch, factor, x0, y0) where
    patch pixel = (source pixel - (x0, y0)) * factor.
    """
    x, y, w, h = box
    x0, y0 = max(0, int(x - 0.1 * w)), max(0, int(y - 0.1 * h))
    x1, y1 = min(frame.shape[1], int(x + 1.1 * w)), min(frame.shape[0], int(y + 1.1 * h))
    region = frame[y0:y1, x0:x1]
    factor = min(1.0, 100.0 / max(ied, 1e-6))
    if factor < 1.0 and region.size:
        size = (max(1, round(region.shape[1] * factor)), max(1, round(region.shape[0] * factor)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    return region, factor, x0, y0


def sharpness(gray_patch: np.ndarray) -> float:
    """Variance of the Laplacian after a 3×3 Gaussian (docs/photo-profiles.md §5.3), brightness-normalised.

    The variance grows with the square of the image's gain, so a dim face would read as blurred;
    it is scaled to a face of mean grey 128 so that focus and exposure stay separate checks.
    """
    if gray_patch.size == 0:
        return 0.0
    smoothed = cv2.GaussianBlur(gray_patch, (3, 3), 0)
    variance = float(cv2.Laplacian(smoothed, cv2.CV_64F).var())
    mean = max(float(gray_patch.mean()), 8.0)
    return variance * (128.0 / mean) ** 2


def entropy_bits(values: np.ndarray) -> float:
    """Shannon entropy (bits) of an 8-bit histogram of ``values``."""
    hist = np.bincount(np.clip(values, 0, 255).astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 0.0
    p = hist[hist > 0] / total
    return float(-(p * np.log2(p)).sum())


def glare_fraction(eye_patch: np.ndarray) -> tuple[float, float]:
    """(largest blob, total) fraction of near-white low-saturation pixels in an eye region (§5.2, check 14).

    A lens reflection clips: V >= 250 rather than the reference note's 245 (§7), which also caught bright sclera.
    """
    if eye_patch.size == 0:
        return 0.0, 0.0
    hsv = cv2.cvtColor(eye_patch, cv2.COLOR_BGR2HSV)
    mask = ((hsv[..., 2] >= 250) & (hsv[..., 1] <= 40)).astype(np.uint8)
    total = float(mask.mean())
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    largest = float(stats[1:, cv2.CC_STAT_AREA].max()) / mask.size if count > 1 else 0.0
    return largest, total


def clip_box(shape: tuple[int, ...], x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return (
        int(min(max(0, x0), w)),
        int(min(max(0, y0), h)),
        int(min(max(0, x1), w)),
        int(min(max(0, y1), h)),
    )
