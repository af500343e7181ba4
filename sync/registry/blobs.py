"""Content-addressed photo store: ``<root>/sha256/<2 hex>/<hex>``, written only after the hash matched.

A blob is written to ``<root>/tmp`` while hashing, fsync'ed and renamed into place, so a file under
``sha256/`` always holds the bytes its name promises; ``read_verified`` re-hashes on use. Blobs outlive
failed requests (a retry need not resend them) and one blob may back any number of records; blobs no
record references are collected by ``sync-registry gc`` once they are old enough (``unreferenced``).
Directories are 0700 and files 0600: the photos are personal data.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sync.protocol.canonical import is_sha256_hex


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for directory in (self.root, self.root / "sha256", self.root / "tmp"):
            _private_dir(directory)

    def path(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / "sha256" / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` under its hash; False (nothing stored) if ``sha256`` does not match it."""
        if hashlib.sha256(data).hexdigest() != sha256:
            return False
        final = self.path(sha256)
        if final.exists() and self.verify(sha256, len(data)):
            return True
        if not final.parent.exists():
            _private_dir(final.parent)
        tmp = self.root / "tmp" / uuid.uuid4().hex
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        return True

    def read_verified(self, sha256: str, size: int | None = None) -> bytes | None:
        """The blob's bytes if it exists, has ``size`` bytes (when given) and still hashes to its name."""
        try:
            data = self.path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None
        if size is not None and len(data) != size:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def verify(self, sha256: str, size: int | None = None) -> bool:
        return self.read_verified(sha256, size) is not None

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).exists()
        except ValueError:
            return False

    def stored(self) -> Iterator[tuple[str, float]]:
        """(hash, modification time) of every stored blob."""
        for path in (self.root / "sha256").glob("*/*"):
            if is_sha256_hex(path.name):
                yield path.name, path.stat().st_mtime

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def stale_temporaries(self, older_than_s: float) -> list[Path]:
        cutoff = time.time() - older_than_s
        return [p for p in (self.root / "tmp").iterdir() if p.stat().st_mtime < cutoff]
