"""Every photo check fails (or warns) for its own reason, on negatives derived from real photographs.

The negatives of ``test_quality`` cover the checks an ordinary bad photo trips; these cover the ones
that otherwise only ever pass: eye distance in the output, tonal range, crushed shadows, glare over
the eyes, clothing against the backdrop, and head pose in its warn and fail bands.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from station.camera import checks
from station.camera.profiles import load_profile
from station.camera.quality import FAIL, PASS, WARN, analyze
from station.camera.report import DEFAULT_THRESHOLDS
from tests.camera.portraits import SINGLE_CHECK, positive, single_check_negative

PROFILE = load_profile("moe-480")


@pytest.mark.parametrize("kind", sorted(SINGLE_CHECK))
def test_each_negative_trips_its_own_check(kind):
    name, status = SINGLE_CHECK[kind]
    report = analyze(single_check_negative(kind), PROFILE)
    check = report.check(name)
    assert check.status == status, (check.status, check.value)
    assert report.check("one_face").status == PASS  # judged on a face, not skipped
    assert check.message.zh and check.message.en
    assert report.ok is (status != FAIL)  # a fail blocks the capture, a warning does not


def test_the_positive_passes_the_checks_the_negatives_trip():
    report = analyze(positive(), PROFILE)
    assert {name: report.check(name).status for name, _ in SINGLE_CHECK.values()} == {
        name: PASS for name, _ in SINGLE_CHECK.values()
    }


@pytest.fixture(scope="module")
def real_face():
    """The face the detector finds in the real portrait: eyes located by the Haar cascades."""
    face = analyze(positive(), PROFILE).face
    assert face is not None and face.eyes_located
    return face


def _turned(face, degrees: float):
    """The same face with a nose point (as YuNet gives) where a head turned by ``degrees`` puts it."""
    import math

    (mx, my), ied = face.eye_mid, face.ied
    nose_x = mx + math.sin(math.radians(degrees)) * 0.4 * ied
    return replace(face, nose=(nose_x, my + 0.55 * ied), detector="yunet")


@pytest.mark.parametrize(
    ("degrees", "status"), [(2.0, PASS), (7.5, WARN), (-7.5, WARN), (14.0, FAIL), (-14.0, FAIL)]
)
def test_pose_bands_from_the_nose_point(real_face, degrees, status):
    """Head pose is measured from landmarks; the Haar detector the tests run moves its face box with the
    features, so no image of this portrait can turn the head for it. The landmarks of the real detected
    face are placed as a turned head puts them (photo-spec §4.6) and the check graded on those."""
    check, _ = checks.pose_check(_turned(real_face, degrees), DEFAULT_THRESHOLDS)
    assert check.status == status and check.value["yaw_degrees"] == pytest.approx(degrees, abs=0.1)


@pytest.mark.parametrize(("offset", "status"), [(0.02, PASS), (0.06, WARN), (0.12, FAIL)])
def test_pose_bands_from_the_face_box(real_face, offset, status):
    """Without landmarks the eye midpoint's offset inside the face box stands in for yaw."""
    shifted = replace(real_face, x=real_face.eye_mid[0] - real_face.w / 2 - offset * real_face.w)
    check, pitch_measured = checks.pose_check(shifted, DEFAULT_THRESHOLDS)
    assert check.status == status and not pitch_measured
