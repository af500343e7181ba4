"""The Windows installer: compile build/windows/station.nsi around a bundle with makensis.

makensis runs on Linux too (Debian package ``nsis``), so the script is compiled here in the tests
against a stub payload (``stub_bundle``); the real payload is the Windows PyInstaller folder, which
only a Windows runner can build (.github/workflows/windows.yml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stationbuild import BUILD_DIR

NSI = BUILD_DIR / "windows" / "station.nsi"


def makensis() -> str | None:
    found = shutil.which("makensis")
    if found is None and os.name == "nt":
        for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
            candidate = Path(base or "", "NSIS", "makensis.exe")
            if candidate.exists():
                return str(candidate)
    return found


def version_quad(version: str) -> str:
    """The four-number form Windows version resources need (0.1.0 -> 0.1.0.0)."""
    numbers = [part for part in version.split(".") if part.isdigit()][:4]
    return ".".join(numbers + ["0"] * (4 - len(numbers)))


def build_installer(bundle: Path, version: str, out_dir: Path, *, icon: Path | None = None) -> Path:
    tool = makensis()
    if tool is None:
        raise FileNotFoundError("makensis not found (Debian package nsis; on Windows: choco install nsis)")
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"station-{version}-setup.exe"
    command = [
        tool, "-WX", "-V2", "-INPUTCHARSET", "UTF8",
        f"-DVERSION={version}", f"-DVERSION_QUAD={version_quad(version)}",
        f"-DBUNDLE_DIR={bundle}", f"-DOUTFILE={output}",
    ]  # fmt: skip
    if icon is not None:
        command.append(f"-DICON={icon}")
    done = subprocess.run([*command, str(NSI)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"makensis failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return output


def stub_bundle(target: Path, icon: Path) -> Path:
    """A stand-in for the Windows PyInstaller folder: the two executables' names, an icon, a library."""
    internal = target / "_internal"
    (internal / "resources/icons").mkdir(parents=True, exist_ok=True)
    for name in ("station.exe", "stationw.exe"):
        (target / name).write_bytes(b"MZ stub: the Windows bundle is built on a Windows runner\n")
    (internal / "base_library.zip").write_bytes(b"stub\n")
    shutil.copy2(icon, internal / "resources/icons/station.ico")
    return target
