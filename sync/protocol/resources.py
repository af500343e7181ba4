"""Where the project's data files live (code tables, profiles, demo data).

The repository keeps them in the top-level ``resources/`` folder. An installed bundle may move that
folder: ``STATION_RESOURCES`` then points at it. Both ends of the wire read code tables through here.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPOSITORY_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def resources_dir() -> Path:
    override = os.environ.get("STATION_RESOURCES")
    return Path(override) if override else _REPOSITORY_RESOURCES


def resource_path(*parts: str) -> Path:
    """The path of one resource file; raises FileNotFoundError naming it when it is missing."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource file missing: {path}")
    return path
