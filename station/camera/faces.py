"""Face detection: OpenCV's Haar cascades by default, YuNet when a model file is configured.

Both detectors return ``Face`` values in full-frame pixel coordinates. Detection always runs on a copy
downscaled to at most ``DETECT_WIDTH`` pixels (YuNet is trained for faces up to about 300 px; Haar is
simply faster there, and a desk portrait is large); the Haar eye search then runs on the face region of the full frame so the eye
centres, and with them roll and inter-eye distance, keep full precision.

"Left" and "right" below are image sides (viewer's left), never the subject's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from station.camera.errors import CameraError
from station.i18n import Text

DETECT_WIDTH = 480
Point = tuple[float, float]


@dataclass(frozen=True)
class Face:
    """One detected face.

    ``width_factor`` converts the detector's box width into the cheek-to-cheek face width the photo
    standards measure; it is a per-detector calibration constant [PROP, docs/photo-profiles.md §3].
    """

    x: float
    y: float
    w: float
    h: float
    score: float
    eye_left: Point | None = None  # eye on the image's left (the subject's right eye)
    eye_right: Point | None = None
    nose: Point | None = None
    mouth_left: Point | None = None
    mouth_right: Point | None = None
    width_factor: float = 0.93
    detector: str = "haar"

    @property
    def eyes_located(self) -> bool:
        return self.eye_left is not None and self.eye_right is not None

    @property
    def eyes(self) -> tuple[Point, Point]:
        """Eye centres; estimated from the box (typical proportions) when the eyes were not found."""
        if self.eye_left is not None and self.eye_right is not None:
            return self.eye_left, self.eye_right
        ey = self.y + 0.38 * self.h
        return (self.x + 0.3 * self.w, ey), (self.x + 0.7 * self.w, ey)

    @property
    def eye_mid(self) -> Point:
        (lx, ly), (rx, ry) = self.eyes
        return (lx + rx) / 2, (ly + ry) / 2

    @property
    def ied(self) -> float:
        (lx, ly), (rx, ry) = self.eyes
        return math.hypot(rx - lx, ry - ly)

    @property
    def roll_degrees(self) -> float:
        """Angle of the eye line against the horizontal; positive when the image-right eye is lower."""
        (lx, ly), (rx, ry) = self.eyes
        return math.degrees(math.atan2(ry - ly, rx - lx))

    @property
    def face_width(self) -> float:
        return self.w * self.width_factor

    @property
    def area(self) -> float:
        return self.w * self.h

    def yaw_pitch_degrees(self) -> tuple[float | None, float | None]:
        """Rough yaw and pitch from the available points [PROP: uncalibrated proxies, docs/photo-profiles.md §3].

        With a nose point (YuNet): yaw from the nose tip's sideways offset from the eye midpoint (the
        tip stands about 0.4 IED in front of the eye plane); pitch from where the nose sits between
        the eye line and the mouth. With Haar: yaw from the eye midpoint's offset in the face box;
        pitch is not measurable (it is left to the officer's checklist).
        """
        if not self.eyes_located:
            return None, None
        mx, my = self.eye_mid
        ied = max(self.ied, 1e-6)
        if self.nose is not None:
            yaw = math.degrees(math.asin(_clamp((self.nose[0] - mx) / (0.4 * ied))))
            pitch = None
            if self.mouth_left is not None and self.mouth_right is not None:
                mouth_y = (self.mouth_left[1] + self.mouth_right[1]) / 2
                span = mouth_y - my
                if span > 1e-6:
                    # Frontal faces put the nose tip ~55 % of the way from the eye line to the mouth.
                    share = (self.nose[1] - my) / span
                    pitch = math.degrees(math.asin(_clamp((share - 0.55) / 0.45)))
            return yaw, pitch
        offset = mx - (self.x + self.w / 2)
        return math.degrees(math.asin(_clamp(offset / (0.45 * self.w)))), None


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Face]: ...


def _downscale(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy no wider than DETECT_WIDTH and the factor back to full-frame coordinates."""
    height, width = frame.shape[:2]
    if width <= DETECT_WIDTH:
        return frame, 1.0
    factor = width / DETECT_WIDTH
    small = cv2.resize(frame, (DETECT_WIDTH, round(height / factor)), interpolation=cv2.INTER_AREA)
    return small, factor


class HaarFaceDetector:
    """Frontal-face and eye cascades shipped in ``cv2.data.haarcascades`` (opencv-python-headless<5)."""

    name = "haar"

    def __init__(self, cascade_dir: str | None = None, min_neighbors: int = 5) -> None:
        directory = cascade_dir or getattr(getattr(cv2, "data", None), "haarcascades", "")
        self._face = cv2.CascadeClassifier(os.path.join(directory, "haarcascade_frontalface_default.xml"))
        self._eye = cv2.CascadeClassifier(os.path.join(directory, "haarcascade_eye.xml"))
        if self._face.empty() or self._eye.empty():
            raise CameraError(
                "detector_unavailable",
                Text(
                    zh="找不到 OpenCV 人脸检测模型(Haar 级联文件)",
                    en="OpenCV's Haar cascade files were not found",
                ),
            )
        self._min_neighbors = min_neighbors

    def detect(self, frame: np.ndarray) -> list[Face]:
        small, factor = _downscale(frame)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        # A desk portrait fills a good part of the view; smaller faces fail the resolution check anyway.
        min_side = max(24, small.shape[1] // 17)
        boxes, _levels, weights = self._face.detectMultiScale3(
            gray,
            scaleFactor=1.15,
            minNeighbors=self._min_neighbors,
            minSize=(min_side, min_side),
            outputRejectLevels=True,
        )
        full_gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = []
        for (x, y, w, h), weight in zip(boxes, np.ravel(weights), strict=False):
            fx, fy, fw, fh = x * factor, y * factor, w * factor, h * factor
            left, right = self._find_eyes(full_gray, fx, fy, fw, fh)
            faces.append(Face(fx, fy, fw, fh, float(weight), left, right))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _find_eyes(
        self, gray: np.ndarray, fx: float, fy: float, fw: float, fh: float
    ) -> tuple[Point | None, Point | None]:
        """Search the upper face for one eye on each side of the box centre."""
        x0, y0 = max(0, int(fx)), max(0, int(fy + 0.15 * fh))
        x1, y1 = min(gray.shape[1], int(fx + fw)), min(gray.shape[0], int(fy + 0.6 * fh))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None, None
        roi = gray[y0:y1, x0:x1]
        # Eyes are searched at a fixed face scale: steadier results and bounded cost.
        scale = 160.0 / roi.shape[1]
        roi = cv2.resize(roi, (160, max(8, round(roi.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        roi = cv2.equalizeHist(roi)
        eyes = self._eye.detectMultiScale(
            roi, scaleFactor=1.1, minNeighbors=3, minSize=(18, 18), maxSize=(50, 50)
        )
        centre_x = (fx + fw / 2 - x0) * scale
        expected_y = (fy + 0.38 * fh - y0) * scale
        best: dict[str, tuple[float, Point]] = {}
        expected_size = 0.22 * fw * scale
        for ex, ey, ew, eh in eyes:
            cx, cy = ex + ew / 2, ey + eh / 2
            side = "left" if cx < centre_x else "right"
            expected_x = centre_x + (-0.24 if side == "left" else 0.24) * fw * scale
            # Position and size both count: the cascade also fires on an eye's inner corner, a
            # smaller box nested beside the real eye, which would shorten the inter-eye distance.
            cost = abs(cx - expected_x) + abs(cy - expected_y) + 2.0 * abs(ew - expected_size)
            if side not in best or cost < best[side][0]:
                best[side] = (cost, (x0 + cx / scale, y0 + cy / scale))
        return (best["left"][1] if "left" in best else None, best["right"][1] if "right" in best else None)


class YuNetFaceDetector:
    """``cv2.FaceDetectorYN`` with a YuNet ONNX model file (MIT, from the OpenCV model zoo)."""

    name = "yunet"

    def __init__(self, model_path: str | Path, score_threshold: float = 0.9) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise CameraError(
                "detector_unavailable",
                Text(zh=f"找不到人脸检测模型文件 {path.name}", en=f"face model file {path.name} not found"),
            )
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, 0.3, 5000)
        except cv2.error as exc:
            raise CameraError(
                "detector_unavailable",
                Text(zh=f"无法加载人脸检测模型 {path.name}", en=f"cannot load face model {path.name}"),
            ) from exc

    def detect(self, frame: np.ndarray) -> list[Face]:
        small, factor = _downscale(frame)
        self._net.setInputSize((small.shape[1], small.shape[0]))
        _, rows = self._net.detect(small)
        faces = []
        for row in rows if rows is not None else []:
            v = [float(c) * factor for c in row[:14]]
            faces.append(
                Face(
                    v[0], v[1], v[2], v[3], float(row[14]),
                    eye_left=(v[4], v[5]), eye_right=(v[6], v[7]), nose=(v[8], v[9]),
                    mouth_left=(v[10], v[11]), mouth_right=(v[12], v[13]),
                    width_factor=1.0, detector="yunet",
                )
            )  # fmt: skip
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces


_default_model: Path | None = None


def set_default_model(model_path: str | Path | None) -> None:
    """The YuNet model to use when none is passed (the settings' ``STATION_YUNET_MODEL``)."""
    global _default_model
    _default_model = Path(model_path) if model_path else None


def create_detector(model_path: str | Path | None = None) -> FaceDetector:
    """YuNet when a model path is given or configured, else the Haar cascades OpenCV ships."""
    path = model_path or _default_model
    if path:
        return YuNetFaceDetector(path)
    return HaarFaceDetector()
