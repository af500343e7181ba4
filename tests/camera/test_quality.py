"""Quality checks on real portraits (scikit-image) and on negatives derived from them."""

from __future__ import annotations

import numpy as np
import pytest

from station.camera.errors import ImageError
from station.camera.profiles import load_profile
from station.camera.quality import CHECK_NAMES, FAIL, PASS, SKIPPED, analyze
from tests.camera.portraits import EXPECTED_FAILURE, LIGHT_BLUE, negative, positive

PROFILES = ["moe-480", "ga461-358"]


@pytest.mark.parametrize("profile_id", PROFILES)
def test_positive_passes_every_check(profile_id):
    report = analyze(positive(), load_profile(profile_id))
    assert report.ok and report.all_pass, [
        (c.name, c.status, c.value) for c in report.checks if c.status != PASS
    ]
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert report.face is not None and report.face.eyes_located


def test_light_blue_backdrop_positive_against_its_reference():
    profile = load_profile("moe-480")
    frame = positive(LIGHT_BLUE)
    assert analyze(frame, profile, background="light_blue").all_pass
    # The same backdrop judged against white is the wrong colour: the colour check says so.
    against_white = analyze(frame, profile, background="white")
    assert against_white.check("background_colour").status == FAIL
    assert [c.name for c in against_white.failed()] == ["background_colour"]


@pytest.mark.parametrize("kind", sorted(EXPECTED_FAILURE))
def test_negative_fails_on_the_right_check_and_no_other(kind):
    expected = EXPECTED_FAILURE[kind]
    report = analyze(negative(kind), load_profile("moe-480"))
    assert not report.ok
    assert report.check(expected).status == FAIL, report.check(expected)
    others_failed = [c.name for c in report.failed() if c.name != expected]
    assert others_failed == [], others_failed
    if kind == "no_face":
        assert {c.status for c in report.checks if c.name != "one_face"} == {SKIPPED}


@pytest.mark.parametrize(
    "kind", ["blurred", "rotated", "off_centre", "two_faces", "side_lit", "patterned_background"]
)
def test_negatives_leave_unrelated_checks_passing(kind):
    """For negatives that change nothing else, every other check passes outright."""
    report = analyze(negative(kind), load_profile("moe-480"))
    not_passing = [c.name for c in report.checks if c.status != PASS and c.name != EXPECTED_FAILURE[kind]]
    assert not_passing == []


def test_messages_are_bilingual_and_values_json_ready():
    import json

    report = analyze(negative("rotated"), load_profile("moe-480"))
    payload = report.as_dict()
    json.dumps(payload, ensure_ascii=False)
    roll = report.check("roll")
    assert abs(roll.value["degrees"]) > 8
    assert roll.message.zh and roll.message.en and roll.message.zh != roll.message.en
    assert {item["id"] for item in payload["checklist"]} >= {"expression", "head_cover", "live_subject"}


def test_roll_sign_and_pose_value_reported():
    report = analyze(negative("rotated"), load_profile("moe-480"))
    assert report.check("pose").value["yaw_degrees"] is not None
    # Haar gives no nose point, so pitch is the officer's to confirm.
    assert any(item.id == "head_level" for item in report.checklist)


def test_source_scale_reports_camera_pixels():
    frame = positive()
    half = frame[::2, ::2].copy()
    report = analyze(half, load_profile("moe-480"), source_scale=2.0)
    full = analyze(frame, load_profile("moe-480"))
    assert report.check("source_resolution").value["ied_px"] == pytest.approx(
        full.check("source_resolution").value["ied_px"], rel=0.1
    )


def test_greyscale_image_is_judged_not_crashed():
    import cv2

    grey = cv2.cvtColor(positive(), cv2.COLOR_BGR2GRAY)
    report = analyze(grey, load_profile("moe-480"))
    assert report.check("skin_colour").status == FAIL


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((4, 4, 2), np.uint8),
        "not an image",
    ],
)
def test_bad_input_gives_typed_error(bad):
    with pytest.raises(ImageError) as info:
        analyze(bad, load_profile("moe-480"))
    assert info.value.code == "image_invalid"


def test_framing_hints_name_the_way_to_fix_it():
    profile = load_profile("moe-480")
    assert "left" in analyze(negative("off_centre"), profile).check("framing").message.en
    assert "too close" in analyze(negative("too_close"), profile).check("framing").message.en


def test_desk_calibration_overrides_thresholds():
    from station.camera.errors import ProfileError
    from station.camera.quality import thresholds_from

    strict = thresholds_from({"sharpness": 500, "exposure_pass": [120, 190]})
    assert strict.sharpness == 500 and strict.exposure_pass == (120.0, 190.0)
    report = analyze(positive(), load_profile("moe-480"), thresholds=strict)
    assert report.check("sharpness").status == FAIL
    assert str(report.guidance()) == str(report.check("sharpness").message)
    assert "hold still" in analyze(positive(), load_profile("moe-480")).guidance().en
    with pytest.raises(ProfileError) as info:
        thresholds_from({"sharpnes": 1})
    assert info.value.code == "threshold_unknown"
    with pytest.raises(ProfileError) as info:
        thresholds_from({"sharpness": "high"})
    assert info.value.code == "threshold_invalid"
