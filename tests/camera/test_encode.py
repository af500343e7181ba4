"""JPEG size targeting, density and byte-level verification."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from station.camera.encode import (
    encode_to_window,
    inspect_jpeg,
    set_jfif_density,
    verify_jpeg,
)
from station.camera.errors import EncodeError
from station.camera.profiles import load_profile
from tests.camera.portraits import positive


@pytest.fixture(scope="module")
def crop():
    frame = positive()
    return cv2.resize(frame[80:1000, 620:1310], (480, 640), interpolation=cv2.INTER_AREA)


def test_size_targeting_lands_in_window_at_highest_fitting_quality(crop):
    profile = load_profile("moe-480")
    encoded = encode_to_window(crop, profile)
    assert profile.jpeg.min_bytes <= len(encoded.data) <= profile.jpeg.max_bytes
    if encoded.quality < profile.jpeg.quality_max:
        params = [cv2.IMWRITE_JPEG_QUALITY, encoded.quality + 1, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
        bigger = cv2.imencode(".jpg", crop, params)[1].tobytes()
        assert len(bigger) > len(encoded.data) - 50  # one step up does not fit better


def test_noisy_image_that_cannot_fit_is_refused_not_degraded():
    profile = load_profile("moe-480")
    noise = np.random.default_rng(1).integers(0, 256, (640, 480, 3), dtype=np.uint8)
    with pytest.raises(EncodeError) as info:
        encode_to_window(noise, profile)
    assert info.value.code == "jpeg_too_large"


def test_flat_image_too_small_is_refused_not_padded():
    profile = load_profile("moe-480")
    flat = np.full((640, 480, 3), 200, np.uint8)
    with pytest.raises(EncodeError) as info:
        encode_to_window(flat, profile)
    assert info.value.code == "jpeg_too_small"


def test_density_is_written_and_inserted_when_missing(crop):
    raw = cv2.imencode(".jpg", crop)[1].tobytes()
    assert inspect_jpeg(set_jfif_density(raw, 350)).density == (350, 350)
    without_app0 = raw[:2] + raw[2 + 2 + struct.unpack(">H", raw[4:6])[0] :]
    assert inspect_jpeg(without_app0).density is None
    patched = set_jfif_density(without_app0, 300)
    info = inspect_jpeg(patched)
    assert info.density_units == 1 and info.density == (300, 300)


def _with_segment(data: bytes, marker: int, body: bytes) -> bytes:
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    app0_end = 2 + 2 + struct.unpack(">H", data[4:6])[0]
    return data[:app0_end] + segment + data[app0_end:]


@pytest.mark.parametrize(
    ("marker", "body"),
    [
        (0xE1, b"Exif\x00\x00MM\x00*"),
        (0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x/>"),
        (0xFE, b"made by"),
        (0xE2, b"ICC_PROFILE\x00"),
    ],
)
def test_verification_catches_metadata(crop, marker, body):
    profile = load_profile("moe-480")
    good = encode_to_window(crop, profile).data
    assert verify_jpeg(good, profile) == []
    problems = verify_jpeg(_with_segment(good, marker, body), profile)
    assert any("metadata" in p.en for p in problems)


def test_verification_catches_progressive_wrong_size_and_density(crop):
    profile = load_profile("moe-480")
    progressive = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1, cv2.IMWRITE_JPEG_QUALITY, 80])[
        1
    ].tobytes()
    problems = [p.en for p in verify_jpeg(set_jfif_density(progressive, 300), profile)]
    assert any("baseline" in p for p in problems)
    small = cv2.imencode(".jpg", crop[:600, :450], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    problems = [p.en for p in verify_jpeg(small, profile)]
    assert any("size 450×600" in p for p in problems)
    assert any("density" in p for p in problems)


def test_garbage_is_reported_not_crashed():
    profile = load_profile("moe-480")
    assert verify_jpeg(b"not a jpeg at all", profile)
    with pytest.raises(EncodeError):
        inspect_jpeg(b"\xff\xd8\x00\x00")
