"""Frame sources: spec parsing, image folders, the simulated camera, typed errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from station.camera.errors import SourceError
from station.camera.opening import open_source
from station.camera.simulated import SimulatedCamera, astronaut_cutout
from station.camera.sources import (
    CameraSource,
    ImageFolderSource,
    SourceState,
    StreamSource,
    VideoFileSource,
    camera_index_for_name,
)


def test_open_source_specs():
    assert isinstance(open_source("camera:0"), CameraSource)
    assert open_source("camera:Integrated Webcam").device == "Integrated Webcam"
    assert isinstance(open_source("file:/tmp/x.avi"), VideoFileSource)
    assert isinstance(open_source("folder:/tmp"), ImageFolderSource)
    assert isinstance(open_source("url:rtsp://127.0.0.1:1/none"), StreamSource)
    sim = open_source("sim:640x480")
    assert isinstance(sim, SimulatedCamera) and sim.size == (640, 480)
    with pytest.raises(SourceError) as info:
        open_source("floppy:a")
    assert info.value.code == "source_spec_invalid"


def test_unavailable_devices_give_typed_errors(tmp_path):
    with pytest.raises(SourceError) as info:
        camera_index_for_name("no camera is called this")
    assert info.value.code == "camera_not_found"
    with pytest.raises(SourceError):
        VideoFileSource(tmp_path / "none.avi").open()
    with pytest.raises(SourceError) as info:
        ImageFolderSource(tmp_path).open()
    assert info.value.code == "folder_empty"


def test_image_folder_in_name_order_skipping_unreadable(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    (tmp_path / "01b.jpg").write_bytes(b"not an image")
    source = ImageFolderSource(tmp_path, loop=False, realtime=False)
    source.open()
    values = []
    while (frame := source.read()) is not None:
        values.append(int(frame[0, 0, 0]))
    assert values == [0, 50, 100]
    assert source.state == SourceState.ENDED


def test_simulated_camera_is_a_real_photo_with_motion_and_noise():
    cutout = astronaut_cutout()
    assert cutout.alpha.max() == pytest.approx(1.0, abs=0.01) and 0.2 < cutout.alpha.mean() < 0.8
    camera = SimulatedCamera(size=(640, 360), realtime=False, seed=3)
    camera.open()
    frames = [camera.read().astype(np.int16) for _ in range(40)]
    camera.close()
    assert camera.state == SourceState.CLOSED
    assert all(f.shape == (360, 640, 3) for f in frames)
    corner = frames[0][:20, :20]
    assert 0.5 < corner.std() < 5  # sensor noise on the plain backdrop
    drift = [np.abs(frames[0] - f).mean() for f in frames[1:]]
    assert max(drift) > min(drift) + 0.5  # the subject sways a little


def test_states_are_reported_to_listeners(tmp_path):
    seen = []
    camera = SimulatedCamera(size=(320, 180), realtime=False)
    camera.subscribe(seen.append)
    camera.open()
    camera.close()
    assert seen == [SourceState.OPEN, SourceState.CLOSED]
