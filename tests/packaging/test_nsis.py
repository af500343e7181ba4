"""The Windows installer script compiles with makensis (warnings are errors) around a stub payload,
and the installer it makes carries the payload and the uninstaller. Running it needs Windows (see
build/windows/README.md); the Windows workflow builds it around the real bundle."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stationbuild import ROOT, nsis
from tests.support.system import require_tool


@pytest.fixture(scope="module")
def icon(tmp_path_factory):
    """The station's .ico, rendered from the SVG as the spec renders it (PNG-compressed entries)."""
    out = tmp_path_factory.mktemp("icons")
    subprocess.run(
        [sys.executable, "-m", "stationbuild.icons", str(ROOT / "resources/icons/station.svg"), str(out)],
        check=True,
        cwd=ROOT / "build",
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    return out / "station.ico"


def test_the_installer_compiles_and_carries_the_payload_and_uninstaller(tmp_path, icon):
    require_tool("makensis", "nsis")
    seven_zip = require_tool("7zz", "7zip")
    stub = nsis.stub_bundle(tmp_path / "stub", icon)
    installer = nsis.build_installer(stub, "0.1.0", tmp_path / "out")
    assert installer.name == "station-0.1.0-setup.exe"
    assert installer.read_bytes()[:2] == b"MZ"
    listing = subprocess.run([seven_zip, "l", str(installer)], capture_output=True, text=True, check=True)
    assert "NSIS-3 Unicode 64-bit" in listing.stdout
    for name in ("station.exe", "stationw.exe", "_internal/base_library.zip",
                 "_internal/resources/icons/station.ico", "uninstall.exe"):  # fmt: skip
        assert name in listing.stdout, name


def test_the_script_refuses_to_compile_without_a_version(tmp_path, icon):
    tool = require_tool("makensis", "nsis")
    stub = nsis.stub_bundle(tmp_path / "stub", icon)
    done = subprocess.run(
        [tool, "-WX", "-V2", "-INPUTCHARSET", "UTF8", f"-DBUNDLE_DIR={stub}", str(nsis.NSI)],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "define VERSION" in done.stdout + done.stderr


def test_a_missing_payload_is_a_clear_error(tmp_path):
    require_tool("makensis", "nsis")
    with pytest.raises(RuntimeError, match="makensis failed"):
        nsis.build_installer(tmp_path / "no-such-bundle", "0.1.0", tmp_path / "out")


def test_version_quad():
    assert nsis.version_quad("0.1.0") == "0.1.0.0"
    assert nsis.version_quad("1.2.3.4") == "1.2.3.4"
    assert nsis.version_quad("2") == "2.0.0.0"
