"""A simulated camera built from real face photographs that ship in scikit-image.

For the demo, officer training and the tests. The subject is a real portrait (NASA's public-domain
photograph of Eileen Collins, ``skimage.data.astronaut()``), cut out once with GrabCut seeded by fixed
regions of that picture and composited onto a plain backdrop, then given small natural sway and sensor
noise per frame. Nothing is drawn. This compositing exists only to stand in for a real person in front
of a real backdrop; the product's own photo path never edits or replaces a background.

The photograph is read as a file, never through ``skimage.data`` (which imports SciPy): from the
installed scikit-image package (a test/demo dependency) or, in an installer bundle that carries only
this one file, from ``<resources>/demo/astronaut.png``.
"""

from __future__ import annotations

import importlib.util
import math
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from station.camera.errors import SourceError
from station.camera.sources import FrameSource, SourceState
from station.i18n import Text
from sync.protocol.resources import resources_dir

PORTRAIT_NAME = "astronaut.png"  # NASA's public-domain photograph, as scikit-image ships it


@dataclass(frozen=True)
class Cutout:
    """A portrait with its alpha matte (float32 0..1) and its eye centres (image left, image right)."""

    image: np.ndarray
    alpha: np.ndarray
    eyes: tuple[tuple[float, float], tuple[float, float]]


def portrait_file() -> Path:
    """The astronaut photograph: the bundle's copy, else the one in the scikit-image package."""
    bundled = resources_dir() / "demo" / PORTRAIT_NAME
    if bundled.is_file():
        return bundled
    spec = importlib.util.find_spec("skimage")  # locates the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location, "data", PORTRAIT_NAME)
        if candidate.is_file():
            return candidate
    raise SourceError(
        "simulator_unavailable",
        Text(zh="模拟摄像头需要 scikit-image 软件包", en="the simulated camera needs scikit-image"),
    )


@cache
def astronaut_cutout() -> Cutout:
    """Head and shoulders of ``skimage.data.astronaut()`` with a GrabCut matte (rows 0-339)."""
    # np.fromfile + imdecode: cv2.imread cannot open non-ASCII paths on Windows.
    image = cv2.imdecode(np.fromfile(portrait_file(), np.uint8), cv2.IMREAD_COLOR)[:340]
    # Seeds drawn from where things are in this one photograph: the flag (left), the shuttle model
    # (right) and the frame edges are backdrop; face, collar ring and suit are subject.
    mask = np.full(image.shape[:2], cv2.GC_PR_BGD, np.uint8)
    mask[8:, 20:365] = cv2.GC_PR_FGD
    mask[:, 370:] = cv2.GC_BGD
    mask[:8] = cv2.GC_BGD
    mask[:, :15] = cv2.GC_BGD
    mask[:240, :90] = cv2.GC_BGD
    mask[:140, 310:] = cv2.GC_BGD
    cv2.ellipse(mask, (225, 95), (45, 62), 0, 0, 360, cv2.GC_FGD, -1)
    cv2.ellipse(mask, (210, 215), (90, 68), 0, 0, 360, cv2.GC_FGD, -1)
    mask[290:, 60:330] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(1)
    cv2.grabCut(image, mask, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
    hard = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    hard = cv2.morphologyEx(hard, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    # Keep only the largest connected part: stray backdrop specks must not float on the new backdrop.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hard)
    if count > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        hard = np.where(labels == largest, 255, 0).astype(np.uint8)
    alpha = cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (5, 5), 0)
    alpha[-1, :] = np.maximum(alpha[-1, :], alpha[-2, :])  # the body continues below the cut
    return Cutout(image, alpha, ((201.0, 100.0), (247.0, 104.0)))


def plain_backdrop(size: tuple[int, int], rgb: tuple[int, int, int]) -> np.ndarray:
    width, height = size
    return np.full((height, width, 3), rgb[::-1], np.uint8)


def compose(
    backdrop: np.ndarray,
    cutout: Cutout | None = None,
    *,
    scale: float = 2.7,
    eye_x: float = 0.5,
    bottom: float = 1.0,
    eye_y: float | None = None,
    roll_degrees: float = 0.0,
    gain: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Place the portrait on ``backdrop`` (BGR, modified copy returned).

    ``eye_x`` puts the eye midpoint at that fraction of the width; ``bottom`` puts the cut-off
    bottom edge of the portrait at that fraction of the height (1.0 = the frame's bottom edge, as a
    seated person continues below the picture). ``roll_degrees`` tilts the head and body (a person
    leaning, not a rotated picture); ``gain`` scales the subject's brightness (lighting on the person):
    a number, or an H×W×1 array for light falling unevenly on the person (a window on one side).
    ``eye_y``, when given, puts the eye line at that fraction of the height instead of using ``bottom``.
    """
    cutout = cutout or astronaut_cutout()
    canvas = backdrop.copy()
    ch, cw = canvas.shape[:2]
    (lx, ly), (rx, ry) = cutout.eyes
    eye_mid = ((lx + rx) / 2, (ly + ry) / 2)
    src_h = cutout.image.shape[0]
    mid_y = eye_y * ch if eye_y is not None else bottom * ch - (src_h - eye_mid[1]) * scale
    target_mid = (eye_x * cw, mid_y)
    matrix = cv2.getRotationMatrix2D(eye_mid, -roll_degrees, scale)
    matrix[0, 2] += target_mid[0] - eye_mid[0]
    matrix[1, 2] += target_mid[1] - eye_mid[1]
    subject = cv2.warpAffine(
        cutout.image, matrix, (cw, ch), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    alpha = cv2.warpAffine(cutout.alpha, matrix, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=0)
    if abs(roll_degrees) < 1e-6:
        # Continue the body below the cut when the portrait's bottom edge sits inside the frame.
        bottom_row = math.floor(target_mid[1] + (src_h - 1 - eye_mid[1]) * scale)
        if 0 <= bottom_row < ch - 1:
            alpha[bottom_row:] = alpha[bottom_row]
            subject[bottom_row:] = subject[bottom_row]
    subject = subject.astype(np.float32) * gain
    alpha3 = alpha[:, :, None]
    blended = subject * alpha3 + canvas.astype(np.float32) * (1.0 - alpha3)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


class SimulatedCamera(FrameSource):
    """Live frames of a real portrait on a plain backdrop, with gentle sway and sensor noise."""

    kind = "simulated"

    def __init__(
        self,
        size: tuple[int, int] = (1280, 720),
        fps: float = 30.0,
        backdrop_rgb: tuple[int, int, int] = (255, 255, 255),
        scale: float | None = None,
        noise_sigma: float = 2.0,
        realtime: bool = True,
        seed: int = 7,
    ) -> None:
        super().__init__()
        self.size = size
        self.fps = fps
        self._backdrop_rgb = backdrop_rgb
        # Default framing: eyes about 124 px apart at 720p (130 px at 1080p),
        # eye line at 45 % height: a close desk framing that passes the resolution check and leaves room for the crop.
        self._scale = scale if scale is not None else max(2.85, size[1] / 360.0)
        self._noise_sigma = noise_sigma
        self._realtime = realtime
        self._rng = np.random.default_rng(seed)
        self._fresh = np.random.default_rng()  # unseeded: two cameras never share a frame either
        self._margin = 8
        self._still: np.ndarray | None = None
        self._noise: list[tuple[np.ndarray, np.ndarray]] = []
        self._index = 0
        self._next_time = 0.0
        self._plugged = True
        self._present = True
        self._empty: np.ndarray | None = None

    def set_plugged(self, plugged: bool) -> None:
        """Pull or reinsert the simulated USB cable (demo and training of the reconnect banner)."""
        self._plugged = plugged

    def set_present(self, present: bool) -> None:
        """Seat the simulated student in front of the camera, or leave the chair empty (the backdrop
        alone): the desk's demo and tests walk people in and out like this."""
        self._present = present

    @property
    def present(self) -> bool:
        return self._present

    def open(self) -> None:
        if not self._plugged:
            raise SourceError(
                "camera_unavailable", Text(zh="无法打开摄像头 sim", en="cannot open camera sim")
            )
        width, height = self.size
        m = self._margin
        big = plain_backdrop((width + 2 * m, height + 2 * m), self._backdrop_rgb)
        # Exposure a touch under the portrait's own, as a desk camera is set to keep skin highlights.
        eye_y = (0.45 * height + m) / (height + 2 * m)
        self._still = compose(big, scale=self._scale, eye_y=eye_y, gain=0.95)
        self._empty = big
        self._noise = []
        for _ in range(4):
            noise = self._rng.normal(0.0, self._noise_sigma, (height, width, 3))
            self._noise.append(
                (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))
            )
        self._next_time = time.monotonic()
        self._set_state(SourceState.OPEN)

    def read(self) -> np.ndarray | None:
        if self._still is None:
            return None
        if not self._plugged:
            self.mark_lost()
            return None
        if self._realtime:
            delay = self._next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_time = max(self._next_time + 1.0 / self.fps, time.monotonic() - 1.0 / self.fps)
        width, height = self.size
        t = self._index / self.fps
        self._index += 1
        # Slow breathing sway of a seated person: a few pixels, never more than the margin.
        dx = round(3.0 * math.sin(2 * math.pi * 0.25 * t) + self._rng.normal(0, 0.4))
        dy = round(2.0 * math.sin(2 * math.pi * 0.17 * t + 1.0) + self._rng.normal(0, 0.4))
        m = self._margin
        dx, dy = max(-m, min(m, dx)), max(-m, min(m, dy))
        scene = self._still if self._present or self._empty is None else self._empty
        frame = scene[m + dy : m + dy + height, m + dx : m + dx + width]
        plus, minus = self._noise[self._index % len(self._noise)]
        frame = cv2.subtract(cv2.add(frame, plus), minus)
        # A real sensor never delivers the same frame twice; the pre-computed noise patterns above
        # repeat, so one small patch gets fresh noise (two captures are never byte-identical, as
        # the registry's photo-reuse check expects of real cameras).
        # ... inside the middle of the frame, which every profile's crop around the face keeps.
        y = int(self._fresh.integers(int(height * 0.35), int(height * 0.65) - 16))
        x = int(self._fresh.integers(int(width * 0.42), int(width * 0.58) - 16))
        fresh = self._fresh.integers(0, 3, (16, 16, 3), dtype=np.uint8)
        frame[y : y + 16, x : x + 16] = cv2.add(frame[y : y + 16, x : x + 16], fresh)
        return frame

    def close(self) -> None:
        self._still = self._empty = None
        self._set_state(SourceState.CLOSED)
