"""Building the station's installers: the frozen bundle, the .deb, the NSIS installer, their checks.

Run through ``build/package`` (``build/package --help``). The standard library only, so that it runs
under any Python 3.11+ (the build venv, a release chroot, a Windows runner); PyInstaller itself runs
as a subprocess of the build venv's interpreter.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent.parent
ROOT = BUILD_DIR.parent
SPEC = BUILD_DIR / "station.spec"

# The UOS application id: the .deb package name, the /opt/apps directory, the desktop-file id.
APP_ID = "cn.zsks.nm.capturestation"  # reverse of nm.zsks.cn; to be confirmed with the authority
APP_NAME_ZH = "考籍注册采集站"
APP_NAME_EN = "Exam Registration Capture Station"
COMMAND = "station"


def build_base() -> Path:
    """The folder outside any checkout for build output: ``STATION_BUILD_ROOT`` or a system temp place."""
    override = os.environ.get("STATION_BUILD_ROOT")
    if override:
        return Path(override)
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "capture-station-build"
    return Path("/var/tmp/capture-station-build")


def default_work_root() -> Path:
    """PyInstaller's work and output folders for this checkout (checkouts on one machine never share)."""
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    return build_base() / f"{ROOT.name}-{tag}"
