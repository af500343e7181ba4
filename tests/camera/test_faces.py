"""Face geometry, detector selection and typed errors for missing models or cameras."""

from __future__ import annotations

import math

import pytest

from station.camera.errors import CameraError, SourceError
from station.camera.faces import Face, HaarFaceDetector, YuNetFaceDetector, create_detector, set_default_model
from station.camera.sources import CameraSource
from tests.camera.portraits import negative, positive


def test_haar_finds_the_real_face_and_both_eyes():
    faces = HaarFaceDetector().detect(positive())
    assert len(faces) == 1
    face = faces[0]
    assert face.eyes_located and 110 < face.ied < 150
    (lx, ly), (rx, ry) = face.eyes
    assert lx < rx and abs(ly - ry) < 0.1 * face.ied
    assert face.x < face.eye_mid[0] < face.x + face.w


def test_tilt_is_measured_as_roll():
    face = HaarFaceDetector().detect(negative("rotated"))[0]
    assert face.eyes_located and 8 < abs(face.roll_degrees) < 17


def test_landmark_geometry_from_five_points():
    frontal = Face(0, 0, 200, 200, 0.99, (70, 80), (130, 80), (100, 113), (75, 140), (125, 140), 1.0, "yunet")
    assert frontal.ied == pytest.approx(60)
    assert frontal.roll_degrees == pytest.approx(0)
    yaw, pitch = frontal.yaw_pitch_degrees()
    assert abs(yaw) < 1 and abs(pitch) < 5
    turned = Face(0, 0, 200, 200, 0.99, (70, 80), (130, 80), (112, 113), (75, 140), (125, 140), 1.0, "yunet")
    assert turned.yaw_pitch_degrees()[0] > 10
    tilted = Face(0, 0, 200, 200, 0.99, (70, 80), (130, 80 + 60 * math.tan(math.radians(6))))
    assert tilted.roll_degrees == pytest.approx(6, abs=0.01)
    unknown = Face(0, 0, 200, 200, 1.0)
    assert not unknown.eyes_located and unknown.yaw_pitch_degrees() == (None, None)


def test_yunet_selected_by_configuration_with_typed_errors(tmp_path):
    assert isinstance(create_detector(), HaarFaceDetector)
    set_default_model(tmp_path / "face_detection_yunet_2023mar.onnx")  # as the settings configure it
    try:
        with pytest.raises(CameraError) as info:
            create_detector()
    finally:
        set_default_model(None)
    assert info.value.code == "detector_unavailable"
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx model")
    with pytest.raises(CameraError) as info:
        YuNetFaceDetector(broken)
    assert info.value.code == "detector_unavailable" and "broken.onnx" in info.value.message.en


def test_missing_haar_cascades_are_a_typed_error(tmp_path):
    with pytest.raises(CameraError) as info:
        HaarFaceDetector(cascade_dir=str(tmp_path))
    assert info.value.code == "detector_unavailable"


def test_camera_that_is_not_there_is_a_typed_error():
    with pytest.raises(SourceError) as info:
        CameraSource(97).open()
    assert info.value.code == "camera_unavailable"
