"""Content-addressed photo store: ``<root>/sha256/<2 hex>/<hex>``, written only after the hash matched.

A blob is written to ``<root>/tmp`` while hashing, fsync'ed and renamed into place, so a file under
``sha256/`` always holds the bytes its name promises; ``verify`` re-hashes on use. Blobs outlive failed
requests (a retry need not resend them) and one blob may back any number of records.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from sync.protocol.canonical import is_sha256_hex


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

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
        final.parent.mkdir(exist_ok=True)
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

    def verify(self, sha256: str, size: int | None = None) -> bool:
        """True if the blob exists, has ``size`` bytes (when given) and still hashes to its name."""
        try:
            data = self.path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return False
        if size is not None and len(data) != size:
            return False
        return hashlib.sha256(data).hexdigest() == sha256

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).exists()
        except ValueError:
            return False
