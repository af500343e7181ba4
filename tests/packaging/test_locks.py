"""The two lock files agree: the Windows lock (made with the Linux lock as constraints) pins every
shared package at the same version, and each header names the command that made it."""

from __future__ import annotations

import re

from stationbuild import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)", re.MULTILINE)


def pins(name: str) -> dict[str, str]:
    return {k.lower(): v for k, v in PIN.findall((ROOT / name).read_text())}


def test_windows_lock_pins_shared_packages_at_the_linux_versions():
    linux, windows = pins("requirements.lock"), pins("requirements-windows.lock")
    shared = set(linux) & set(windows)
    assert {"pyside6-essentials", "opencv-python-headless", "pyinstaller", "pyscard"} <= shared
    assert {name: (linux[name], windows[name]) for name in shared if linux[name] != windows[name]} == {}
    # PyInstaller's Windows-only dependencies are in the Windows lock.
    assert {"pefile", "pywin32-ctypes"} <= set(windows)


def test_lock_headers_name_the_same_extras_and_their_platform():
    linux = (ROOT / "requirements.lock").read_text().splitlines()[1]
    windows = (ROOT / "requirements-windows.lock").read_text().splitlines()[1]
    extras = re.findall(r"--extra \S+", linux)
    assert extras and extras == re.findall(r"--extra \S+", windows)
    assert "--python-platform x86_64-manylinux_2_28" in linux
    assert "--python-platform x86_64-pc-windows-msvc" in windows
    assert "--constraint requirements.lock" in windows
