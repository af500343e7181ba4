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
    assert "light_blue" in info.value.message.en and "ga461-358" in info.value.message.zh


def _shipped(name: str = "moe-480") -> dict:
    return json.loads((profiles_dir() / f"{name}.json").read_text(encoding="utf-8"))


def test_the_default_profile_is_moe_480():
    assert load_profile().id == "moe-480" and load_profile(None) == load_profile("moe-480")


def test_a_profile_file_named_without_a_folder_or_without_the_json_suffix(tmp_path, monkeypatch):
    raw = _shipped()
    raw["id"] = "custom"
    (tmp_path / "custom.json").write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "custom-profile").write_text(json.dumps(raw), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_profile("custom.json").id == "custom"  # a file in the working folder
    assert load_profile(str(tmp_path / "custom-profile")).id == "custom"  # a path, whatever its suffix


def test_a_missing_profile_file_is_unknown_not_invalid(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path / "absent.json")
    assert info.value.code == "profile_unknown" and "absent.json" in info.value.message.en


def test_an_office_folder_of_profiles_replaces_the_shipped_ones(tmp_path, monkeypatch):
    """``STATION_PROFILES_DIR``: profiles by name come from that folder; None goes back to the shipped ones."""
    from station.camera import profiles

    monkeypatch.setattr(profiles, "_profiles_dir", None)  # restored after the test
    shipped = profiles_dir()
    raw = _shipped()
    raw["id"], raw["jpeg"]["subsampling"] = "county_desk-2", "4:4:4"
    (tmp_path / "county_desk-2.json").write_text(json.dumps(raw), encoding="utf-8")
    profiles.set_profiles_dir(str(tmp_path))
    assert profiles_dir() == tmp_path and profiles.available_profiles() == ["county_desk-2"]
    desk = load_profile("county_desk-2")  # letters, digits, '-' and '_' make a name
    assert desk.id == "county_desk-2" and desk.jpeg.subsampling == "4:4:4"
    with pytest.raises(ProfileError) as info:
        load_profile("moe-480")  # not in the office's folder
    assert info.value.code == "profile_unknown"
    profiles.set_profiles_dir(None)
    assert profiles_dir() == shipped and load_profile("moe-480").id == "moe-480"


def test_profiles_are_read_as_utf_8_whatever_the_system_locale(tmp_path):
    """A station whose locale is not UTF-8 (a Chinese Windows desk runs GBK) reads the Chinese titles right."""
    import locale

    path = tmp_path / "moe.json"
    path.write_text(json.dumps(_shipped(), ensure_ascii=False), encoding="utf-8")
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")  # ASCII: any non-ASCII byte read by the locale fails
        profile = load_profile(path)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert profile.title.zh.startswith("普通高等学校")
