"""The default limits of the record and outbox listings, on a station holding more records than either
shows: a listing is bounded (what an officer's screen and the status command read), never the whole table."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from station.store.models import records
from station.store.outbox import OutboxRepository
from tests.store.conftest import capture_for


def _tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 180, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_listings_stop_at_their_default_limits(station, people):
    first = capture_for(people[0], _tiny_jpeg())
    station.records.save(first)
    others = [c.name for c in records.columns if c.name != "record_id"]
    with station.write() as conn:  # 1001 more records like the first, each with its outbox row
        conn.execute(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001) "
                f"INSERT INTO records (record_id, {', '.join(others)}) "
                f"SELECT printf('copy-%04d', i), {', '.join(others)} FROM records, n WHERE record_id = :r"
            ),
            {"r": first.record_id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO outbox (record_id, state, created_at, size_bytes, attempts) "
                "SELECT record_id, 'pending', captured_at, 1, 0 FROM records WHERE record_id LIKE 'copy-%'"
            )
        )
    assert len(OutboxRepository(station.engine).list()) == 1000
    assert len(OutboxRepository(station.engine).list(limit=1002)) == 1002
    assert len(station.records.list()) == 500
    assert len(station.records.list(limit=1002)) == 1002
