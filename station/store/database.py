"""``StationDatabase``: the one way into the station's encrypted store.

* ``StationDatabase.create(home)`` sets a station up: a new key (credential store or 0600 key file),
  the sealed recovery copy, the database at the head schema. It returns the recovery code, to be shown
  once and printed for the county administrator.
* ``StationDatabase.open(home)`` opens it with the stored key, refusing a wrong key (typed error, file
  untouched), a missing file (never a fresh empty database in its place) and a newer schema, and
  upgrading an older schema after an encrypted backup.
* ``recover(code, home)`` brings a lost key back from the recovery code and opens the database.

The repositories hang off the instance: ``queue``, ``records``, ``outbox``, ``sync_state``,
``secrets``, ``operators``, ``audit``, ``reports``. ``write()`` / ``read()`` give a connection in a ``BEGIN IMMEDIATE`` or a
deferred transaction for work that spans repositories.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Connection, Engine, event

from station.i18n import Text
from station.store import audit, engine, keys, migrate, paths
from station.store.audit import AuditLog
from station.store.errors import (
    WRONG_KEY,
    DatabaseExistsError,
    DatabaseMissingError,
    DatabaseNotInitialisedError,
    WrongKeyError,
)
from station.store.operators import OperatorRepository
from station.store.outbox import OutboxRepository
from station.store.queue import QueueRepository
from station.store.records import RecordRepository
from station.store.reports import ReportQueries
from station.store.secrets import SecretRepository
from station.store.sync_state import SyncStateRepository


class StationDatabase:
    def __init__(self, home: Path, station_engine: Engine, key: bytes) -> None:
        self.home = home
        self.path = paths.database_path(home)
        self.engine = station_engine
        self._key = key
        self.queue = QueueRepository(station_engine)
        self.records = RecordRepository(station_engine)
        self.outbox = OutboxRepository(station_engine)
        self.sync_state = SyncStateRepository(station_engine)
        self.secrets = SecretRepository(station_engine, key)
        self.operators = OperatorRepository(station_engine)
        self.audit = AuditLog(station_engine)
        self.reports = ReportQueries(station_engine)

    @classmethod
    def create(
        cls, home: str | os.PathLike[str] | None = None, *, schema_revision: str = "head"
    ) -> tuple[StationDatabase, str]:
        """Set up a new station in ``home``; return the open database and its recovery code (show once)."""
        home_path = paths.ensure_home(paths.station_home(home))
        db_path = paths.database_path(home_path)
        for existing in (db_path, home_path / paths.METADATA_FILE, home_path / paths.RECOVERY_FILE):
            if existing.exists():
                raise DatabaseExistsError(
                    Text(
                        "此目录已设置过采集站（{path}），不会覆盖。若数据库文件丢失，请从备份恢复。",
                        "A station is already set up here ({path}); it will not be overwritten. If the database "
                        "file is lost, restore it from a backup.",
                    ).format(path=home_path)
                )
        key, code = keys.setup(home_path)
        engine.connect(db_path, key, create=True).close()
        os.chmod(db_path, 0o600)
        station_engine = engine.create_station_engine(db_path, key)
        migrate.upgrade(station_engine, db_path, key, target=schema_revision, backup=False)
        return cls(home_path, station_engine, key), code

    @classmethod
    def open(
        cls, home: str | os.PathLike[str] | None = None, key: bytes | None = None, *, upgrade: bool = True
    ) -> StationDatabase:
        """Open this station's database (upgrading an older schema after a backup unless ``upgrade=False``)."""
        home_path = paths.station_home(home)
        db_path = paths.database_path(home_path)
        if not db_path.exists():
            raise DatabaseMissingError(
                Text(
                    "{home} 中没有采集站数据库。请先设置采集站；若数据库文件丢失，请从备份恢复。",
                    "There is no station database in {home}. Set the station up first; if the file was lost, "
                    "restore it from a backup.",
                ).format(home=home_path)
            )
        if key is None:
            key = keys.load_key(home_path)
        else:
            metadata = keys.read_metadata(home_path)
            if metadata is not None and not hmac.compare_digest(keys.key_check(key), metadata.key_check):
                raise WrongKeyError(WRONG_KEY)
        _check_initialised(db_path, key)
        station_engine = engine.create_station_engine(db_path, key)
        try:
            if upgrade:
                migrate.upgrade(station_engine, db_path, key)
            else:
                with engine.read_transaction(station_engine) as conn:
                    migrate.check_not_newer(migrate.current_revision(conn))
        except BaseException:
            station_engine.dispose()
            raise
        database = cls(home_path, station_engine, key)
        if upgrade:
            database.secrets.seal_plain()
        return database

    def write(self) -> AbstractContextManager[Connection]:
        """A connection inside ``BEGIN IMMEDIATE`` (committed on exit, rolled back on an exception)."""
        return engine.write_transaction(self.engine)

    def read(self) -> AbstractContextManager[Connection]:
        return engine.read_transaction(self.engine)

    def on_write(self, table: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every INSERT/UPDATE/DELETE statement on ``table`` (inside its
        transaction). Only the fault tests use it: their crash points die mid-transaction."""

        @event.listens_for(self.engine, "after_execute")
        def _written(conn, clauseelement, *_args) -> None:  # type: ignore[no-untyped-def]
            written = getattr(clauseelement, "table", None)
            if getattr(written, "name", None) == table and getattr(clauseelement, "is_dml", False):
                callback()

    def schema_revision(self) -> str | None:
        with self.read() as conn:
            return migrate.current_revision(conn)

    def backup(self) -> Path:
        """An encrypted, verified copy of the whole database under ``backups/``."""
        return migrate.take_backup(self.path, self._key, self.schema_revision())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StationDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def recover(recovery_code: str, home: str | os.PathLike[str] | None = None) -> StationDatabase:
    """Restore the lost database key from the recovery code, store it again and open the database."""
    home_path = paths.station_home(home)
    key = keys.recover(recovery_code, home_path)
    database = StationDatabase.open(home_path, key)
    with database.write() as conn:
        audit.append(conn, audit.KEY_RECOVERED, detail={"key_store": _key_store(home_path)})
    return database


def _key_store(home: Path) -> str | None:
    metadata = keys.read_metadata(home)
    return metadata.key_store if metadata else None


def _check_initialised(db_path: Path, key: bytes) -> None:
    """Prove the key and refuse a file that holds no station schema (e.g. truncated to 0 bytes)."""
    conn = engine.connect(db_path, key, configure=False)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
    finally:
        conn.close()
    if found is None:
        raise DatabaseNotInitialisedError(
            Text(
                "数据库文件中没有采集站数据（可能已被截断或替换）。请勿重新设置，联系旗县管理员从备份恢复。",
                "The database file holds no station data (it may have been truncated or replaced). Do not set "
                "the station up again; call the county administrator to restore it from a backup.",
            )
        )


__all__ = ["StationDatabase", "recover"]
