"""The Linux package: the frozen bundle in the UOS layout, as ``station_<version>_<arch>.deb``.

Layout (packaging.md §2.1–2.2; appid = stationbuild.APP_ID):
    /opt/apps/<appid>/files/                  the PyInstaller folder (``station`` + ``_internal/``)
    /opt/apps/<appid>/entries/applications/   <appid>.desktop
    /opt/apps/<appid>/entries/icons/hicolor/  scalable and 256x256 icons
    /opt/apps/<appid>/info                    UOS application manifest (JSON)
and links so that other desktops (Kylin/UKUI, Debian, Ubuntu) find it: the desktop entry and icons
under /usr/share, ``/usr/bin/station``. No maintainer scripts (UOS store rule; Debian's pcscd enables
its own socket). ``Depends`` names pcscd, libpcsclite1, the system library families left out of the
bundle (stationbuild.rules) and the glibc / libstdc++ floors computed from the bundle's ELF files.
xz compression: dpkg on Debian 10 (UOS V20's base) cannot read zstd.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stationbuild import APP_ID, APP_NAME_EN, APP_NAME_ZH, BUILD_DIR, COMMAND, elf, rules

MAINTAINER = os.environ.get("STATION_DEB_MAINTAINER", "Capture Station Team <capture-station@localhost>")
DESCRIPTION = f"""{APP_NAME_EN} ({APP_NAME_ZH})
 The county capture station of Inner Mongolia's high-school exam registration:
 reads the student's second-generation ID card, takes the conforming photo,
 keeps an encrypted offline queue and outbox, and syncs with the registry.
 Includes the officers' training demo (simulated reader and camera)."""


@dataclass(frozen=True)
class DebPackage:
    path: Path
    version: str
    architecture: str
    depends: list[str]
    glibc_floor: str
    glibc_needed_by: str
    installed_kib: int

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def architecture() -> str:
    done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def app_root() -> Path:
    return Path("opt/apps") / APP_ID


def build_deb(bundle: Path, version: str, out_dir: Path, stage: Path, *, xz_level: int = 6) -> DebPackage:
    """Stage the package tree in ``stage`` (emptied first) and build the .deb into ``out_dir``."""
    if stage.exists():
        shutil.rmtree(stage)
    root = stage / app_root()
    files = root / "files"
    shutil.copytree(bundle, files, symlinks=True)
    _normalise_modes(files)

    executable = Path("/") / app_root() / "files" / COMMAND
    applications = root / "entries/applications"
    applications.mkdir(parents=True)
    desktop = (BUILD_DIR / "linux/station.desktop.in").read_text(encoding="utf-8")
    desktop = desktop.replace("@EXEC@", str(executable)).replace("@APPID@", APP_ID)
    (applications / f"{APP_ID}.desktop").write_text(desktop, encoding="utf-8")
    icons = files / "_internal/resources/icons"
    for size_dir, source, suffix in (
        ("scalable", "station.svg", "svg"),
        ("256x256", "station-256.png", "png"),
    ):
        target = root / "entries/icons/hicolor" / size_dir / "apps"
        target.mkdir(parents=True)
        shutil.copy2(icons / source, target / f"{APP_ID}.{suffix}")
    arch = architecture()
    (root / "info").write_text(json.dumps(_uos_info(version, arch), ensure_ascii=False, indent=2) + "\n")

    # Links for desktops that look only under /usr/share, and the command on PATH.
    _link(stage / "usr/bin" / COMMAND, executable)
    _link(
        stage / "usr/share/applications" / f"{APP_ID}.desktop",
        Path("/") / app_root() / "entries/applications" / f"{APP_ID}.desktop",
    )
    for size_dir, suffix in (("scalable", "svg"), ("256x256", "png")):
        relative = Path("icons/hicolor") / size_dir / "apps" / f"{APP_ID}.{suffix}"
        _link(stage / "usr/share" / relative, Path("/") / app_root() / "entries" / relative)
    doc = stage / "usr/share/doc" / APP_ID
    doc.mkdir(parents=True)
    shutil.copy2(BUILD_DIR / "linux/copyright", doc / "copyright")

    floors = elf.floors(elf.elf_files(files))
    glibc = floors["GLIBC"]
    depends = package_depends(floors)
    installed_kib = _installed_size_kib(stage)
    control = {
        "Package": APP_ID,
        "Version": version,
        "Section": "education",
        "Priority": "optional",
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(depends),
        "Recommends": ", ".join(rules.RECOMMENDS),
        "Description": DESCRIPTION,
    }
    debian = stage / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()), encoding="utf-8")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{COMMAND}_{version}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", f"-z{xz_level}", "--build", str(stage), str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return DebPackage(
        path=path,
        version=version,
        architecture=arch,
        depends=depends,
        glibc_floor=glibc.text,
        glibc_needed_by=str(glibc.needed_by.relative_to(files)) if glibc.needed_by else "",
        installed_kib=installed_kib,
    )


def package_depends(floors: dict[str, elf.Floor]) -> list[str]:
    """libc6 at the bundle's glibc floor, then the smart-card stack and the families left out."""
    libstdcxx = elf.libstdcxx_floor(floors.get("GLIBCXX"))
    depends = [f"libc6 (>= {floors['GLIBC'].text})"]
    for item in [*rules.BASE_DEPENDS, *rules.system_depends()]:
        if item == "libstdc++6" and libstdcxx:
            item = f"libstdc++6 (>= {libstdcxx})"
        depends.append(item)
    return depends


def _uos_info(version: str, arch: str) -> dict:
    """The UOS manifest: the camera is the only permission the station asks for."""
    permissions = dict.fromkeys(
        ("autostart", "notification", "trayicon", "clipboard", "account", "bluetooth", "audio_record",
         "installed_apps"),
        False,
    )  # fmt: skip
    permissions["camera"] = True
    return {
        "appid": APP_ID,
        "name": APP_NAME_ZH,
        "version": version,
        "arch": [arch],
        "permissions": permissions,
    }


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _normalise_modes(tree: Path) -> None:
    """0755 folders and executables, 0644 everything else, whatever the build machine's umask."""
    for path in [tree, *tree.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def _installed_size_kib(stage: Path) -> int:
    """Installed-Size as dpkg estimates it: each file rounded up to whole KiB, plus one per entry."""
    total = 0
    for path in stage.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += -(-path.stat().st_size // 1024)
        else:
            total += 1
    return total
