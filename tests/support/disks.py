"""Small and read-only disks for the fault tests: a real tmpfs, a real read-only bind mount (root only).

Each is a context manager that unmounts on the way out, whatever the test did.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.system import require


def can_mount() -> bool:
    return os.name == "posix" and os.geteuid() == 0


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """``path`` as a tmpfs of ``size`` (e.g. ``16m``), owner-only."""
    require(can_mount(), "root (to mount a small tmpfs)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` seen read-only (a bind mount over itself, remounted ro)."""
    require(can_mount(), "root (to bind-mount a directory read-only)")
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Fill the disk holding ``directory`` to the last byte; returns the filler (delete it to free)."""
    filler = directory / "filler.bin"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle:
        while True:
            try:
                if handle.write(block) == 0:
                    break
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    return filler
