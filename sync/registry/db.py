"""The registry's tables and database access (SQLAlchemy 2; SQLite by default, PostgreSQL via psycopg 3).

Constraints carry the invariants of docs/sync-protocol.md §2.2: ``UNIQUE(record_id)`` (primary key of
``records``), one registration per ID number per season (a partial unique index), ``UNIQUE(season,
county, serial)``, ``last_serial <= 99999`` and one ledger sequence per station.

Three counter rows serialise the writers that must be ordered: ``stations.ledger_seq`` (a station's
ledger), ``feed_counters.seq`` (a county's approvals feed) and ``reg_counters.last_serial`` (serials).
A transaction takes them in that order, the serial counter last, and holds each to COMMIT, so sequence
order is commit order and rolled-back serials are never seen. On SQLite every write transaction is
``BEGIN IMMEDIATE`` (a second, deferred engine serves the reads); on PostgreSQL the ``UPDATE ...
RETURNING`` row locks do it under READ COMMITTED. Engines hide SQL parameters in their errors, so
no ID number or name reaches a log through an exception message.

A station is bound to one county for ever (``stations.county``), checked on every request; revoked
certificate serials live in ``revoked_certificates`` and every station certificate issued, renewed or
seen in ``issued_certificates`` (every node of one registry sees both). A record held for league review
(manual evidence under ``manual_evidence = review``) has outcome ``held`` and no ledger position until
it is decided. On PostgreSQL the photos live in ``blobs`` (``blobs.DatabaseBlobStore``), so every node
serves every photo; on SQLite they are files beside the database. A SQLite database file is created
with mode 0600.

The schema is owned by the migrations (``migrate``, ``migrations/versions``): ``sync-registry init``
creates it at head, ``sync-registry migrate`` upgrades an older one, and a test checks that the
migrations and these models agree.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Registry-wide settings: ``season`` (entry year) and ``epoch`` (changes on restore -> 410)."""

    __tablename__ = "registry_meta"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class FeedCounter(Base):
    __tablename__ = "feed_counters"
    county: Mapped[str] = mapped_column(String(6), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class RegCounter(Base):
    __tablename__ = "reg_counters"
    __table_args__ = (CheckConstraint("last_serial >= 0 AND last_serial <= 99999", name="serial_range"),)
    season: Mapped[int] = mapped_column(Integer, primary_key=True)
    county: Mapped[str] = mapped_column(String(6), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


class Station(Base):
    """A station, bound to its county for ever; ``ledger_seq`` is the head of its ledger."""

    __tablename__ = "stations"
    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    county: Mapped[str] = mapped_column(String(6))
    ledger_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen_at: Mapped[str] = mapped_column(String(40))


class RevokedCertificate(Base):
    """A station certificate the registry refuses on every request (``sync-registry pki revoke``)."""

    __tablename__ = "revoked_certificates"
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)  # lower-case hex
    station_id: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[str] = mapped_column(String(40))


class IssuedCertificate(Base):
    """A station certificate this registry issued, renewed or was shown: what ``pki revoke --station`` revokes."""

    __tablename__ = "issued_certificates"
    __table_args__ = (Index("issued_by_station", "station_id"),)
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)  # lower-case hex
    station_id: Mapped[str] = mapped_column(String(64))
    county: Mapped[str] = mapped_column(String(6))
    not_after: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(8))  # issued | renewed | seen


class BlobRow(Base):
    """A photo, content-addressed (PostgreSQL deployments: every node reads the same store)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[float] = mapped_column(Float)  # epoch seconds, for gc's minimum age


class Student(Base):
    """A pre-registration; ``seq`` is its latest position in the county feed (compacted in place)."""

    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("county", "seq", name="feed_position"),
        Index("students_by_national_id", "season", "national_id"),
    )
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[int] = mapped_column(Integer)
    county: Mapped[str] = mapped_column(String(6))
    national_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(1))
    nation: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[str] = mapped_column(String(10))
    political_status: Mapped[str] = mapped_column(String(2))
    school_code: Mapped[str] = mapped_column(String(32))
    school_name: Mapped[str] = mapped_column(String(128))
    class_no: Mapped[str] = mapped_column(String(16))
    teaching_language: Mapped[str] = mapped_column(String(8))
    student_category: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger)


class RecordRow(Base):
    """The stored outcome of one received record: a registration or a rejection (never a retry)."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("season", "county", "serial", name="one_serial"),
        UniqueConstraint("station_id", "ledger_seq", name="ledger_position"),
        Index(
            "one_registration_per_person",
            "season",
            "national_id",
            unique=True,
            sqlite_where=text("outcome = 'registered'"),
            postgresql_where=text("outcome = 'registered'"),
        ),
        Index("records_by_photo", "photo_sha256"),
        CheckConstraint("outcome IN ('registered', 'rejected', 'held')", name="outcome_kind"),
        CheckConstraint("evidence IN ('chip', 'manual')", name="evidence_kind"),
    )
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    season: Mapped[int] = mapped_column(Integer)
    county: Mapped[str] = mapped_column(String(6))
    student_id: Mapped[str] = mapped_column(String(64))
    national_id: Mapped[str] = mapped_column(String(32))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    photo_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[str] = mapped_column(String(8), default="chip", server_default="chip")
    approved_by: Mapped[str | None] = mapped_column(String(64))  # manual evidence: the administrator
    code: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[str | None] = mapped_column(String(256))  # comma-separated, ID_MISMATCH
    holder_school_code: Mapped[str | None] = mapped_column(String(32))
    holder_school_name: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[int | None] = mapped_column(Integer)
    reg_no: Mapped[str | None] = mapped_column(String(11), unique=True)
    captured_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[str] = mapped_column(String(40))
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger)  # None while held for review
    record_json: Mapped[str] = mapped_column(Text)  # canonical JSON as received


class BatchRow(Base):
    """Idempotency-Key bookkeeping: detects 409 in flight and 422 key reuse; correctness never needs it."""

    __tablename__ = "batches"
    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # in_progress | done | failed
    lease_until: Mapped[float] = mapped_column(Float)
    response_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs; leave others alone."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _make_engine(url: str, *, immediate: bool) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "check_same_thread": False},
            pool_size=16,
            max_overflow=16,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
            # Take transaction control away from the sqlite3 module; "begin" below issues it.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection) -> None:  # pragma: no cover - driver hook
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_size=16, max_overflow=16, pool_timeout=60, hide_parameters=True)


class Database:
    """Session factories: ``write()`` for serialised write transactions, ``read()`` for reads."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        self.is_sqlite = self.backend == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            _private_file(parsed.database)
        self.writer = _make_engine(self.url, immediate=True)
        self.reader = _make_engine(self.url, immediate=False) if self.is_sqlite else self.writer
        self._write = sessionmaker(self.writer, expire_on_commit=False)
        self._read = sessionmaker(self.reader, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def _private_file(path: str) -> None:
    """Create the SQLite file 0600 (its -wal and -shm files take the same mode) or tighten an existing one."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None
