"""The outbox row by row: what each operation writes into the outbox and batch rows themselves (counts,
times, errors, the stored result), the limits of a batch, backoff bounds, and what is left alone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from station.store import clock
from station.store import outbox as outbox_module
from station.store.errors import OutboxError
from station.store.outbox import OutboxRepository, full_jitter
from station.store.rows import ItemResult
from tests.store.conftest import capture_for

NOW = clock.utc_now().replace(microsecond=0)


@pytest.fixture
def saved(station, people, jpeg):
    start = NOW - timedelta(minutes=10)
    rows = [capture_for(p, jpeg, captured_at=start + timedelta(seconds=i)) for i, p in enumerate(people[:5])]
    for row in rows:
        station.records.save(row)
    return rows


@pytest.fixture
def calls():
    return []


@pytest.fixture
def outbox(station, calls):
    def backoff(attempts: int) -> float:
        calls.append(attempts)
        return 60.0

    return OutboxRepository(station.engine, backoff=backoff)


def _row(station, table: str, key: str, value: str) -> dict:
    with station.read() as conn:
        return dict(
            conn.execute(sa.text(f"SELECT * FROM {table} WHERE {key} = :v"), {"v": value}).mappings().one()
        )


def test_full_jitter_draws_between_zero_and_the_capped_exponential(monkeypatch):
    monkeypatch.setattr(outbox_module.random, "uniform", lambda low, high: (low, high))
    assert full_jitter(0) == (0, 2.0)
    assert full_jitter(3) == (0, 16.0)
    assert full_jitter(3, base=1.0, cap=5.0) == (0, 5.0)
    assert full_jitter(7) == (0, 256.0) and full_jitter(8) == (0, 300.0)
    assert full_jitter(31, base=1e-9, cap=1e9) == (0, 1e-9 * 2**30)  # the exponent stops growing at 30


def test_list_filters_by_state_in_capture_order(outbox, saved):
    outbox.form_batch(max_bytes=1)
    assert [e.record_id for e in outbox.list()] == [r.record_id for r in saved]
    assert [e.record_id for e in outbox.list("inflight")] == [saved[0].record_id]
    assert [e.record_id for e in outbox.list("pending", limit=2)] == [r.record_id for r in saved[1:3]]
    assert outbox.get("no-such-record") is None


def test_a_batch_takes_whole_records_up_to_the_byte_and_record_limits(station, outbox, saved):
    size = outbox.get(saved[0].record_id).size_bytes
    sizes = [outbox.get(r.record_id).size_bytes for r in saved[:2]]
    exact = outbox.form_batch(max_bytes=sum(sizes), max_records=25, now=NOW)  # exactly two records' bytes
    assert exact.record_ids == (saved[0].record_id, saved[1].record_id) and exact.size_bytes == sum(sizes)
    assert exact.created_at == clock.iso(NOW)
    row = _row(station, "batches", "batch_id", exact.batch_id)
    assert (row["state"], row["record_count"], row["size_bytes"], row["created_at"], row["attempts"]) == (
        "open", 2, sum(sizes), clock.iso(NOW), 0,
    )  # fmt: skip
    capped = outbox.form_batch(max_bytes=10 * size, max_records=2)
    assert capped.record_ids == (saved[2].record_id, saved[3].record_id)
    assert outbox.form_batch(max_bytes=10 * size, max_records=0).record_ids == (saved[4].record_id,)
    assert outbox.form_batch(max_bytes=10 * size) is None  # nothing due


def test_records_captured_at_the_same_instant_go_in_record_id_order(station, people, jpeg):
    outbox = OutboxRepository(station.engine)
    same = NOW - timedelta(minutes=1)
    rows = [capture_for(p, jpeg, captured_at=same) for p in people[10:13]]
    for row in rows:
        station.records.save(row)
    batch = outbox.form_batch(max_bytes=10**9)
    assert batch.record_ids == tuple(sorted(r.record_id for r in rows))
    assert outbox.open_batches()[0].record_ids == batch.record_ids


def test_attempts_are_counted_and_only_open_batches_take_them(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    outbox.note_attempt(batch.batch_id, body_sha256="a" * 64, error="TIMEOUT")
    outbox.note_attempt(batch.batch_id, body_sha256="a" * 64)
    row = _row(station, "batches", "batch_id", batch.batch_id)
    assert (row["attempts"], row["body_sha256"], row["last_error"]) == (2, "a" * 64, None)
    assert outbox.open_batches()[0].attempts == 2
    outbox.abandon_batch(batch.batch_id, "SPLIT")
    for batch_id in (batch.batch_id, "no-such-batch"):
        with pytest.raises(OutboxError) as closed:
            outbox.note_attempt(batch_id, body_sha256="a" * 64)
        assert closed.value.code == "batch_not_open" and closed.value.message.zh


def test_a_final_result_is_written_in_full(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=3)
    a, r, c = saved[:3]
    results = [
        ItemResult(a.record_id, "accepted", reg_no="26010200001", payload_sha256=a.payload_sha256),
        ItemResult(r.record_id, "rejected", reg_no="26010200002", code="ID_MISMATCH", detail="姓名不一致"),
        ItemResult(c.record_id, "conflict", code="PAYLOAD_MISMATCH"),
    ]
    outbox.apply_results(batch.batch_id, results, now=NOW)
    accepted = _row(station, "outbox", "record_id", a.record_id)
    assert (accepted["state"], accepted["reg_no"], accepted["acked_at"], accepted["attempts"]) == (
        "accepted", "26010200001", clock.iso(NOW), 1,
    )  # fmt: skip
    assert accepted["last_error"] is None
    assert accepted["result_json"] == json.dumps(
        {"payload_sha256": a.payload_sha256, "record_id": a.record_id, "reg_no": "26010200001", "status": "accepted"}
    )  # fmt: skip
    rejected = _row(station, "outbox", "record_id", r.record_id)
    assert (rejected["state"], rejected["reg_no"], rejected["last_error"]) == (
        "rejected",
        None,
        "ID_MISMATCH",
    )
    assert '"detail": "姓名不一致"' in rejected["result_json"]  # sorted keys, Chinese kept readable
    assert list(json.loads(rejected["result_json"])) == sorted(json.loads(rejected["result_json"]))
    assert _row(station, "outbox", "record_id", c.record_id)["state"] == "conflict"
    batch_row = _row(station, "batches", "batch_id", batch.batch_id)
    assert (batch_row["state"], batch_row["completed_at"]) == ("done", clock.iso(NOW))


def test_a_result_that_sends_a_record_back_says_why_and_when(station, outbox, saved, calls):
    outbox.note_attempt(outbox.form_batch(max_bytes=1).batch_id, body_sha256="a" * 64)
    outbox.abandon_batch(outbox.open_batches()[0].batch_id, "SPLIT")  # attempts 1 on the first record
    batch = outbox.form_batch(max_bytes=10**9, max_records=3, now=NOW)
    first, second, _third = batch.record_ids
    outbox.apply_results(
        batch.batch_id,
        [ItemResult(first, "retry", retry_after_s=5), ItemResult(second, "retry", code="BUSY")],
        now=NOW,
    )
    back = [_row(station, "outbox", "record_id", rid) for rid in batch.record_ids]
    assert [(b["state"], b["batch_id"]) for b in back] == [("pending", None)] * 3
    assert [b["next_attempt_at"] for b in back] == [
        clock.iso(NOW + timedelta(seconds=5)), clock.iso(NOW + timedelta(seconds=60)), clock.iso(NOW + timedelta(seconds=60)),
    ]  # fmt: skip
    assert [b["last_error"] for b in back] == ["retry", "BUSY", "NO_RESULT"]  # the code, else the status
    assert [b["attempts"] for b in back] == [2, 1, 1]
    assert calls == [0, 0]  # the backoff saw each record's own attempt count before this one


def test_abandon_and_reopen_write_their_reason(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)
    outbox.abandon_batch(batch.batch_id, "TOO_LARGE", now=NOW)
    row = _row(station, "batches", "batch_id", batch.batch_id)
    assert (row["state"], row["last_error"], row["completed_at"]) == (
        "abandoned",
        "TOO_LARGE",
        clock.iso(NOW),
    )
    member = _row(station, "outbox", "record_id", batch.record_ids[0])
    assert (member["state"], member["next_attempt_at"], member["last_error"], member["attempts"]) == (
        "pending", None, "TOO_LARGE", 1,
    )  # fmt: skip
    done = outbox.form_batch(max_bytes=10**9, max_records=3)
    ids = list(done.record_ids)
    outbox.apply_results(
        done.batch_id,
        [ItemResult(ids[0], "accepted", reg_no="26010200001"), ItemResult(ids[1], "rejected", code="WITHDRAWN"),
         ItemResult(ids[2], "accepted", reg_no="26010200003")],
    )  # fmt: skip
    assert outbox.confirm_ledger([ids[1]]) == 1  # a rejection is confirmed as well
    assert outbox.get(ids[0]).ledger_confirmed_at is None  # only the ids given
    assert outbox.reopen([ids[0], saved[4].record_id], "LEDGER_MISSING") == 1  # only final rows reopen
    reopened = _row(station, "outbox", "record_id", ids[0])
    assert (reopened["state"], reopened["last_error"], reopened["reg_no"], reopened["result_json"]) == (
        "pending", "LEDGER_MISSING", None, None,
    )  # fmt: skip
    assert (reopened["acked_at"], reopened["attempts"]) == (
        None,
        2,
    )  # unchanged: a resend is no failed attempt
    assert _row(station, "outbox", "record_id", ids[2])["state"] == "accepted"  # the others stay
    assert outbox.get(saved[4].record_id).state == "pending"


def test_the_digest_counts_accepted_and_rejected_only(outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=3)
    ids = list(batch.record_ids)
    outbox.apply_results(
        batch.batch_id,
        [ItemResult(ids[0], "accepted", reg_no="26010200001"), ItemResult(ids[1], "rejected", code="X"),
         ItemResult(ids[2], "conflict", code="PAYLOAD_MISMATCH")],
    )  # fmt: skip
    from sync.protocol.canonical import ledger_term, xor_hex

    assert outbox.digest() == (
        2,
        xor_hex([ledger_term(ids[0], "accepted", "26010200001"), ledger_term(ids[1], "rejected", None)]),
    )


def test_open_batches_list_only_members_still_in_flight(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=3, now=NOW)
    with station.write() as conn:  # one member was answered through another batch meanwhile
        conn.execute(sa.text("UPDATE outbox SET state = 'pending', batch_id = NULL WHERE record_id = :r"),
                     {"r": batch.record_ids[1]})  # fmt: skip
    (listed,) = outbox.open_batches()
    assert listed.record_ids == (batch.record_ids[0], batch.record_ids[2])
    assert (listed.size_bytes, listed.created_at, listed.attempts) == (batch.size_bytes, clock.iso(NOW), 0)
    with pytest.raises(OutboxError):  # a result for the member that left is not this batch's
        outbox.apply_results(batch.batch_id, [ItemResult(batch.record_ids[1], "accepted", reg_no="1")])


def test_inflight_hashes_and_when_the_next_record_is_due(station, outbox, saved):
    assert outbox.inflight_hashes("no-such-batch") == {}
    batch = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)
    assert outbox.inflight_hashes(batch.batch_id) == {r.record_id: r.payload_sha256 for r in saved[:2]}
    assert outbox.next_due_in(now=NOW) == 0.0  # three never-tried records wait: due now
    outbox.apply_results(batch.batch_id, [ItemResult(saved[0].record_id, "retry", retry_after_s=30)], now=NOW)
    assert outbox.inflight_hashes(batch.batch_id) == {}  # answered: nothing of it in flight any more
    rest = outbox.form_batch(max_bytes=10**9, max_records=10, now=NOW)  # everything due now goes
    assert set(rest.record_ids) == {r.record_id for r in saved[2:]}
    # Pending now: the retried record (30 s) and the unanswered one (backoff 60 s): the sooner counts.
    assert outbox.next_due_in(now=NOW) == 30.0
    assert outbox.next_due_in(now=NOW + timedelta(seconds=45)) == -15.0  # overdue
    outbox.apply_results(rest.batch_id, [ItemResult(r, "rejected", code="X") for r in rest.record_ids])
    for _ in range(2):  # the two still pending
        batch = outbox.form_batch(max_bytes=10**9, max_records=1, now=NOW + timedelta(seconds=90))
        outbox.apply_results(batch.batch_id, [ItemResult(batch.record_ids[0], "rejected", code="X")])
    assert outbox.next_due_in(now=NOW) is None  # nothing waits


def test_list_orders_by_capture_time_not_by_saving_order(station, people, jpeg):
    outbox = OutboxRepository(station.engine)
    late, early = (
        capture_for(people[20], jpeg, captured_at=NOW),
        capture_for(people[21], jpeg, captured_at=NOW - timedelta(hours=1)),
    )
    station.records.save(late)
    station.records.save(early)  # saved second, captured first
    assert [e.record_id for e in outbox.list()] == [early.record_id, late.record_id]


def test_attempt_errors_reopen_reasons_and_wording(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=1)
    outbox.note_attempt(batch.batch_id, body_sha256="a" * 64, error="TIMEOUT")
    assert _row(station, "batches", "batch_id", batch.batch_id)["last_error"] == "TIMEOUT"
    with pytest.raises(OutboxError) as changed:
        outbox.note_attempt(batch.batch_id, body_sha256="b" * 64)
    assert (
        changed.value.message.en
        == "A resend of the batch differs from its first send (a program error); stopped."
    )
    outbox.apply_results(batch.batch_id, [ItemResult(batch.record_ids[0], "accepted", reg_no="26010200001")])
    assert outbox.reopen([batch.record_ids[0]]) == 1  # the default reason
    assert outbox.get(batch.record_ids[0]).last_error == "LEDGER_MISSING"


def test_inflight_hashes_belong_to_one_batch_and_leave_when_answered(outbox, saved):
    one = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)
    two = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)
    assert set(outbox.inflight_hashes(one.batch_id)) == set(one.record_ids)
    assert set(outbox.inflight_hashes(two.batch_id)) == set(two.record_ids)
    first, second = one.record_ids
    outbox.apply_results(
        one.batch_id, [ItemResult(first, "accepted", reg_no="1"), ItemResult(second, "rejected", code="X")]
    )
    assert (
        outbox.inflight_hashes(one.batch_id) == {}
    )  # answered rows keep their batch id, but are not in flight


def test_a_record_never_tried_is_due_before_one_waiting_for_its_backoff(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=1, now=NOW)
    outbox.apply_results(
        batch.batch_id, [ItemResult(batch.record_ids[0], "retry", retry_after_s=300)], now=NOW
    )
    assert outbox.next_due_in(now=NOW) == 0.0  # four others were never tried: due now


def test_open_batches_oldest_first_each_with_its_own_members_in_capture_order(station, people, jpeg):
    outbox = OutboxRepository(station.engine)
    late = capture_for(people[22], jpeg, captured_at=NOW)  # its record id is minted first ...
    early = capture_for(
        people[23], jpeg, captured_at=NOW - timedelta(hours=1)
    )  # ... but it was captured first
    other = capture_for(people[24], jpeg, captured_at=NOW - timedelta(hours=2))
    for row in (late, early, other):
        station.records.save(row)
    newer = outbox.form_batch(max_bytes=1, now=NOW + timedelta(hours=1))  # takes the oldest capture: other
    older = outbox.form_batch(max_bytes=10**9, now=NOW)  # formed later, but dated earlier
    listed = outbox.open_batches()
    assert [b.batch_id for b in listed] == [older.batch_id, newer.batch_id]
    assert listed[0].record_ids == (early.record_id, late.record_id)  # capture order, not record-id order
    assert listed[1].record_ids == (other.record_id,)


def test_set_aside_parks_the_named_members_and_sends_the_rest_again_at_once(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=3, now=NOW)
    damaged, mismatched, healthy = batch.record_ids
    outside = saved[4].record_id  # named, but not a member of the batch
    outbox.set_aside(
        batch.batch_id,
        {damaged: "LOCAL_RECORD_DAMAGED", mismatched: "LOCAL_HASH_MISMATCH", outside: "LOCAL_RECORD_DAMAGED"},
        now=NOW,
    )
    rows = {rid: _row(station, "outbox", "record_id", rid) for rid in (damaged, mismatched, healthy, outside)}
    parked_until = clock.iso(NOW + timedelta(days=3650))
    assert [(rows[r]["state"], rows[r]["batch_id"], rows[r]["next_attempt_at"], rows[r]["last_error"],
             rows[r]["attempts"]) for r in (damaged, mismatched, healthy)] == [
        ("pending", None, parked_until, "LOCAL_RECORD_DAMAGED", 1),
        ("pending", None, parked_until, "LOCAL_HASH_MISMATCH", 1),
        ("pending", None, None, "REBATCH", 1),
    ]  # fmt: skip
    assert (rows[outside]["state"], rows[outside]["last_error"], rows[outside]["attempts"]) == (
        "pending",
        None,
        0,
    )
    batch_row = _row(station, "batches", "batch_id", batch.batch_id)
    assert (batch_row["state"], batch_row["last_error"], batch_row["completed_at"]) == (
        "abandoned", "SET_ASIDE", clock.iso(NOW),
    )  # fmt: skip
    assert outbox.open_batches() == []
    assert outbox.set_aside_ids() == {damaged: "LOCAL_RECORD_DAMAGED", mismatched: "LOCAL_HASH_MISMATCH"}
    # The healthy member and the outsider travel again now; the parked ones wait for an administrator.
    again = outbox.form_batch(max_bytes=10**9, now=NOW + timedelta(days=365))
    assert set(again.record_ids) == {healthy, outside, saved[3].record_id}


def test_set_aside_leaves_members_that_already_left_the_batch(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)
    first, second = batch.record_ids
    with station.write() as conn:  # the second was answered through another batch meanwhile
        conn.execute(sa.text("UPDATE outbox SET state = 'accepted', reg_no = '26010200009' WHERE record_id = :r"),
                     {"r": second})  # fmt: skip
    other = outbox.form_batch(max_bytes=10**9, max_records=2, now=NOW)  # another open batch
    outbox.set_aside(batch.batch_id, {first: "LOCAL_RECORD_DAMAGED", second: "LOCAL_RECORD_DAMAGED"}, now=NOW)
    left = _row(station, "outbox", "record_id", second)
    assert (left["state"], left["batch_id"], left["last_error"], left["attempts"]) == (
        "accepted", batch.batch_id, None, 0,
    )  # fmt: skip
    assert outbox.set_aside_ids() == {first: "LOCAL_RECORD_DAMAGED"}
    # The other batch is not touched: its members are still in flight with it.
    assert [(b.batch_id, b.record_ids) for b in outbox.open_batches()] == [(other.batch_id, other.record_ids)]
    assert {outbox.get(r).last_error for r in other.record_ids} == {None}


def test_set_aside_ids_name_only_records_waiting_for_a_local_reason(station, outbox, saved):
    assert outbox.set_aside_ids() == {}
    batch = outbox.form_batch(max_bytes=10**9, max_records=3, now=NOW)
    first, second, third = batch.record_ids
    outbox.apply_results(
        batch.batch_id,
        [ItemResult(first, "retry", code="LOCAL_HASH_MISMATCH"), ItemResult(second, "retry", code="BUSY"),
         ItemResult(third, "rejected", code="LOCAL_RECORD_DAMAGED")],
        now=NOW,
    )  # fmt: skip
    # Only pending rows count, and only with a local reason: a final row with such a code is no set-aside.
    assert outbox.set_aside_ids() == {first: "LOCAL_HASH_MISMATCH"}


def test_a_result_with_fields_stores_them_as_named(station, outbox, saved):
    batch = outbox.form_batch(max_bytes=10**9, max_records=1, now=NOW)
    (record_id,) = batch.record_ids
    result = ItemResult(record_id, "rejected", code="ID_MISMATCH", fields=("name", "sex"))
    outbox.apply_results(batch.batch_id, [result], now=NOW)
    stored = json.loads(_row(station, "outbox", "record_id", record_id)["result_json"])
    assert stored == {
        "record_id": record_id,
        "status": "rejected",
        "code": "ID_MISMATCH",
        "fields": ["name", "sex"],
    }


def test_open_batches_break_capture_time_ties_by_record_id(station, people, jpeg):
    outbox = OutboxRepository(station.engine)
    same = NOW - timedelta(minutes=1)
    rows = [capture_for(p, jpeg, captured_at=same) for p in people[25:28]]
    for row in reversed(rows):  # saved in the reverse of their record-id order
        station.records.save(row)
    batch = outbox.form_batch(max_bytes=10**9)
    expected = tuple(sorted(r.record_id for r in rows))
    assert batch.record_ids == expected and outbox.open_batches()[0].record_ids == expected
