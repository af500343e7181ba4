"""Where the station keeps its data: one directory per station, one database file in it.

The directory is given by the caller (the settings resolve it: ``STATION_HOME`` or the platform's
per-user data directory, see ``station.config``); the store never reads the environment. Everything
the store writes lives under it: ``station.db`` (encrypted), ``station.json`` (where the key is kept;
no personal data), ``keyslots.json`` (the key wrapped by each officer's password, when no credential
store is usable; ``station.key`` held it in plaintext before key slots and is converted at the next
open), ``recovery.json`` (the key wrapped by the recovery code) and ``backups/`` (encrypted copies:
scheduled, and before migrations). The directory and every file in it are owner-only.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "capture-station"
DATABASE_FILE = "station.db"
METADATA_FILE = "station.json"
KEY_FILE = "station.key"
RECOVERY_FILE = "recovery.json"
BACKUP_DIR = "backups"


def station_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The station data directory: ``home`` if given, else the platform default."""
    if home is not None:
        return Path(home)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def ensure_home(home: Path) -> Path:
    """Create the directory (owner-only on POSIX) if needed and return it.

    A directory made earlier by something else (the log, a parent created with the default umask) is
    made owner-only too."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix" and home.stat().st_mode & 0o077:
        os.chmod(home, 0o700)
    return home


def database_path(home: Path) -> Path:
    return home / DATABASE_FILE


def sidecar_paths(db_path: Path) -> list[Path]:
    """The SQLite WAL and shared-memory files that accompany ``db_path`` while it is open."""
    return [db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")]


def fsync_directory(directory: Path) -> None:
    """Make a rename or file creation in ``directory`` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so a crash leaves either the old file or the new one, never a torn one.

    The temporary file is created with ``mode`` from the start (O_EXCL), so the content is never
    readable by others, not even for an instant.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # the umask may have removed bits; make the mode exact
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_directory(path.parent)
