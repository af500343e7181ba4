"""The photo is a photo: a JPEG whose real size matches its declaration and one of the photo profiles.

The profiles are the repository's ``resources/profiles/*.json`` (docs/photo-profiles.md §2): the registry
reads only what it checks (pixel size, byte window, colour). The JPEG is read header-only
(``sync.protocol.jpeg``), so a hostile blob costs microseconds. Reuse of one photo for two students is
checked in the record's transaction (``intake``), since it needs the stored records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from sync.protocol.jpeg import NotJpeg, jpeg_header
from sync.protocol.resources import resources_dir
from sync.protocol.wire import Record
from sync.registry.evidence import Rejection


@dataclass(frozen=True)
class PhotoProfile:
    profile_id: str
    width: int
    height: int
    min_bytes: int
    max_bytes: int


@cache
def known_profiles() -> dict[str, PhotoProfile]:
    profiles = {}
    for path in sorted((resources_dir() / "profiles").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        profiles[data["id"]] = PhotoProfile(
            data["id"], data["width"], data["height"], data["jpeg"]["min_bytes"], data["jpeg"]["max_bytes"]
        )
    return profiles


def accepted_profiles(ids: tuple[str, ...] | None) -> tuple[PhotoProfile, ...]:
    """The profiles named (all known ones for None); an unknown name is a configuration error."""
    known = known_profiles()
    if ids is None:
        return tuple(known.values())
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise ValueError(f"unknown photo profiles: {unknown}")
    return tuple(known[i] for i in ids)


def check_photo(record: Record, data: bytes, profiles: tuple[PhotoProfile, ...]) -> Rejection | None:
    """None if ``data`` is a JPEG of the declared size that fits an accepted (and the declared) profile."""
    try:
        header = jpeg_header(data)
    except NotJpeg as error:
        return Rejection("PHOTO_NOT_JPEG", f"the photo is not a JPEG: {error}")
    declared = record.photo
    if (header.width, header.height) != (declared.w, declared.h) or len(data) != declared.bytes:
        return Rejection("PHOTO_MISMATCH", "the photo's real size differs from its declaration")
    named = record.meta.get("photo_profile")
    candidates = [p for p in profiles if named is None or p.profile_id == named]
    for profile in candidates:
        if (
            (header.width, header.height) == (profile.width, profile.height)
            and profile.min_bytes <= len(data) <= profile.max_bytes
            and header.components == 3
        ):
            return None
    which = "the declared photo profile" if named is not None else "any accepted photo profile"
    return Rejection(
        "PHOTO_PROFILE", f"a {header.width}x{header.height} photo of {len(data)} bytes fits {which}"
    )
