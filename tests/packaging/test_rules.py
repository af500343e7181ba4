"""The bundle's declared contents: what stays with the system, what stays in the bundle, Depends."""

from __future__ import annotations

from pathlib import Path

from stationbuild import deb, elf, rules


def test_system_families_leave_the_bundle_but_the_xcb_helpers_stay():
    for soname in ("libxkbcommon-x11.so.0", "libX11.so.6", "libxcb.so.1", "libxcb-randr.so.0",
                   "libEGL.so.1", "libfontconfig.so.1", "libglib-2.0.so.0", "libdbus-1.so.3",
                   "libstdc++.so.6", "libcups.so.2"):  # fmt: skip
        assert rules.is_system_library(soname), soname
    for soname in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libQt6Gui.so.6",
                   "libpython3.11.so.1.0", "libffi.so.8"):  # fmt: skip
        assert not rules.is_system_library(soname), soname
    assert rules.keep_bundled("libffi.so.7") and not rules.keep_bundled("libz.so.1")


def test_qt_plugins_are_kept_by_group_and_name_on_both_platforms():
    assert rules.qt_plugin_kept("platforms", "libqxcb.so")
    assert rules.qt_plugin_kept("platforms", "qwindows.dll")
    assert rules.qt_plugin_kept("imageformats", "libqjpeg.so")
    assert not rules.qt_plugin_kept("platforms", "libqwayland-egl.so")
    assert not rules.qt_plugin_kept("platformthemes", "libqgtk3.so")
    assert not rules.qt_plugin_kept("tls", "libqopensslbackend.so")
    assert rules.qt_plugin_kept("printsupport", "libcupsprintersupport.so")  # the recovery sheet


def test_depends_carry_the_floors_and_names_that_exist_on_uos_v20():
    floors = {
        "GLIBC": elf.Floor((2, 31), None),
        "GLIBCXX": elf.Floor((3, 4, 25), None),
    }
    depends = deb.package_depends(floors)
    assert depends[0] == "libc6 (>= 2.31)"
    assert "libstdc++6 (>= 8)" in depends
    assert {"pcscd", "libpcsclite1", "libxkbcommon-x11-0", "libegl1", "libgl1"} <= set(depends)
    # Debian 10 (UOS V20's base) calls libgcc-s1 libgcc1; Debian 13 renamed glib for time64.
    assert "libgcc-s1 | libgcc1" in depends
    assert "libglib2.0-0 | libglib2.0-0t64" in depends
    assert "fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei" in depends  # officers read Chinese
    assert len(depends) == len(set(depends))


def test_every_alembic_script_directory_ships_as_source():
    """A revision folder missing from the bundle fails only at run time, in the frozen app (ImportError)."""
    root = Path(__file__).resolve().parents[2]
    found = {
        str(env.parent.relative_to(root))
        for package in ("station", "sync")
        for env in (root / package).rglob("env.py")
        if (env.parent / "script.py.mako").exists()
    }
    assert found == set(rules.MIGRATION_DIRS)
