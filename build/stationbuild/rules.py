"""What goes into the frozen bundle and what deliberately stays out (read by ``station.spec``).

The bundle carries the station and its training demo (simulated reader and camera, the embedded SQLite
reference registry). It leaves out:
* Python packages the station never imports at run time: test tools that share the build venv, the
  production registry's PostgreSQL drivers, scikit-image's SciPy stack (the demo needs only its portrait
  file), optional extras of libraries;
* Qt modules, plugins and translations a widgets application does not use;
* on Linux, system library families that must come from the target system, never half from the bundle
  (packaging.md §0.3: a bundled libxkbcommon beside the system's libxkbcommon-x11 crashed). They become
  .deb ``Depends``. Libraries those families pull in (zlib, expat, libffi, libpng...) leave with them,
  so the system copies always meet their own dependencies.
"""

from __future__ import annotations

import re

# Alembic script directories: Alembic reads env.py and the revision scripts as files, so they ship as
# source beside the frozen modules (the station's store and the demo's embedded registry both migrate).
MIGRATION_DIRS = ("station/store/migrations", "sync/registry/migrations")

EXCLUDED_MODULES = [
    # Test and development tools installed in the same venv.
    "pytest", "_pytest", "pytestqt", "hypothesis", "hypothesis_graphql", "schemathesis", "atheris",
    "ruff", "importlinter", "grimp", "setuptools", "pkg_resources", "distutils", "wheel", "pip",
    # The production registry's PostgreSQL drivers (the demo's registry is SQLite).
    "psycopg", "psycopg_binary", "psycopg_pool", "psycopg2", "asyncpg", "pg8000",
    # scikit-image and its SciPy stack: the simulated camera reads only the portrait file.
    "skimage", "scipy", "networkx", "imageio", "tifffile", "lazy_loader", "PIL",
    # Optional extras other libraries import when present (pretty printing, YAML log configs...).
    "IPython", "rich", "pygments", "markdown_it", "yaml", "tkinter", "_tkinter",
    # GPL-licensed or terminal-only parts of the standard library the station never uses.
    "readline", "curses", "_curses", "dbm", "_gdbm",
    # Qt modules: the station is a QtWidgets application (QtDBus and QtOpenGL stay as libraries
    # where QtGui links them; their Python modules are not needed).
    "PySide6.QtNetwork", "PySide6.QtDBus", "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtDesigner", "PySide6.QtHelp",
    "PySide6.QtUiTools", "PySide6.QtConcurrent", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel", "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
]  # fmt: skip

# Qt plugins kept, by plugin group and by name without "lib" prefix and file extension. Every other
# group (eglfs/linuxfb/vnc/wayland platforms, tls, networkinformation, sqldrivers, generic input,
# GTK platform theme...) is dropped; X11 sessions, XWayland included, use xcb.
QT_PLUGINS_KEPT = {
    "platforms": {"qxcb", "qoffscreen", "qminimal", "qwindows"},
    "platformthemes": {"qxdgdesktopportal"},
    "platforminputcontexts": {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"},
    "imageformats": {"qjpeg", "qico", "qsvg"},
    "iconengines": {"qsvgicon"},
    "xcbglintegrations": {"qxcb-egl-integration", "qxcb-glx-integration"},
    "styles": {"qmodernwindowsstyle", "qwindowsvistastyle"},
    # The first-run wizard prints the recovery sheet (QPrintDialog): CUPS on Linux, the spooler on Windows.
    "printsupport": {"cupsprintersupport", "windowsprintersupport"},
}

# Qt's own translations kept: standard dialogs and buttons in Chinese (确定/取消).
QT_TRANSLATIONS_KEPT = {"qt_zh_CN.qm", "qtbase_zh_CN.qm"}

# The OpenCV Haar cascades the face detector loads (station/camera/faces.py).
HAAR_CASCADES = ["haarcascade_frontalface_default.xml", "haarcascade_eye.xml"]

# Linux system library families left out of the bundle: soname pattern -> the Debian dependency
# that provides it on the target. Kept in the bundle: the small xcb-util helpers Qt >= 6.5 needs
# (xcb-cursor, icccm, keysyms, image, render-util, util), which many desktops do not install.
SYSTEM_FAMILIES: list[tuple[str, str]] = [
    (r"libX11(-xcb)?\.so\.\d+", "libx11-6, libx11-xcb1"),
    (r"libxcb\.so\.\d+", "libxcb1"),
    (r"libxcb-(randr|shape|shm|sync|xfixes|xkb|render|glx|xinerama|xinput|present|dri2|dri3)\.so\.\d+",
     "libxcb-randr0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-xfixes0, libxcb-xkb1, "
     "libxcb-render0, libxcb-glx0"),
    (r"libxkbcommon(-x11)?\.so\.\d+", "libxkbcommon0, libxkbcommon-x11-0"),
    (r"lib(GL|EGL|GLX|GLdispatch|OpenGL|gbm|drm)\.so(\.\d+)*", "libgl1, libegl1"),
    (r"libfontconfig\.so\.\d+", "libfontconfig1"),
    (r"libfreetype\.so\.\d+", "libfreetype6"),
    (r"lib(glib|gobject|gio|gmodule|gthread)-2\.0\.so\.\d+", "libglib2.0-0 | libglib2.0-0t64"),
    (r"libdbus-1\.so\.\d+", "libdbus-1-3"),
    (r"libcups\.so\.\d+", "libcups2 | libcups2t64"),
    # The C++ runtime: a bundled copy older than the system's breaks the system's Mesa GL drivers.
    (r"lib(stdc\+\+|gcc_s)\.so\.\d+", "libstdc++6, libgcc-s1 | libgcc1"),
]  # fmt: skip

# Always needed on the target, whatever the bundle holds: the smart-card stack (pyscard dlopens
# libpcsclite.so.1 at run time, so PyInstaller never sees it) and a CJK font (a bullseye installed
# without recommends showed the desk as boxes).
BASE_DEPENDS = ["pcscd", "libpcsclite1", "fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei"]
RECOMMENDS = ["libccid"]


def is_system_library(soname: str) -> bool:
    return any(re.fullmatch(pattern, soname) for pattern, _ in SYSTEM_FAMILIES)


def system_depends() -> list[str]:
    """The .deb dependencies standing for the families left out (each once, in order)."""
    seen: dict[str, None] = {}
    for _, depends in SYSTEM_FAMILIES:
        for item in depends.split(", "):
            seen.setdefault(item, None)
    return list(seen)


def qt_plugin_kept(group: str, filename: str) -> bool:
    name = filename.removeprefix("lib")
    for suffix in (".so", ".dll", ".dylib"):
        name = name.removesuffix(suffix)
    return name in QT_PLUGINS_KEPT.get(group, ())


# Libraries that leave with a family but stay bundled: the bundle links them itself and their soname
# differs between distributions (libffi.so.7 on Debian 11, .8 on Debian 12), so the target may not
# have the build machine's. Their sonames differ from the system's copy, so the two never mix.
KEEP_BUNDLED = [r"libffi\.so\.\d+"]

# Windows files left out: Qt's software OpenGL fallback (20 MB) serves only OpenGL/Quick content.
WINDOWS_DROPPED = {"opengl32sw.dll"}


def keep_bundled(soname: str) -> bool:
    return any(re.fullmatch(pattern, soname) for pattern in KEEP_BUNDLED)
