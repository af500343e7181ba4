"""Capture records: saved together with their outbox row in one transaction, then never changed.

``save`` is the moment a capture becomes real (L1, docs/sync-protocol.md §2.2): the record, its ``outbox(pending)``
row and the "capture" audit entry commit together in one ``BEGIN IMMEDIATE``, or none of them does.
The officer may be told "saved" only after it returns. Reading a record's personal data is a "view"
and is audited in the same transaction. The retention purge is the only change a record ever sees,
and the database's own triggers hold it to that.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from station.domain.records import UNREADABLE_CARD
from station.i18n import Text
from station.store import audit, clock
from station.store.engine import read_transaction, write_transaction
from station.store.errors import (
    DatabaseCorruptError,
    PurgeNotAllowedError,
    RecordImmutableError,
    RecordIntegrityError,
)
from station.store.models import PERSONAL_RECORD_COLUMNS, outbox, records
from station.store.rows import FrozenPayload, RecordRow, RecordSummary

JPEG_MAGIC = b"\xff\xd8\xff"
_JSON_FIELDS = ("quality_report", "comparison")


class RecordRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, record: RecordRow) -> str:
        """Store the record and queue it for sync, atomically; return its ``saved_at`` time."""
        _check(record)
        saved_at = clock.iso(clock.utc_now())
        try:
            with write_transaction(self._engine) as conn:
                _insert_record(conn, record, saved_at)
                _insert_outbox(conn, record)
                audit.append(
                    conn,
                    audit.CAPTURE,
                    operator=record.operator,
                    subject=record.record_id,
                    detail={"student_id": record.student_id, "supersedes": record.supersedes},
                )
        except sa_exc.IntegrityError as exc:
            raise RecordIntegrityError(
                Text(
                    "记录未保存：记录号重复，或被替代的记录不存在。",
                    "The record was not saved: its id already exists, or the record it supersedes does not.",
                ),
                code="record_duplicate",
            ) from exc
        return saved_at

    def get(self, record_id: str, *, viewed_by: str) -> RecordRow | None:
        """The full record including personal data; writes a "view" audit entry."""
        with write_transaction(self._engine) as conn:
            row = conn.execute(sa.select(records).where(records.c.record_id == record_id)).mappings().first()
            if row is None:
                return None
            audit.append(conn, audit.VIEW, operator=viewed_by, subject=record_id)
        values = dict(row)
        for name in _JSON_FIELDS:
            values[name] = json.loads(values[name]) if values[name] is not None else None
        values["quality_report"] = values["quality_report"] or {}
        return RecordRow(**values)

    def frozen_payloads(self, record_ids: list[str]) -> dict[str, FrozenPayload]:
        """The bytes each record is sent as (frozen payload, photo) and their hashes, for the sync push.

        No audit entry: these bytes go to the registry, not to a person's screen.
        """
        query = sa.select(
            records.c.record_id,
            records.c.payload,
            records.c.payload_sha256,
            records.c.photo_jpeg,
            records.c.photo_sha256,
        ).where(records.c.record_id.in_(record_ids))
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return {
            r.record_id: FrozenPayload(
                r.record_id,
                bytes(r.payload) if r.payload is not None else None,
                r.payload_sha256,
                bytes(r.photo_jpeg) if r.photo_jpeg is not None else None,
                r.photo_sha256,
            )
            for r in rows
        }

    def readable_payloads(self, record_ids: list[str]) -> tuple[dict[str, FrozenPayload], list[str]]:
        """``frozen_payloads`` around damage: the records that read back, and the ids of those whose
        pages fail their checks (each read alone on a fresh connection, see ``station.store.engine``)."""
        try:
            return self.frozen_payloads(record_ids), []
        except DatabaseCorruptError:
            pass
        found: dict[str, FrozenPayload] = {}
        damaged: list[str] = []
        for record_id in record_ids:
            try:
                found.update(self.frozen_payloads([record_id]))
            except DatabaseCorruptError:
                damaged.append(record_id)
        return found, damaged

    def list(
        self, *, state: str | None = None, student_id: str | None = None, limit: int = 500
    ) -> list[RecordSummary]:
        """Summaries (no personal data), newest capture first."""
        query = (
            sa.select(
                records.c.record_id,
                records.c.student_id,
                records.c.captured_at,
                records.c.operator,
                # national_id is NULL exactly when the record was purged (ck_records_complete); unlike
                # purged_at, the last column, it is read without walking the photo's overflow pages, so
                # a damaged photo page does not hide the whole list.
                records.c.national_id.is_(None).label("purged"),
                outbox.c.state,
                outbox.c.reg_no,
            )
            .join(outbox, outbox.c.record_id == records.c.record_id)
            .order_by(records.c.captured_at.desc())
            .limit(limit)
        )
        if state is not None:
            query = query.where(outbox.c.state == state)
        if student_id is not None:
            query = query.where(records.c.student_id == student_id)
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [
            RecordSummary(
                r.record_id,
                r.student_id,
                r.captured_at,
                r.operator,
                r.state,
                r.reg_no,
                bool(r.purged),
            )
            for r in rows
        ]

    def purge(
        self, record_id: str, *, operator: str, retention_days: int = 30, now: datetime | None = None
    ) -> None:
        """Delete the record's personal data once the registry's ledger confirmed it and retention passed."""
        moment = now or clock.utc_now()
        with write_transaction(self._engine) as conn:
            _purge(conn, record_id, operator, retention_days, moment)

    def purge_due(self, *, operator: str, retention_days: int = 30, now: datetime | None = None) -> list[str]:
        """Purge every record eligible now; return their ids."""
        moment = now or clock.utc_now()
        with write_transaction(self._engine) as conn:
            due = list(conn.execute(_purgeable(retention_days, moment)).scalars())
            for record_id in due:
                _purge(conn, record_id, operator, retention_days, moment)
        return due

    def purge_candidates(self, *, retention_days: int = 30, now: datetime | None = None) -> int:
        """How many records ``purge_due`` would purge now."""
        query = sa.select(sa.func.count()).select_from(
            _purgeable(retention_days, now or clock.utc_now()).subquery()
        )
        with read_transaction(self._engine) as conn:
            return int(conn.execute(query).scalar() or 0)


def _purgeable(retention_days: int, moment: datetime) -> sa.Select:
    """Records the registry's ledger confirmed at least ``retention_days`` ago and not purged yet."""
    cutoff = clock.iso(moment - timedelta(days=retention_days))
    return (
        sa.select(records.c.record_id)
        .join(outbox, outbox.c.record_id == records.c.record_id)
        .where(
            records.c.purged_at.is_(None),
            outbox.c.state.in_(("accepted", "rejected")),
            outbox.c.ledger_confirmed_at.is_not(None),
            outbox.c.ledger_confirmed_at <= cutoff,
        )
    )


def _check(record: RecordRow) -> None:
    problems = []
    if record.photo_jpeg is None or not record.photo_jpeg.startswith(JPEG_MAGIC):
        problems.append("photo is not a JPEG")
    elif hashlib.sha256(record.photo_jpeg).hexdigest() != record.photo_sha256:
        problems.append("photo_sha256 does not match the photo")
    if record.payload is None or hashlib.sha256(record.payload).hexdigest() != record.payload_sha256:
        problems.append("payload_sha256 does not match the payload")
    if record.card_type == UNREADABLE_CARD:
        # A manual sign-off: no chip blocks at all, and the payload says who signed it off.
        if record.chip_text is not None or record.chip_wlt is not None:
            problems.append("a record signed off without a readable chip carries chip blocks")
        if record.payload is None or b'"manual_approval"' not in record.payload:
            problems.append("a record without chip evidence lacks its manual sign-off")
    else:
        if record.chip_text is None or len(record.chip_text) != 256:
            problems.append("chip text block is not 256 bytes")
        if record.chip_wlt is None or len(record.chip_wlt) != 1024:
            problems.append("chip photo block is not 1024 bytes")
    if not record.national_id:
        problems.append("national_id is empty")
    try:
        clock.parse(record.captured_at)
    except ValueError:
        problems.append("captured_at is not an ISO timestamp")
    if problems:
        raise RecordIntegrityError(
            Text(
                "记录数据不完整或不一致，未保存：{why}",
                "The record is incomplete or inconsistent and was not saved: {why}",
            ).format(why="; ".join(problems)),
            code="record_inconsistent",
        )


def _insert_record(conn: Connection, record: RecordRow, saved_at: str) -> None:
    values = {
        c.name: getattr(record, c.name) for c in records.columns if c.name not in ("saved_at", "purged_at")
    }
    for name in _JSON_FIELDS:
        value = values[name]
        values[name] = None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
    conn.execute(records.insert(), {**values, "saved_at": saved_at})


def _insert_outbox(conn: Connection, record: RecordRow) -> None:
    size = len(record.photo_jpeg or b"") + len(record.payload or b"")
    conn.execute(
        outbox.insert(),
        {
            "record_id": record.record_id,
            "state": "pending",
            "created_at": record.captured_at,
            "size_bytes": size,
        },
    )


def _purge(conn: Connection, record_id: str, operator: str, retention_days: int, moment: datetime) -> None:
    row = conn.execute(
        sa.select(records.c.purged_at, outbox.c.state, outbox.c.ledger_confirmed_at)
        .join(outbox, outbox.c.record_id == records.c.record_id)
        .where(records.c.record_id == record_id)
    ).first()
    confirmed = (
        row is not None and row.ledger_confirmed_at is not None and row.state in ("accepted", "rejected")
    )
    if not confirmed or row is None or row.purged_at is not None:
        raise PurgeNotAllowedError(
            Text(
                "此记录尚未经登记中心确认（或已清除），不能删除个人数据。",
                "This record is not yet confirmed by the registry's ledger (or already purged); its personal "
                "data cannot be deleted.",
            )
        )
    if clock.parse(row.ledger_confirmed_at) + timedelta(days=retention_days) > moment:
        raise PurgeNotAllowedError(
            Text(
                "保留期（{days} 天）尚未结束。", "The retention period ({days} days) has not passed."
            ).format(days=retention_days)
        )
    audit.append(
        conn,
        audit.PURGE,
        operator=operator,
        subject=record_id,
        detail={"retention_days": retention_days},
        at=moment,
    )
    try:
        conn.execute(
            records.update()
            .where(records.c.record_id == record_id)
            .values({**{name: None for name in PERSONAL_RECORD_COLUMNS}, "purged_at": clock.iso(moment)})
        )
    except sa_exc.IntegrityError as exc:
        raise RecordImmutableError(
            Text("记录不可修改。", "Records cannot be changed."), code="record_immutable"
        ) from exc
