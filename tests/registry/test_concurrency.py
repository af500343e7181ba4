"""Serial allocation under concurrency (docs/sync-protocol.md §11.2 S9, S10; §10.2), on SQLite and PostgreSQL.

Many threads push batches for one county through the registry's intake path at once, while the
``abort_after_allocation`` hook rolls back a share of the transactions *after* they took a serial.
Every thread retries its ``retry`` records until none is left. Then: serials are unique and gapless
(1..N), each ID number holds one registration, and replays answer ``duplicate`` with the same number.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from sync.protocol import regno
from sync.protocol.canonical import sha256_hex
from sync.protocol.wire import BatchEnvelope
from sync.registry import intake
from sync.registry.db import RecordRow
from sync.registry.faults import Faults
from sync.registry.pki import StationIdentity
from tests.registry.helpers import (
    COUNTY,
    SEASON,
    STATION,
    STATION_2,
    make_batch,
    make_record,
    photo_jpeg,
    students,
)

RETRIES: list[str] = []
FAULTS = Faults(abort_after_allocation=0.2, seed=11)


def _push(registry, station_id: str, records: list[dict]) -> dict[str, dict]:
    """Push ``records`` until none is answered ``retry``; returns record_id -> final result."""
    identity = StationIdentity(station_id, COUNTY)
    registry.ensure_station(identity)
    final: dict[str, dict] = {}
    pending = records
    for _round in range(50):
        batch = make_batch(station_id, pending)
        incoming = intake.parse_envelope(identity, station_id, batch["batch_id"], _json(batch), SEASON)
        intake.claim(registry, incoming)
        response = intake.process_batch(registry, identity, incoming, set(), FAULTS).response
        intake.finish(registry, batch["batch_id"], response)
        pending = []
        by_id = {r["record_id"]: r for r in records}
        for result in response.results:
            if result.status == "retry":
                RETRIES.append(result.code)
                pending.append(by_id[result.record_id])
            else:
                final[result.record_id] = result.model_dump(exclude_none=True)
        if not pending:
            return final
    raise AssertionError("records still answered retry after 50 rounds")


def _json(batch: dict) -> bytes:
    import json

    BatchEnvelope.model_validate(batch)
    return json.dumps(batch).encode()


def test_concurrent_batches_with_rollbacks_give_unique_gapless_serials(make_registry):
    RETRIES.clear()
    FAULTS.abort_after_allocation, FAULTS._rng = 0.2, None
    registry = make_registry(students=120)
    people = students(registry.db)
    photos = [photo_jpeg(index) for index in range(len(people))]
    for photo in photos:
        registry.blobs.put(sha256_hex(photo), photo)
    records = [make_record(p, photo) for p, photo in zip(people, photos, strict=True)]
    # The same student twice, from two stations, in different batches: exactly one registration.
    twins = [make_record(p, photo) for p, photo in zip(people[:10], photos[:10], strict=True)]
    chunks = [records[i : i + 5] for i in range(0, len(records), 5)]
    jobs = [(STATION if i % 2 else STATION_2, chunk) for i, chunk in enumerate(chunks)]
    jobs += [(STATION_2 if i % 2 else STATION, twins[i : i + 2]) for i in range(0, len(twins), 2)]
    barrier = threading.Barrier(8)

    def run(job):
        station_id, chunk = job
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return _push(registry, station_id, chunk)

    results: dict[str, dict] = {}
    with ThreadPoolExecutor(8) as pool:
        for outcome in pool.map(run, jobs):
            results.update(outcome)

    assert RETRIES and set(RETRIES) == {"BUSY"}  # rollbacks after allocation did happen
    assert FAULTS.fired("abort_after_allocation") >= 1
    RETRIES.clear()
    accepted = [r for r in results.values() if r["status"] == "accepted"]
    serials = sorted(regno.parse(r["reg_no"]).serial for r in accepted)
    assert serials == list(range(1, len(people) + 1))
    assert len({r["reg_no"] for r in accepted}) == len(accepted)
    rejected = [r for r in results.values() if r["status"] == "rejected"]
    assert len(rejected) == len(twins) and {r["code"] for r in rejected} == {"ALREADY_REGISTERED"}

    with registry.db.read() as session:
        rows = session.scalars(select(RecordRow).where(RecordRow.outcome == "registered")).all()
    assert len({row.national_id for row in rows}) == len(rows) == len(people)

    # Replays of everything: duplicates carrying the same numbers; nothing new allocated.
    FAULTS.abort_after_allocation = 0.0
    by_station = {STATION: [], STATION_2: []}
    for station_id, chunk in jobs:
        by_station[station_id] += chunk
    for station_id, chunk in by_station.items():
        replay = _push(registry, station_id, chunk)
        for record_id, result in replay.items():
            first = results[record_id]
            if first["status"] == "accepted":
                assert result["status"] == "duplicate" and result["reg_no"] == first["reg_no"]
            else:
                assert result["status"] == "rejected" and result["code"] == first["code"]
    with registry.db.read() as session:
        assert session.scalar(select(func.max(RecordRow.serial))) == len(people)
