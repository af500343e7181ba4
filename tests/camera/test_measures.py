"""The measures under the photo checks, against published reference values, and the profile files
read field by field with each refusal naming what is wrong."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from station.camera import measures as m
from station.camera.errors import ProfileError
from station.camera.profiles import (
    JpegBounds,
    Span,
    available_profiles,
    load_profile,
    load_profile_file,
    profiles_dir,
)
from sync.protocol.resources import resource_path

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes, supplementary
# test data and mathematical observations", Table 1: pairs chosen to exercise every term of the formula.
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert m.delta_e2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
    assert m.delta_e2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_of_opposite_hues_at_unit_chroma_computed_by_hand():
    # (50, 0, 1) against (50, 0, -1): a = 0 leaves C' = 1 for both, hues 90° and 270° (exactly opposite,
    # so the mean hue is 180°); ΔH' = 2·sin(90°) = 2, T = 1 - 0.17·cos 150° + 0.24·cos 360° + 0.32·cos 546°
    # - 0.20·cos 657° = 0.978179, S_H = 1 + 0.015·T; ΔL' = ΔC' = 0, so ΔE00 = 2 / S_H.
    expected = 2 / (1 + 0.015 * 0.978179)
    assert m.delta_e2000(np.array([50.0, 0.0, 1.0]), np.array([50.0, 0.0, -1.0])) == pytest.approx(
        expected, abs=1e-5
    )


def test_ciede2000_is_symmetric_for_hues_just_over_half_a_turn_apart():
    # Hues about 0.4° and 180.6° (ΔH' just over 180°, wrapped to just under -180°) with a mean hue near
    # 270°, where the blue-region rotation term is strong: the wrap must not depend on the order.
    one, other = np.array([50.0, 20.0, 0.2]), np.array([50.0, -10.0, -0.15])
    assert m.delta_e2000(one, other) == pytest.approx(m.delta_e2000(other, one), rel=1e-12)


def test_colour_conversions_and_luma():
    assert m.lab_of_rgb((255, 255, 255)) == pytest.approx([100.0, 0.0, 0.0], abs=0.01)
    assert m.lab_of_rgb((255, 0, 0)) == pytest.approx([53.24, 80.09, 67.20], abs=0.05)  # sRGB red
    assert m.lab_of_rgb((0, 0, 255)) == pytest.approx([32.30, 79.19, -107.86], abs=0.05)  # sRGB blue
    bgr = np.array([[[0, 0, 255], [255, 0, 0]]], np.uint8)  # red, blue
    assert m.lab_of(bgr).shape == (1, 2, 3) and m.lab_of(bgr)[0, 0] == pytest.approx(
        m.lab_of_rgb((255, 0, 0))
    )
    assert m.luma(np.array([[[10, 20, 30]]], np.uint8))[0, 0] == pytest.approx(
        0.299 * 30 + 0.587 * 20 + 0.114 * 10
    )


def test_the_shipped_profile_file_read_field_by_field():
    # Read from the file itself: ``load_profile`` keeps the profiles it has read.
    profile = load_profile_file(profiles_dir() / "moe-480.json")
    assert load_profile("moe-480") == profile
    assert (profile.id, profile.version, profile.width, profile.height, profile.dpi) == (
        "moe-480",
        "2026.1",
        480,
        640,
        300,
    )
    assert profile.title.en == "MOE college-admission image (480×640)" and profile.title.zh.startswith(
        "普通高等学校"
    )
    assert profile.jpeg == JpegBounds(60, 95, 24576, 38912, "4:2:0")
    assert (profile.eye_line, profile.crown_gap, profile.face_width) == (
        Span(250, 200, 300), Span(80, 50, 110), Span(240, 180, 300),
    )  # fmt: skip
    assert profile.eye_mid_x == Span(240, 216, 264) and profile.face_width_warn_below == 210
    assert (profile.vertical_anchor, profile.output_ied_pass, profile.output_ied_warn) == ("eye_line", 95, 80)
    assert profile.default_background == "white" and profile.backgrounds["light_blue"] == (100, 197, 255)
    assert available_profiles() == ["ga461-358", "moe-480"]


def test_span_bounds_are_inclusive_within_a_hair():
    span = Span(250, 200, 300)
    assert (
        span.contains(200) and span.contains(300) and span.contains(200 - 1e-7) and span.contains(300 + 1e-7)
    )
    assert span.contains(span.min - 1e-6) and span.contains(span.max + 1e-6)  # the hair itself is inside
    assert not span.contains(199.99) and not span.contains(300.01)


def _raw() -> dict:
    return json.loads(resource_path("profiles", "moe-480.json").read_text(encoding="utf-8"))


def _refusal(tmp_path, raw) -> str:
    path = tmp_path / "odd.json"
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert caught.value.code == "profile_invalid" and "odd.json" in caught.value.message.zh
    return caught.value.message.en


def _changed(change) -> dict:
    raw = copy.deepcopy(_raw())
    change(raw)
    return raw


def test_each_malformed_profile_names_what_is_wrong(tmp_path):
    prefix = "photo profile odd.json is invalid: "
    cases = [
        ("{not json", "not readable JSON"),
        ("[1, 2]", "not a JSON object"),
        (_changed(lambda r: r.update(schema=2)), "schema 2 (expected 1)"),
        (_changed(lambda r: r["geometry"].pop("eye_line")), "geometry.eye_line"),
        (_changed(lambda r: r["geometry"]["crown_gap"].update(min="x")), "geometry.crown_gap"),
        (_changed(lambda r: r["geometry"]["face_width"].pop("max")), "geometry.face_width"),
        (
            _changed(lambda r: r["geometry"].update(vertical_anchor="chin")),
            "geometry.vertical_anchor must be eye_line or crown",
        ),
        (_changed(lambda r: r["jpeg"].update(quality_min=0)), "jpeg quality bounds"),
        (_changed(lambda r: r["jpeg"].update(quality_max=101)), "jpeg quality bounds"),
        (_changed(lambda r: r["jpeg"].update(quality_min=96)), "jpeg quality bounds"),
        (_changed(lambda r: r["jpeg"].update(min_bytes=0)), "jpeg byte window"),
        (_changed(lambda r: r["jpeg"].update(max_bytes=24576)), "jpeg byte window"),
        (
            _changed(lambda r: r["background"].update(default="pink")),
            "background.default is not among background.allowed",
        ),
    ]
    for raw, reason in cases:
        assert _refusal(tmp_path, raw) == prefix + reason, reason
    assert _refusal(tmp_path, _changed(lambda r: r.pop("dpi"))).startswith(prefix + "missing or wrong field")


def test_a_profile_at_its_limits_and_with_its_defaults(tmp_path):
    def edge(raw: dict) -> None:
        raw["jpeg"].update(quality_min=1, quality_max=1, min_bytes=1, max_bytes=2)
        del (
            raw["jpeg"]["subsampling"],
            raw["geometry"]["vertical_anchor"],
            raw["geometry"]["face_width"]["warn_below"],
        )

    path = tmp_path / "edge.json"
    path.write_text(json.dumps(_changed(edge)), encoding="utf-8")
    profile = load_profile_file(path)
    assert profile.jpeg == JpegBounds(1, 1, 1, 2, "4:2:0")
    assert (
        profile.vertical_anchor == "eye_line" and profile.face_width_warn_below == 180
    )  # the span's minimum
    crown = _changed(
        lambda r: r["geometry"].update(vertical_anchor="crown") or r["jpeg"].update(quality_max=100)
    )
    path.write_text(json.dumps(crown), encoding="utf-8")
    assert (
        load_profile_file(path).vertical_anchor == "crown" and load_profile_file(path).jpeg.quality_max == 100
    )


def _face_frame():
    from tests.camera.portraits import positive

    return positive()  # the real portrait on a white backdrop, 1920×1080


def test_the_face_patch_is_the_box_with_a_tenth_around_it_averaged_down_to_100_px_between_the_eyes():
    frame = _face_frame()
    patch, factor, x0, y0 = m.normalised_face(frame, (810, 330, 300, 200), 300.0)
    # 30 px (a tenth of the width) left of the box, 20 px above it; 360×240 source pixels, a third of it.
    assert (x0, y0, factor) == (780, 310, pytest.approx(1 / 3))
    assert patch.shape == (80, 120, 3)
    # Area averaging: each patch pixel is the mean of the 3×3 source pixels it covers (not a sample of one).
    blocks = frame[310:550, 780:1140].reshape(80, 3, 120, 3, 3).astype(np.float64).mean(axis=(1, 3))
    assert np.abs(patch - blocks).max() <= 0.5


def test_a_face_already_small_enough_is_kept_at_its_own_size():
    frame = _face_frame()
    for ied in (100.0, 46.0, 0.0):
        patch, factor, x0, y0 = m.normalised_face(frame, (810, 330, 300, 200), ied)
        assert factor == 1.0 and (x0, y0) == (780, 310)
        assert np.array_equal(patch, frame[310:550, 780:1140])


def test_the_face_patch_stops_at_the_frame_edges():
    frame = _face_frame()
    # A box at the top-left corner: the tenth around it is cut off at 0, never past it.
    patch, _, x0, y0 = m.normalised_face(frame, (10, 10, 200, 200), 100.0)
    assert (x0, y0) == (0, 0) and np.array_equal(patch, frame[0:230, 0:230])
    # A portrait-orientation frame (taller than wide): the bottom edge is the frame's height.
    tall = np.ascontiguousarray(frame[:, 600:1300])  # 700 wide, 1080 high
    patch, _, x0, y0 = m.normalised_face(tall, (100, 900, 200, 200), 100.0)
    assert (x0, y0) == (80, 880) and np.array_equal(patch, tall[880:1080, 80:320])
    # A sliver at the right edge, shrunk tenfold, is still one pixel wide and high.
    patch, factor, x0, _ = m.normalised_face(frame, (1920, 500, 10, 10), 1000.0)
    assert x0 == 1919 and factor == pytest.approx(0.1) and patch.shape == (1, 1, 3)
    # A box wholly outside the frame gives an empty patch rather than an error.
    patch, _, _, _ = m.normalised_face(frame, (3000, 500, 300, 300), 300.0)
    assert patch.size == 0


def test_sharpness_is_the_laplacian_variance_computed_by_hand():
    # A flat mid-grey patch (mean exactly 128) with one dot 16 grey levels up and one 16 down. The 3×3
    # Gaussian spreads each dot to 4/2/1 (centre/side/corner); its Laplacian is -8, four -2, four +2
    # and eight +1 around each dot: a sum of squares of 104 per dot over 98 pixels, mean 0.
    patch = np.full((7, 14), 128, np.uint8)
    patch[3, 3], patch[3, 10] = 144, 112
    assert m.sharpness(patch) == pytest.approx(208 / 98, rel=1e-9)
    # The same dot on black (mean far below 8): brightness is counted as 8 grey levels at least.
    dark = np.zeros((7, 14), np.uint8)
    dark[3, 3] = 16
    assert m.sharpness(dark) == pytest.approx(104 / 98 * (128 / 8) ** 2, rel=1e-9)
    assert m.sharpness(np.zeros((0, 0), np.uint8)) == 0.0


@pytest.mark.parametrize(
    ("values", "bits"),
    [
        ([], 0.0),
        ([0, 1], 1.0),
        ([0, 1, 2, 3], 2.0),
        ([255, 300], 0.0),  # above the 8-bit range counts as 255
        ([0, -5], 0.0),  # below it as 0
        ([0, 300], 1.0),
        ([7.2, 7.9], 0.0),  # one histogram bin per grey level
    ],
)
def test_entropy_of_an_8_bit_histogram(values, bits):
    assert m.entropy_bits(np.array(values, np.float32)) == pytest.approx(bits)


def test_glare_is_near_white_and_nearly_colourless():
    skin = (120, 150, 200)  # BGR
    patch = np.full((10, 10, 3), skin, np.uint8)
    patch[1:3, 1:3] = (250, 250, 250)  # value exactly 250: a reflection (2×2 blob)
    patch[6, 1] = (215, 255, 255)  # saturation exactly 40: still colourless enough
    patch[6, 5] = (214, 255, 255)  # saturation 41: a pale colour, not glare
    patch[6, 8] = (249, 249, 249)  # value 249: bright, not clipped
    largest, total = m.glare_fraction(patch)
    assert (largest, total) == (pytest.approx(0.04), pytest.approx(0.05))
    assert m.glare_fraction(np.full((1, 1, 3), 255, np.uint8)) == (1.0, 1.0)
    assert m.glare_fraction(np.full((4, 4, 3), skin, np.uint8)) == (0.0, 0.0)
    assert m.glare_fraction(np.zeros((0, 0, 3), np.uint8)) == (0.0, 0.0)


def test_boxes_are_clipped_to_the_image():
    assert m.clip_box((10, 20, 3), -5.0, -5.0, -1.0, -1.0) == (0, 0, 0, 0)
    assert m.clip_box((10, 20, 3), 5.7, 3.2, 30.0, 15.0) == (5, 3, 20, 10)
