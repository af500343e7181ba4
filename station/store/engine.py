"""SQLCipher connections and the SQLAlchemy engine over them.

Every connection is keyed with the raw 32-byte key (``PRAGMA key = "x'…'"``: no passphrase derivation,
so opening a pooled connection is cheap), proven by reading ``sqlite_master`` (a wrong key fails there
with "file is not a database" and nothing is written), then set to WAL, ``synchronous=FULL`` (NORMAL in
WAL may lose the last commits on a power cut), foreign keys on, temp storage in memory (no temp files
on disk), ``secure_delete`` (a deleted or replaced value -- a secret sealed in place -- leaves no copy in
free pages) and a busy timeout.

Damage: SQLCipher checks each page's HMAC as it reads it. A page that fails makes the statement fail
with "database disk image is malformed" and, after that, the codec keeps failing on that connection,
so such a connection is dropped from the pool (``_drop_damaged_connections``) and the error becomes a
``DatabaseCorruptError``: the next statement, on a fresh connection, reads whatever is still sound.
That is what lets the sync set one damaged record aside and send the rest.

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
    StoreUnwritableError,
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
        if path.exists():
            raise StoreUnwritableError(unwritable_text(path.parent)) from None
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
        raise _typed(str(exc), path.parent) from None
    if not configure:
        return conn
    try:
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
    except sqlcipher.DatabaseError as exc:
        conn.close()
        raise _typed(str(exc), path.parent) from None
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

    @event.listens_for(engine, "handle_error")
    def _drop_damaged_connections(context) -> None:  # type: ignore[no-untyped-def]
        if is_damage(str(context.original_exception)):
            context.is_disconnect = True  # this connection only: SQLCipher keeps failing on it
            context.invalidate_pool_on_disconnect = False

    return engine


def is_damage(detail: str) -> bool:
    """SQLite's and SQLCipher's words for a page that failed its checks."""
    return "malformed" in detail or "not a database" in detail or "database corrupt" in detail


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
    """Busy, disk-full, read-only and damage conditions become typed errors a person can be told
    (the transaction was rolled back: nothing was written)."""
    try:
        yield
    except sa_exc.DatabaseError as exc:
        detail = str(exc.orig)
        if is_damage(detail):
            raise DatabaseCorruptError(_corrupt_text(), fix=RESTORE_FIX) from None
        if "readonly" in detail or "unable to open" in detail or "access permission" in detail:
            raise StoreUnwritableError(UNWRITABLE) from None
        if "database is locked" in detail or "database is busy" in detail:
            raise BusyError(
                Text(
                    "数据库正忙（另一个操作占用时间过长），未保存任何内容，请稍后重试。",
                    "The database is busy (another operation held it too long); nothing was written. Try again "
                    "shortly.",
                )
            ) from None
        if "disk is full" in detail or "disk I/O error" in detail:
            raise DiskFullError(DISK_FULL) from None
        raise


def _typed(detail: str, home: Path) -> Exception:
    if is_damage(detail):
        return DatabaseCorruptError(_corrupt_text(), fix=RESTORE_FIX)
    if "readonly" in detail or "unable to open" in detail or "access permission" in detail:
        return StoreUnwritableError(unwritable_text(home))
    if "disk is full" in detail or "disk I/O error" in detail:
        return DiskFullError(DISK_FULL)
    return DatabaseCorruptError(_corrupt_text(), fix=RESTORE_FIX)


def _corrupt_text() -> Text:
    return Text("数据库已损坏（部分数据页无法通过校验）。", "The database is damaged (some pages fail their checks).")


RESTORE_FIX = Text(
    "请勿删除任何文件：请旗县管理员运行 station doctor 查看损坏情况，并从最近的备份恢复（station store restore）；"
    "未损坏的记录仍可同步。",
    "Do not delete any file: the county administrator runs `station doctor` to see the damage and restores the "
    "last backup (`station store restore`); records that are not damaged still sync.",
)
UNWRITABLE = Text(
    "无法写入站点目录（磁盘只读或没有权限），本次操作未保存。",
    "The station directory cannot be written (read-only disk or missing permissions); nothing was saved.",
)
DISK_FULL = Text(
    "磁盘已满或无法写入，本次操作未保存（已保存的数据不受影响）。请清理磁盘空间后重试。",
    "The disk is full or cannot be written: this operation was not saved (data saved earlier is safe). Free "
    "disk space and try again.",
)


def unwritable_text(home: Path) -> Text:
    return Text(
        "无法写入站点目录 {home}（磁盘只读或没有权限），本次操作未保存。",
        "The station directory {home} cannot be written (read-only disk or missing permissions); nothing was "
        "saved.",
    ).format(home=home)
