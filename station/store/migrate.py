"""Schema migrations: upgrade a station database to head, taking an encrypted backup first.

Alembic runs programmatically (``script_location`` is this package's ``migrations`` directory; no
alembic.ini). Before any upgrade of a database that already holds a schema, the whole database is
copied with ``sqlcipher_export`` into ``backups/station-<revision>-<UTC time>.db``, encrypted with the
same key, flushed to disk and verified by opening it (with a copy of ``recovery.json`` beside it); only then does the upgrade run, in one
``BEGIN IMMEDIATE`` transaction, so a failed upgrade changes nothing. A database written by a newer
station version is refused, never downgraded.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from station.i18n import Text
from station.store import audit, clock, engine, paths
from station.store.errors import MigrationError, SchemaTooNewError, StoreError

SCRIPT_LOCATION = "station.store:migrations"


@dataclass(frozen=True)
class UpgradeReport:
    from_revision: str | None
    to_revision: str
    backup: Path | None


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revision scripts (read once per process: they do not change while the station runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in script_directory().walk_revisions())


def check_not_newer(revision: str | None) -> None:
    if revision is not None and not known_revision(revision):
        raise SchemaTooNewError(
            Text(
                "数据库由更新版本的采集站程序写入（架构版本 {rev}），本程序不能打开。请安装最新版本的采集站程序。",
                "The database was written by a newer station version (schema {rev}); this version cannot "
                "open it. Install the latest station version.",
            ).format(rev=revision)
        )


def upgrade(
    station_engine: Engine, db_path: Path, key: bytes, *, target: str = "head", backup: bool = True
) -> UpgradeReport:
    """Bring the database to ``target`` (default head); a backup precedes any change to a non-empty schema."""
    with engine.read_transaction(station_engine) as conn:
        before = current_revision(conn)
    check_not_newer(before)
    wanted = head_revision() if target == "head" else target
    if before == wanted:
        return UpgradeReport(before, wanted, None)
    backup_path = take_backup(db_path, key, before) if backup and before is not None else None
    try:
        with engine.write_transaction(station_engine) as conn:
            command.upgrade(alembic_config(conn), wanted)
            if before is not None:
                audit.append(
                    conn,
                    audit.MIGRATE,
                    detail={
                        "from": before,
                        "to": wanted,
                        "backup": backup_path.name if backup_path else None,
                    },
                )
    except StoreError:
        raise
    except Exception as exc:
        raise MigrationError(
            Text(
                "数据库升级失败，数据库保持原样（备份：{backup}）。请联系技术支持。",
                "The database upgrade failed and the database was left as it was (backup: {backup}). "
                "Call technical support.",
            ).format(backup=backup_path.name if backup_path else "—")
        ) from exc
    return UpgradeReport(before, wanted, backup_path)


def take_backup(db_path: Path, key: bytes, revision: str | None) -> Path:
    """An encrypted, verified copy of the whole database under ``backups/``; returns its path."""
    backup_dir = paths.ensure_home(db_path.parent / paths.BACKUP_DIR)
    stamp = clock.utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    target = backup_dir / f"station-{revision or 'empty'}-{stamp}.db"
    # Created empty and owner-only first, so SQLCipher writes into a file nobody else can read.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = engine.connect(db_path, key)
    try:
        source.execute(f"ATTACH DATABASE ? AS backup KEY \"x'{key.hex()}'\"", (str(target),))
        source.execute("SELECT sqlcipher_export('backup')").fetchall()
        source.execute("DETACH DATABASE backup")
    except Exception as exc:
        target.unlink(missing_ok=True)
        raise MigrationError(
            Text(
                "升级前的数据库备份失败（磁盘空间不足？），未做任何升级。",
                "The backup before the upgrade failed (disk full?); nothing was upgraded.",
            )
        ) from exc
    finally:
        source.close()
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    paths.fsync_directory(backup_dir)
    verify_backup(target, key)
    # The sealed key travels with the backups, so a copied backups/ folder plus the paper recovery code
    # is enough to read them on another machine even if the station directory itself is lost.
    sealed = db_path.parent / paths.RECOVERY_FILE
    if sealed.exists():
        paths.write_atomically(backup_dir / paths.RECOVERY_FILE, sealed.read_bytes())
    return target


def verify_backup(path: Path, key: bytes) -> None:
    """Open the backup with the key and check its pages; raise MigrationError if it is not sound."""
    conn = engine.connect(path, key, configure=False)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()
        if not result or result[0] != "ok":
            raise MigrationError(
                Text(
                    "升级前的备份校验失败，未做任何升级。",
                    "The backup failed its check; nothing was upgraded.",
                )
            )
    finally:
        conn.close()
