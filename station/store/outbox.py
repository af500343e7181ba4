"""The outbox: which records still have to reach the registry, in batches (docs/sync-protocol.md §8-§9).

States: ``pending`` (waiting, maybe with a backoff time), ``inflight`` (member of an open batch that
was committed before the first send and is resent byte-identically until answered), and the final
``accepted`` / ``rejected`` / ``conflict``. A row leaves pending/inflight only through a server result
naming the same record with matching hashes (L2); whatever else happens, it goes back to pending.
Rows are never deleted (a trigger says so).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from station.i18n import Text
from station.store import clock
from station.store.engine import read_transaction, write_transaction
from station.store.errors import OutboxError
from station.store.models import batches, outbox, records
from station.store.rows import Batch, ItemResult, OutboxEntry
from sync.protocol.canonical import ledger_term, uuid7, xor_hex

MAX_RECORDS_PER_BATCH = 25
FINAL_STATES = ("accepted", "rejected", "conflict")
SET_ASIDE = timedelta(days=3650)  # a record set aside waits for an administrator, not for a timer
# Why a record is set aside locally: its pages fail their checks, or its bytes no longer match their hashes.
SET_ASIDE_REASONS = ("LOCAL_RECORD_DAMAGED", "LOCAL_HASH_MISMATCH")


def full_jitter(attempts: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds to wait before the next attempt: random(0, min(cap, base * 2^attempts))."""
    return random.uniform(0, min(cap, base * 2 ** min(attempts, 30)))


@dataclass(frozen=True)
class ApplyOutcome:
    accepted: int = 0
    rejected: int = 0
    conflict: int = 0
    retried: int = 0  # back to pending: retry results, missing results, hash mismatches


class OutboxRepository:
    def __init__(self, engine: Engine, *, backoff: Callable[[int], float] = full_jitter) -> None:
        self._engine = engine
        self._backoff = backoff

    def get(self, record_id: str) -> OutboxEntry | None:
        with read_transaction(self._engine) as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.record_id == record_id)).mappings().first()
        return OutboxEntry.from_row(row) if row else None

    def list(self, state: str | None = None, *, limit: int = 1000) -> list[OutboxEntry]:
        query = sa.select(outbox).order_by(outbox.c.created_at).limit(limit)
        if state is not None:
            query = query.where(outbox.c.state == state)
        with read_transaction(self._engine) as conn:
            return [OutboxEntry.from_row(row) for row in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        query = sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)
        with read_transaction(self._engine) as conn:
            found = dict(conn.execute(query).all())
        return {state: int(found.get(state, 0)) for state in ("pending", "inflight", *FINAL_STATES)}

    def form_batch(
        self, *, max_bytes: int, max_records: int = MAX_RECORDS_PER_BATCH, now: datetime | None = None
    ) -> Batch | None:
        """Commit a new batch of due pending rows (oldest capture first, at least one record, within
        ``max_bytes``); None when nothing is due. Send it only after this returns."""
        moment = clock.iso(now or clock.utc_now())
        due = (
            sa.select(outbox.c.record_id, outbox.c.size_bytes)
            .where(outbox.c.state == "pending")
            .where(sa.or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= moment))
            .order_by(outbox.c.created_at, outbox.c.record_id)
            .limit(max(1, max_records))
        )
        with write_transaction(self._engine) as conn:
            chosen: list[str] = []
            total = 0
            for record_id, size in conn.execute(due):
                if chosen and total + size > max_bytes:
                    break
                chosen.append(record_id)
                total += size
            if not chosen:
                return None
            batch_id = uuid7()
            conn.execute(
                batches.insert().values(
                    batch_id=batch_id,
                    created_at=moment,
                    state="open",
                    record_count=len(chosen),
                    size_bytes=total,
                )
            )
            conn.execute(
                outbox.update()
                .where(outbox.c.record_id.in_(chosen))
                .values(state="inflight", batch_id=batch_id)
            )
        return Batch(batch_id, tuple(chosen), total, moment)

    def open_batches(self) -> list[Batch]:
        """Batches formed but not answered (resend these first after a restart)."""
        with read_transaction(self._engine) as conn:
            rows = (
                conn.execute(
                    sa.select(batches).where(batches.c.state == "open").order_by(batches.c.created_at)
                )
                .mappings()
                .all()
            )
            return [self._batch(conn, row) for row in rows]

    def note_attempt(self, batch_id: str, *, body_sha256: str, error: str | None = None) -> None:
        """Record a send of the batch. The body must be byte-identical on every attempt (§8.3)."""
        with write_transaction(self._engine) as conn:
            row = conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id)).mappings().first()
            if row is None or row["state"] != "open":
                raise _batch_error("not_open")
            if row["body_sha256"] not in (None, body_sha256):
                raise _batch_error("body_changed")
            conn.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(body_sha256=body_sha256, attempts=batches.c.attempts + 1, last_error=error)
            )

    def apply_results(
        self, batch_id: str, results: Iterable[ItemResult], *, now: datetime | None = None
    ) -> ApplyOutcome:
        """Apply a 200 response in one transaction; an invalid response changes nothing."""
        moment = now or clock.utc_now()
        results = list(results)
        with write_transaction(self._engine) as conn:
            members = self._members(conn, batch_id)
            by_id = {r.record_id: r for r in results}
            if len(by_id) != len(results) or not set(by_id) <= set(members):
                raise _batch_error("bad_results")
            counts = {"accepted": 0, "rejected": 0, "conflict": 0, "retried": 0}
            for record_id, (payload_sha256, photo_sha256, attempts) in members.items():
                result = by_id.get(record_id)
                state = _final_state(result, payload_sha256, photo_sha256)
                if state is None:
                    delay = (
                        result.retry_after_s
                        if result and result.retry_after_s is not None
                        else self._backoff(attempts)
                    )
                    error = (result.code or result.status) if result else "NO_RESULT"
                    _back_to_pending(conn, [record_id], moment + timedelta(seconds=delay), error)
                    counts["retried"] += 1
                    continue
                assert result is not None
                conn.execute(
                    outbox.update()
                    .where(outbox.c.record_id == record_id)
                    .values(
                        state=state,
                        reg_no=result.reg_no if state == "accepted" else None,
                        result_json=json.dumps(_wire(result), sort_keys=True, ensure_ascii=False),
                        acked_at=clock.iso(moment),
                        last_error=result.code,
                        attempts=outbox.c.attempts + 1,
                    )
                )
                counts[state] += 1
            conn.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(state="done", completed_at=clock.iso(moment))
            )
        return ApplyOutcome(**counts)

    def abandon_batch(self, batch_id: str, reason: str, *, now: datetime | None = None) -> None:
        """Give the batch up (split after repeated transport failures, 413): members back to pending
        at once; they travel again in new batches with the same record ids."""
        moment = now or clock.utc_now()
        with write_transaction(self._engine) as conn:
            members = list(self._members(conn, batch_id))
            _back_to_pending(conn, members, None, reason)
            conn.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(state="abandoned", last_error=reason, completed_at=clock.iso(moment))
            )

    def set_aside(self, batch_id: str, reasons: Mapping[str, str], *, now: datetime | None = None) -> None:
        """Close the batch: the records in ``reasons`` go back to pending parked for ten years with their
        reason (for an administrator: a damaged record), the other members back to pending at once. Only
        the outbox and batch tables are touched, so a record whose own pages are damaged can be set aside."""
        moment = now or clock.utc_now()
        with write_transaction(self._engine) as conn:
            members = list(
                conn.execute(
                    sa.select(outbox.c.record_id).where(outbox.c.batch_id == batch_id, outbox.c.state == "inflight")
                ).scalars()
            )
            for record_id in members:
                if record_id in reasons:
                    _back_to_pending(conn, [record_id], moment + SET_ASIDE, reasons[record_id])
            _back_to_pending(conn, [r for r in members if r not in reasons], None, "REBATCH")
            conn.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(state="abandoned", last_error="SET_ASIDE", completed_at=clock.iso(moment))
            )

    def set_aside_ids(self) -> dict[str, str]:
        """``record_id -> reason`` of the records set aside (parked pending rows with a local reason)."""
        query = sa.select(outbox.c.record_id, outbox.c.last_error).where(
            outbox.c.state == "pending", outbox.c.last_error.in_(SET_ASIDE_REASONS)
        )
        with read_transaction(self._engine) as conn:
            return {r.record_id: r.last_error for r in conn.execute(query)}

    def confirm_ledger(self, record_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark final outcomes the registry's ledger confirmed (§9.3); only these may be purged later."""
        ids = list(record_ids)
        with write_transaction(self._engine) as conn:
            result = conn.execute(
                outbox.update()
                .where(outbox.c.record_id.in_(ids), outbox.c.state.in_(("accepted", "rejected")))
                .where(outbox.c.ledger_confirmed_at.is_(None))
                .values(ledger_confirmed_at=clock.iso(at or clock.utc_now()))
            )
            return result.rowcount

    def reopen(self, record_ids: Iterable[str], reason: str = "LEDGER_MISSING") -> int:
        """Send again records the registry's ledger lacks (e.g. after a server restore); safe by S1."""
        ids = list(record_ids)
        with write_transaction(self._engine) as conn:
            found = (
                conn.execute(
                    sa.select(outbox.c.record_id).where(
                        outbox.c.record_id.in_(ids), outbox.c.state.in_(FINAL_STATES)
                    )
                )
                .scalars()
                .all()
            )
            _back_to_pending(conn, list(found), None, reason, clear_result=True)
            return len(found)

    def inflight_hashes(self, batch_id: str) -> dict[str, str]:
        """``record_id -> payload_sha256`` of the batch's members still in flight."""
        query = (
            sa.select(outbox.c.record_id, records.c.payload_sha256)
            .join(records, records.c.record_id == outbox.c.record_id)
            .where(outbox.c.batch_id == batch_id, outbox.c.state == "inflight")
        )
        with read_transaction(self._engine) as conn:
            return {r.record_id: r.payload_sha256 for r in conn.execute(query)}

    def next_due_in(self, now: datetime | None = None) -> float | None:
        """Seconds until the next pending record may be sent (0 when one is due now; None when none waits)."""
        query = sa.select(
            sa.func.count(),
            sa.func.min(outbox.c.next_attempt_at),
            sa.func.count().filter(outbox.c.next_attempt_at.is_(None)),
        ).where(outbox.c.state == "pending")
        with read_transaction(self._engine) as conn:
            count, first, undated = conn.execute(query).one()
        if not count:
            return None
        if undated or first is None:
            return 0.0
        return (clock.parse(first) - (now or clock.utc_now())).total_seconds()

    def digest(self) -> tuple[int, str]:
        """``(count, xor_sha256(record_id|state|reg_no))`` over accepted and rejected rows (§9.2)."""
        query = sa.select(outbox.c.record_id, outbox.c.state, outbox.c.reg_no).where(
            outbox.c.state.in_(("accepted", "rejected"))
        )
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return len(rows), xor_hex(ledger_term(r.record_id, r.state, r.reg_no) for r in rows)

    @staticmethod
    def _members(conn: Connection, batch_id: str) -> dict[str, tuple[str, str, int]]:
        state = conn.execute(sa.select(batches.c.state).where(batches.c.batch_id == batch_id)).scalar()
        if state != "open":
            raise _batch_error("not_open")
        rows = conn.execute(
            sa.select(outbox.c.record_id, records.c.payload_sha256, records.c.photo_sha256, outbox.c.attempts)
            .join(records, records.c.record_id == outbox.c.record_id)
            .where(outbox.c.batch_id == batch_id, outbox.c.state == "inflight")
        ).all()
        return {r.record_id: (r.payload_sha256, r.photo_sha256, r.attempts) for r in rows}

    @staticmethod
    def _batch(conn: Connection, row) -> Batch:  # type: ignore[no-untyped-def]
        ids = conn.execute(
            sa.select(outbox.c.record_id)
            .where(outbox.c.batch_id == row["batch_id"], outbox.c.state == "inflight")
            .order_by(outbox.c.created_at, outbox.c.record_id)
        ).scalars()
        return Batch(row["batch_id"], tuple(ids), row["size_bytes"], row["created_at"], row["attempts"])


def _final_state(result: ItemResult | None, payload_sha256: str, photo_sha256: str) -> str | None:
    """The state this result moves the row to, or None when it must go back to pending."""
    if result is None or result.status == "retry":
        return None
    if result.status in ("accepted", "duplicate"):
        hashes_match = result.payload_sha256 in (None, payload_sha256) and result.photo_sha256 in (
            None,
            photo_sha256,
        )
        return "accepted" if hashes_match and result.reg_no else None
    if result.status in ("rejected", "conflict"):
        return result.status
    return None


def _back_to_pending(
    conn: Connection,
    record_ids: list[str],
    next_attempt: datetime | None,
    error: str,
    *,
    clear_result: bool = False,
) -> None:
    values: dict[str, object] = {
        "state": "pending",
        "batch_id": None,
        "attempts": outbox.c.attempts + 1,
        "next_attempt_at": clock.iso(next_attempt) if next_attempt else None,
        "last_error": error,
    }
    if clear_result:
        values.update(
            reg_no=None, result_json=None, acked_at=None, ledger_confirmed_at=None, attempts=outbox.c.attempts
        )
    conn.execute(outbox.update().where(outbox.c.record_id.in_(record_ids)).values(values))


def _wire(result: ItemResult) -> dict[str, object]:
    values = {
        name: getattr(result, name)
        for name in ItemResult.__dataclass_fields__
        if getattr(result, name) is not None
    }
    if "fields" in values:
        values["fields"] = list(values["fields"])  # type: ignore[call-overload]
    return values


def _batch_error(reason: str) -> OutboxError:
    messages = {
        "not_open": Text("该批次不存在或已结束。", "The batch does not exist or is already finished."),
        "body_changed": Text(
            "重发的批次内容与首次发送不一致（程序错误），已停止。",
            "A resend of the batch differs from its first send (a program error); stopped.",
        ),
        "bad_results": Text(
            "登记中心的回复与批次不符（记录重复或不属于该批次），未做任何更改，将重试。",
            "The registry's response does not match the batch (a record twice or not in the batch); nothing "
            "was changed and it will be retried.",
        ),
    }
    return OutboxError(messages[reason], code=f"batch_{reason}")
