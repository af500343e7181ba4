"""Backups of the station database: scheduled, kept N deep, verified, and restored over a damaged file.

A backup is a ``sqlcipher_export`` copy under ``backups/``, encrypted with the database key and
verified (``migrate.take_backup``), named ``station-<schema revision>-<UTC time>.db``. The schedule
(``take_if_due``: every ``every_hours``, the newest ``keep`` kept) is run by the sync loop and the desk;
``station store backup`` takes one at once. A copy that fails (disk full, damaged pages) is removed and
nothing is pruned for it, so the good backups already kept stay.

``restore`` replaces a damaged database with a backup: the backup must pass SQLCipher's page checks
and SQLite's; the damaged file (with its WAL) is moved aside as ``station.db.damaged-<time>``, never
deleted; the backup is copied in (temporary file, fsync, rename). Then whatever of the damaged file
still reads is salvaged into the restored database (``salvage``): officers (their passwords may have
changed since the backup, and the key slots follow the newest), the audit entries that continue the
restored chain, and every capture record the backup lacks, each queued to sync again (the registry
answers a record it already has as a duplicate with the same number, so nothing is registered twice).
Records that no longer read are named by id in the report.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from station.i18n import Text
from station.store import clock, engine, migrate, paths
from station.store.errors import DatabaseCorruptError, MigrationError, StoreError

_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass
class RestoreReport:
    backup: Path
    damaged_copy: Path
    salvaged: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def backup_dir(home: Path) -> Path:
    return home / paths.BACKUP_DIR


def list_backups(home: Path) -> list[Path]:
    """The backups, oldest first (by the time in their names)."""
    return sorted(backup_dir(home).glob("station-*.db"), key=lambda p: (_taken_at(p) or datetime.min, p.name))


def latest(home: Path) -> Path | None:
    found = list_backups(home)
    return found[-1] if found else None


def is_due(home: Path, every_hours: int, now: datetime | None = None) -> bool:
    newest = latest(home)
    taken = _taken_at(newest) if newest else None
    return taken is None or (now or clock.utc_now()) - taken >= timedelta(hours=every_hours)


def prune(home: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the ones deleted."""
    found = list_backups(home)
    doomed = found[: max(0, len(found) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def verify(path: Path, key: bytes) -> None:
    """SQLCipher's page check (every page's HMAC) and SQLite's; DatabaseCorruptError naming the file."""
    problems = page_problems(path, key)
    if problems:
        raise DatabaseCorruptError(
            Text("备份文件 {name} 也已损坏。", "The backup {name} is damaged too.").format(name=path.name),
            code="backup_damaged",
            fix=Text(
                "请指定更早的备份：station store restore 备份文件。",
                "Name an older backup: station store restore BACKUP-FILE.",
            ),
        )


def page_problems(path: Path, key: bytes) -> list[str]:
    """What ``PRAGMA cipher_integrity_check`` and ``PRAGMA integrity_check`` report (empty: sound).

    Each runs on its own connection: after a page fails its HMAC, SQLCipher fails every later
    statement on the same connection."""
    problems: list[str] = []
    for pragma in ("PRAGMA cipher_integrity_check", "PRAGMA integrity_check"):
        try:
            conn = engine.connect(path, key, configure=False)
        except DatabaseCorruptError:
            return problems or ["the first page does not decrypt"]
        try:
            rows = [str(r[0]) for r in conn.execute(pragma).fetchall()]
        except sqlcipher.DatabaseError as exc:
            rows = [str(exc)]
        finally:
            conn.close()
        problems.extend(r for r in rows if r != "ok")
    return problems


def restore(home: Path, key: bytes, source: Path | None = None) -> tuple[Path, Path]:
    """Put the backup ``source`` (default: the newest) in place of the station database; return
    (the backup used, where the replaced file was moved). The replaced file is kept, never deleted."""
    source = source or latest(home)
    if source is None or not source.exists():
        raise StoreError(
            Text("没有可用的备份。", "There is no backup to restore."),
            code="no_backup",
            fix=Text(
                "请勿删除任何文件，联系省级技术支持。", "Do not delete any file; call provincial IT support."
            ),
        )
    verify(source, key)
    db_path = paths.database_path(home)
    stamp = clock.utc_now().strftime(_STAMP)
    aside = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    incoming = db_path.with_name(f".{db_path.name}.restore-{stamp}.tmp")
    try:
        with (
            open(source, "rb") as reader,
            open(os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as writer,
        ):
            shutil.copyfileobj(reader, writer, 1024 * 1024)
            writer.flush()
            os.fsync(writer.fileno())
    except OSError as exc:
        incoming.unlink(missing_ok=True)
        raise MigrationError(
            Text(
                "恢复失败（磁盘空间不足？），数据库保持原样。",
                "The restore failed (disk full?); the database is unchanged.",
            ),
            code="restore_failed",
        ) from exc
    if db_path.exists():
        os.replace(db_path, aside)
        for sidecar, moved in zip(paths.sidecar_paths(db_path), paths.sidecar_paths(aside), strict=True):
            if sidecar.exists():
                os.replace(sidecar, moved)
    os.replace(incoming, db_path)
    paths.fsync_directory(home)
    return source, aside


def salvage(db_path: Path, damaged: Path, key: bytes) -> tuple[list[str], list[str]]:
    """Copy what still reads in ``damaged`` and is missing from the restored database at ``db_path``;
    returns (record ids salvaged, record ids that no longer read). See the module docstring.

    After a damaged page SQLCipher fails every later statement on that connection, so each failure
    is followed by a fresh connection; each record is copied with its outbox row in one transaction."""
    salvaged: list[str] = []
    unreadable: list[str] = []
    salvager = _Salvager(db_path, damaged, key)
    try:
        salvager.run("INSERT OR REPLACE INTO main.operators SELECT * FROM damaged.operators")
        salvager.run(
            "INSERT INTO main.audit_log SELECT * FROM damaged.audit_log "
            "WHERE id > (SELECT coalesce(max(id), 0) FROM main.audit_log) ORDER BY id"
        )
        wanted = salvager.query(
            "SELECT record_id FROM damaged.outbox WHERE record_id NOT IN (SELECT record_id FROM main.records) "
            "ORDER BY created_at"
        )
        for (record_id,) in wanted:
            copied = salvager.run(
                "INSERT INTO main.records SELECT * FROM damaged.records WHERE record_id = ?",
                (record_id,),
                then="INSERT INTO main.outbox (record_id, state, created_at, size_bytes) SELECT record_id, "
                "'pending', created_at, size_bytes FROM damaged.outbox WHERE record_id = ?",
            )
            (salvaged if copied else unreadable).append(record_id)
    finally:
        salvager.close()
    return salvaged, unreadable


class _Salvager:
    def __init__(self, db_path: Path, damaged: Path, key: bytes) -> None:
        self._db_path, self._damaged, self._key = db_path, damaged, key
        self._conn: sqlcipher.Connection | None = None

    def _connection(self) -> sqlcipher.Connection:
        if self._conn is None:
            self._conn = engine.connect(self._db_path, self._key)
            self._conn.execute(
                f"ATTACH DATABASE ? AS damaged KEY \"x'{self._key.hex()}'\"", (str(self._damaged),)
            )
        return self._conn

    def run(self, statement: str, parameters: tuple = (), *, then: str | None = None) -> bool:
        """One transaction (``statement`` and, if it changed a row, ``then``); False if nothing was copied."""
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            changed = conn.execute(statement, parameters).rowcount
            if then is not None and changed > 0:
                conn.execute(then, parameters)
            conn.execute("COMMIT")
            return changed > 0
        except (sqlcipher.DatabaseError, DatabaseCorruptError):
            self.close()  # a damaged page poisons the connection: the next statement gets a fresh one
            return False

    def query(self, statement: str) -> list[tuple]:
        try:
            return self._connection().execute(statement).fetchall()
        except (sqlcipher.DatabaseError, DatabaseCorruptError):
            self.close()
            return []

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlcipher.Error:
                pass
            self._conn = None


def take(db_path: Path, key: bytes, revision: str | None) -> Path:
    return migrate.take_backup(db_path, key, revision)


def _taken_at(path: Path | None) -> datetime | None:
    if path is None:
        return None
    try:
        return datetime.strptime(path.stem.rsplit("-", 1)[1], _STAMP).replace(tzinfo=clock.utc_now().tzinfo)
    except (IndexError, ValueError):
        return None
