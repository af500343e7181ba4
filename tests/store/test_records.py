"""Capture records in the store: what a save writes and audits, what a read gives back, the list's
filters and order, and the retention purge on each side of its day, with its audit entry."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa

from station.store import clock
from station.store.errors import PurgeNotAllowedError, RecordIntegrityError
from station.store.rows import ItemResult
from tests.store.conftest import capture_for, table_rows

NOW = clock.utc_now().replace(microsecond=0)


def test_a_save_is_audited_with_who_what_and_which_record(station, people, jpeg):
    first = capture_for(people[0], jpeg, operator="op7")
    station.records.save(first)
    again = capture_for(people[0], jpeg, operator="op8", supersedes=first.record_id)
    station.records.save(again)
    entries = station.audit.list(action="capture")
    assert [(e.operator, e.subject, e.detail) for e in entries] == [
        ("op8", again.record_id, {"student_id": again.student_id, "supersedes": first.record_id}),
        ("op7", first.record_id, {"student_id": first.student_id, "supersedes": None}),
    ]


def test_a_read_gives_back_what_was_saved_and_is_audited(station, people, jpeg):
    record = capture_for(people[1], jpeg)
    station.records.save(record)
    read = station.records.get(record.record_id, viewed_by="op2")
    assert read.quality_report == record.quality_report and read.comparison == record.comparison
    assert read.photo_jpeg == record.photo_jpeg and read.payload == record.payload
    assert station.audit.list(action="view")[0].operator == "op2"
    with station.read() as conn:  # stored as sorted JSON with the Chinese readable
        stored = conn.execute(
            sa.text("SELECT comparison FROM records WHERE record_id = :r"), {"r": record.record_id}
        ).scalar()
    assert stored.index('"name"') >= 0 and people[1].name in stored
    bare = dataclasses.replace(capture_for(people[2], jpeg), quality_report={}, comparison=None)
    station.records.save(bare)
    read_bare = station.records.get(bare.record_id, viewed_by="op2")
    assert read_bare.quality_report == {} and read_bare.comparison is None
    assert station.records.get("no-such-record", viewed_by="op2") is None


def test_the_list_filters_orders_and_limits(station, people, jpeg):
    rows = [
        capture_for(p, jpeg, captured_at=NOW - timedelta(minutes=10 - i)) for i, p in enumerate(people[3:7])
    ]
    for row in rows:
        station.records.save(row)
    newest_first = [r.record_id for r in reversed(rows)]
    assert [s.record_id for s in station.records.list()] == newest_first
    assert [s.record_id for s in station.records.list(limit=2)] == newest_first[:2]
    assert [s.record_id for s in station.records.list(student_id=rows[1].student_id)] == [rows[1].record_id]
    batch = station.outbox.form_batch(max_bytes=1)
    station.outbox.apply_results(
        batch.batch_id, [ItemResult(batch.record_ids[0], "accepted", reg_no="26010200001")]
    )
    accepted = station.records.list(state="accepted")
    assert [s.record_id for s in accepted] == [rows[0].record_id]
    summary = accepted[0]
    assert (summary.student_id, summary.captured_at, summary.operator, summary.state, summary.reg_no, summary.purged) == (
        rows[0].student_id, rows[0].captured_at, rows[0].operator, "accepted", "26010200001", False,
    )  # fmt: skip
    assert len(station.records.list(state="pending")) == 3


def test_every_inconsistency_is_named_at_once(station, people, jpeg):
    broken = dataclasses.replace(
        capture_for(people[7], jpeg), photo_sha256="0" * 64, national_id="", captured_at="yesterday"
    )
    with pytest.raises(RecordIntegrityError) as caught:
        station.records.save(broken)
    assert caught.value.code == "record_inconsistent"
    assert caught.value.message.en.endswith(
        "photo_sha256 does not match the photo; national_id is empty; captured_at is not an ISO timestamp"
    )
    assert table_rows(station)["records"] == 0


def _final_and_confirmed(station, record, *, state: str, at):
    batch = station.outbox.form_batch(max_bytes=1)
    assert batch.record_ids == (record.record_id,)
    result = ItemResult(record.record_id, "accepted", reg_no="26010200001") if state == "accepted" else ItemResult(
        record.record_id, "rejected", code="WITHDRAWN")  # fmt: skip
    station.outbox.apply_results(batch.batch_id, [result])
    assert station.outbox.confirm_ledger([record.record_id], at=at) == 1


@pytest.mark.parametrize("state", ["accepted", "rejected"])
def test_purge_on_each_side_of_the_retention_day_and_its_audit_entry(station, people, jpeg, state):
    record = capture_for(people[8], jpeg)
    station.records.save(record)
    _final_and_confirmed(station, record, state=state, at=NOW)
    with pytest.raises(PurgeNotAllowedError) as early:
        station.records.purge(
            record.record_id, operator="op1", retention_days=30, now=NOW + timedelta(days=30, seconds=-1)
        )
    assert "30" in early.value.message.zh
    assert (
        station.records.purge_due(operator="op1", retention_days=30, now=NOW + timedelta(days=30, seconds=-1))
        == []
    )
    due = NOW + timedelta(days=30)  # the day itself: purged
    assert station.records.purge_due(operator="sync", retention_days=30, now=due) == [record.record_id]
    entry = station.audit.list(action="purge")[0]
    assert (entry.operator, entry.subject, entry.detail, entry.at) == (
        "sync", record.record_id, {"retention_days": 30}, clock.iso(due),
    )  # fmt: skip
    with station.read() as conn:
        row = conn.execute(sa.text("SELECT photo_jpeg, purged_at FROM records WHERE record_id = :r"),
                           {"r": record.record_id}).one()  # fmt: skip
    assert row.photo_jpeg is None and row.purged_at == clock.iso(due)
    assert station.records.list()[0].purged is True
    with pytest.raises(PurgeNotAllowedError):  # once is enough
        station.records.purge(record.record_id, operator="op1", retention_days=30, now=due)


def test_purge_refuses_what_the_ledger_has_not_confirmed(station, people, jpeg):
    record = capture_for(people[9], jpeg)
    station.records.save(record)
    with pytest.raises(PurgeNotAllowedError):
        station.records.purge(
            record.record_id, operator="op1", retention_days=0, now=NOW + timedelta(days=400)
        )
    with pytest.raises(PurgeNotAllowedError):
        station.records.purge("no-such-record", operator="op1", retention_days=0)
    batch = station.outbox.form_batch(max_bytes=1)
    station.outbox.apply_results(
        batch.batch_id, [ItemResult(record.record_id, "conflict", code="PAYLOAD_MISMATCH")]
    )
    with station.write() as conn:  # even a confirmation time on a conflict does not make it purgeable
        conn.execute(sa.text("UPDATE outbox SET ledger_confirmed_at = :t"), {"t": clock.iso(NOW)})
    with pytest.raises(PurgeNotAllowedError):
        station.records.purge(record.record_id, operator="op1", retention_days=0, now=NOW + timedelta(days=1))
    assert station.records.purge_due(operator="op1", retention_days=0, now=NOW + timedelta(days=1)) == []
    second = capture_for(people[10], jpeg)
    station.records.save(second)
    _final_and_confirmed(station, second, state="accepted", at=NOW)
    station.records.purge(
        second.record_id, operator="op3", now=NOW + timedelta(days=30)
    )  # 30 days by default
    assert station.audit.list(action="purge")[0].operator == "op3"


def test_frozen_payloads_are_the_bytes_as_saved(station, people, jpeg):
    record = capture_for(people[11], jpeg)
    station.records.save(record)
    frozen = station.records.frozen_payloads([record.record_id, "no-such-record"])
    assert set(frozen) == {record.record_id}
    one = frozen[record.record_id]
    assert (one.record_id, one.payload, one.payload_sha256, one.photo_jpeg, one.photo_sha256) == (
        record.record_id, record.payload, record.payload_sha256, record.photo_jpeg, record.photo_sha256,
    )  # fmt: skip
    assert type(one.payload) is bytes and type(one.photo_jpeg) is bytes
    assert station.audit.list(action="view") == []  # bytes for the registry, not a person's screen
    _final_and_confirmed(station, record, state="accepted", at=NOW)
    station.records.purge(record.record_id, operator="op1", retention_days=0, now=NOW)
    gone = station.records.frozen_payloads([record.record_id])[record.record_id]
    assert (gone.payload, gone.photo_jpeg) == (None, None) and gone.payload_sha256 == record.payload_sha256


def test_purge_due_skips_what_is_already_purged_and_keeps_30_days_by_default(station, people, jpeg):
    record = capture_for(people[12], jpeg)
    station.records.save(record)
    _final_and_confirmed(station, record, state="accepted", at=NOW)
    assert station.records.purge_due(operator="op1", now=NOW + timedelta(days=30, seconds=-1)) == []
    assert station.records.purge_due(operator="op1", now=NOW + timedelta(days=30)) == [record.record_id]
    assert (
        station.records.purge_due(operator="op1", now=NOW + timedelta(days=60)) == []
    )  # once only, no error


def test_purge_candidates_count_what_purge_due_would_purge(station, people, jpeg):
    records = [capture_for(p, jpeg) for p in people[13:16]]
    for record in records:
        station.records.save(record)
    assert station.records.purge_candidates(now=NOW + timedelta(days=400)) == 0  # nothing confirmed yet
    _final_and_confirmed(station, records[0], state="accepted", at=NOW)
    _final_and_confirmed(station, records[1], state="rejected", at=NOW + timedelta(days=1))
    day = NOW + timedelta(days=30)
    assert station.records.purge_candidates(now=day - timedelta(seconds=1)) == 0
    assert station.records.purge_candidates(now=day) == 1  # 30 days by default, the day itself counts
    assert station.records.purge_candidates(retention_days=29, now=day) == 2
    assert station.records.purge_candidates(retention_days=31, now=day) == 0
    purged = station.records.purge_due(operator="op1", retention_days=29, now=day)
    assert sorted(purged) == sorted([records[0].record_id, records[1].record_id])
    assert station.records.purge_candidates(retention_days=0, now=day + timedelta(days=400)) == 0  # purged
