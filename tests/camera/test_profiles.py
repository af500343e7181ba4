"""Profiles are versioned data files; bad files give typed errors."""

from __future__ import annotations

import json

import pytest

from station.camera.errors import ProfileError
from station.camera.profiles import SCHEMA, load_profile, profiles_dir


def test_shipped_profiles_carry_the_spec_figures():
    moe = load_profile("moe-480")
    assert (moe.width, moe.height, moe.dpi) == (480, 640, 300)
    assert (moe.jpeg.min_bytes, moe.jpeg.max_bytes) == (24 * 1024, 38 * 1024)
    assert moe.jpeg.quality_min >= 60
    assert (moe.eye_line.min, moe.eye_line.max) == (200, 300)
    assert (moe.face_width.min, moe.face_width.max) == (180, 300)
    assert set(moe.backgrounds) == {"white", "light_blue", "light_grey"}
    assert moe.backgrounds["light_blue"] == (100, 197, 255)
    ga = load_profile("ga461-358")
    assert (ga.width, ga.height, ga.dpi) == (358, 441, 350)
    assert (ga.jpeg.min_bytes, ga.jpeg.max_bytes) == (14 * 1024, 20000)
    assert ga.eye_line.max == 234 and (ga.crown_gap.min, ga.crown_gap.max) == (7, 21)
    assert set(ga.backgrounds) == {"white"}
    for path in profiles_dir().glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["schema"] == SCHEMA and raw["version"] and raw["id"] == path.stem


def _write(tmp_path, raw):
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_profile_from_a_file_path(tmp_path):
    raw = json.loads((profiles_dir() / "moe-480.json").read_text(encoding="utf-8"))
    raw["id"], raw["version"] = "custom", "test-1"
    assert load_profile(_write(tmp_path, raw)).id == "custom"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: r.update(schema=99), "profile_invalid"),
        (lambda r: r.pop("geometry"), "profile_invalid"),
        (lambda r: r["jpeg"].update(min_bytes=50000), "profile_invalid"),
        (lambda r: r["background"].update(default="purple"), "profile_invalid"),
        (lambda r: r["geometry"].update(vertical_anchor="chin"), "profile_invalid"),
    ],
)
def test_malformed_profiles_are_rejected(tmp_path, change, code):
    raw = json.loads((profiles_dir() / "moe-480.json").read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(ProfileError) as info:
        load_profile(_write(tmp_path, raw))
    assert info.value.code == code
    assert info.value.message.zh and info.value.message.en


def test_not_json_and_unknown_names(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.code == "profile_invalid"
    for name in ("nope", "../etc/passwd"):
        with pytest.raises(ProfileError):
            load_profile(name)


def test_background_must_be_allowed_by_profile():
    with pytest.raises(ProfileError) as info:
        load_profile("ga461-358").background_rgb("light_blue")
    assert info.value.code == "background_not_allowed"
