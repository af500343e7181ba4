"""``StationSyncStore``: the sync engine's ``LocalStore`` port over the encrypted station database.

Everything goes through the store's repositories (queue, records, outbox, sync state, audit). A
wire record is the record's frozen payload (``CaptureRecord.payload()``, canonical JSON stored at
capture) plus its ``payload_sha256``, so every resend is byte-identical and the hash the registry
echoes is the one fixed at capture: results are applied only with matching hashes (rule L2).

The fault tests' crash points inside store transactions (``mid_apply``, ``pull_mid_page``: die
after the transaction's first write) are an injected ``FaultPoints``; with ``NO_FAULTS`` nothing
is installed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from station.store import clock
from station.store.errors import DatabaseCorruptError, OutboxError
from station.store.rows import Batch, FeedItem, FrozenPayload, ItemResult
from sync.client.faultpoints import NO_FAULTS, FaultPoints
from sync.client.ports import (
    ApplyCounts,
    BodyChanged,
    CheckedResult,
    LocalRecordState,
    OpenBatch,
    Outgoing,
)
from sync.protocol.canonical import sha256_hex
from sync.protocol.wire import ApprovalsPage

log = logging.getLogger("station.sync")

QUARANTINE_S = 10 * 365 * 86400  # a quarantined record waits for an administrator, not for a timer


class LocalRecordCorrupt(Exception):
    code = "LOCAL_HASH_MISMATCH"


def wire_record(frozen: FrozenPayload) -> tuple[dict, bytes]:
    """The wire record of a stored record (its frozen payload plus its hash) and its photo bytes."""
    if frozen.photo_jpeg is None or frozen.payload is None:
        raise LocalRecordCorrupt("the record's personal data is gone (purged)")
    if (
        sha256_hex(frozen.photo_jpeg) != frozen.photo_sha256
        or sha256_hex(frozen.payload) != frozen.payload_sha256
    ):
        raise LocalRecordCorrupt("the stored photo or payload no longer matches its hash")
    wire = json.loads(frozen.payload)
    wire["payload_sha256"] = frozen.payload_sha256
    return wire, frozen.photo_jpeg


class StationSyncStore:
    def __init__(self, database, *, retention_days: int = 30, faults: FaultPoints = NO_FAULTS) -> None:  # type: ignore[no-untyped-def]
        self.db = database
        self.retention_days = retention_days
        self.alerts: list[tuple[str, str]] = []
        self.applying = False
        _install_crash_points(database, faults, lambda: self.applying)

    # push
    def open_batches(self) -> list[OpenBatch]:
        return [_open(b) for b in self.db.outbox.open_batches()]

    def form_batch(self, *, max_bytes: int, max_records: int) -> OpenBatch | None:
        batch = self.db.outbox.form_batch(max_bytes=max_bytes, max_records=max_records)
        return _open(batch) if batch else None

    def outgoing(self, batch: OpenBatch) -> list[Outgoing]:
        frozen, damaged = self.db.records.readable_payloads(list(batch.record_ids))
        result, corrupt = [], []
        for record_id in batch.record_ids:
            if record_id in damaged:
                continue
            try:
                wire, photo = wire_record(frozen[record_id])
            except (LocalRecordCorrupt, KeyError):
                corrupt.append(record_id)
                continue
            result.append(Outgoing(record_id, wire, photo))
        if damaged or corrupt:
            # Set aside touching only the outbox: a damaged record's own pages cannot be read.
            for reason, ids in (("LOCAL_RECORD_DAMAGED", damaged), ("LOCAL_HASH_MISMATCH", corrupt)):
                if ids:
                    log.warning("records set aside (%s): %s", reason, ", ".join(ids))
                    self.alert(reason, f"{len(ids)} records set aside: {', '.join(ids)}")
            reasons = {r: "LOCAL_RECORD_DAMAGED" for r in damaged} | {
                r: "LOCAL_HASH_MISMATCH" for r in corrupt
            }
            self.db.outbox.set_aside(batch.batch_id, reasons)
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
        members = self.db.outbox.inflight_hashes(batch_id)
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
            for record_id in self.db.outbox.inflight_hashes(batch_id)
        ]
        self.db.outbox.apply_results(batch_id, items)

    def next_due_in(self) -> float | None:
        return self.db.outbox.next_due_in()

    def pending_count(self) -> int:
        return self.db.outbox.counts()["pending"]

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
            result = self.db.queue.replace_for_resync(items, page.next_cursor, feed=feed)
        else:
            result = self.db.queue.apply_feed_page(items, page.next_cursor, feed=feed, head_seq=page.head_seq)
        return result.upserted, result.revoked

    def resync_started(self, feed: str) -> str | None:
        state = self.db.sync_state.get(f"{feed}:resync")
        return state.cursor if state else None

    def begin_resync(self, feed: str) -> None:
        self.db.queue.begin_resync(feed, self.resync_started(feed) or clock.iso(clock.utc_now()))

    def finish_resync(self, feed: str) -> int:
        """Drop rows the resync did not bring (they left the registry's feed); end resync mode."""
        return self.db.queue.finish_resync(feed)

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
        try:
            return len(self.db.records.purge_due(operator="sync", retention_days=self.retention_days))
        except DatabaseCorruptError:  # the push is done; damaged records wait for the administrator
            self.alert("LOCAL_RECORD_DAMAGED", "the retention purge met damaged records: nothing purged")
            return 0

    def alert(self, code: str, detail: str) -> None:
        self.alerts.append((code, detail))
        self.db.audit.append("sync.alert", detail={"code": code, "detail": detail})


def _open(batch: Batch) -> OpenBatch:
    return OpenBatch(batch.batch_id, batch.record_ids, batch.size_bytes, batch.created_at, batch.attempts)


_CRASH_TABLES = {"mid_apply": "outbox", "pull_mid_page": "students"}


def _install_crash_points(database, faults: FaultPoints, applying: Callable[[], bool]) -> None:  # type: ignore[no-untyped-def]
    """``mid_apply`` / ``pull_mid_page``: die inside the store transaction, after its first write."""
    point = next((p for p in _CRASH_TABLES if faults.armed_for(p)), None)
    if point is None:
        return

    def crash() -> None:
        if point == "pull_mid_page" or applying():
            faults.reached(point)

    database.on_write(_CRASH_TABLES[point], crash)
