"""Frames for the screen: a copy scaled to the preview's width, made where the GIL is not held.

The preview shows a camera frame in a box a third of its width; drawing the full frame scaled at
every paint costs the GUI thread several milliseconds per frame at 30 fps. ``for_display`` makes the
small copy with OpenCV (which releases the GIL), so the GUI only copies and paints what it shows.
"""

from __future__ import annotations

import cv2
import numpy as np


def for_display(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` scaled down to ``width`` pixels wide (never up), keeping its aspect ratio."""
    height, current = image.shape[:2]
    if width <= 0 or current <= width:
        return image
    size = (width, max(1, round(height * width / current)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
