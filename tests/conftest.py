"""Suite-wide test settings: Qt offscreen, a private STATION_HOME, no real keyring."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tests never touch the developer's real credential store.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(autouse=True)
def _private_station_home(tmp_path_factory, monkeypatch):
    """Every test has a throwaway STATION_HOME: nothing (logs, crash reports) lands in a real one."""
    monkeypatch.setenv("STATION_HOME", str(tmp_path_factory.mktemp("default-home")))


@pytest.fixture
def station_home(tmp_path, monkeypatch):
    """A fresh station data directory, as STATION_HOME points the station at it."""
    home = tmp_path / "station-home"
    home.mkdir()
    monkeypatch.setenv("STATION_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _language_reset():
    """Tests that switch the message language (``--lang en``) must not leak it into the next test."""
    from station import i18n

    yield
    i18n.set_language("zh")
