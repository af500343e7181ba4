"""make_photo: conforming, verified JPEGs for every profile; refusals carry the failed checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from station.camera.crop import extract, plan_crop
from station.camera.encode import inspect_jpeg, verify_jpeg
from station.camera.errors import CameraError, NotConforming
from station.camera.faces import HaarFaceDetector
from station.camera.photo import make_photo
from station.camera.profiles import available_profiles, load_profile
from tests.camera.portraits import negative, positive

ALL_PROFILES = available_profiles()


def test_both_shipped_profiles_are_present():
    assert {"moe-480", "ga461-358"} <= set(ALL_PROFILES)


PROFILE_BACKDROPS = [(pid, name) for pid in ALL_PROFILES for name in load_profile(pid).backgrounds]


@pytest.mark.parametrize(("profile_id", "backdrop"), PROFILE_BACKDROPS)
def test_output_conforms_to_profile(profile_id, backdrop):
    profile = load_profile(profile_id)
    frame = positive(profile.backgrounds[backdrop])  # the desk's backdrop in each allowed colour
    photo = make_photo(frame, profile, background=backdrop)
    data = photo.jpeg_bytes
    info = inspect_jpeg(data)
    assert (info.width, info.height) == (profile.width, profile.height)
    assert profile.jpeg.min_bytes <= len(data) <= profile.jpeg.max_bytes
    assert profile.jpeg.quality_min <= photo.quality <= profile.jpeg.quality_max
    assert info.density_units == 1 and info.density == (profile.dpi, profile.dpi)
    assert info.frame_marker == 0xC0 and info.components == 3 and info.precision == 8
    assert info.app_markers == (0xE0,)
    assert not (info.has_exif or info.has_xmp or info.has_icc or info.has_comment)
    assert b"Exif" not in data[:2000]
    assert verify_jpeg(data, profile) == []
    assert photo.report.check("output_file").status == "pass"

    # Geometry measured afresh on the decoded output, not taken from the plan.
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    faces = HaarFaceDetector().detect(decoded)
    assert len(faces) == 1 and faces[0].eyes_located
    face = faces[0]
    eye_line = face.eye_mid[1]
    tolerance = 0.05 * profile.height  # detector jitter between the source and the small output
    assert profile.eye_line.min - tolerance <= eye_line <= profile.eye_line.max + tolerance
    assert profile.face_width.min * 0.9 <= face.face_width <= profile.face_width.max * 1.1
    assert abs(face.eye_mid[0] - profile.eye_mid_x.target) <= profile.eye_mid_x.max - profile.eye_mid_x.target
    # And the plan itself sits inside the ranges exactly.
    placement = photo.report.placement
    assert profile.eye_line.contains(placement.eye_line)
    assert profile.face_width.contains(placement.face_width)
    assert profile.crown_gap.contains(placement.crown_gap)


def test_output_is_a_crop_of_the_source_not_an_edit():
    """Every output pixel comes from the source frame: no mirror, rotation or synthetic border."""
    profile = load_profile("moe-480")
    frame = positive()
    photo = make_photo(frame, profile)
    placement = photo.report.placement
    decoded = cv2.imdecode(np.frombuffer(photo.jpeg_bytes, np.uint8), cv2.IMREAD_COLOR).astype(np.float32)
    x0, y0, x1, y1 = placement.source_rect(profile)
    reference = cv2.resize(
        frame[round(y0) : round(y1), round(x0) : round(x1)], (profile.width, profile.height)
    )
    difference = np.abs(decoded - reference.astype(np.float32)).mean()
    assert difference < 6.0
    mirrored = np.abs(decoded - reference[:, ::-1].astype(np.float32)).mean()
    assert mirrored > 3 * difference


@pytest.mark.parametrize("kind", ["off_centre", "blurred", "two_faces", "no_face"])
def test_non_conforming_input_is_refused_with_the_failed_checks(kind):
    with pytest.raises(NotConforming) as info:
        make_photo(negative(kind), "moe-480")
    report = info.value.report
    assert not report.ok and report.failed()
    assert info.value.code == "not_conforming"


def test_crop_that_would_need_padding_is_refused():
    profile = load_profile("moe-480")
    frame = negative("off_centre")
    face = HaarFaceDetector().detect(frame)[0]
    placement = plan_crop(face, None, (frame.shape[1], frame.shape[0]), profile)
    assert not placement.fits and placement.overflow["left"] > 0
    with pytest.raises(CameraError) as info:
        extract(frame, placement, profile)
    assert info.value.code == "crop_outside_frame"


def test_unknown_profile_is_a_typed_error():
    with pytest.raises(CameraError) as info:
        make_photo(positive(), "no-such-profile")
    assert info.value.code == "profile_unknown"


def test_capture_reuses_the_live_analysis_of_a_downscaled_copy():
    """The session analyses a copy at most 1280 px wide; the photo is cut from the full frame."""
    from station.camera.quality import analyze

    profile = load_profile("moe-480")
    frame = positive()
    small = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA)
    live = analyze(small, profile, source_scale=1.5)
    photo = make_photo(frame, profile, report=live)
    direct = make_photo(frame, profile)
    a = cv2.imdecode(np.frombuffer(photo.jpeg_bytes, np.uint8), cv2.IMREAD_COLOR).astype(np.float32)
    b = cv2.imdecode(np.frombuffer(direct.jpeg_bytes, np.uint8), cv2.IMREAD_COLOR).astype(np.float32)
    assert np.abs(a - b).mean() < 12.0  # same crop within detector jitter
    assert verify_jpeg(photo.jpeg_bytes, profile) == []
    # A report that does not belong to this frame is not trusted: the frame is analysed afresh.
    refused = analyze(negative("off_centre"), profile)
    assert make_photo(frame, profile, report=analyze(small, profile)).report.ok
    with pytest.raises(NotConforming):
        make_photo(negative("off_centre"), profile, report=refused)
