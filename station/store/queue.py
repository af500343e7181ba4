"""The local queue of approved students, filled from the registry's approvals feed.

A feed page is applied atomically with its cursor (docs/sync-protocol.md §6.4): in one ``BEGIN IMMEDIATE``
every upsert whose version is newer than the local one, every tombstone, then the cursor. Replaying a
page is harmless, and an older version never overwrites a newer one. Revoked students stay as
tombstones (``revoked``), so a capture already made for them keeps its context.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.sqlite import insert

from station.store import clock, sync_state
from station.store.engine import read_transaction, write_transaction
from station.store.models import students
from station.store.models import sync_state as sync_state_table
from station.store.rows import PRE_REGISTRATION_FIELDS, FeedItem, QueuedStudent
from sync.protocol.canonical import approval_term, xor_hex

_COLUMNS = [f.name for f in fields(QueuedStudent)]


@dataclass(frozen=True)
class FeedApplyResult:
    upserted: int
    revoked: int
    ignored: int  # items not newer than what the queue already holds


class QueueRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def apply_feed_page(
        self,
        items: Iterable[FeedItem],
        next_cursor: str | None,
        *,
        feed: str,
        epoch: str | None = None,
        head_seq: int | None = None,
    ) -> FeedApplyResult:
        """Apply one page and save ``next_cursor`` in the same transaction."""
        with write_transaction(self._engine) as conn:
            return _apply_page(conn, list(items), next_cursor, feed=feed, epoch=epoch, head_seq=head_seq)

    def begin_resync(self, feed: str, started: str) -> None:
        """Enter a full resync of ``feed``: forget its cursor, remember when the resync began."""
        with write_transaction(self._engine) as conn:
            conn.execute(sync_state_table.delete().where(sync_state_table.c.feed == feed))
            sync_state.save(conn, f"{feed}:resync", started)

    def replace_for_resync(self, items: list[FeedItem], next_cursor: str | None, *, feed: str) -> FeedApplyResult:
        """Apply a resync page: the page's rows replace local ones whatever their local version."""
        with write_transaction(self._engine) as conn:
            conn.execute(students.delete().where(students.c.student_id.in_([i.student_id for i in items])))
            return _apply_page(conn, items, next_cursor, feed=feed)

    def finish_resync(self, feed: str) -> int:
        """End the resync of ``feed``: drop rows it did not bring (they left the registry's feed)."""
        marker = f"{feed}:resync"
        with write_transaction(self._engine) as conn:
            started = conn.execute(
                sa.select(sync_state_table.c.cursor).where(sync_state_table.c.feed == marker)
            ).scalar()
            if started is None:
                return 0
            removed = conn.execute(students.delete().where(students.c.received_at < started)).rowcount
            conn.execute(sync_state_table.delete().where(sync_state_table.c.feed == marker))
        return removed

    def upsert(self, student: QueuedStudent) -> bool:
        """Insert, or replace when ``student.version`` is newer; True when the queue changed."""
        with write_transaction(self._engine) as conn:
            return _upsert_many(conn, [student]) > 0

    def get(self, student_id: str) -> QueuedStudent | None:
        with read_transaction(self._engine) as conn:
            row = (
                conn.execute(sa.select(students).where(students.c.student_id == student_id))
                .mappings()
                .first()
            )
        return _student(row) if row else None

    def get_by_national_id(self, national_id: str) -> QueuedStudent | None:
        """The live entry for this ID number (a tombstone only if there is no live one)."""
        query = (
            sa.select(students)
            .where(students.c.national_id == national_id)
            .order_by(students.c.revoked, students.c.version.desc())
            .limit(1)
        )
        with read_transaction(self._engine) as conn:
            row = conn.execute(query).mappings().first()
        return _student(row) if row else None

    def list(
        self,
        *,
        school_code: str | None = None,
        class_no: str | None = None,
        status: str | None = None,
        include_revoked: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[QueuedStudent]:
        query = _filtered(sa.select(students), school_code, class_no, status, include_revoked)
        query = query.order_by(students.c.school_code, students.c.class_no, students.c.student_id)
        query = query.limit(limit).offset(offset) if limit is not None else query.offset(offset)
        with read_transaction(self._engine) as conn:
            return [_student(row) for row in conn.execute(query).mappings()]

    def count(
        self,
        *,
        school_code: str | None = None,
        class_no: str | None = None,
        status: str | None = None,
        include_revoked: bool = False,
    ) -> int:
        query = _filtered(
            sa.select(sa.func.count()).select_from(students), school_code, class_no, status, include_revoked
        )
        with read_transaction(self._engine) as conn:
            return int(conn.execute(query).scalar() or 0)

    def digest(self) -> tuple[int, str]:
        """``(count, xor_sha256)`` over live rows, comparable with the registry's approvals digest."""
        query = sa.select(students.c.student_id, students.c.version).where(students.c.revoked.is_(False))
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return len(rows), xor_hex(approval_term(r.student_id, r.version) for r in rows)


def _apply_page(
    conn: Connection,
    items: list[FeedItem],
    next_cursor: str | None,
    *,
    feed: str,
    epoch: str | None = None,
    head_seq: int | None = None,
) -> FeedApplyResult:
    # Upserts and tombstones each go as one executemany. Their order within the page does not
    # matter: every write is guarded by "incoming version > local version".
    upserts: list[QueuedStudent] = []
    revokes: list[FeedItem] = []
    for item in items:
        if item.op == "revoke":
            revokes.append(item)
        elif item.op == "upsert" and item.data is not None:
            data = {**item.data, "student_id": item.student_id, "version": item.version}
            upserts.append(QueuedStudent.from_feed(data, seq=item.seq))
        else:
            raise ValueError(f"unknown feed operation {item.op!r}")
    upserted = _upsert_many(conn, upserts)
    revoked = _revoke_many(conn, revokes)
    sync_state.save(conn, feed, next_cursor, epoch=epoch, head_seq=head_seq)
    return FeedApplyResult(upserted, revoked, len(upserts) + len(revokes) - upserted - revoked)


_UPSERT = insert(students)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=["student_id"],
    set_={name: _UPSERT.excluded[name] for name in _COLUMNS if name != "student_id"},
    where=_UPSERT.excluded.version > students.c.version,
)
_REVOKE = (
    students.update()
    .where(
        students.c.student_id == sa.bindparam("b_student_id"), students.c.version < sa.bindparam("b_version")
    )
    .values(
        revoked=True,
        version=sa.bindparam("b_version"),
        seq=sa.bindparam("b_seq"),
        received_at=sa.bindparam("b_at"),
    )
)


def _upsert_many(conn: Connection, batch: list[QueuedStudent]) -> int:
    """Insert, or replace when newer, each student; return how many rows changed."""
    if not batch:
        return 0
    received_at = clock.iso(clock.utc_now())
    rows = [
        {
            **{name: getattr(s, name) for name in _COLUMNS},
            "received_at": received_at,
            "revoked": bool(s.revoked),
        }
        for s in batch
    ]
    return conn.execute(_UPSERT, rows).rowcount


def _revoke_many(conn: Connection, batch: list[FeedItem]) -> int:
    """Turn live rows into tombstones where the revoke is newer; return how many changed."""
    if not batch:
        return 0
    at = clock.iso(clock.utc_now())
    rows = [{"b_student_id": i.student_id, "b_version": i.version, "b_seq": i.seq, "b_at": at} for i in batch]
    return conn.execute(_REVOKE, rows).rowcount


def _filtered(query, school_code, class_no, status, include_revoked):  # type: ignore[no-untyped-def]
    if school_code is not None:
        query = query.where(students.c.school_code == school_code)
    if class_no is not None:
        query = query.where(students.c.class_no == class_no)
    if status is not None:
        query = query.where(students.c.status == status)
    if not include_revoked:
        query = query.where(students.c.revoked.is_(False))
    return query


def _student(row) -> QueuedStudent:  # type: ignore[no-untyped-def]
    return QueuedStudent(**{name: row[name] for name in _COLUMNS})


__all__ = ["PRE_REGISTRATION_FIELDS", "FeedApplyResult", "QueueRepository"]
