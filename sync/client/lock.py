"""Single-flight: one sync loop per station, across processes (docs/sync-protocol.md §8.4).

An OS lock on ``sync.lock`` in the station home (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows). The kernel drops the lock when the process dies, so a crashed sync never blocks the next
one. The store's open-batch rows are the second guard: a new session resends them first.
"""

from __future__ import annotations

import os
from pathlib import Path


class SyncLockBusy(Exception):
    code = "SYNC_RUNNING"


class SyncLock:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> SyncLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SyncLockBusy("another sync of this station is running") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SyncLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()
