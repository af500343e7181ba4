"""The measures under the photo checks, against published reference values, and the profile files
read field by field with each refusal naming what is wrong."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from station.camera import measures as m
from station.camera.errors import ProfileError
from station.camera.profiles import JpegBounds, Span, available_profiles, load_profile, load_profile_file
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


def test_shipped_profile_read_field_by_field():
    profile = load_profile("moe-480")
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
