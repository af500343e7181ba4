"""The release build: the .deb built inside the oldest Debian that debootstrap can make here.

A bundle runs only where glibc is at least as new as where it was built (packaging.md §0.1), so a
release is built in a chroot of the oldest Debian the mirror still serves (buster, glibc 2.28, is
tried first: UOS V20's base; then bullseye, 2.31), created once with debootstrap outside the checkout
and reused. Debian before bookworm has no Python 3.11, so the chroot builds CPython 3.11 from
bookworm's source package (Debian's security patches included) with a shared libpython, as
PyInstaller needs. The station is installed from the lock (``pip install -c requirements.lock``),
the .deb is built and checked, and the frozen binary is smoke-tested inside the chroot.
Needs root (debootstrap, chroot, mounts) and the Debian mirror.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from stationbuild import ROOT
from stationbuild.bundle import source_date_epoch

MIRROR = os.environ.get("STATION_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("STATION_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security")
# Oldest first: (suite, its glibc).
SUITES = [("buster", "2.28"), ("bullseye", "2.31"), ("bookworm", "2.36")]
PYTHON_PREFIX = "/opt/python3.11"
PYTHON_SOURCE_SUITE = "bookworm"  # the first Debian with Python 3.11

# What the chroot needs: CPython's and SQLite's build dependencies (tcl generates SQLite's amalgamation),
# pyscard's (gcc, libpcsclite-dev), PyInstaller's
# tools (binutils), and the runtime libraries Qt needs to be analysed, bundled and smoke-tested.
CHROOT_DEBS = (
    "build-essential dpkg-dev ca-certificates xz-utils binutils file pkg-config "
    "libssl-dev libffi-dev libsqlite3-dev zlib1g-dev libbz2-dev liblzma-dev uuid-dev libexpat1-dev "
    "libpcsclite-dev pcscd libusb-1.0-0 "
    "libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3 "
    "libglib2.0-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 "
    "libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 "
    "libxcb-sync1 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxcb-glx0 libcups2 xvfb tcl"
)
# The interpreter the release is built with; a chroot whose interpreter has another recipe rebuilds it.
PYTHON_RECIPE = "cpython 3.11 and sqlite 3.40, both from the bookworm source packages"
# The embedded registry's SQL uses RETURNING (SQLite 3.35); bullseye's own SQLite is 3.34, so the
# interpreter links SQLite built from bookworm's source, and the bundle carries that library.
SQLITE_MINIMUM = (3, 35)
# Extension modules the station (or pip) needs; a CPython build missing one is not used.
REQUIRED_MODULES = ["pyexpat", "_ssl", "_hashlib", "_ctypes", "_sqlite3", "_bz2", "_lzma", "zlib", "_uuid",
                    "_decimal", "_multiprocessing"]  # fmt: skip
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}


class ReleaseError(Exception):
    pass


def log(message: str) -> None:
    print(f"==> release: {message}", flush=True)


def oldest_suite(mirror: str = MIRROR) -> tuple[str, str]:
    """The oldest suite whose Release file the mirror serves."""
    for suite, glibc in SUITES:
        try:
            with urllib.request.urlopen(f"{mirror}/dists/{suite}/Release", timeout=20) as reply:
                if reply.status == 200:
                    return suite, glibc
        except OSError:
            continue
    raise ReleaseError(f"the mirror {mirror} serves none of {', '.join(s for s, _ in SUITES)}")


def run(command: list[str], **kwargs) -> None:
    subprocess.run(command, check=True, **kwargs)


HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CHROOT_CA_BUNDLE = "/build/host-ca-certificates.crt"


def in_chroot(root: Path, script: str) -> None:
    """Run a shell script inside the chroot with a clean environment (no host pip settings), trusting
    the host's CA bundle (a site's TLS proxy CA is in the host's bundle, not in the chroot's)."""
    env = {**CLEAN_ENV, "SOURCE_DATE_EPOCH": source_date_epoch()}
    if (root / CHROOT_CA_BUNDLE.lstrip("/")).exists():
        env |= {"PIP_CERT": CHROOT_CA_BUNDLE, "SSL_CERT_FILE": CHROOT_CA_BUNDLE}
    run(["chroot", str(root), "/bin/sh", "-euc", script], env=env)


@contextmanager
def mounted(root: Path):
    """/proc, /dev/shm and the host's resolv.conf inside the chroot while it is used."""
    with ExitStack() as stack:
        for target, args in (("proc", ["-t", "proc", "proc"]), ("dev/shm", ["-t", "tmpfs", "tmpfs"])):
            path = root / target
            path.mkdir(parents=True, exist_ok=True)
            run(["mount", *args, str(path)])
            stack.callback(run, ["umount", "-l", str(path)])
        shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")
        if HOST_CA_BUNDLE.exists():
            (root / "build").mkdir(exist_ok=True)
            shutil.copy2(HOST_CA_BUNDLE, root / CHROOT_CA_BUNDLE.lstrip("/"))
        yield


def ensure_chroot(base: Path, suite: str) -> Path:
    """Create (once) the chroot of ``suite`` under ``base``; reuse it afterwards."""
    root = base / f"chroot-{suite}"
    if not (root / "etc/debian_version").exists():
        if shutil.which("debootstrap") is None:
            raise ReleaseError("debootstrap is not installed (Debian package debootstrap)")
        partial = base / f"chroot-{suite}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        base.mkdir(parents=True, exist_ok=True)
        log(f"debootstrap {suite} into {root} (once)")
        run(["debootstrap", "--variant=minbase", "--include=ca-certificates", suite, str(partial), MIRROR])
        partial.rename(root)
    return root


def provision(root: Path, suite: str) -> None:
    """Debian packages, then CPython 3.11 from source, each step skipped when already done."""
    sources = [f"deb {MIRROR} {suite} main", f"deb {MIRROR} {suite}-updates main"]
    if suite != "buster":
        sources.append(f"deb {SECURITY_MIRROR} {suite}-security main")
    # CPython's source from bookworm's main archive (point releases carry its security fixes).
    sources.append(f"deb-src {MIRROR} {PYTHON_SOURCE_SUITE} main")
    wanted = hashlib.sha256((CHROOT_DEBS + "\n".join(sources)).encode()).hexdigest()[:12]
    stamp = root / f"var/lib/station-debs-{wanted}"
    if not stamp.exists():
        log(f"installing build packages in the {suite} chroot")
        (root / "etc/apt/sources.list").write_text("\n".join(sources) + "\n")
        in_chroot(
            root,
            f"apt-get update -qq && apt-get install -y -qq --no-install-recommends {CHROOT_DEBS} >/dev/null",
        )
        stamp.touch()
    ready = root / PYTHON_PREFIX.lstrip("/") / ".station-ready"
    if not ready.exists() or ready.read_text() != PYTHON_RECIPE:
        log("building SQLite and CPython 3.11 from Debian bookworm's source packages (once, several minutes)")
        modules = ", ".join(REQUIRED_MODULES)
        minimum = ", ".join(map(str, SQLITE_MINIMUM))
        in_chroot(
            root,
            f"""
            rm -rf /build/cpython /build/venv {PYTHON_PREFIX} && mkdir -p /build/cpython && cd /build/cpython
            apt-get source -qq sqlite3 python3.11 >/dev/null
            cd sqlite3-*/
            ./configure -q --prefix={PYTHON_PREFIX} --enable-shared --disable-static --disable-tcl \
                CFLAGS="-O2 -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE"
            make -s -j"$(nproc)" >/dev/null 2>&1
            make -s install >/dev/null 2>&1
            cd ../python3.11-*/
            # Debian's pyexpat security patch includes internal headers that Debian's own build
            # (pyexpat built into the core) allows; upstream 3.12 opens pyexpat.c with this define.
            sed -i '1i #ifndef Py_BUILD_CORE_BUILTIN\\n#  define Py_BUILD_CORE_MODULE 1\\n#endif' Modules/pyexpat.c
            ./configure -q --prefix={PYTHON_PREFIX} --enable-shared --without-ensurepip \
                CPPFLAGS=-I{PYTHON_PREFIX}/include LDFLAGS="-L{PYTHON_PREFIX}/lib -Wl,-rpath,{PYTHON_PREFIX}/lib"
            make -s -j"$(nproc)" >/dev/null 2>&1
            make -s install >/dev/null 2>&1
            {PYTHON_PREFIX}/bin/python3.11 -c "import {modules}"
            {PYTHON_PREFIX}/bin/python3.11 -c "import sqlite3, sys; sys.exit(sqlite3.sqlite_version_info < ({minimum}))"
            printf '%s' '{PYTHON_RECIPE}' > {PYTHON_PREFIX}/.station-ready
            rm -rf /build/cpython
            """,
        )


def copy_checkout(target: Path) -> None:
    """The working tree's files (tracked and new, not ignored) into ``target``."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    shutil.rmtree(target, ignore_errors=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def pip_wheels(target: Path, python: str) -> None:
    """pip's own wheel for the chroot's venv (Debian's CPython source ships no bundled pip)."""
    target.mkdir(parents=True, exist_ok=True)
    if not list(target.glob("pip-*.whl")):
        run(
            [
                python,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(target),
                "pip",
            ]
        )


def build_release(base: Path, out_dir: Path, extras: list[str], host_python: str, *, xz_level: int) -> Path:
    if os.geteuid() != 0:
        raise ReleaseError("the release build needs root (debootstrap, chroot, mounts)")
    suite, glibc = oldest_suite()
    log(f"oldest Debian the mirror serves: {suite} (glibc {glibc})")
    root = ensure_chroot(base, suite)
    with mounted(root):
        provision(root, suite)
        copy_checkout(root / "build/src")
        pip_wheels(root / "build/wheels", host_python)
        extra = f"[{','.join(extras)}]" if extras else ""
        log("installing the station from the lock into the chroot's venv, building and checking the .deb")
        in_chroot(
            root,
            f"""
            cd /build/src
            if [ ! -x /build/venv/bin/python ]; then
                {PYTHON_PREFIX}/bin/python3.11 -m venv --without-pip /build/venv
                /build/venv/bin/python "$(ls /build/wheels/pip-*.whl)/pip" install -q --no-index /build/wheels/pip-*.whl
            fi
            /build/venv/bin/pip install -q --disable-pip-version-check -c requirements.lock -e ".{extra}"
            rm -rf /build/out
            /build/venv/bin/python build/package deb --work /build/work --out /build/out --xz-level {xz_level}
            /build/venv/bin/python build/package smoke /build/work/dist/station/station
            """,
        )
    built = sorted((root / "build/out").glob("*.deb"))
    if len(built) != 1:
        raise ReleaseError(f"expected one .deb in the chroot's /build/out, found {len(built)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / built[0].name
    shutil.copy2(built[0], final)
    log(f"built on Debian {suite} (glibc {glibc}): {final}")
    return final
