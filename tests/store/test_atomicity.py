"""A capture and its outbox row commit together or not at all; bad records are refused whole."""

from __future__ import annotations

import dataclasses

import pytest

from station.store import records as records_module
from station.store.errors import RecordIntegrityError
from tests.store.conftest import NOTHING_SAVED, capture_for, table_rows


def test_failure_between_record_and_outbox_leaves_neither(station, people, jpeg, monkeypatch):
    record = capture_for(people[5], jpeg)

    def power_cut(conn, row):
        raise OSError("injected: disk vanished between the two inserts")

    monkeypatch.setattr(records_module, "_insert_outbox", power_cut)
    with pytest.raises(OSError, match="injected"):
        station.records.save(record)
    assert table_rows(station) == NOTHING_SAVED  # in particular no record row without its outbox row
    monkeypatch.undo()
    station.records.save(record)  # the same record saves cleanly afterwards
    assert station.outbox.get(record.record_id).state == "pending"
    assert table_rows(station) == {"records": 1, "outbox": 1, "capture_audit": 1}


def test_failure_in_the_audit_step_also_rolls_back(station, people, jpeg, monkeypatch):
    record = capture_for(people[6], jpeg)
    monkeypatch.setattr(records_module.audit, "append", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        station.records.save(record)
    assert table_rows(station) == NOTHING_SAVED


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"photo_sha256": "0" * 64}, "photo_sha256"),
        ({"payload": b"{}"}, "payload_sha256"),
        ({"chip_text": b"\x00" * 255}, "256 bytes"),
        ({"chip_wlt": b"\x00" * 10}, "1024 bytes"),
        ({"photo_jpeg": b"\x89PNG..."}, "not a JPEG"),
        ({"national_id": ""}, "national_id"),
    ],
)
def test_inconsistent_records_are_refused_with_a_reason(station, people, jpeg, change, why):
    record = dataclasses.replace(capture_for(people[7], jpeg), **change)
    with pytest.raises(RecordIntegrityError) as error:
        station.records.save(record)
    assert why in error.value.message.en
    assert table_rows(station) == NOTHING_SAVED


def test_duplicate_record_id_and_unknown_superseded_record(station, people, jpeg):
    record = capture_for(people[8], jpeg)
    station.records.save(record)
    with pytest.raises(RecordIntegrityError) as duplicate:
        station.records.save(record)
    assert duplicate.value.code == "record_duplicate"
    with pytest.raises(RecordIntegrityError):
        station.records.save(capture_for(people[8], jpeg, supersedes="01900000-0000-7000-8000-000000000000"))
    assert table_rows(station) == {"records": 1, "outbox": 1, "capture_audit": 1}  # the refusals left nothing
    recapture = capture_for(people[8], jpeg, supersedes=record.record_id)
    station.records.save(recapture)
    assert len(station.records.list(student_id=record.student_id)) == 2
    assert table_rows(station) == {"records": 2, "outbox": 2, "capture_audit": 2}


def test_disk_full_is_a_typed_error_and_saves_nothing(station, people, jpeg):
    """A real SQLITE_FULL: the database may not grow beyond its current size plus one page."""
    from sqlalchemy import event

    from station.store import engine
    from station.store.errors import DiskFullError
    from station.store.records import RecordRepository

    full_engine = engine.create_station_engine(station.path, station._key, pool_size=1)

    @event.listens_for(full_engine, "connect")
    def _cap(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    try:
        with pytest.raises(DiskFullError) as error:
            RecordRepository(full_engine).save(capture_for(people[9], jpeg))
        assert error.value.code == "disk_full" and "not saved" in error.value.message.en
    finally:
        full_engine.dispose()
    assert table_rows(station) == NOTHING_SAVED
