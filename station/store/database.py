"""``StationDatabase``: the one way into the station's encrypted store.

* ``StationDatabase.create(home, admin=...)`` sets a station up: a new key (credential store, or the
  first county administrator's key slot where there is none), the sealed recovery copy, the database
  at the head schema and the administrator's account. It returns the recovery code, to be shown once
  and printed for the county administrator.
* ``StationDatabase.open(home, officer=...)`` opens it with the key (from the credential store, or
  unwrapped by the officer's password, ``station.store.keys``), refusing a wrong key (typed error, file
  untouched), a damaged first page (told apart from a wrong key by the key check value), a missing
  file (never a fresh empty database in its place) and a newer schema, and upgrading an older schema
  after an encrypted backup. An officer given to it is verified as at the desk log-in (lockout,
  disabled accounts, audit). A station whose key was still in ``station.key`` gets its key slots and
  loses the file here (``keys.convert_key_file``).
* ``recover(code, home, admin=...)`` brings a lost key back from the recovery code and opens the database.

The repositories hang off the instance: ``queue``, ``records``, ``outbox``, ``sync_state``,
``secrets``, ``operators``, ``audit``, ``reports``. ``write()`` / ``read()`` give a connection in a ``BEGIN IMMEDIATE`` or a
deferred transaction for work that spans repositories.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Connection, Engine, event

from station.domain.officers import OfficerLogin, OfficerSource
from station.i18n import Text
from station.store import audit, backups, engine, keys, migrate, paths
from station.store.audit import AuditLog
from station.store.errors import (
    WRONG_KEY,
    DatabaseExistsError,
    DatabaseHeaderDamagedError,
    DatabaseMissingError,
    DatabaseNotInitialisedError,
    WrongKeyError,
)
from station.store.keyslots import KeySlots
from station.store.operators import OperatorRepository, check_new_password
from station.store.outbox import OutboxRepository
from station.store.queue import QueueRepository
from station.store.records import RecordRepository
from station.store.reports import ReportQueries
from station.store.secrets import SecretRepository
from station.store.sync_state import SyncStateRepository

log = logging.getLogger("station.store")


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
        self.operators = OperatorRepository(station_engine, key_slots=_SlotKeeper(home, key))
        self.audit = AuditLog(station_engine)
        self.reports = ReportQueries(station_engine)

    @classmethod
    def create(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        schema_revision: str = "head",
        admin: OfficerLogin | None = None,
        admin_display_name: str | None = None,
    ) -> tuple[StationDatabase, str]:
        """Set up a new station in ``home`` (with its first county administrator when ``admin`` is given);
        return the open database and its recovery code (show once).

        Without an OS keyring the key is wrapped by ``admin``'s password, so ``admin`` is then required
        (``AdminRequiredError``, before anything is written)."""
        if admin is not None:
            check_new_password(admin.password)
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
        key, code = keys.setup(home_path, admin)
        engine.connect(db_path, key, create=True).close()
        os.chmod(db_path, 0o600)
        station_engine = engine.create_station_engine(db_path, key)
        migrate.upgrade(station_engine, db_path, key, target=schema_revision, backup=False)
        database = cls(home_path, station_engine, key)
        if admin is not None:
            database.operators.create(
                admin.username,
                admin.password,
                role="county_admin",
                display_name=admin_display_name,
                created_by="setup",
            )
        return database, code

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        key: bytes | None = None,
        *,
        upgrade: bool = True,
        officer: OfficerSource = None,
    ) -> StationDatabase:
        """Open this station's database (upgrading an older schema after a backup unless ``upgrade=False``).

        ``officer`` (a log-in, or a function asked for one only when the key is slot-wrapped) opens a
        station without an OS keyring; a log-in given is verified like the desk's."""
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
        login = officer if isinstance(officer, OfficerLogin) else None
        key_proven = key is None
        if key is None:
            unlocked = keys.unlock(home_path, officer)
            key, login = unlocked.key, unlocked.login or login
        else:
            metadata = keys.read_metadata(home_path)
            if metadata is not None and not hmac.compare_digest(keys.key_check(key), metadata.key_check):
                raise WrongKeyError(WRONG_KEY)
            key_proven = metadata is not None
        try:
            _check_initialised(db_path, key)
        except WrongKeyError:
            if key_proven:  # the key check value proved the key: it is the first page that is damaged
                raise DatabaseHeaderDamagedError(HEADER_DAMAGED, fix=engine.RESTORE_FIX) from None
            raise
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
        try:
            if upgrade:
                database.secrets.seal_plain()
                _convert_key_file(home_path, key, database)
            if login is not None:
                database.operators.verify(login.username, login.password)
        except BaseException:
            database.close()
            raise
        return database

    @property
    def key(self) -> bytes:
        """The database key, in memory only: to open the same station again (health checks, backups)."""
        return self._key

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

    def backup(self, *, keep: int | None = None) -> Path:
        """An encrypted, verified copy of the whole database under ``backups/`` (then only the newest
        ``keep`` kept, when given)."""
        taken = backups.take(self.path, self._key, self.schema_revision())
        if keep is not None:
            backups.prune(self.home, keep)
        return taken

    def backup_if_due(self, *, every_hours: int, keep: int) -> Path | None:
        """The scheduled backup: taken when the newest is ``every_hours`` old (or there is none)."""
        if not backups.is_due(self.home, every_hours):
            return None
        return self.backup(keep=keep)

    def page_problems(self) -> list[str]:
        """SQLCipher's and SQLite's integrity checks of the database file (empty: every page sound)."""
        return backups.page_problems(self.path, self._key)

    def unreadable_records(self) -> list[str]:
        """Ids of the records whose pages fail their checks (every record read back whole)."""
        ids = [entry.record_id for entry in self.outbox.list(limit=10**9)]
        return self.records.readable_payloads(ids)[1]

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StationDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def recover(
    recovery_code: str, home: str | os.PathLike[str] | None = None, *, admin: OfficerLogin | None = None
) -> StationDatabase:
    """Restore the lost database key from the recovery code, keep it again and open the database.

    Without an OS keyring the key is kept in ``admin``'s key slot: that county administrator's password
    is set to ``admin.password`` (the account is created if it does not exist)."""
    if admin is not None:
        check_new_password(admin.password)
    home_path = paths.station_home(home)
    key = keys.recover(recovery_code, home_path, admin)
    database = StationDatabase.open(home_path, key)
    try:
        if admin is not None and keys.uses_slots(home_path):
            if database.operators.get(admin.username) is None:
                database.operators.create(
                    admin.username, admin.password, role="county_admin", created_by="recovery"
                )
            else:
                database.operators.set_password(admin.username, admin.password, changed_by="recovery")
        with database.write() as conn:
            audit.append(conn, audit.KEY_RECOVERED, detail={"key_store": _key_store(home_path)})
    except BaseException:
        database.close()
        raise
    return database


def restore(
    home: str | os.PathLike[str] | None = None,
    *,
    officer: OfficerSource = None,
    source: Path | None = None,
) -> tuple[StationDatabase, backups.RestoreReport]:
    """Replace a damaged database with a backup and salvage what still reads (``station.store.backups``).

    Only the key is needed, not the damaged database: a slot-wrapped key is unlocked by ``officer``'s
    password (the account is then verified in the restored database)."""
    home_path = paths.station_home(home)
    unlocked = keys.unlock(home_path, officer)
    used, aside = backups.restore(home_path, unlocked.key, source)
    salvaged, unreadable = backups.salvage(paths.database_path(home_path), aside, unlocked.key)
    database = StationDatabase.open(home_path, unlocked.key)  # the key slot already proved the password
    try:
        with database.write() as conn:
            audit.append(
                conn,
                "restore",
                operator=unlocked.login.username if unlocked.login else None,
                detail={"backup": used.name, "salvaged": len(salvaged), "unreadable": unreadable},
            )
    except BaseException:
        database.close()
        raise
    return database, backups.RestoreReport(used, aside, salvaged, unreadable)


def _convert_key_file(home: Path, key: bytes, database: StationDatabase) -> None:
    """A station whose key is still in station.key gets key slots now (see ``keys.convert_key_file``).

    On a read-only disk this cannot happen yet: the station opens as before and tries again next time."""
    try:
        converted = keys.convert_key_file(home, key, database.operators.password_hashes())
    except OSError:
        log.warning("station.key could not be converted into key slots (read-only home?)")
        return
    if converted:
        log.info("station.key converted into %d key slots and deleted", len(converted))
        with database.write() as conn:
            audit.append(conn, "key_slots_created", detail={"officers": len(converted), "from": "station.key"})


class _SlotKeeper:
    """The operators' key-slot hook: rewraps or removes slots on a slot-wrapped station, else does nothing."""

    def __init__(self, home: Path, key: bytes) -> None:
        self._home = home
        self._key = key

    def password_set(self, username: str, password: str) -> Callable[[], None]:
        if not keys.uses_slots(self._home):
            return lambda: None
        slots = KeySlots(self._home)
        previous = slots.put(username, password, self._key)
        return lambda: slots.restore(username, previous)

    def removed(self, username: str) -> None:
        if keys.uses_slots(self._home):
            KeySlots(self._home).remove(username)

    def unlocked(self, username: str) -> None:
        if keys.uses_slots(self._home):
            KeySlots(self._home).clear_lockout(username)

    def enabled(self, username: str, password_hash: str) -> None:
        if keys.uses_slots(self._home):
            KeySlots(self._home).put_from_hashes({username: password_hash}, self._key)


HEADER_DAMAGED = Text(
    "数据库文件的第一页（文件头）已损坏。密钥是正确的（已用站点信息文件核对），不需要恢复码。",
    "The first page (the header) of the database file is damaged. The key is right (checked against the "
    "station file), so the recovery code is not needed.",
)


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
