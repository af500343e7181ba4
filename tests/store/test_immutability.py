"""Records are immutable except for the audited retention purge; audit log and outbox never shrink."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from station.store import clock
from station.store.errors import PurgeNotAllowedError
from station.store.models import PERSONAL_RECORD_COLUMNS
from station.store.rows import ItemResult
from tests.store.conftest import capture_for


def _accept(station, record):
    batch = station.outbox.form_batch(max_bytes=10**7)
    station.outbox.apply_results(
        batch.batch_id,
        [
            ItemResult(
                record.record_id, "accepted", reg_no="26010200001", payload_sha256=record.payload_sha256
            )
        ],
    )


@pytest.fixture
def saved(station, people, jpeg):
    record = capture_for(people[4], jpeg)
    station.records.save(record)
    return record


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records SET student_id = 'someone-else'",
        "UPDATE records SET photo_jpeg = x'ffd8ffe0'",
        "UPDATE records SET national_id = NULL, purged_at = '2026-01-01T00:00:00Z'",
        "DELETE FROM records",
    ],
)
def test_records_cannot_be_changed_or_deleted(station, saved, statement):
    with pytest.raises(exc.IntegrityError, match="immutable"), station.write() as conn:
        conn.execute(sa.text(statement))
    assert station.records.get(saved.record_id, viewed_by="op1").photo_jpeg == saved.photo_jpeg


def test_purge_needs_ledger_confirmation_and_retention(station, saved):
    with pytest.raises(PurgeNotAllowedError):
        station.records.purge(saved.record_id, operator="admin")  # still pending
    _accept(station, saved)
    with pytest.raises(PurgeNotAllowedError):
        station.records.purge(saved.record_id, operator="admin")  # accepted, ledger not confirmed
    confirmed_at = clock.utc_now()
    station.outbox.confirm_ledger([saved.record_id], at=confirmed_at)
    with pytest.raises(PurgeNotAllowedError, match=None) as early:
        station.records.purge(
            saved.record_id, operator="admin", retention_days=30, now=confirmed_at + timedelta(days=29)
        )
    assert "30" in early.value.message.en
    purged = station.records.purge_due(
        operator="admin", retention_days=30, now=confirmed_at + timedelta(days=31)
    )
    assert purged == [saved.record_id]
    after = station.records.get(saved.record_id, viewed_by="admin")
    for column in PERSONAL_RECORD_COLUMNS:
        assert getattr(after, column) is None, column
    assert after.payload_sha256 == saved.payload_sha256 and after.photo_sha256 == saved.photo_sha256
    assert after.purged_at is not None
    assert [e.subject for e in station.audit.list(action="purge")] == [saved.record_id]
    summary = station.records.list()[0]
    assert summary.purged and summary.state == "accepted" and summary.reg_no == "26010200001"


def test_a_purge_without_its_audit_entry_is_refused_by_the_database(station, saved):
    _accept(station, saved)
    station.outbox.confirm_ledger([saved.record_id])
    nulls = ", ".join(f"{c} = NULL" for c in PERSONAL_RECORD_COLUMNS)
    with pytest.raises(exc.IntegrityError, match="immutable"), station.write() as conn:
        conn.execute(sa.text(f"UPDATE records SET {nulls}, purged_at = '2030-01-01T00:00:00Z'"))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(station, saved, statement):
    assert station.audit.list(action="capture")
    with pytest.raises(exc.IntegrityError, match="append-only"), station.write() as conn:
        conn.execute(sa.text(statement))
    assert station.audit.verify_chain() is None


def test_audit_chain_detects_a_rewritten_entry(station, saved):
    station.audit.append("export", operator="op1", detail={"count": 1})
    with station.write() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        conn.execute(sa.text("UPDATE audit_log SET operator = 'someone' WHERE action = 'capture'"))
    first_capture = station.audit.list(action="capture")[-1].id
    assert station.audit.verify_chain() == first_capture


def test_outbox_rows_are_never_deleted(station, saved):
    with pytest.raises(exc.IntegrityError, match="never deleted"), station.write() as conn:
        conn.execute(sa.text("DELETE FROM outbox"))


def test_viewing_a_record_is_audited(station, saved):
    station.records.get(saved.record_id, viewed_by="op2")
    views = station.audit.list(action="view")
    assert [(v.operator, v.subject) for v in views] == [("op2", saved.record_id)]
