"""When to take the photo: automatically after a steady passing window, or manually with a reason.

Auto-capture fires when every check has passed on consecutive analysed frames for ``steady_seconds``
(and at least ``min_frames`` of them), and then takes the sharpest frame of that window. After firing
it stays disarmed until ``arm()`` (the next student). Manual capture is allowed while checks only warn;
the officer's reason is then required and recorded with the names of the overridden warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.camera.errors import CameraError
from station.camera.quality import QualityReport
from station.i18n import Text


class CaptureRefused(CameraError):
    """A manual capture the rules do not allow (a failing check, or warnings without a reason)."""


@dataclass(frozen=True)
class CaptureDecision:
    image: np.ndarray
    report: QualityReport
    timestamp: float
    mode: str  # "auto" or "manual"
    reason: str | None = None
    overridden_warnings: tuple[str, ...] = ()


class AutoCapture:
    def __init__(self, steady_seconds: float = 0.6, min_frames: int = 3) -> None:
        self.steady_seconds = steady_seconds
        self.min_frames = min_frames
        self.armed = True
        self._window: list[tuple[float, float, np.ndarray, QualityReport]] = []

    def arm(self) -> None:
        self.armed = True
        self._window.clear()

    def disarm(self) -> None:
        self.armed = False
        self._window.clear()

    def observe(self, image: np.ndarray, report: QualityReport, timestamp: float) -> CaptureDecision | None:
        """Feed one analysed frame; returns the decision when the steady window completes."""
        if not self.armed:
            return None
        if not report.all_pass:
            self._window.clear()
            return None
        self._window.append((timestamp, report.sharpness or 0.0, image, report))
        start = self._window[0][0]
        if len(self._window) >= self.min_frames and timestamp - start >= self.steady_seconds:
            when, _, best, best_report = max(self._window, key=lambda item: item[1])
            self._window.clear()
            self.armed = False
            return CaptureDecision(best, best_report, when, "auto")
        return None


def manual_decision(
    image: np.ndarray, report: QualityReport, timestamp: float, reason: str | None
) -> CaptureDecision:
    """The officer's capture: refused on any failing check; warnings need a written reason."""
    failed = report.failed()
    if failed:
        names = ", ".join(c.name for c in failed)
        raise CaptureRefused(
            "blocking_checks_failed",
            Text(
                zh=f"以下检查未通过,不能拍摄:{names}", en=f"cannot capture while these checks fail: {names}"
            ),
        )
    warnings = tuple(c.name for c in report.warnings())
    reason = (reason or "").strip() or None
    if warnings and reason is None:
        raise CaptureRefused(
            "reason_required",
            Text(zh="存在提示项,手动拍摄须填写原因", en="a reason is required to capture over warnings"),
        )
    return CaptureDecision(image, report, timestamp, "manual", reason, warnings)
