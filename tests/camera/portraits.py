"""Test images built from real photographs shipped by scikit-image (test data only).

Positives composite the real portrait of ``skimage.data.astronaut()`` onto a plain backdrop, as a
student sits in front of the desk's backdrop; negatives change one thing each (focus, light on the
subject, light from one side, tilt, position, size, a second person, no person, an uneven backdrop). Nothing is drawn
except the backdrops themselves.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
from skimage import data

from station.camera.simulated import Cutout, astronaut_cutout, compose, plain_backdrop

WHITE = (255, 255, 255)
LIGHT_BLUE = (100, 197, 255)
SIZE = (1920, 1080)
# Exposure a touch under the portrait's own, as a desk camera is set (the smile's highlights sit at the
# 0.5 % clipping threshold otherwise).
GAIN = 0.95


@cache
def positive(
    backdrop: tuple[int, int, int] = WHITE, size: tuple[int, int] = SIZE, scale: float = 3.0
) -> np.ndarray:
    return compose(plain_backdrop(size, backdrop), scale=scale, gain=GAIN)


def _gradient(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    ramp = np.linspace(255, 150, width, dtype=np.float32)  # a shadow falling across the backdrop
    return np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2).astype(np.uint8)


def _stripes(size: tuple[int, int]) -> np.ndarray:
    backdrop = plain_backdrop(size, WHITE)
    for x in range(0, size[0], 24):  # a striped curtain behind the student
        backdrop[:, x : x + 12] = (190, 190, 190)
    return backdrop


def _window_light(size: tuple[int, int]) -> np.ndarray:
    """Per-pixel light on the subject: full from the left, falling to 60 % across the face."""
    width, height = size
    x = np.arange(width, dtype=np.float32)
    ramp = GAIN * np.interp(x, [800, 1120], [1.0, 0.6]).astype(np.float32)
    return np.repeat(ramp[None, :, None], height, axis=0)


@cache
def negative(kind: str) -> np.ndarray:
    if kind == "blurred":
        return cv2.GaussianBlur(positive(), (0, 0), 4.0)
    if kind == "darkened":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, gain=0.47)
    if kind == "overexposed":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, gain=1.15)
    if kind == "rotated":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, roll_degrees=12.0, gain=GAIN)
    if kind == "off_centre":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, eye_x=0.1, gain=GAIN)
    if kind == "too_close":  # a 720p camera with the student leaning in: the crop is larger than the view
        return compose(plain_backdrop((1280, 720), WHITE), scale=4.2, eye_y=0.45, gain=GAIN)
    if kind == "too_small":
        return compose(plain_backdrop(SIZE, WHITE), scale=1.6, gain=GAIN)
    if kind == "two_faces":
        one = compose(plain_backdrop(SIZE, WHITE), scale=2.8, eye_x=0.28, gain=GAIN)
        return compose(one, scale=2.8, eye_x=0.72, gain=GAIN)
    if kind == "no_face":
        landscape = cv2.cvtColor(data.rocket(), cv2.COLOR_RGB2BGR)  # a launch site under the sky
        return cv2.resize(landscape, SIZE, interpolation=cv2.INTER_CUBIC)
    if kind == "side_lit":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, gain=_window_light(SIZE))
    if kind == "gradient_background":
        return compose(_gradient(SIZE), scale=3.0, gain=GAIN)
    if kind == "patterned_background":
        return compose(_stripes(SIZE), scale=3.0, gain=GAIN)
    raise ValueError(kind)


def _warped_cutout(shift_x) -> Cutout:  # type: ignore[no-untyped-def]
    """The real portrait with its pixels moved sideways by ``shift_x(xs, ys)`` (cutout pixels)."""
    cut = astronaut_cutout()
    height, width = cut.alpha.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = (xs + shift_x(xs, ys)).astype(np.float32)
    image = cv2.remap(cut.image, map_x, ys, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.remap(cut.alpha, map_x, ys, cv2.INTER_LINEAR, borderValue=0)
    return Cutout(image, alpha, cut.eyes)


def _eyes_closer(pixels: float) -> Cutout:
    """Eyes drawn towards each other by up to ``pixels`` (cutout scale) while the outline of the head
    stays: the eye distance shrinks against the face width, as in a face with close-set eyes."""
    (lx, ly), (rx, ry) = astronaut_cutout().eyes
    mid_x, mid_y = (lx + rx) / 2, (ly + ry) / 2

    def shift(xs, ys):  # type: ignore[no-untyped-def]
        u = np.clip((xs - mid_x) / 50.0, -1, 1)
        v = np.clip((ys - mid_y) / 22.0, -1, 1)
        return pixels * np.sin(np.pi * u) * 0.5 * (1 + np.cos(np.pi * v))

    return _warped_cutout(shift)


def _flat_light(contrast: float) -> Cutout:
    """The subject's tones pulled towards their mean (flat, foggy light): little tonal range."""
    cut = astronaut_cutout()
    mean = cut.image.reshape(-1, 3).mean(axis=0)
    flat = np.clip(mean + (cut.image.astype(np.float32) - mean) * contrast, 0, 255).astype(np.uint8)
    return Cutout(flat, cut.alpha, cut.eyes)


def _cheek_shadow() -> np.ndarray:
    """Per-pixel light: a hard shadow (5 % light) over the lower cheek and jaw on the image right."""
    width, height = SIZE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.where((xs >= 1010) & (ys >= 400), 0.05, GAIN).astype(np.float32)[:, :, None]


@cache
def _highlight() -> np.ndarray:
    """The largest blown-out, colourless highlight in scikit-image's astronaut photograph (real glare)."""
    source = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    hsv = cv2.cvtColor(source, cv2.COLOR_BGR2HSV)
    mask = ((hsv[..., 2] >= 252) & (hsv[..., 1] <= 30)).astype(np.uint8)
    _count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    x, y, w, h, _area = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    return source[y : y + h, x : x + w]


def _glare(side: int, outward: float) -> np.ndarray:
    """Lens reflections: the real highlight laid over each eye, ``outward`` IEDs towards the temples."""
    from station.camera.faces import create_detector

    image = positive().copy()
    face = create_detector().detect(image)[0]
    patch = cv2.resize(_highlight(), (side, side * 2 // 3), interpolation=cv2.INTER_AREA)
    for sign, (x, y) in zip((-1, 1), face.eyes, strict=True):
        x0, y0 = int(x + sign * outward * face.ied - side // 2), int(y - side // 3)
        image[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]] = patch
    return image


# Checks that other negatives never fail: each of these makes exactly one of them warn or fail.
# negative -> (check, status it must report)
SINGLE_CHECK = {
    "eyes_close_set": ("output_ied", "warn"),
    "eyes_too_close_set": ("output_ied", "fail"),
    "flat_light": ("dynamic_range", "fail"),
    "cheek_shadow": ("shadows", "fail"),
    "glasses_glint": ("glasses_glare", "warn"),
    "glasses_glare": ("glasses_glare", "fail"),
    "dark_clothes_on_dark_backdrop": ("clothing_contrast", "fail"),
}
# The astronaut's clothing in the crop's lower centre is near black: a backdrop of the same colour.
DARK_BACKDROP = (8, 5, 3)


@cache
def single_check_negative(kind: str) -> np.ndarray:
    if kind == "eyes_close_set":
        return compose(plain_backdrop(SIZE, WHITE), _eyes_closer(8.0), scale=3.0, gain=GAIN)
    if kind == "eyes_too_close_set":
        return compose(plain_backdrop(SIZE, WHITE), _eyes_closer(12.0), scale=3.0, gain=GAIN)
    if kind == "flat_light":
        return compose(plain_backdrop(SIZE, WHITE), _flat_light(0.35), scale=3.0, gain=GAIN)
    if kind == "cheek_shadow":
        return compose(plain_backdrop(SIZE, WHITE), scale=3.0, gain=_cheek_shadow())
    if kind == "glasses_glint":
        return _glare(26, 0.27)
    if kind == "glasses_glare":
        return _glare(44, 0.22)
    if kind == "dark_clothes_on_dark_backdrop":
        return compose(plain_backdrop(SIZE, DARK_BACKDROP), scale=3.0, gain=GAIN)
    raise ValueError(kind)


# negative -> the check that must catch it
EXPECTED_FAILURE = {
    "blurred": "sharpness",
    "darkened": "exposure",
    "overexposed": "clipping",
    "rotated": "roll",
    "off_centre": "framing",
    "too_close": "framing",
    "too_small": "source_resolution",
    "two_faces": "one_face",
    "no_face": "one_face",
    "side_lit": "lighting_symmetry",
    "gradient_background": "background_uniformity",
    "patterned_background": "background_uniformity",
}
