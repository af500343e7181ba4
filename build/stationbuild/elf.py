"""Checks of a Linux bundle's ELF files: the glibc they need and the libraries that do not resolve.

A bundle runs only where glibc is at least the newest ``GLIBC_x.y`` symbol version any of its files
requires (packaging.md §0.1); that floor becomes the .deb's ``libc6 (>= x.y)``. The C++ runtime is
left to the system too, so the newest ``GLIBCXX_`` version sets ``libstdc++6 (>= …)``.
Unresolved libraries are found the way the loader finds them: ``ldd`` with the bundle's library
folder first on the path, as the PyInstaller bootloader sets it.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
_VERSION_REFERENCE = re.compile(r"\b(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)\b")

# The first libstdc++6 (GCC) release that provides each GLIBCXX symbol version.
GLIBCXX_TO_GCC = {
    (3, 4, 21): "5", (3, 4, 22): "6", (3, 4, 23): "7", (3, 4, 24): "7", (3, 4, 25): "8",
    (3, 4, 26): "9", (3, 4, 27): "10", (3, 4, 28): "10", (3, 4, 29): "11", (3, 4, 30): "12",
    (3, 4, 31): "13", (3, 4, 32): "13", (3, 4, 33): "14",
}  # fmt: skip


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(4) == ELF_MAGIC


def elf_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if is_elf(path))


def version_references(path: Path) -> dict[str, set[tuple[int, ...]]]:
    """The symbol versions ``path`` requires from its libraries, by family (GLIBC, GLIBCXX, CXXABI)."""
    done = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True, check=True)
    text = done.stdout.split("Version References:", 1)
    found: dict[str, set[tuple[int, ...]]] = {}
    if len(text) == 2:
        for family, version in _VERSION_REFERENCE.findall(text[1]):
            found.setdefault(family, set()).add(version_tuple(version))
    return found


@dataclass(frozen=True)
class Floor:
    """The newest version of one symbol family needed, and one file that needs it."""

    version: tuple[int, ...]
    needed_by: Path | None

    @property
    def text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else ""


def floors(files: list[Path]) -> dict[str, Floor]:
    """The newest GLIBC/GLIBCXX/CXXABI version needed across ``files``."""
    best: dict[str, Floor] = {}
    for path in files:
        for family, versions in version_references(path).items():
            newest = max(versions)
            if family not in best or newest > best[family].version:
                best[family] = Floor(newest, path)
    return best


def libstdcxx_floor(glibcxx: Floor | None) -> str | None:
    """The libstdc++6 version a GLIBCXX floor requires (the GCC release that introduced it)."""
    if glibcxx is None:
        return None
    known = [gcc for version, gcc in sorted(GLIBCXX_TO_GCC.items()) if version <= glibcxx.version]
    return known[-1] if known else None


@dataclass(frozen=True)
class Unresolved:
    file: Path
    problem: str  # "libfoo.so.1 => not found" or the loader's version error


def unresolved(files: list[Path], library_path: list[Path]) -> list[Unresolved]:
    """Every library reference among ``files`` the loader cannot satisfy, ``library_path`` first."""
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(str(p) for p in library_path)}
    problems: list[Unresolved] = []
    for path in files:
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        lines = done.stdout.splitlines() + done.stderr.splitlines()
        for line in lines:
            line = line.strip()
            if "not found" in line:
                problems.append(Unresolved(path, line))
    return problems
