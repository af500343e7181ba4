"""``build/package``: build and check the station's installers.

    build/package deb [--release]       the .deb in dist/ (native, or in the oldest Debian chroot)
    build/package bundle                the PyInstaller one-folder bundle only
    build/package check BUNDLE          glibc floor and unresolved libraries of a Linux bundle
    build/package smoke BINARY          the frozen program's smoke test (--version, doctor, demo)
    build/package nsis [--stub]         the Windows installer (a stub payload off Windows)

Exit codes: 0 done, 1 a finding (unresolved library, failed smoke step), 2 bad input or set-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from stationbuild import ROOT, build_base, default_work_root, elf
from stationbuild.bundle import BuildError, build_bundle, package_version, venv_python
from stationbuild.release import ReleaseError, build_release

# Extras the bundle is built with: the demo (simulated devices, embedded registry) and PyInstaller.
BUNDLE_EXTRAS = ("demo", "build")


def bundle_extras() -> list[str]:
    """The BUNDLE_EXTRAS that pyproject.toml defines (the demo extra arrives with issue 13)."""
    defined = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return [name for name in BUNDLE_EXTRAS if name in defined]


def library_dir(bundle: Path) -> Path:
    """The folder the bootloader puts on the library path (PyInstaller >= 6: ``_internal``)."""
    internal = bundle / "_internal"
    return internal if internal.is_dir() else bundle


def check_report(bundle: Path) -> dict:
    files = elf.elf_files(bundle)
    floors = elf.floors(files)
    problems = elf.unresolved(files, [library_dir(bundle)])
    return {
        "bundle": str(bundle),
        "elf_files": len(files),
        "floors": {
            family: {"version": floor.text, "needed_by": str(floor.needed_by.relative_to(bundle))}
            for family, floor in sorted(floors.items())
        },
        "unresolved": [f"{p.file.relative_to(bundle)}: {p.problem}" for p in problems],
    }


def cmd_bundle(args) -> int:
    bundle = build_bundle(args.work, quiet=not args.verbose)
    print(bundle)
    return 0


def cmd_deb(args) -> int:
    from stationbuild import deb

    if args.release:
        path = build_release(
            build_base(), args.out, bundle_extras(), str(venv_python()), xz_level=args.xz_level
        )
        print(path)
        return 0
    python = venv_python()
    version = package_version(python)
    bundle = args.bundle or build_bundle(args.work, python, quiet=not args.verbose)
    report = check_report(bundle)
    if report["unresolved"]:
        print("unresolved libraries in the bundle:", *report["unresolved"], sep="\n  ")
        return 1
    package = deb.build_deb(bundle, version, args.out, args.work / "deb-root", xz_level=args.xz_level)
    print(package.path)
    print(f"  size {package.size / 1e6:.1f} MB, installed {package.installed_kib / 1024:.0f} MiB")
    print(f"  glibc floor {package.glibc_floor} (needed by {package.glibc_needed_by})")
    print(f"  Depends: {', '.join(package.depends)}")
    return 0


def cmd_check(args) -> int:
    report = check_report(args.bundle)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for family, floor in report["floors"].items():
            print(f"{family} >= {floor['version']} (needed by {floor['needed_by']})")
        print(f"{report['elf_files']} ELF files, {len(report['unresolved'])} unresolved")
        for line in report["unresolved"]:
            print(f"  {line}")
    return 1 if report["unresolved"] else 0


def cmd_smoke(args) -> int:
    from stationbuild import smoke

    return smoke.main(args.binary, args.expect_version, args.workdir, args.json)


def cmd_nsis(args) -> int:
    from stationbuild import nsis

    version = args.version or package_version(venv_python())
    with tempfile.TemporaryDirectory(prefix="station-nsis-") as scratch:
        bundle = args.bundle
        if args.stub:
            icons = Path(scratch) / "icons"
            _render_icons(icons)
            bundle = nsis.stub_bundle(Path(scratch) / "stub", icons / "station.ico")
        if bundle is None:
            print("give --bundle DIR (the Windows PyInstaller folder) or --stub", file=sys.stderr)
            return 2
        print(nsis.build_installer(bundle, version, args.out))
    return 0


def _render_icons(target: Path) -> None:
    subprocess.run(
        [
            str(venv_python()),
            "-m",
            "stationbuild.icons",
            str(ROOT / "resources/icons/station.svg"),
            str(target),
        ],
        check=True,
        cwd=ROOT / "build",
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build/package",
        description="build and check the station's installers",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    work = default_work_root()

    p = sub.add_parser("bundle", help="the PyInstaller one-folder bundle")
    p.add_argument("--work", type=Path, default=work, help=f"work and output folder (default {work})")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(handler=cmd_bundle)

    p = sub.add_parser("deb", help="the Linux package in dist/")
    p.add_argument("--release", action="store_true", help="build in the oldest Debian chroot (root)")
    p.add_argument("--work", type=Path, default=work, help=f"work folder (default {work})")
    p.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes (default dist/)")
    p.add_argument("--bundle", type=Path, help="package this bundle instead of building one")
    p.add_argument("--xz-level", type=int, default=6, choices=range(10), help="xz preset (default 6)")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(handler=cmd_deb)

    p = sub.add_parser("check", help="glibc floor and unresolved libraries of a Linux bundle")
    p.add_argument("bundle", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("smoke", help="smoke-test a frozen station binary")
    p.add_argument("binary", type=Path)
    p.add_argument("--expect-version", help="the version --version must print")
    p.add_argument("--workdir", type=Path, help="keep homes and screenshots here (default: a temp dir)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_smoke)

    p = sub.add_parser("nsis", help="the Windows installer")
    p.add_argument("--bundle", type=Path, help="the Windows PyInstaller folder")
    p.add_argument("--stub", action="store_true", help="compile against a stub payload (any OS)")
    p.add_argument("--version", help="default: station.__version__ of the build venv")
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    p.set_defaults(handler=cmd_nsis)
    parser.commands = sorted(sub.choices)  # for the workflow test: which subcommands exist
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (
        BuildError,
        ReleaseError,
        FileNotFoundError,
        RuntimeError,
        subprocess.CalledProcessError,
    ) as error:
        print(f"build/package: {error}", file=sys.stderr)
        return 2
