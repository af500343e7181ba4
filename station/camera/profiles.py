"""Output photo profiles: versioned JSON data files in ``resources/profiles`` and their typed view.

A profile fixes the exact output (pixels, density, byte window, JPEG quality bounds), the geometry the
crop must meet (eye line, crown gap, face width, horizontal centre) and the backdrop colours it allows.
The figures and their sources: docs/photo-profiles.md §2; they live in data so an office can add or revise a profile
without touching code. Each file carries ``schema`` (format of the file) and ``version`` (of the figures).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from station.camera.errors import ProfileError
from station.i18n import Text
from sync.protocol.resources import resources_dir

SCHEMA = 1
DEFAULT_PROFILE = "moe-480"


@dataclass(frozen=True)
class Span:
    """A target value with its allowed range (output pixels)."""

    target: float
    min: float
    max: float

    def contains(self, value: float) -> bool:
        # A hair of tolerance: placements computed to sit exactly on a bound must count as inside.
        return self.min - 1e-6 <= value <= self.max + 1e-6


@dataclass(frozen=True)
class JpegBounds:
    quality_min: int
    quality_max: int
    min_bytes: int
    max_bytes: int
    subsampling: str


@dataclass(frozen=True)
class Profile:
    id: str
    version: str
    title: Text
    width: int
    height: int
    dpi: int
    jpeg: JpegBounds
    eye_line: Span
    crown_gap: Span
    face_width: Span
    face_width_warn_below: float
    eye_mid_x: Span
    vertical_anchor: str  # "eye_line" or "crown": which target places the crop vertically
    output_ied_pass: float
    output_ied_warn: float
    backgrounds: dict[str, tuple[int, int, int]]  # name -> RGB
    default_background: str

    def background_rgb(self, name: str | None = None) -> tuple[int, int, int]:
        key = name or self.default_background
        if key not in self.backgrounds:
            raise ProfileError(
                "background_not_allowed",
                Text(
                    zh=f"配置文件 {self.id} 不允许背景色 {key}",
                    en=f"profile {self.id} does not allow the backdrop {key}",
                ),
            )
        return self.backgrounds[key]


_profiles_dir: Path | None = None


def set_profiles_dir(directory: Path | None) -> None:
    """Use the profiles in ``directory`` (the settings' ``STATION_PROFILES_DIR``); None: the shipped ones."""
    global _profiles_dir
    _profiles_dir = Path(directory) if directory is not None else None


def profiles_dir() -> Path:
    """Where the profile files live: the configured directory or the resources (checkout or bundle)."""
    if _profiles_dir is not None:
        return _profiles_dir
    return resources_dir() / "profiles"


def available_profiles() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.json"))


def _bad(path: Path, what: str) -> ProfileError:
    return ProfileError(
        "profile_invalid",
        Text(zh=f"照片配置文件 {path.name} 无效:{what}", en=f"photo profile {path.name} is invalid: {what}"),
    )


def _span(raw: dict, path: Path, key: str) -> Span:
    try:
        item = raw[key]
        return Span(float(item["target"]), float(item["min"]), float(item["max"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"geometry.{key}") from exc


def parse_profile(raw: dict, path: Path) -> Profile:
    if raw.get("schema") != SCHEMA:
        raise _bad(path, f"schema {raw.get('schema')!r} (expected {SCHEMA})")
    try:
        geometry = raw["geometry"]
        jpeg = raw["jpeg"]
        centre = geometry["eye_mid_x"]
        profile = Profile(
            id=str(raw["id"]),
            version=str(raw["version"]),
            title=Text(zh=raw["title"]["zh"], en=raw["title"]["en"]),
            width=int(raw["width"]),
            height=int(raw["height"]),
            dpi=int(raw["dpi"]),
            jpeg=JpegBounds(
                quality_min=int(jpeg["quality_min"]),
                quality_max=int(jpeg["quality_max"]),
                min_bytes=int(jpeg["min_bytes"]),
                max_bytes=int(jpeg["max_bytes"]),
                subsampling=str(jpeg.get("subsampling", "4:2:0")),
            ),
            eye_line=_span(geometry, path, "eye_line"),
            crown_gap=_span(geometry, path, "crown_gap"),
            face_width=_span(geometry, path, "face_width"),
            face_width_warn_below=float(
                geometry["face_width"].get("warn_below", geometry["face_width"]["min"])
            ),
            eye_mid_x=Span(
                float(centre["target"]),
                float(centre["target"]) - float(centre["tolerance"]),
                float(centre["target"]) + float(centre["tolerance"]),
            ),
            vertical_anchor=str(geometry.get("vertical_anchor", "eye_line")),
            output_ied_pass=float(geometry["output_ied"]["pass"]),
            output_ied_warn=float(geometry["output_ied"]["warn"]),
            backgrounds={k: tuple(int(c) for c in v) for k, v in raw["background"]["allowed"].items()},
            default_background=str(raw["background"]["default"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"missing or wrong field ({exc})") from exc
    if profile.vertical_anchor not in ("eye_line", "crown"):
        raise _bad(path, "geometry.vertical_anchor must be eye_line or crown")
    if not (1 <= profile.jpeg.quality_min <= profile.jpeg.quality_max <= 100):
        raise _bad(path, "jpeg quality bounds")
    if not (0 < profile.jpeg.min_bytes < profile.jpeg.max_bytes):
        raise _bad(path, "jpeg byte window")
    if profile.default_background not in profile.backgrounds:
        raise _bad(path, "background.default is not among background.allowed")
    return profile


def load_profile_file(path: Path) -> Profile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(
            "profile_unknown",
            Text(zh=f"找不到照片配置文件 {path.name}", en=f"photo profile {path.name} not found"),
        ) from exc
    except (OSError, ValueError) as exc:
        raise _bad(path, "not readable JSON") from exc
    if not isinstance(raw, dict):
        raise _bad(path, "not a JSON object")
    return parse_profile(raw, path)


@cache
def _load_named(name: str, directory: str) -> Profile:
    return load_profile_file(Path(directory) / f"{name}.json")


def load_profile(name_or_path: str | Path | None = None) -> Profile:
    """Load a profile by id (``moe-480``) or by the path of a JSON file; default ``moe-480``."""
    if name_or_path is None:
        name_or_path = DEFAULT_PROFILE
    text = str(name_or_path)
    if text.endswith(".json") or os.sep in text:
        return load_profile_file(Path(text))
    if not text.replace("-", "").replace("_", "").isalnum():
        raise ProfileError(
            "profile_unknown", Text(zh=f"未知的照片配置 {text}", en=f"unknown photo profile {text}")
        )
    return _load_named(text, str(profiles_dir()))
