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

from station.camera.simulated import compose, plain_backdrop

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
