"""SQLCipher connections and the SQLAlchemy engine over them.

Every connection is keyed with the raw 32-byte key (``PRAGMA key = "x'…'"``: no passphrase derivation,
so opening a pooled connection is cheap), proven by reading ``sqlite_master`` (a wrong key fails there
with "file is not a database" and nothing is written), then set to WAL, ``synchronous=FULL`` (NORMAL in
WAL may lose the last commits on a power cut), foreign keys on, temp storage in memory (no temp files
on disk) and a busy timeout.

Transactions: the driver's own implicit BEGIN is switched off (``isolation_level=None``) and SQLAlchemy's
``begin`` event emits our BEGIN, as the SQLAlchemy SQLite docs describe for serializable isolation. Write
transactions use ``BEGIN IMMEDIATE`` (taking the write lock up front, so a read-then-write transaction
never fails with SQLITE_BUSY on the upgrade); read transactions use a plain deferred BEGIN and see one
consistent WAL snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool

from station.i18n import Text
from station.store.errors import (
    WRONG_KEY,
    BusyError,
    DatabaseCorruptError,
    DatabaseMissingError,
    DiskFullError,
    WrongKeyError,
)

BUSY_TIMEOUT_S = 15.0
_BEGIN_OPTION = "station_begin"


def connect(path: Path, key: bytes, *, create: bool = False, configure: bool = True) -> sqlcipher.Connection:
    """A keyed, configured SQLCipher connection to ``path``.

    ``create=False`` never creates a file: a missing database is an error, not a fresh empty station.
    ``configure=False`` only proves the key and leaves journal mode alone, so the file is not written.
    """
    if len(key) != 32:
        raise WrongKeyError(Text("密钥长度不正确。", "The key has the wrong length."))
    mode = "rwc" if create else "rw"
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    try:
        conn = sqlcipher.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlcipher.OperationalError:
        raise DatabaseMissingError(
            Text("找不到本站数据库文件：{path}", "The station database file is missing: {path}").format(
                path=path
            )
        ) from None
    try:
        # SQLCipher would print decryption failures to stderr; a wrong key becomes a typed error instead.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc):
            raise WrongKeyError(WRONG_KEY) from None
        raise DatabaseCorruptError(_corrupt_text()) from None
    if not configure:
        return conn
    try:
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlcipher.DatabaseError:
        conn.close()
        raise DatabaseCorruptError(_corrupt_text()) from None
    return conn


def create_station_engine(path: Path, key: bytes, *, pool_size: int = 4) -> Engine:
    """A SQLAlchemy engine whose connections come from ``connect`` (never creating the file)."""
    engine = create_engine(
        # The URL only tells the dialect this is a file database; connections come from ``creator``.
        f"sqlite:///{path}",
        module=sqlcipher,
        creator=lambda: connect(path, key),
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=8,
        pool_timeout=BUSY_TIMEOUT_S,
    )

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN_OPTION, 'DEFERRED')}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception)."""
    with _translate_errors(), engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A deferred transaction: one consistent snapshot for several reads."""
    with _translate_errors(), engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Busy and disk-full conditions become typed errors the desk can explain (nothing was written)."""
    try:
        yield
    except sa_exc.OperationalError as exc:
        detail = str(exc.orig)
        if "database is locked" in detail or "database is busy" in detail:
            raise BusyError(
                Text(
                    "数据库正忙（另一个操作占用时间过长），未保存任何内容，请稍后重试。",
                    "The database is busy (another operation held it too long); nothing was written. Try again "
                    "shortly.",
                )
            ) from None
        if "disk is full" in detail or "disk I/O error" in detail:
            raise DiskFullError(
                Text(
                    "磁盘已满或无法写入，本次操作未保存（已保存的数据不受影响）。请清理磁盘空间后重试。",
                    "The disk is full or cannot be written: this operation was not saved (data saved earlier is "
                    "safe). Free disk space and try again.",
                )
            ) from None
        raise


def _corrupt_text() -> Text:
    return Text(
        "数据库文件已损坏，无法读取。请勿删除该文件，联系旗县管理员从备份恢复。",
        "The database file is damaged and cannot be read. Do not delete it; call the county administrator "
        "to restore it from a backup.",
    )
