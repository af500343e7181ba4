"""The chip photo beside the live preview and beside the captured photo, when a WLT decoder is set.

The decoder is a gcc-built stand-in with the vendor library's real signatures
(``tests/idcard/shims/wlt_shim.c``), loaded through ``STATION_WLT_DECODER`` like a vendor's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from station.capture.workflow import State
from station.domain.students import StudentStatus
from tests.qt.desk import close_desk, open_desk
from tests.support.system import require_tool

SHIM = Path(__file__).resolve().parents[1] / "idcard" / "shims" / "wlt_shim.c"


@pytest.fixture
def decoding_desk(qtbot, station_home, tmp_path):
    gcc = require_tool("gcc")
    library = tmp_path / "libwlt_shim.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(library), str(SHIM)], check=True, timeout=60)
    opened = open_desk(qtbot, station_home, wlt_decoder=str(library))
    yield opened
    close_desk(opened)


def test_chip_photo_beside_the_preview_and_the_capture(decoding_desk):
    desk = decoding_desk
    student = desk.students(StudentStatus.APPROVED)[0]
    desk.read_card(desk.chip_for(student))
    assert desk.window.chip_live.isVisible() and desk.window.chip_live.has_photo()
    desk.press(Qt.Key.Key_Space)
    desk.wait_state(State.REVIEW)
    assert desk.window.review.chip.isVisible() and desk.window.review.chip.has_photo()
    assert desk.window.review.captured.has_photo()


def test_a_chip_photo_that_cannot_be_decoded_says_why(decoding_desk):
    desk = decoding_desk
    student = desk.students(StudentStatus.APPROVED)[1]
    broken = b"\xff\xff" + desk.chip_for(student).raw_wlt[2:]  # the shim's "corrupt WLT"
    desk.read_card(desk.chip_for(student, raw_wlt=broken))
    assert desk.controller.state is State.PHOTO
    assert not desk.window.chip_live.has_photo() and desk.window.chip_live.picture.text()
    assert "Error" not in desk.window.chip_live.picture.text()
