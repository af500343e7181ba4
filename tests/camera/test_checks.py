"""Every photo check fails (or warns) for its own reason, on negatives derived from real photographs.

The negatives of ``test_quality`` cover the checks an ordinary bad photo trips; these cover the ones
that otherwise only ever pass: eye distance in the output, tonal range, crushed shadows, glare over
the eyes, clothing against the backdrop, and head pose in its warn and fail bands.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from station.camera import checks
from station.camera import measures as m
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


# --- Each check at and around its thresholds -------------------------------------------------------------
#
# The thresholds are set at the value the check measures on the real portrait (or the measured value is
# placed on the threshold), so "at the bound" is exact: a pass bound is inclusive, a fail bound is not.

T = DEFAULT_THRESHOLDS


def _is(check, name: str, status: str, value=...):
    """The check is ``name`` with ``status``, a message in both languages and (when given) that value."""
    assert (check.name, check.status) == (name, status), (check.name, check.status, check.value)
    assert check.message.zh and check.message.en
    if value is not ...:
        assert check.value == value, check.value
    return check


def _above(value: float) -> float:
    return math.nextafter(value, math.inf)


def test_a_second_face_counts_from_a_tenth_of_the_first(real_face):
    def second(share: float):
        return replace(real_face, x=0.0, y=0.0, w=real_face.w * share)

    big, small = second(0.12345), second(0.0456)
    _is(checks.one_face_check([real_face, big], T), "one_face", FAIL, {"faces": 2, "second_ratio": 0.123})
    _is(checks.one_face_check([real_face, small], T), "one_face", PASS, {"faces": 1, "second_ratio": 0.046})
    _is(checks.one_face_check([real_face], T), "one_face", PASS, {"faces": 1, "second_ratio": 0.0})
    ratio = big.area / real_face.area
    _is(checks.one_face_check([real_face, big], replace(T, second_face_ratio=ratio)), "one_face", FAIL)
    _is(
        checks.one_face_check([real_face, big], replace(T, second_face_ratio=_above(ratio))), "one_face", PASS
    )


def test_output_eye_distance_and_sharpness_report_their_measure():
    _is(checks.output_ied_check(95.04, PROFILE), "output_ied", PASS, {"ied_px": 95.0})
    _is(checks.output_ied_check(94.96, PROFILE), "output_ied", WARN, {"ied_px": 95.0})
    _is(checks.sharpness_check(40.04, T), "sharpness", PASS, {"laplacian_var": 40.0})
    _is(checks.sharpness_check(39.96, T), "sharpness", WARN, {"laplacian_var": 40.0})
    _is(checks.resolution_check(119.96, T), "source_resolution", WARN, {"ied_px": 120.0})
    _is(checks.resolution_check(90.0, T), "source_resolution", WARN, {"ied_px": 90.0})
    _is(checks.resolution_check(89.96, T), "source_resolution", FAIL, {"ied_px": 90.0})


def test_roll_is_not_judged_without_the_eyes(real_face):
    _is(checks.roll_check(replace(real_face, eye_left=None), T), "roll", WARN, None)
    level = _is(checks.roll_check(real_face, T), "roll", PASS)
    assert level.value == {"degrees": round(real_face.roll_degrees, 1)}


def _patch(face):
    """The normalised face patch of the real portrait and its geometry, as ``analyze`` makes them."""
    patch, factor, x0, y0 = m.normalised_face(positive(), (face.x, face.y, face.w, face.h), face.ied)
    return patch, checks.PatchGeometry(face, factor, x0, y0)


def test_face_sharpness_is_judged_in_grey_at_the_target_eye_distance(real_face):
    patch, g = _patch(real_face)
    box = g.box(patch)[:, :-7]  # not square, so width and height cannot be confused
    grey = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY)
    assert checks.face_sharpness(box, 50.0, 50.0) == m.sharpness(grey)  # already at the target: as it is
    assert checks.face_sharpness(box, 40.0, 50.0) == m.sharpness(grey)  # smaller: never upscaled
    # Larger: averaged down (area resampling) to the target eye distance first.
    k = 50.0 / 150.0
    size = (round(grey.shape[1] * k), round(grey.shape[0] * k))
    assert checks.face_sharpness(box, 150.0, 50.0) == m.sharpness(
        cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    )
    assert checks.face_sharpness(np.zeros((0, 0, 3), np.uint8), 150.0, 50.0) == 0.0
    # A sliver of the face three pixels across, shrunk to 0.4: still judged, on a one-pixel strip.
    for sliver in (box[:, :3], box[:3, :]):
        grey = cv2.cvtColor(sliver, cv2.COLOR_BGR2GRAY)
        size = (max(1, round(grey.shape[1] * 0.4)), max(1, round(grey.shape[0] * 0.4)))
        assert 1 in size
        expected = m.sharpness(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))
        assert checks.face_sharpness(sliver, 125.0, 50.0) == expected


def test_the_patch_geometry_boxes_and_squares(real_face):
    patch, g = _patch(real_face)
    f, k = real_face, g.factor
    inner = g.box(patch, shrink=0.2)
    # The middle 60 % of the face box in both directions (the patch holds the box and a tenth around it).
    assert inner.shape[:2] == pytest.approx((0.6 * f.h * k, 0.6 * f.w * k), abs=2)
    square = g.square(patch, g.point(f.eye_mid), 20.0)
    assert square.shape[:2] == (20, 20)


def test_cheeks_sit_halfway_from_the_eyes_to_the_mouth(real_face):
    _, g = _patch(real_face)
    (lx, ly), (rx, ry) = (g.point(p) for p in real_face.eyes)
    # Without mouth points (Haar): 0.55 IED below each eye.
    assert g.cheeks() == ((lx, pytest.approx(ly + 0.55 * g.ied)), (rx, pytest.approx(ry + 0.55 * g.ied)))
    mx, my = real_face.eye_mid
    mouth = dict(mouth_left=(mx - 20, my + 70), mouth_right=(mx + 20, my + 74))
    with_mouth = checks.PatchGeometry(replace(real_face, **mouth), g.factor, g.x0, g.y0)
    mouth_y = (g.point(mouth["mouth_left"])[1] + g.point(mouth["mouth_right"])[1]) / 2
    drop = (mouth_y - (ly + ry) / 2) / 2
    assert with_mouth.cheeks() == ((lx, pytest.approx(ly + drop)), (rx, pytest.approx(ry + drop)))
    assert drop != pytest.approx(0.55 * g.ied, abs=0.5)
    # One mouth corner alone is not a mouth: the default drop.
    half = checks.PatchGeometry(replace(real_face, mouth_left=mouth["mouth_left"]), g.factor, g.x0, g.y0)
    assert half.cheeks() == g.cheeks()
    half = checks.PatchGeometry(replace(real_face, mouth_right=mouth["mouth_right"]), g.factor, g.x0, g.y0)
    assert half.cheeks() == g.cheeks()


# Framing on placements: a 480×640 crop (moe-480 at scale 1) in a 1000×800 view; 1.5 % of 1000 is 15 px.
VIEW = (1000, 800)


def _placement(**changes):
    from station.camera.crop import Placement

    base = dict(
        scale=1.0, left=260.0, top=80.0, eye_line=250.04, eye_mid_x=240.04, face_width=240.04, crown_gap=80.04,
        overflow={"left": 0.0, "top": 0.0, "right": 0.0, "bottom": 0.0},
    )  # fmt: skip
    return Placement(**{**base, **changes})


def _framing(**changes):
    return checks.framing_check(_placement(**changes), PROFILE, VIEW, T)


def test_framing_reports_the_placement():
    value = {
        "eye_line_px": 250.0,
        "face_width_px": 240.0,
        "crown_gap_px": 80.0,
        "eye_mid_x_px": 240.0,
        "fits": True,
    }
    _is(_framing(), "framing", PASS, value)


@pytest.mark.parametrize(
    ("at", "warned"),
    [
        (dict(left=15.0), False), (dict(left=14.9), True),
        (dict(top=15.0), False), (dict(top=14.9), True),
        (dict(left=505.0), False), (dict(left=505.1), True),  # 15 px and 14.9 px right of the crop
        (dict(top=145.0), False), (dict(top=145.1), True),  # and below it
    ],
)  # fmt: skip
def test_framing_warns_closer_than_the_edge_margin_on_any_side(at, warned):
    check = _is(_framing(**at), "framing", WARN if warned else PASS)
    assert check.value["fits"] is True and check.value["eye_line_px"] == 250.0


def test_framing_face_width_and_crown_gap_bounds():
    _is(_framing(face_width=210.0), "framing", PASS)  # the warn bound itself is wide enough
    _is(_framing(face_width=209.9), "framing", WARN)
    _is(_framing(crown_gap=110.0), "framing", PASS)
    outside = _is(_framing(crown_gap=110.1), "framing", WARN)
    assert outside.value["crown_gap_px"] == 110.1
    unknown = _is(_framing(crown_gap=None), "framing", WARN)
    assert unknown.value["crown_gap_px"] is None


@pytest.mark.parametrize(
    ("overflow", "hint"),
    [
        ({"right": 5.0}, "right"),
        ({"left": 5.0}, "left"),
        ({"bottom": 5.0}, "bottom"),
        ({"top": 5.0}, "top"),
        ({"left": 0.5, "right": 0.5}, "too_close"),  # larger than the view across
        ({"top": 0.5, "bottom": 0.5}, "too_close"),  # and from top to bottom
        ({"left": 2.0, "top": 0.5}, "left"),  # two neighbouring sides: the one furthest out
    ],
)
def test_a_crop_that_leaves_the_view_names_the_way_back(overflow, hint):
    over = {"left": 0.0, "top": 0.0, "right": 0.0, "bottom": 0.0, **overflow}
    check = _is(_framing(overflow=over), "framing", FAIL)
    assert check.value["fits"] is False and check.value["eye_line_px"] == 250.0
    expected = checks._TOO_CLOSE if hint == "too_close" else checks._EDGE_HINTS[hint]
    assert expected.zh in check.message.zh and expected.en in check.message.en


def _below(value: float) -> float:
    return math.nextafter(value, -math.inf)


def _exposure(patch, g, **thresholds):
    found = checks.exposure_checks(patch, g, replace(T, **thresholds))
    assert [c.name for c in found] == ["exposure", "clipping", "shadows", "dynamic_range"]
    return dict(zip(("exposure", "clipping", "shadows", "dynamic_range"), found, strict=True))


def test_exposure_bounds_are_inclusive_and_the_hint_names_the_direction(real_face):
    patch, g = _patch(real_face)
    mean = float(m.luma(g.box(patch, shrink=0.2)).mean())  # the inner face's mean brightness
    value = {"mean_luma": round(mean, 1)}
    for bounds in ((mean, 255.0), (0.0, mean)):
        _is(_exposure(patch, g, exposure_pass=bounds)["exposure"], "exposure", PASS, value)
    dark = _is(
        _exposure(patch, g, exposure_pass=(_above(mean), 255.0), exposure_warn=(mean, 255.0))["exposure"],
        "exposure",
        WARN,
        value,
    )
    bright = _is(
        _exposure(patch, g, exposure_pass=(0.0, _below(mean)), exposure_warn=(0.0, mean))["exposure"],
        "exposure",
        WARN,
        value,
    )
    assert "暗" in dark.message.zh and "dark" in dark.message.en
    assert "亮" in bright.message.zh and "bright" in bright.message.en
    too_dark = _is(
        _exposure(patch, g, exposure_pass=(254.0, 255.0), exposure_warn=(_above(mean), 255.0))["exposure"],
        "exposure",
        FAIL,
        value,
    )
    too_bright = _is(
        _exposure(patch, g, exposure_pass=(0.0, 1.0), exposure_warn=(0.0, _below(mean)))["exposure"],
        "exposure",
        FAIL,
        value,
    )
    assert "暗" in too_dark.message.zh and "dark" in too_dark.message.en
    assert "亮" in too_bright.message.zh and "bright" in too_bright.message.en


def test_highlights_at_250_are_clipped(real_face):
    patch, g = _patch(real_face)
    # The real face brightened until its highlights stop exactly at 250 (and no higher).
    bright = np.minimum(cv2.convertScaleAbs(patch, alpha=1.05), 250).astype(np.uint8)
    at_250 = float((g.box(bright, shrink=0.2).max(axis=2) == 250).mean())
    assert 0 < at_250 < 1 and round(at_250, 4) != round(at_250, 5)
    _is(
        _exposure(bright, g, clipping_pass=0.001)["clipping"],
        "clipping",
        WARN,
        {"fraction": round(at_250, 4)},
    )
    _is(_exposure(patch, g)["clipping"], "clipping", PASS)


def test_shadows_at_luma_20_are_crushed_and_at_21_not(real_face):
    patch, g = _patch(real_face)
    dim = cv2.convertScaleAbs(patch, alpha=0.35)  # the real face in poor light
    luma = m.luma(dim)
    at_20, at_21 = dim.copy(), dim.copy()
    at_20[luma <= 21.5] = 20  # every deep shadow exactly at luma 20
    at_21[luma <= 20.5] = 20
    at_21[(luma > 20.5) & (luma <= 21.5)] = 21  # part of them one grey level up
    crushed_20 = _exposure(at_20, g)["shadows"].value["fraction"]
    crushed_21 = _exposure(at_21, g)["shadows"].value["fraction"]
    assert 0 < crushed_21 < crushed_20
    assert round(crushed_20, 4) == crushed_20 != round(crushed_20, 1)  # reported to four places


def test_tonal_range_span_and_entropy_bounds(real_face):
    patch, g = _patch(real_face)
    whole = m.luma(g.box(patch, shrink=0.05))  # the whole face box, as OFIQ's face region
    span = float(np.percentile(whole, 99) - np.percentile(whole, 1))
    bits = m.entropy_bits(whole)
    value = {"span": round(span, 1), "entropy_bits": round(bits, 2)}
    at = dict(range_fail=span, range_pass=span, entropy_pass=bits)
    _is(_exposure(patch, g, **at)["dynamic_range"], "dynamic_range", PASS, value)
    _is(_exposure(patch, g, **{**at, "entropy_pass": _above(bits)})["dynamic_range"], "dynamic_range", WARN)
    _is(_exposure(patch, g, **{**at, "range_pass": _above(span)})["dynamic_range"], "dynamic_range", WARN)
    _is(
        _exposure(patch, g, range_fail=_above(span), range_pass=300.0)["dynamic_range"], "dynamic_range", FAIL
    )


def test_a_face_box_outside_the_patch_is_judged_dark_and_flat_not_crashed(real_face):
    patch, g = _patch(real_face)
    away = checks.PatchGeometry(real_face, g.factor, g.x0 - 10_000, g.y0)  # the face box misses the patch
    found = _exposure(patch, away)
    _is(found["exposure"], "exposure", FAIL, {"mean_luma": 0.0})
    _is(found["clipping"], "clipping", PASS, {"fraction": 0.0})
    _is(found["shadows"], "shadows", PASS, {"fraction": 0.0})
    _is(found["dynamic_range"], "dynamic_range", FAIL, {"span": 0.0, "entropy_bits": 0.0})


@pytest.mark.parametrize(
    ("value", "higher", "status"),
    [
        (40.0, True, PASS), (_below(40.0), True, WARN), (28.0, True, WARN), (_below(28.0), True, FAIL),
        (5.0, False, PASS), (_above(5.0), False, WARN), (8.0, False, WARN), (_above(8.0), False, FAIL),
    ],
)  # fmt: skip
def test_grades_at_their_bounds(value, higher, status):
    """The pass bound passes, the fail bound only warns: higher is better (40/28) or lower is (5/8)."""
    pass_at, fail_at = (40.0, 28.0) if higher else (5.0, 8.0)
    assert checks.grade(value, pass_at, fail_at, higher_is_better=higher) == status
    if higher:
        assert checks.grade(value, pass_at, fail_at) == status  # higher is better unless told otherwise


def test_reported_values_are_plain_rounded_floats():
    assert checks.rounded(None) is None
    assert checks.rounded(np.float32(1.26)) == 1.3 and type(checks.rounded(np.float32(1.26))) is float
    assert checks.rounded(1.23456, 3) == 1.235


def test_pose_is_not_judged_without_the_eyes(real_face):
    check, pitch_measured = checks.pose_check(replace(real_face, eye_left=None), T)
    _is(check, "pose", WARN, None)
    assert pitch_measured is False


def _landmarked(face, yaw_share: float, pitch_share: float):
    """The real face with nose and mouth points (as YuNet gives) where a head turned or tipped puts them."""
    (mx, my), ied = face.eye_mid, face.ied
    mouth = my + ied
    return replace(
        face,
        nose=(mx + yaw_share * 0.4 * ied, my + pitch_share * ied),
        mouth_left=(mx - 0.3 * ied, mouth),
        mouth_right=(mx + 0.3 * ied, mouth),
        detector="yunet",
    )


def test_pose_takes_the_worse_of_yaw_and_pitch(real_face):
    level = _landmarked(real_face, 0.0, 0.55)  # nose 55 % of the way to the mouth: level
    check, pitch_measured = checks.pose_check(level, T)
    _is(check, "pose", PASS, {"yaw_degrees": 0.0, "pitch_degrees": 0.0})
    assert pitch_measured is True
    tipped = _landmarked(real_face, 0.0, 0.55 + 0.45 * math.sin(math.radians(12)))  # 12° down, facing ahead
    check, _ = checks.pose_check(tipped, T)
    _is(check, "pose", FAIL, {"yaw_degrees": 0.0, "pitch_degrees": 12.0})
    turned = _landmarked(real_face, math.sin(math.radians(-12)), 0.55)  # 12° to the side, level
    check, _ = checks.pose_check(turned, T)
    _is(check, "pose", FAIL, {"yaw_degrees": -12.0, "pitch_degrees": 0.0})
    _, pitch = tipped.yaw_pitch_degrees()
    _is(checks.pose_check(tipped, replace(T, pose_pass=pitch))[0], "pose", PASS)
    _is(checks.pose_check(tipped, replace(T, pose_pass=_below(pitch), pose_fail=pitch))[0], "pose", WARN)
    _is(checks.pose_check(tipped, replace(T, pose_pass=1.0, pose_fail=_below(pitch)))[0], "pose", FAIL)


def _cheek_lumas(patch, g):
    side = 0.3 * g.ied
    return [float(m.luma(g.square(patch, c, side)).mean()) for c in g.cheeks()]


def test_lighting_symmetry_is_the_cheeks_difference_against_their_mean(real_face):
    patch, g = _patch(real_face)
    left, right = _cheek_lumas(patch, g)
    measured = abs(left - right) / ((left + right) / 2)
    value = {"relative_difference": round(measured, 3)}
    _is(checks.symmetry_check(patch, g, replace(T, symmetry_pass=measured)), "lighting_symmetry", PASS, value)
    _is(
        checks.symmetry_check(patch, g, replace(T, symmetry_pass=_below(measured))),
        "lighting_symmetry",
        WARN,
        value,
    )
    _is(
        checks.symmetry_check(patch, g, replace(T, symmetry_pass=0.0, symmetry_fail=_below(measured))),
        "lighting_symmetry",
        FAIL,
        value,
    )


def test_lighting_symmetry_of_a_nearly_black_face_is_measured_against_one_grey_level(real_face):
    patch, g = _patch(real_face)
    black = cv2.convertScaleAbs(patch, alpha=0.003)  # the real face with almost no light: levels 0 and 1
    left, right = _cheek_lumas(black, g)
    assert (left + right) / 2 < 1.0 and left != right
    check = checks.symmetry_check(black, g, T)
    assert check.value == {"relative_difference": round(abs(left - right), 3)}


def test_lighting_symmetry_without_cheeks_in_the_patch_is_not_judged(real_face):
    patch, g = _patch(real_face)
    away = checks.PatchGeometry(real_face, g.factor, g.x0 - 10_000, g.y0)
    _is(checks.symmetry_check(patch, away, T), "lighting_symmetry", WARN, None)
    _is(checks.skin_check(patch, away), "skin_colour", WARN, None)


def _glare_values(patch, g):
    """(largest blob, total) glare over the worse eye: a square of 0.6 IED around each."""
    found = [m.glare_fraction(g.square(patch, g.point(eye), 0.6 * g.ied)) for eye in g.face.eyes]
    return max(b for b, _ in found), max(t for _, t in found)


def test_glare_bounds_are_exclusive_and_a_blown_out_face_only_warns():
    frame = single_check_negative("glasses_glare")
    face = analyze(frame, PROFILE).face
    patch, factor, x0, y0 = m.normalised_face(frame, (face.x, face.y, face.w, face.h), face.ied)
    g = checks.PatchGeometry(face, factor, x0, y0)
    blob, total = _glare_values(patch, g)
    value = {"largest_blob": round(blob, 4), "total": round(total, 4)}
    at = replace(T, glare_total=total, glare_blob=blob)
    _is(checks.glare_check(patch, g, at, face_clipped=False), "glasses_glare", PASS, value)
    _is(
        checks.glare_check(patch, g, replace(at, glare_total=_below(total)), False),
        "glasses_glare",
        FAIL,
        value,
    )
    _is(
        checks.glare_check(patch, g, replace(at, glare_blob=_below(blob)), False),
        "glasses_glare",
        WARN,
        value,
    )
    # A face already failing on clipped highlights: the glare cannot be told from it, a warning only.
    for over in (dict(glare_total=_below(total)), dict(glare_blob=_below(blob))):
        over_exposed = checks.glare_check(patch, g, replace(at, **over), face_clipped=True)
        _is(over_exposed, "glasses_glare", WARN, value)
        assert "过曝" in over_exposed.message.zh
    _is(checks.glare_check(patch, g, at, face_clipped=True), "glasses_glare", PASS)


def _cheeks_lab(patch, g):
    side = 0.3 * g.ied
    pixels = np.concatenate([g.square(patch, c, side).reshape(-1, 3) for c in g.cheeks()])
    lab = m.lab_of(pixels[None])[0]
    return float(lab[:, 1].mean()), float(lab[:, 2].mean())


@pytest.mark.parametrize(
    ("gains", "status"),
    [
        ((1.0, 1.0, 1.0), PASS),  # the portrait as shot: a and b inside 5..25 and 5..35
        ((0.5, 1.0, 0.8), WARN),  # a green-yellow cast: a below 5, b above 35
        ((1.0, 0.7, 0.9), WARN),  # a magenta-blue cast: a above 25, b below 5
        ((1.0, 1.0, 0.93), WARN),  # a slight cast: a just under 5 (distance under one unit)
    ],
)
def test_skin_colour_is_the_cheeks_distance_from_the_natural_range(real_face, gains, status):
    patch, g = _patch(real_face)
    cast = np.clip(patch.astype(np.float32) * np.array(gains, np.float32), 0, 255).astype(
        np.uint8
    )  # BGR gains
    a, b = _cheeks_lab(cast, g)
    distance = math.hypot(max(0.0, 5 - a, a - 25), max(0.0, 5 - b, b - 35))
    check = _is(
        checks.skin_check(cast, g),
        "skin_colour",
        status,
        {"a": round(a, 1), "b": round(b, 1), "distance": round(distance, 1)},
    )
    assert (check.value["distance"] > 0) is (status == WARN)


def _shadows(patch, g) -> float:
    return _exposure(patch, g)["shadows"].value["fraction"]


def _blacken(patch, x0: float, y0: float, x1: float, y1: float):
    out = patch.copy()
    out[round(y0) : round(y1), round(x0) : round(x1)] = 0
    return out


def test_the_eye_and_brow_boxes_are_left_out_of_the_shadows_and_nothing_else(real_face):
    """Each eye's box runs 0.35 IED to either side, 0.45 IED above and 0.25 IED below it: dark pixels
    inside are eyes and brows, dark pixels just outside are shadows on the skin."""
    patch, g = _patch(real_face)
    clear = _shadows(patch, g)
    (lx, ly), (rx, ry) = (g.point(p) for p in real_face.eyes)
    d = g.ied
    inside = _blacken(_blacken(patch, lx - 0.3 * d, ly - 0.4 * d, lx + 0.3 * d, ly + 0.2 * d), rx - 0.3 * d, ry - 0.4 * d, rx + 0.3 * d, ry + 0.2 * d)  # fmt: skip
    assert _shadows(inside, g) == clear
    beside_left_eye = _blacken(patch, lx + 0.35 * d + 2, ly - 0.1 * d, lx + 0.35 * d + 5, ly + 0.1 * d)
    beside_right_eye = _blacken(patch, rx - 0.35 * d - 5, ry - 0.1 * d, rx - 0.35 * d - 2, ry + 0.1 * d)
    assert _shadows(beside_left_eye, g) > clear and _shadows(beside_right_eye, g) > clear
    # Above the brows: with the eyes found lower in the face box, the band above their boxes is skin.
    low = replace(real_face, eye_left=(real_face.eye_left[0], real_face.eye_left[1] + 25 / g.factor),
                  eye_right=(real_face.eye_right[0], real_face.eye_right[1] + 25 / g.factor))  # fmt: skip
    lg = checks.PatchGeometry(low, g.factor, g.x0, g.y0)
    (lx, ly), _ = (lg.point(p) for p in low.eyes)
    above = _blacken(patch, lx - 0.2 * d, ly - 0.45 * d - 5, lx + 0.2 * d, ly - 0.45 * d - 2)
    assert _shadows(above, lg) > _shadows(patch, lg)


def test_a_nearly_grey_face_is_colour_not_greyscale(real_face):
    patch, g = _patch(real_face)
    grey = cv2.cvtColor(cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR).astype(np.float32)
    faded = np.clip(grey + 0.2 * (patch.astype(np.float32) - grey), 0, 255).astype(np.uint8)  # chroma ~3.5
    _is(checks.skin_check(faded, g), "skin_colour", WARN)  # a colour cast, not "no colour"
    # Greyscale in the middle of the face (where skin is judged) is greyscale, whatever the rim holds.
    centre_grey = patch.copy()
    middle = g.box(centre_grey, shrink=0.2)  # a view into the copy
    middle[:] = cv2.cvtColor(cv2.cvtColor(middle, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    check = _is(checks.skin_check(centre_grey, g), "skin_colour", FAIL)
    assert set(check.value) == {"a", "b", "distance"}


def _mouthed(face, **eyes):
    """The real face with mouth corners (as YuNet gives): the cheeks drop half-way to the mouth."""
    (mx, my), ied = face.eye_mid, face.ied
    return replace(
        face, mouth_left=(mx - 0.3 * ied, my + ied), mouth_right=(mx + 0.3 * ied, my + ied), **eyes
    )


def test_lighting_and_skin_with_one_cheek_or_the_face_box_outside_the_patch(real_face):
    patch, g = _patch(real_face)
    (lx, ly), (rx, ry) = real_face.eyes
    for eyes in (dict(eye_left=(lx - 3000, ly)), dict(eye_right=(rx + 3000, ry))):  # one cheek off the patch
        one_cheek = checks.PatchGeometry(_mouthed(real_face, **eyes), g.factor, g.x0, g.y0)
        sizes = [g.square(patch, c, 0.3 * one_cheek.ied).size for c in one_cheek.cheeks()]
        assert 0 in sizes and max(sizes) > 0
        _is(checks.symmetry_check(patch, one_cheek, T), "lighting_symmetry", WARN, None)
    no_cheeks = checks.PatchGeometry(
        replace(real_face, eye_left=(lx, ly + 3000), eye_right=(rx, ry + 3000)), g.factor, g.x0, g.y0
    )
    _is(checks.skin_check(patch, no_cheeks), "skin_colour", WARN, None)
    no_box = checks.PatchGeometry(replace(real_face, x=real_face.x + 3000), g.factor, g.x0, g.y0)
    assert g.box(patch).size and not no_box.box(patch).size
    _is(checks.skin_check(patch, no_box), "skin_colour", WARN, None)


def test_without_a_pitch_measure_the_pose_is_the_yaw_alone(real_face):
    """Haar gives no pitch: a small yaw is judged as it is, not as at least some default pitch."""
    shifted = replace(real_face, x=real_face.eye_mid[0] - real_face.w / 2 - 0.005 * real_face.w)
    yaw, pitch = shifted.yaw_pitch_degrees()
    assert pitch is None and 0 < yaw < 1
    _is(checks.pose_check(shifted, replace(T, pose_pass=yaw))[0], "pose", PASS)
    _is(checks.pose_check(shifted, replace(T, pose_pass=_below(yaw), pose_fail=yaw))[0], "pose", WARN)


def test_a_glint_is_reported_to_four_places():
    frame = single_check_negative("glasses_glint")
    report = analyze(frame, PROFILE)
    face = report.face
    patch, factor, x0, y0 = m.normalised_face(frame, (face.x, face.y, face.w, face.h), face.ied)
    blob, total = _glare_values(patch, checks.PatchGeometry(face, factor, x0, y0))
    assert round(blob, 4) != round(blob, 5)
    _is(
        report.check("glasses_glare"),
        "glasses_glare",
        WARN,
        {"largest_blob": round(blob, 4), "total": round(total, 4)},
    )
