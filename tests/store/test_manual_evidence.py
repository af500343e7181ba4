"""Records signed off without a readable chip, and the structured rejection fields the desk shows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from station.domain.records import CaptureRecord, ManualEvidence
from station.store.errors import RecordIntegrityError
from station.store.rows import ItemResult, RecordRow
from tests.store.conftest import COUNTY, capture_for


def manual_row(person, jpeg) -> RecordRow:
    capture = CaptureRecord.new(
        student_id=f"stu-{person.id_number[-6:]}",
        national_id=person.id_number,
        station_id="ST-150102-01",
        county_code6=COUNTY,
        operator="op1",
        chip=None,
        manual=ManualEvidence("admin-1", datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
        photo_jpeg=jpeg,
        photo_profile="moe-480",
        quality={"ok": True},
    )
    return RecordRow.from_capture(capture)


def test_a_signed_off_record_without_chip_blocks_is_saved_and_queued(station, people, jpeg):
    row = manual_row(people[0], jpeg)
    assert row.chip_text is None and row.card_type == "unreadable"
    station.records.save(row)
    assert station.outbox.get(row.record_id).state == "pending"
    payload = station.records.frozen_payloads([row.record_id])[row.record_id].payload
    assert b'"manual_approval"' in payload and b'"evidence":"manual"' in payload and b'"chip"' not in payload


def test_chip_blocks_are_never_missing_without_a_sign_off(station, people, jpeg):
    chipless = dataclasses.replace(capture_for(people[1], jpeg), chip_text=None, chip_wlt=None)
    with pytest.raises(RecordIntegrityError):
        station.records.save(chipless)
    with_chip = dataclasses.replace(manual_row(people[2], jpeg), chip_text=bytes(256), chip_wlt=bytes(1024))
    with pytest.raises(RecordIntegrityError):
        station.records.save(with_chip)
    # Past the repository, the database's own constraint still holds.
    values = {c: getattr(chipless, c) for c in ("record_id", "student_id", "national_id", "station_id",
              "county_code6", "operator", "captured_at", "card_type", "photo_jpeg", "photo_sha256",
              "photo_profile", "payload", "payload_sha256")}  # fmt: skip
    with pytest.raises(sa_exc.IntegrityError), station.write() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO records ({', '.join(values)}, quality_report, saved_at) "
                f"VALUES ({', '.join(':' + n for n in values)}, '{{}}', :captured_at)"
            ),
            values,
        )


def test_rejections_keep_their_fields_and_holder_school(station, people, jpeg):
    rows = [capture_for(p, jpeg) for p in people[3:5]]
    for row in rows:
        station.records.save(row)
    batch = station.outbox.form_batch(max_bytes=10**8)
    mismatch = ItemResult.from_wire(
        {
            "record_id": rows[0].record_id,
            "status": "rejected",
            "code": "ID_MISMATCH",
            "fields": ["name", "sex"],
        }
    )
    held = ItemResult(
        rows[1].record_id, "rejected", code="ALREADY_REGISTERED",
        holder_school_code="1501020003", holder_school_name="示例第三中学",
    )  # fmt: skip
    station.outbox.apply_results(batch.batch_id, [mismatch, held])
    assert station.outbox.get(rows[0].record_id).result["fields"] == ["name", "sex"]
    stored = station.outbox.get(rows[1].record_id).result
    assert stored["holder_school_name"] == "示例第三中学" and stored["holder_school_code"] == "1501020003"


def test_a_signed_off_record_is_a_valid_manual_record_on_the_wire(people, jpeg):
    from sync.protocol import wire

    capture = CaptureRecord.new(
        student_id="S1", national_id=people[5].id_number, station_id="ST-150102-01", county_code6=COUNTY,
        operator="op1", chip=None, manual=ManualEvidence("admin-1", datetime(2026, 11, 29, 2, 0, tzinfo=UTC)),
        photo_jpeg=jpeg, photo_profile="moe-480",
    )  # fmt: skip
    sent = wire.Record.model_validate({**capture.payload(), "payload_sha256": capture.payload_sha256})
    assert sent.evidence == "manual" and sent.chip is None
    assert sent.manual_approval.approved_by == "admin-1" and sent.manual_approval.lookup == "id_last6"
