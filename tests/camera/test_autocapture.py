"""Auto-capture's steady window and sharpest-frame choice; manual capture rules."""

from __future__ import annotations

import numpy as np
import pytest

from station.camera.autocapture import AutoCapture, CaptureRefused, manual_decision
from station.camera.quality import FAIL, PASS, WARN, Check, QualityReport
from station.i18n import Text


def report(*statuses: str, sharpness: float = 50.0) -> QualityReport:
    checks = [Check(f"check{i}", s, None, Text(zh="测", en="t")) for i, s in enumerate(statuses)]
    return QualityReport("moe-480", checks, [], (640, 480), sharpness=sharpness)


def image(tag: int) -> np.ndarray:
    return np.full((4, 4, 3), tag, np.uint8)


def test_fires_after_steady_window_with_the_sharpest_frame():
    auto = AutoCapture(steady_seconds=0.5, min_frames=3)
    assert auto.observe(image(1), report(PASS, sharpness=40), 0.0) is None
    assert auto.observe(image(2), report(PASS, sharpness=90), 0.2) is None
    assert auto.observe(image(3), report(PASS, sharpness=60), 0.4) is None
    decision = auto.observe(image(4), report(PASS, sharpness=70), 0.6)
    assert decision is not None and decision.mode == "auto"
    assert decision.image[0, 0, 0] == 2 and decision.timestamp == 0.2
    # Disarmed until the next student.
    assert auto.observe(image(5), report(PASS), 0.8) is None
    auto.arm()
    assert auto.observe(image(6), report(PASS), 1.0) is None


def test_any_warning_or_failure_restarts_the_window():
    auto = AutoCapture(steady_seconds=0.5, min_frames=2)
    auto.observe(image(1), report(PASS), 0.0)
    auto.observe(image(2), report(PASS, WARN), 0.3)
    assert auto.observe(image(3), report(PASS), 0.6) is None  # window restarted at 0.6
    assert auto.observe(image(4), report(PASS), 0.9) is None
    assert auto.observe(image(5), report(PASS), 1.1) is not None


def test_manual_capture_rules():
    assert manual_decision(image(1), report(PASS), 1.0, None).reason is None
    with pytest.raises(CaptureRefused) as info:
        manual_decision(image(1), report(PASS, WARN), 1.0, "  ")
    assert info.value.code == "reason_required"
    decision = manual_decision(image(1), report(PASS, WARN), 1.0, "student wears prescribed tinted lenses")
    assert decision.mode == "manual" and decision.overridden_warnings == ("check1",)
    assert decision.reason == "student wears prescribed tinted lenses"
    with pytest.raises(CaptureRefused) as info:
        manual_decision(image(1), report(PASS, FAIL), 1.0, "please")
    assert info.value.code == "blocking_checks_failed" and "check1" in info.value.message.en
