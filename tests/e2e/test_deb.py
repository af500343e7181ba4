"""The Linux installer end to end: ``build/package deb`` builds the .deb from the build venv, the
package extracts into a temporary root, and the frozen station in it runs headless.

One slow test (about 3 minutes on 2 cores: PyInstaller, the package, the walkthrough): all in tmp folders,
nothing into the checkout, and nothing is cached between runs (PyInstaller's cache is per build).
It checks the package (fields, UOS layout, links, desktop entry), the bundle (every ELF file resolves
with the bundle's library folder first, the glibc floor equals the package's libc6 dependency, what
must stay out stays out) and runs the smoke test (build/stationbuild/smoke.py): ``--version``,
``doctor``, the demo, stderr free of warnings outside the allowlist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import pytest

import station
from stationbuild import APP_ID, ROOT, elf, smoke
from tests.support.system import require_tool

# Never in the bundle: Python packages the station does not run (the PostgreSQL driver, test tools,
# scikit-image's SciPy stack) and libraries by name prefix (QML/Quick/WebEngine, the GTK theme,
# Wayland/eglfs/VNC platforms, the system families left to the target).
FORBIDDEN_PACKAGES = ["psycopg", "psycopg_binary", "pytest", "_pytest", "hypothesis", "schemathesis",
                      "scipy", "skimage", "PIL", "networkx", "yaml"]  # fmt: skip
FORBIDDEN_LIBRARIES = [
    "libQt6Qml", "libQt6Quick", "libQt6WebEngine", "libQt6Network", "libqgtk3", "libqwayland",
    "libqeglfs", "libqvnc", "libxkbcommon", "libX11", "libxcb.so", "libGL", "libEGL", "libfontconfig",
    "libfreetype.so", "libglib-2.0", "libdbus-1", "libstdc++", "libz.so", "libreadline",
]  # fmt: skip
REQUIRED = [
    "libxcb-cursor.so.0", "qt_zh_CN.qm", "qtbase_zh_CN.qm", "haarcascade_frontalface_default.xml",
    "haarcascade_eye.xml", "astronaut.png", "env.py", "0001_initial.py", "inner_mongolia_divisions.csv",
    "moe-480.json", "station-256.png", "libqxcb.so", "libqoffscreen.so", "libcupsprintersupport.so",
    "libQt6PrintSupport.so.6",
]  # fmt: skip


def checkout_state() -> set[str]:
    """Everything git sees in the checkout, ignored files included (byte-code caches aside)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line for line in done.stdout.splitlines() if "__pycache__" not in line}


@pytest.mark.slow
def test_the_deb_installs_a_station_that_runs_headless(tmp_path):
    for tool, package in (("objdump", "binutils"), ("ldd", "libc-bin"), ("dpkg-deb", "dpkg"),
                          ("Xvfb", "xvfb"), ("desktop-file-validate", "desktop-file-utils")):  # fmt: skip
        require_tool(tool, package)
    version = station.__version__
    before = checkout_state()
    built = subprocess.run(
        [sys.executable, str(ROOT / "build/package"), "deb", "--work", str(tmp_path / "work"),
         "--out", str(tmp_path / "out"), "--xz-level", "0"],
        capture_output=True, text=True, env={**os.environ, "STATION_BUILD_PYTHON": sys.executable},
        timeout=1200,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    assert checkout_state() == before, "the build wrote into the checkout"

    deb = tmp_path / "out" / f"station_{version}_amd64.deb"
    fields = dict(
        line.split(": ", 1)
        for line in subprocess.run(
            ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if ": " in line and not line.startswith(" ")
    )
    assert fields["Package"] == APP_ID and fields["Version"] == version
    assert fields["Architecture"] == "amd64"
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True, check=True).stdout.split()
    assert "data.tar.xz" in members, members  # UOS V20's dpkg reads xz, not zstd
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends[0].startswith("libc6 (>= ")
    assert {"pcscd", "libpcsclite1", "libxkbcommon-x11-0", "libegl1", "libfontconfig1", "libdbus-1-3"} <= set(
        depends
    )

    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    app = root / "opt/apps" / APP_ID
    files = app / "files"
    assert os.readlink(root / "usr/bin/station") == f"/opt/apps/{APP_ID}/files/station"
    desktop = app / f"entries/applications/{APP_ID}.desktop"
    assert os.readlink(root / f"usr/share/applications/{APP_ID}.desktop") == f"/{desktop.relative_to(root)}"
    assert (app / f"entries/icons/hicolor/256x256/apps/{APP_ID}.png").is_file()
    assert (app / f"entries/icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    validated = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert validated.returncode == 0 and not validated.stdout.strip(), validated.stdout
    info = json.loads((app / "info").read_text())
    assert info["appid"] == APP_ID and info["version"] == version and info["permissions"]["camera"]

    # The bundle: every library resolves, the floor is the package's, what stays out stays out.
    elf_files = elf.elf_files(files)
    assert elf.unresolved(elf_files, [files / "_internal"]) == []
    assert depends[0] == f"libc6 (>= {elf.floors(elf_files)['GLIBC'].text})"
    names = [path.name for path in files.rglob("*")]
    assert [n for n in FORBIDDEN_PACKAGES if (files / "_internal" / n).exists()] == []
    assert [n for n in names if n.startswith(tuple(FORBIDDEN_LIBRARIES))] == []
    assert [n for n in REQUIRED if n not in names] == []
    internal = files / "_internal"
    extensions = ["sqlcipher3/_sqlite3.*.so", "smartcard/scard/_scard.*.so", "cv2/cv2.abi3.so"]
    assert [pattern for pattern in extensions if not list(internal.glob(pattern))] == []
    translations = {p.name for p in files.rglob("translations/*.qm")}
    assert translations == {"qt_zh_CN.qm", "qtbase_zh_CN.qm"}

    # The frozen program, headless: the smoke test, then the launcher through a symlink (as /usr/bin).
    report = smoke.run_smoke(files / "station", version, tmp_path / "smoke")
    assert report.ok, report.to_json()
    screenshots = sorted((tmp_path / "smoke/screenshots").glob("*.png"))
    image = cv2.imread(str(screenshots[0]))
    assert image is not None and image.shape[1] >= 800 and image.std() > 10  # a drawn window, not blank
    link = tmp_path / "bin/station"
    link.parent.mkdir()
    link.symlink_to(files / "station")
    through_link = subprocess.run([str(link), "--version"], capture_output=True, text=True, timeout=60)
    assert through_link.stdout.strip() == f"station {version}", through_link.stderr
