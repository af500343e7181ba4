"""Settings and opened stations for tests, built the way the composition root builds them."""

from __future__ import annotations

from pathlib import Path

from station.app import Context, Startup, StationApp
from station.config import Settings, load_settings


def settings_for(home: Path, **environment: str) -> Settings:
    """The settings of the station at ``home``, with ``STATION_*`` variables given as keywords."""
    return load_settings({f"STATION_{name.upper()}": value for name, value in environment.items()}, home=home)


def open_station(home: Path, **environment: str) -> StationApp:
    return StationApp.open(settings_for(home, **environment))


def context_for(home: Path | None = None, **environment: str) -> Context:
    """A command's ``Context`` for the station at ``home``, without installing process-wide hooks."""
    settings = settings_for(home, **environment) if home is not None else load_settings({})
    return Context(Startup(settings))
