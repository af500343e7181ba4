"""Freeze the station with PyInstaller into one folder, outside the checkout.

``build_bundle`` runs ``python -m PyInstaller build/station.spec`` with the build venv's interpreter,
work and output folders under ``work_root`` (never the source tree), and the settings that make two
builds of one commit byte-identical (packaging.md §6): a fixed hash seed and SOURCE_DATE_EPOCH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stationbuild import BUILD_DIR, ROOT, SPEC


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def venv_python() -> Path:
    """The interpreter of the build venv: ``STATION_BUILD_PYTHON``, the running one if it has
    PyInstaller, else the checkout's ``.venv``."""
    override = os.environ.get("STATION_BUILD_PYTHON")
    if override:
        return Path(override)
    try:
        import PyInstaller  # noqa: F401

        return Path(sys.executable)
    except ImportError:
        pass
    candidate = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not candidate.exists():
        raise BuildError(
            "no build venv: run `./dev test --co -q` once (it creates .venv from the lock), "
            "or set STATION_BUILD_PYTHON"
        )
    return candidate


def package_version(python: Path) -> str:
    """``station.__version__`` as the build venv sees it."""
    done = subprocess.run(
        [str(python), "-c", "import station; print(station.__version__)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise BuildError(f"cannot import station with {python}: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def source_date_epoch() -> str:
    """The last commit's time (reproducible builds); now when there is no git."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True
        )
    except FileNotFoundError:  # no git (a release chroot gets the value from the host)
        return "1700000000"
    value = done.stdout.strip()
    return value if done.returncode == 0 and value.isdigit() else "1700000000"


def build_bundle(work_root: Path, python: Path | None = None, *, quiet: bool = True) -> Path:
    """Run PyInstaller; return the bundle folder (``<work_root>/dist/station``)."""
    python = python or venv_python()
    work_root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the checkout, not even caches
        "SOURCE_DATE_EPOCH": source_date_epoch(),
        # PyInstaller's binary cache lives with this build, not in the user's home.
        "PYINSTALLER_CONFIG_DIR": str(work_root / "pyinstaller-config"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    command = [
        str(python), "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean",
        "--workpath", str(work_root / "work"), "--distpath", str(work_root / "dist"),
        "--log-level", "WARN" if quiet else "INFO",
    ]  # fmt: skip
    log = work_root / "pyinstaller.log"
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=BUILD_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BuildError(f"PyInstaller failed (log: {log}):\n{tail}")
    bundle = work_root / "dist" / "station"
    if not (bundle / ("station.exe" if os.name == "nt" else "station")).exists():
        raise BuildError(f"PyInstaller finished but {bundle} holds no station executable")
    return bundle
