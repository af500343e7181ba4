"""Where the project's data files live (code tables, profiles, demo data).

The repository keeps them in the top-level ``resources/`` folder; a frozen bundle (the installers,
``build/``) has no checkout and carries the same folder at its root, beside the packages. Another
copy is configured with ``set_resources_dir`` (the station's settings take it from
``STATION_RESOURCES``). Both ends of the wire read code tables through here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_BUNDLE_ROOT = getattr(sys, "_MEIPASS", None)  # set by the PyInstaller bootloader
_REPOSITORY_RESOURCES = (
    Path(_BUNDLE_ROOT) / "resources" if _BUNDLE_ROOT else Path(__file__).resolve().parents[2] / "resources"
)


_configured: Path | None = None


def set_resources_dir(directory: Path | None) -> None:
    global _configured
    _configured = Path(directory) if directory is not None else None


def resources_dir() -> Path:
    return _configured if _configured is not None else _REPOSITORY_RESOURCES


def resource_path(*parts: str) -> Path:
    """The path of one resource file; raises FileNotFoundError naming it when it is missing."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource file missing: {path}")
    return path
