"""The desk fixture for the widget tests (``tests.qt.desk``)."""

from __future__ import annotations

import pytest

from tests.qt.desk import close_desk, open_desk


@pytest.fixture
def desk(qtbot, station_home):
    opened = open_desk(qtbot, station_home)
    yield opened
    close_desk(opened)
