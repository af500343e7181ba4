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


def test_the_report_carries_the_face_the_crop_and_the_measures_behind_the_checks():
    from station.camera.report import CHECKLIST

    report = analyze(positive())  # the default profile
    face, placement = report.face, report.placement
    assert report.profile_id == "moe-480" and report.frame_size == (1920, 1080)
    assert placement is not None and placement.fits and report.ok
    assert report.check("source_resolution").value == {"ied_px": round(face.ied, 1)}
    assert report.check("output_ied").value == {"ied_px": round(face.ied * placement.scale, 1)}
    assert report.check("sharpness").value == {"laplacian_var": round(report.sharpness, 1)}
    assert set(report.extra) == {"faces", "crown_y", "source_scale"}
    assert report.extra["faces"] == 1 and report.extra["source_scale"] == 1.0
    assert 0 < report.extra["crown_y"] < face.y  # the top of the hair, above the face box
    # Haar gives no nose point: pitch goes to the officer's checklist, after the fixed items.
    assert [i.id for i in report.checklist] == [i.id for i in CHECKLIST] + ["head_level"]
    assert analyze(positive(), "ga461-358").profile_id == "ga461-358"


def test_a_frame_without_a_face_names_the_likely_cause_and_judges_nothing_else():
    from station.camera.report import CHECKLIST
    from station.camera.scene import CAUSES

    report = analyze(negative("no_face"), load_profile("moe-480"))
    cause = report.extra["cause"]
    assert report.extra == {"faces": 0, "cause": cause} and cause in CAUSES
    first = report.check("one_face")
    assert (first.status, first.value, first.message) == (FAIL, {"faces": 0, "cause": cause}, CAUSES[cause])
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    skipped = report.checks[1:]
    assert {c.status for c in skipped} == {SKIPPED} and {c.value for c in skipped} == {None}
    assert len({c.message for c in skipped}) == 1 and skipped[0].message.zh and skipped[0].message.en
    assert report.face is None and report.placement is None and report.checklist == list(CHECKLIST)
    assert report.frame_size == (1920, 1080) and report.profile_id == "moe-480"


def test_frames_in_other_layouts_are_judged_as_their_colour_picture():
    import cv2

    from station.camera.quality import ensure_bgr

    frame = positive()
    assert ensure_bgr(frame) is frame
    bgra = cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)
    assert np.array_equal(ensure_bgr(bgra), frame)
    assert analyze(bgra, load_profile("moe-480")).all_pass
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(ensure_bgr(grey), cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    for shape in ((16,), (2, 2, 3, 1)):
        with pytest.raises(ImageError) as info:
            ensure_bgr(np.zeros(shape, np.uint8))
        assert info.value.code == "image_invalid"


def test_each_thread_has_its_own_detector():
    import threading

    from station.camera.quality import default_detector

    mine = default_detector()
    assert default_detector() is mine and mine.detect(positive())
    theirs = []
    worker = threading.Thread(target=lambda: theirs.extend([default_detector(), default_detector()]))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and theirs[0].name == mine.name
    assert theirs[1] is theirs[0]  # kept for that thread's next frame


def test_the_crop_keeps_clear_of_the_frame_edge_when_the_profile_allows():
    """A student sitting well to the left: the crop centred on the eyes would come within 1.5 % of the
    frame's edge (a warning); moved inside the profile's eye-centre tolerance, it keeps clear."""
    from station.camera.simulated import compose, plain_backdrop
    from tests.camera.portraits import GAIN, SIZE, WHITE

    frame = compose(plain_backdrop(SIZE, WHITE), scale=3.0, eye_x=0.1495, gain=GAIN)
    report = analyze(frame, load_profile("moe-480"))
    assert report.all_pass, [(c.name, c.status) for c in report.checks if c.status != PASS]
    assert report.placement.left >= 0.015 * SIZE[0]
