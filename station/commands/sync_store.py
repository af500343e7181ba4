"""The store side of the sync engine: ``StationSyncStore`` (the engine's ``LocalStore`` port) over the
encrypted station database, the wire form of frozen records, and the registry credentials.

The registry credentials (CA, client certificate and key) live inside the encrypted database, in
``sync_state`` rows named ``credential:*``; they are read only to build the in-memory TLS context of a
session (``sync.client.tlsmaterial``).

A wire record is the record's frozen payload (``CaptureRecord.payload()``, canonical JSON stored at
capture) plus its ``payload_sha256``, so every resend is byte-identical and the hash the registry echoes
is the one fixed at capture: the store's L2 rule (results only with matching hashes) holds end to end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event

from station.store import clock
from station.store.errors import OutboxError
from station.store.models import outbox, records, students, sync_state
from station.store.rows import Batch, FeedItem, ItemResult
from sync.client.faultpoints import faultpoint
from sync.client.ports import (
    ApplyCounts,
    BodyChanged,
    CheckedResult,
    LocalRecordState,
    OpenBatch,
    Outgoing,
)
from sync.client.tlsmaterial import Credentials
from sync.protocol.canonical import sha256_hex
from sync.protocol.wire import ApprovalsPage

CREDENTIAL_ROWS = {
    "ca_pem": "credential:ca_pem",
    "cert_pem": "credential:cert_pem",
    "key_pem": "credential:key_pem",
}
QUARANTINE_S = 10 * 365 * 86400  # a quarantined record waits for an administrator, not for a timer


# ---------------------------------------------------------------- credentials in the encrypted store


def save_credentials(database, credentials: Credentials) -> None:  # type: ignore[no-untyped-def]
    with database.write() as conn:
        for name, row in CREDENTIAL_ROWS.items():
            _put_state(conn, row, getattr(credentials, name))


def load_credentials(database) -> Credentials | None:  # type: ignore[no-untyped-def]
    values = {name: database.sync_state.get(row) for name, row in CREDENTIAL_ROWS.items()}
    if any(v is None or not v.cursor for v in values.values()):
        return None
    return Credentials(**{name: v.cursor for name, v in values.items()})


def _put_state(conn, feed: str, value: str | None, *, epoch: str | None = None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(sync_state.delete().where(sync_state.c.feed == feed))
    conn.execute(
        sync_state.insert().values(
            feed=feed, cursor=value, epoch=epoch, updated_at=clock.iso(clock.utc_now())
        )
    )


# ---------------------------------------------------------------- wire records


class LocalRecordCorrupt(Exception):
    code = "LOCAL_HASH_MISMATCH"


def wire_record(row) -> tuple[dict, bytes]:  # type: ignore[no-untyped-def]
    """The wire record of a stored record row (its frozen payload plus its hash) and its photo bytes."""
    photo = row.photo_jpeg
    if photo is None or row.payload is None:
        raise LocalRecordCorrupt("the record's personal data is gone (purged)")
    if sha256_hex(photo) != row.photo_sha256 or sha256_hex(row.payload) != row.payload_sha256:
        raise LocalRecordCorrupt("the stored photo or payload no longer matches its hash")
    wire = json.loads(row.payload)
    wire["payload_sha256"] = row.payload_sha256
    return wire, photo


# ---------------------------------------------------------------- the engine's store port


class StationSyncStore:
    def __init__(self, database, *, retention_days: int = 30) -> None:  # type: ignore[no-untyped-def]
        self.db = database
        self.retention_days = retention_days
        self.alerts: list[tuple[str, str]] = []
        self.applying = False
        _install_crash_hooks(database.engine, lambda: self.applying)

    # push
    def open_batches(self) -> list[OpenBatch]:
        return [_open(b) for b in self.db.outbox.open_batches()]

    def form_batch(self, *, max_bytes: int, max_records: int) -> OpenBatch | None:
        batch = self.db.outbox.form_batch(max_bytes=max_bytes, max_records=max_records)
        return _open(batch) if batch else None

    def outgoing(self, batch: OpenBatch) -> list[Outgoing]:
        with self.db.read() as conn:
            rows = {
                r.record_id: r
                for r in conn.execute(sa.select(records).where(records.c.record_id.in_(batch.record_ids)))
            }
        result, corrupt = [], []
        for record_id in batch.record_ids:
            try:
                wire, photo = wire_record(rows[record_id])
            except (LocalRecordCorrupt, KeyError):
                corrupt.append(record_id)
                continue
            result.append(Outgoing(record_id, wire, photo))
        if corrupt:
            self.alert(
                "LOCAL_HASH_MISMATCH", f"{len(corrupt)} records failed their local hash check: quarantined"
            )
            self.quarantine(batch.batch_id, corrupt, "LOCAL_HASH_MISMATCH")
            return []
        return result

    def note_attempt(self, batch_id: str, *, body_sha256: str, error: str | None = None) -> None:
        try:
            self.db.outbox.note_attempt(batch_id, body_sha256=body_sha256, error=error)
        except OutboxError as exc:
            if exc.code == "batch_body_changed":
                raise BodyChanged(batch_id) from None
            raise

    def apply_results(self, batch_id: str, results: list[CheckedResult]) -> ApplyCounts:
        members = self._members(batch_id)
        items = []
        for checked in results:
            wire = checked.result.model_dump(exclude_none=True)
            if checked.hashes_match and checked.result.status in ("accepted", "duplicate"):
                wire["payload_sha256"] = members.get(checked.result.record_id)  # the stored record's own hash
            elif checked.result.status in ("accepted", "duplicate"):
                wire = {"record_id": checked.result.record_id, "status": "retry", "code": "HASH_MISMATCH"}
            items.append(ItemResult.from_wire(wire))
        self.applying = True
        try:
            outcome = self.db.outbox.apply_results(batch_id, items)
        finally:
            self.applying = False
        return ApplyCounts(outcome.accepted, outcome.rejected, outcome.conflict, outcome.retried)

    def abandon_batch(self, batch_id: str, reason: str) -> None:
        self.db.outbox.abandon_batch(batch_id, reason)

    def quarantine(self, batch_id: str, record_ids: list[str], reason: str) -> None:
        """Park ``record_ids`` (pending, far in the future, with the reason); the rest go back at once."""
        items = [
            ItemResult(
                record_id,
                "retry",
                code=reason if record_id in record_ids else "REBATCH",
                retry_after_s=QUARANTINE_S if record_id in record_ids else 0,
            )
            for record_id in self._members(batch_id)
        ]
        self.db.outbox.apply_results(batch_id, items)

    def next_due_in(self) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(sa.func.count(), sa.func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.state == "pending"
                )
            ).first()
        count, first = row if row else (0, None)
        if not count:
            return None
        with self.db.read() as conn:
            undated = conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.state == "pending", outbox.c.next_attempt_at.is_(None)
                )
            ).scalar()
        if undated or first is None:
            return 0.0
        return (clock.parse(first) - clock.utc_now()).total_seconds()

    def pending_count(self) -> int:
        return self.db.outbox.counts()["pending"]

    def _members(self, batch_id: str) -> dict[str, str]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(outbox.c.record_id, records.c.payload_sha256)
                .join(records, records.c.record_id == outbox.c.record_id)
                .where(outbox.c.batch_id == batch_id, outbox.c.state == "inflight")
            ).all()
        return {r.record_id: r.payload_sha256 for r in rows}

    # pull
    def feed_cursor(self, feed: str) -> str | None:
        state = self.db.sync_state.get(feed)
        return state.cursor if state else None

    def apply_page(self, feed: str, page: ApprovalsPage, *, resync: bool) -> tuple[int, int]:
        items = [
            FeedItem(i.student_id, i.seq, i.version, i.op, i.data.model_dump(mode="json") if i.data else None)
            for i in page.items
        ]
        if resync and items:  # a full resync replaces rows whatever their local version
            with self.db.write() as conn:
                conn.execute(
                    students.delete().where(students.c.student_id.in_([i.student_id for i in items]))
                )
        result = self.db.queue.apply_feed_page(items, page.next_cursor, feed=feed, head_seq=page.head_seq)
        return result.upserted, result.revoked

    def resync_started(self, feed: str) -> str | None:
        state = self.db.sync_state.get(f"{feed}:resync")
        return state.cursor if state else None

    def begin_resync(self, feed: str) -> None:
        started = self.resync_started(feed) or clock.iso(clock.utc_now())
        with self.db.write() as conn:
            conn.execute(sync_state.delete().where(sync_state.c.feed == feed))
            _put_state(conn, f"{feed}:resync", started)

    def finish_resync(self, feed: str) -> int:
        """Drop rows the resync did not bring (they left the registry's feed); end resync mode."""
        started = self.resync_started(feed)
        if started is None:
            return 0
        with self.db.write() as conn:
            removed = conn.execute(students.delete().where(students.c.received_at < started)).rowcount
            conn.execute(sync_state.delete().where(sync_state.c.feed == f"{feed}:resync"))
        return removed

    def queue_digest(self) -> tuple[int, str]:
        return self.db.queue.digest()

    # reconciliation and retention
    def outbox_digest(self) -> tuple[int, str]:
        return self.db.outbox.digest()

    def local_states(self) -> list[LocalRecordState]:
        return [
            LocalRecordState(e.record_id, e.state, e.reg_no, e.ledger_confirmed_at is not None)
            for e in self.db.outbox.list(limit=10**9)
        ]

    def confirm_ledger(self, record_ids: Iterable[str]) -> int:
        ids = list(record_ids)
        return self.db.outbox.confirm_ledger(ids) if ids else 0

    def reopen(self, record_ids: Iterable[str], reason: str) -> int:
        return self.db.outbox.reopen(record_ids, reason)

    def purge_due(self) -> int:
        return len(self.db.records.purge_due(operator="sync", retention_days=self.retention_days))

    def alert(self, code: str, detail: str) -> None:
        self.alerts.append((code, detail))
        self.db.audit.append("sync.alert", detail={"code": code, "detail": detail})


def _open(batch: Batch) -> OpenBatch:
    return OpenBatch(batch.batch_id, batch.record_ids, batch.size_bytes, batch.created_at, batch.attempts)


def _install_crash_hooks(engine, applying) -> None:  # type: ignore[no-untyped-def]
    """``mid_apply`` / ``pull_mid_page``: die inside the store transaction, after its first write."""
    wanted = os.environ.get("STATION_CRASH_AT", "")
    tables = {"mid_apply": "outbox", "pull_mid_page": "students"}
    point = wanted.partition(":")[0]
    if point not in tables:
        return

    @event.listens_for(engine, "after_execute")
    def _crash(conn, clauseelement, *_args) -> None:  # type: ignore[no-untyped-def]
        table = getattr(clauseelement, "table", None)
        if getattr(table, "name", None) != tables[point] or not clauseelement.is_dml:
            return
        if point == "pull_mid_page" or applying():
            faultpoint(point)
