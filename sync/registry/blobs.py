"""Content-addressed photo stores: files beside a SQLite registry, the ``blobs`` table for PostgreSQL.

Both keep a photo under the SHA-256 of its bytes, write it only after the hash matched, hand it out
only if it still hashes to its name (``read_verified``), let one photo back any number of records, and
keep it after a failed request (a retry need not resend it); photos no record references are collected
by ``sync-registry gc`` once they are old enough.

- ``FileBlobStore`` (``<root>/sha256/<2 hex>/<hex>``): written to ``<root>/tmp`` while hashing,
  fsync'ed and renamed into place, so a file under ``sha256/`` always holds the bytes its name
  promises. Directories 0700, files 0600: the photos are personal data. One host only -- unless the
  directory is a file system every node mounts (``serve --blob-dir``).
- ``DatabaseBlobStore`` (table ``blobs``): the default with PostgreSQL, so any number of nodes behind
  a load balancer serve the same photos; a batch's photos are written in one statement, inside the
  transaction that claims the batch's key (``put_many(..., session=)``).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from sync.protocol.canonical import is_sha256_hex
from sync.registry.db import BlobRow, Database, RecordRow


class BlobStore:
    """What the registry needs of a photo store (both implementations below)."""

    in_database = False

    def put_many(self, parts: dict[str, bytes], session: Session | None = None) -> set[str]:
        """Store every part under its name; returns the names whose bytes did not hash to them."""
        raise NotImplementedError

    def put(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` under its hash; False (nothing stored) if ``sha256`` does not match it."""
        return not self.put_many({sha256: data})

    def read_many(self, wanted: dict[str, int]) -> dict[str, bytes]:
        """The verified bytes of each wanted photo (hash -> declared size) that is stored intact."""
        raise NotImplementedError

    def read_verified(self, sha256: str, size: int | None = None) -> bytes | None:
        """The blob's bytes if it exists, has ``size`` bytes (when given) and still hashes to its name."""
        raise NotImplementedError

    def verify(self, sha256: str, size: int | None = None) -> bool:
        return self.read_verified(sha256, size) is not None

    def missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes (in the order given, once each) that are not stored."""
        raise NotImplementedError

    def exists(self, sha256: str) -> bool:
        return not self.missing([sha256])

    def stored(self) -> Iterator[tuple[str, float]]:
        """(hash, time stored as epoch seconds) of every stored photo."""
        raise NotImplementedError

    def delete_unreferenced(self, sha256: str) -> bool:
        """Delete the photo unless a record that keeps it references it (checked at the moment of deleting)."""
        raise NotImplementedError

    def stale_temporaries(self, older_than_s: float) -> list[Path]:
        return []


def keeps_photo():  # type: ignore[no-untyped-def]
    """Records whose photo the registry keeps: registered or held ones. A rejected record's photo is
    whatever the sender chose (a text file, a forged capture) and is collected like an orphan, so one
    certificate cannot fill the disk with refused bytes; the rejection itself stays in the ledger."""
    return RecordRow.outcome != "rejected"


def _matches(sha256: str, data: bytes, size: int | None = None) -> bool:
    return (size is None or len(data) == size) and hashlib.sha256(data).hexdigest() == sha256


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


class FileBlobStore(BlobStore):
    def __init__(self, root: Path, db: Database) -> None:
        self.root = Path(root)
        self.db = db  # to check references before deleting
        for directory in (self.root, self.root / "sha256", self.root / "tmp"):
            _private_dir(directory)
        self._fanout: set[str] = set()  # sha256/<2 hex> directories known to exist

    def path(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / "sha256" / sha256[:2] / sha256

    def put_many(self, parts: dict[str, bytes], session: Session | None = None) -> set[str]:
        mismatched = {sha for sha, data in parts.items() if not _matches(sha, data)}
        pending = []
        for sha, data in parts.items():
            if sha in mismatched:
                continue
            final = self.path(sha)
            if final.exists() and self.verify(sha, len(data)):
                os.utime(final)  # sent again: young again, so gc leaves it to the record on its way
                continue
            pending.append((sha, data, final))
        # Write every file first, then flush them: the disk sees one burst instead of a sync per photo.
        open_files: list[tuple[Path, int, Path]] = []
        try:
            for _sha, data, final in pending:
                tmp = self.root / "tmp" / uuid.uuid4().hex
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                open_files.append((tmp, fd, final))
                _write_all(fd, data)
            while open_files:
                tmp, fd, final = open_files[0]
                os.fsync(fd)
                open_files.pop(0)
                os.close(fd)
                if final.parent.name not in self._fanout:
                    _private_dir(final.parent)
                    self._fanout.add(final.parent.name)
                os.replace(tmp, final)
        finally:
            for tmp, fd, _final in open_files:
                os.close(fd)
                tmp.unlink(missing_ok=True)
        return mismatched

    def read_verified(self, sha256: str, size: int | None = None) -> bytes | None:
        try:
            data = self.path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None
        return data if _matches(sha256, data, size) else None

    def read_many(self, wanted: dict[str, int]) -> dict[str, bytes]:
        found = {}
        for sha, size in wanted.items():
            data = self.read_verified(sha, size)
            if data is not None:
                found[sha] = data
        return found

    def missing(self, hashes: Iterable[str]) -> list[str]:
        result = []
        for sha in dict.fromkeys(hashes):
            try:
                present = self.path(sha).exists()
            except ValueError:
                present = False
            if not present:
                result.append(sha)
        return result

    def stored(self) -> Iterator[tuple[str, float]]:
        for path in (self.root / "sha256").glob("*/*"):
            if is_sha256_hex(path.name):
                yield path.name, path.stat().st_mtime

    def delete_unreferenced(self, sha256: str) -> bool:
        with self.db.read() as session:  # a record may have arrived since the caller looked
            kept_by = select(RecordRow.record_id).where(RecordRow.photo_sha256 == sha256, keeps_photo())
            if session.scalar(kept_by.limit(1)):
                return False
        self.path(sha256).unlink(missing_ok=True)
        return True

    def stale_temporaries(self, older_than_s: float) -> list[Path]:
        cutoff = time.time() - older_than_s
        return [p for p in (self.root / "tmp").iterdir() if p.stat().st_mtime < cutoff]


_BLOBS = BlobRow.__table__


class DatabaseBlobStore(BlobStore):
    in_database = True

    def __init__(self, db: Database) -> None:
        self.db = db

    def put_many(self, parts: dict[str, bytes], session: Session | None = None) -> set[str]:
        mismatched = {sha for sha, data in parts.items() if not _matches(sha, data)}
        good = {sha: data for sha, data in parts.items() if sha not in mismatched}
        if good:
            if session is not None:
                self._insert(session, good)
            else:
                with self.db.write() as own:
                    self._insert(own, good)
        return mismatched

    def _insert(self, session: Session, parts: dict[str, bytes]) -> None:
        """One statement: new photos inserted, ones sent again made young again (gc leaves them to the
        record on its way)."""
        if self.db.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        now = time.time()
        statement = upsert(_BLOBS)
        statement = statement.on_conflict_do_update(
            index_elements=["sha256"], set_={"stored_at": statement.excluded.stored_at}
        )
        rows = [
            {"sha256": sha, "size": len(data), "data": data, "stored_at": now} for sha, data in parts.items()
        ]
        session.connection().execute(statement, rows)

    def read_many(self, wanted: dict[str, int]) -> dict[str, bytes]:
        if not wanted:
            return {}
        with self.db.read() as session:
            rows = session.execute(
                select(_BLOBS.c.sha256, _BLOBS.c.data).where(_BLOBS.c.sha256.in_(list(wanted)))
            ).all()
        return {sha: bytes(data) for sha, data in rows if _matches(sha, bytes(data), wanted[sha])}

    def read_verified(self, sha256: str, size: int | None = None) -> bytes | None:
        with self.db.read() as session:
            data = session.scalar(select(_BLOBS.c.data).where(_BLOBS.c.sha256 == sha256))
        return bytes(data) if data is not None and _matches(sha256, bytes(data), size) else None

    def missing(self, hashes: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(hashes))
        if not wanted:
            return []
        with self.db.read() as session:
            present = set(session.scalars(select(_BLOBS.c.sha256).where(_BLOBS.c.sha256.in_(wanted))))
        return [sha for sha in wanted if sha not in present]

    def stored(self) -> Iterator[tuple[str, float]]:
        with self.db.read() as session:
            rows = session.execute(select(_BLOBS.c.sha256, _BLOBS.c.stored_at)).all()
        yield from ((sha, float(at)) for sha, at in rows)

    def delete_unreferenced(self, sha256: str) -> bool:
        referenced = exists().where(RecordRow.photo_sha256 == sha256, keeps_photo())
        with self.db.write() as session:
            gone = session.execute(delete(_BLOBS).where(_BLOBS.c.sha256 == sha256, ~referenced))
        return bool(gone.rowcount)


def open_blob_store(db: Database, blob_dir: Path | None) -> BlobStore:
    """Files in ``blob_dir`` when one is set (SQLite, or a directory every node shares), else the database."""
    return FileBlobStore(blob_dir, db) if blob_dir is not None else DatabaseBlobStore(db)
