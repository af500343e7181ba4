"""The outbox lifecycle: batches by bytes, per-record results applied in one transaction (L2)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from station.store import clock
from station.store.errors import OutboxError
from station.store.outbox import OutboxRepository
from station.store.rows import ItemResult
from sync.protocol.canonical import ledger_term, xor_hex
from tests.store.conftest import capture_for


@pytest.fixture
def saved(station, people, jpeg):
    start = clock.utc_now() - timedelta(minutes=10)
    rows = [capture_for(p, jpeg, captured_at=start + timedelta(seconds=i)) for i, p in enumerate(people[:6])]
    for row in rows:
        station.records.save(row)
    return rows


@pytest.fixture
def outbox(station):
    return OutboxRepository(station.engine, backoff=lambda attempts: 60.0)


def test_batches_are_sized_by_bytes_oldest_first(outbox, saved, jpeg):
    one = outbox.get(saved[0].record_id).size_bytes
    assert one > len(jpeg)
    batch = outbox.form_batch(max_bytes=int(one * 2.5))
    assert batch.record_ids == (saved[0].record_id, saved[1].record_id)
    # Always at least one record, even over the budget.
    assert len(outbox.form_batch(max_bytes=10).record_ids) == 1
    assert outbox.counts() == {"pending": 3, "inflight": 3, "accepted": 0, "rejected": 0, "conflict": 0}
    assert outbox.open_batches()[0].batch_id == batch.batch_id


def test_results_are_applied_per_record(outbox, saved):
    batch = outbox.form_batch(max_bytes=10**8)
    assert len(batch.record_ids) == 6
    a, d, r, c, retry, missing = saved
    now = clock.utc_now()
    results = [
        ItemResult(
            a.record_id,
            "accepted",
            reg_no="26010200001",
            payload_sha256=a.payload_sha256,
            photo_sha256=a.photo_sha256,
        ),
        ItemResult(d.record_id, "duplicate", reg_no="26010200002"),
        ItemResult(r.record_id, "rejected", code="ALREADY_REGISTERED", detail="school S009"),
        ItemResult(c.record_id, "conflict", code="PAYLOAD_MISMATCH"),
        ItemResult(retry.record_id, "retry", code="BLOB_MISSING", retry_after_s=0),
    ]
    outcome = outbox.apply_results(batch.batch_id, results, now=now)
    assert (outcome.accepted, outcome.rejected, outcome.conflict, outcome.retried) == (2, 1, 1, 2)
    assert outbox.get(a.record_id).reg_no == "26010200001"
    assert outbox.get(r.record_id).result["detail"] == "school S009"
    assert outbox.get(retry.record_id).state == "pending"
    back = outbox.get(missing.record_id)
    assert back.state == "pending" and back.last_error == "NO_RESULT"
    assert back.next_attempt_at == clock.iso(now + timedelta(seconds=60))
    assert outbox.open_batches() == []
    # Not yet due: the missing one waits for its backoff; the retry one (retry_after 0) goes at once.
    assert outbox.form_batch(max_bytes=10**8, now=now).record_ids == (retry.record_id,)
    count, xor = outbox.digest()
    assert count == 3
    assert xor == xor_hex(
        [
            ledger_term(a.record_id, "accepted", "26010200001"),
            ledger_term(d.record_id, "accepted", "26010200002"),
            ledger_term(r.record_id, "rejected", None),
        ]
    )


def test_a_hash_mismatch_never_marks_a_record_accepted(outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    record = saved[0]
    outbox.apply_results(
        batch.batch_id, [ItemResult(record.record_id, "accepted", reg_no="1", payload_sha256="f" * 64)]
    )
    entry = outbox.get(record.record_id)
    assert entry.state == "pending" and entry.reg_no is None


def test_an_invalid_response_changes_nothing(outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    stranger = ItemResult(saved[5].record_id, "accepted", reg_no="26010200009")
    with pytest.raises(OutboxError) as error:
        outbox.apply_results(batch.batch_id, [stranger])
    assert error.value.code == "batch_bad_results"
    twice = ItemResult(batch.record_ids[0], "rejected", code="X")
    with pytest.raises(OutboxError):
        outbox.apply_results(batch.batch_id, [twice, dataclasses.replace(twice)])
    assert outbox.get(batch.record_ids[0]).state == "inflight"


def test_resends_must_be_byte_identical_and_abandon_requeues(outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    outbox.note_attempt(batch.batch_id, body_sha256="a" * 64, error="timeout")
    outbox.note_attempt(batch.batch_id, body_sha256="a" * 64)
    with pytest.raises(OutboxError) as changed:
        outbox.note_attempt(batch.batch_id, body_sha256="b" * 64)
    assert changed.value.code == "batch_body_changed"
    assert outbox.open_batches()[0].attempts == 2
    outbox.abandon_batch(batch.batch_id, "SPLIT")
    entry = outbox.get(batch.record_ids[0])
    assert entry.state == "pending" and entry.batch_id is None and entry.last_error == "SPLIT"
    with pytest.raises(OutboxError):
        outbox.apply_results(batch.batch_id, [])


def test_ledger_confirmation_and_reopen(outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    record_id = batch.record_ids[0]
    outbox.apply_results(batch.batch_id, [ItemResult(record_id, "accepted", reg_no="26010200001")])
    assert outbox.confirm_ledger([record_id, saved[3].record_id]) == 1  # the pending one is not final
    assert outbox.get(record_id).ledger_confirmed_at is not None
    assert outbox.reopen([record_id]) == 1  # the registry lost it: send again, same record id
    entry = outbox.get(record_id)
    assert entry.state == "pending" and entry.reg_no is None and entry.ledger_confirmed_at is None


@pytest.mark.parametrize("status", ["accepted", "duplicate"])
def test_accepted_or_duplicate_without_a_number_never_finalises(outbox, saved, status):
    batch = outbox.form_batch(max_bytes=1)
    record = saved[0]
    outcome = outbox.apply_results(
        batch.batch_id,
        [
            ItemResult(
                record.record_id,
                status,
                payload_sha256=record.payload_sha256,
                photo_sha256=record.photo_sha256,
            )
        ],
    )
    assert (outcome.accepted, outcome.retried) == (0, 1)
    entry = outbox.get(record.record_id)
    assert entry.state == "pending" and entry.reg_no is None and entry.acked_at is None
    assert entry.last_error == status  # back in the queue, it goes again
    assert outbox.digest() == (0, xor_hex([]))  # nothing final for the ledger comparison either
    with_number = outbox.form_batch(max_bytes=1, now=clock.utc_now() + timedelta(seconds=61))
    outbox.apply_results(with_number.batch_id, [ItemResult(record.record_id, status, reg_no="26010200001")])
    assert outbox.get(record.record_id).state == "accepted"
