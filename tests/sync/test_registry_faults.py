"""Registry-side faults and per-record outcomes (docs/sync-protocol.md §11.2 S1-S9, S12, S13)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import sqlalchemy as sa

from station.commands.status import collect
from sync.client import batch as batch_body
from sync.protocol.canonical import canonical_json, payload_sha256
from sync.protocol.wire import BatchResponse
from sync.registry.admin import set_status
from tests.sync.faultproxy import Plan
from tests.sync.harness import (
    FAST,
    STATION,
    STATION_2,
    Tally,
    capture,
    check_oracle,
    drain,
    engine_for,
    make_station,
    open_app,
    photo_variants,
)


def _loaded(app, registry, count: int = 3):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    ids = [capture(app, s.national_id) for s in registry.approved()[:count]]
    return engine, ids


def test_s1_server_error_before_commit(app, registry):
    engine, _ = _loaded(app, registry)
    registry.faults.fail_before_commit = 1
    tally = Tally()
    drain(engine, tally)
    assert registry.faults.fired("fail_before_commit") == 1
    assert (
        sum(r.retries_by_cause["INTERNAL"] + r.retries_by_cause["INJECTED_FAULT"] for r in tally.reports) >= 1
    )
    check_oracle(app, registry, tally)


def test_s2_server_error_after_commit(app, registry):
    engine, _ = _loaded(app, registry)
    registry.faults.fail_after_commit = 1
    tally = Tally()
    drain(engine, tally)
    assert registry.faults.fired("fail_after_commit") == 1
    check_oracle(app, registry, tally, lost_responses=1)


def test_s3_retry_after_is_capped(app, registry):
    engine, _ = _loaded(app, registry)
    slept: list[float] = []
    engine.sleep = lambda seconds: (slept.append(seconds), time.sleep(min(seconds, 0.05)))
    for index, wait in enumerate((5, 86_400)):
        capture(app, registry.approved()[5 + index].national_id)
        registry.faults.retry_after_s, registry.faults.retry_after_count = wait, 1
        report = engine.run_once()
        # The registry answers 503 before reading the body and closes the connection; the client sees the
        # 503 when the body fitted the socket buffers, a reset otherwise (registry behaviour, reported).
        assert report.retries_by_cause["HTTP_503"] + report.retries_by_cause["RESET"] >= 1, report.as_dict()
    assert registry.faults.fired("retry_after_s") == 2
    assert slept and max(slept) <= FAST.retry_after_cap_s  # never a 6 h thread sleep
    check_oracle(app, registry)


def test_s3_retry_after_wait_is_min_of_header_and_cap(app, registry):
    from sync.client.errors import RetryLater
    from sync.client.report import SyncReport

    engine, _ = _loaded(app, registry, 0)
    slept: list[float] = []
    engine.sleep = slept.append
    for header in (5.0, 86_400.0, 0.1):
        engine._wait_busy(SyncReport(), RetryLater("RETRY_LATER", "", status=503, retry_after_s=header), 1)
    assert slept == [FAST.retry_after_cap_s, FAST.retry_after_cap_s, 0.1]


def test_s4_batch_too_large_is_split(app, registry):
    engine, _ = _loaded(app, registry, 0)
    for student, photo in zip(registry.approved()[:6], photo_variants(6), strict=True):
        capture(app, student.national_id, photo)
    factory = engine.session_factory

    def session_behind_a_smaller_limit():
        session = factory()
        original_ping = session.ping

        def ping() -> None:
            original_ping()
            session.max_batch_bytes = 10**7  # a proxy limit lower than what the registry advertises

        session.ping = ping
        return session

    engine.session_factory = session_behind_a_smaller_limit
    registry.registry.settings.max_batch_bytes = 60_000  # one ~40 KB record fits, two do not
    tally = Tally()
    drain(engine, tally)
    # 413 arrives as the answer or, when the registry closes before reading the body, as a reset.
    assert sum(r.retries_by_cause["HTTP_413"] + r.retries_by_cause["RESET"] for r in tally.reports) >= 1
    assert max(size for r in tally.reports for size in r.batch_sizes) == 1  # split down to what fits
    check_oracle(app, registry, tally)


def test_s7_mixed_results_in_one_batch(app, registry):
    engine, ids = _loaded(app, registry, 3)
    withdrawn = registry.approved()[1]
    set_status(registry.registry, [withdrawn.student_id], "withdrawn")
    report = drain(engine, None)
    assert report.ok
    states = {e.record_id: e for e in app.database.outbox.list()}
    assert [states[i].state for i in ids] == ["accepted", "rejected", "accepted"]
    assert states[ids[1]].result["code"] == "WITHDRAWN" and states[ids[1]].reg_no is None
    status = collect(app)
    assert status["records"]["rejected"][0]["code"] == "WITHDRAWN"
    assert status["records"]["rejected"][0]["reason"]["en"]
    check_oracle(app, registry)


def test_s8_edited_record_is_a_conflict_never_an_overwrite(app, registry):
    engine, ids = _loaded(app, registry, 1)
    registry.faults.drop_after_commit = 1
    report = engine_for(app, policy=replace(FAST, offline_after=1)).run_once(pull=False)
    assert registry.faults.fired("drop_after_commit") == 1
    assert report.accepted == 0  # the answer was lost: the batch stays open
    server_hash = registry.ledger()[ids[0]].payload_sha256
    with app.database.engine.begin() as conn:  # someone with the key rewrites the frozen record and its hash
        conn.exec_driver_sql("DROP TRIGGER records_immutable")
        frozen = conn.execute(
            sa.text("SELECT payload FROM records WHERE record_id = :r"), {"r": ids[0]}
        ).scalar_one()
        edited = {**json.loads(frozen), "operator_id": "op-99"}
        conn.execute(
            sa.text(
                "UPDATE records SET operator = 'op-99', payload = :p, payload_sha256 = :h WHERE record_id = :r"
            ),
            {"p": canonical_json(edited), "h": payload_sha256(edited), "r": ids[0]},
        )
    report = engine.run_once()
    assert report.conflicts == 1
    codes = [code for code, _ in engine.store.alerts]
    assert "BODY_CHANGED" in codes  # the resend differed from the first send: detected before sending
    entry = app.database.outbox.get(ids[0])
    assert entry.state == "conflict" and entry.result["code"] == "PAYLOAD_MISMATCH"
    assert registry.ledger()[ids[0]].payload_sha256 == server_hash  # not overwritten


def test_s9_same_person_from_two_stations(app, registry, proxy, tls_dir, tmp_path):
    other_home = tmp_path / "station-2"
    make_station(other_home, proxy.url, tls_dir, STATION_2)
    other = open_app(other_home)
    try:
        engines = [engine_for(app), engine_for(other)]
        for engine in engines:
            assert engine.run_once(push=False).ok
        student = registry.approved()[0]
        capture(app, student.national_id)
        capture(other, student.national_id)
        barrier = threading.Barrier(2)
        reports = [None, None]

        def push(index: int) -> None:
            barrier.wait()
            reports[index] = engines[index].run_once(pull=False)

        threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted((r.accepted, r.rejected) for r in reports) == [(0, 1), (1, 0)]
        loser = app if reports[0].rejected else other
        rejected = loser.database.outbox.list("rejected")[0]
        assert rejected.result["code"] == "ALREADY_REGISTERED"
        check_oracle(app, registry, station_id=STATION)
        check_oracle(other, registry, station_id=STATION_2)
    finally:
        other.close()


def _send_crafted(engine, app, mutate) -> BatchResponse:
    """Send the next batch with its body changed by ``mutate(body, outgoing)`` (a damaged upload)."""
    store = engine.store
    batch = store.form_batch(max_bytes=10**7, max_records=5)
    outgoing = store.outgoing(batch)
    built = batch_body.build(batch, STATION, app.config.entry_year, outgoing)
    body = mutate(built, outgoing)
    store.note_attempt(batch.batch_id, body_sha256=built.sha256)
    session = engine.session_factory()
    try:
        session.ping()
        response = session.post_batch(
            f"/v1/stations/{STATION}/batches", body, built.content_type, batch.batch_id, BatchResponse
        )
    finally:
        session.close()
    from sync.client.engine import _check_response

    store.apply_results(batch.batch_id, _check_response(batch, response, outgoing))
    return response


def _photo_parts_dropped(built, outgoing) -> bytes:
    boundary = built.content_type.split("boundary=", 1)[1]
    delimiter = f"--{boundary}\r\n".encode()
    batch_part = built.body.split(delimiter)[1]
    return delimiter + batch_part + f"--{boundary}--\r\n".encode()


def _photo_byte_flipped(built, outgoing) -> bytes:
    body = bytearray(built.body)
    for item in outgoing:  # a byte inside every photo part flips; the parts keep their names
        body[built.body.index(item.photo) + 100] ^= 1
    return bytes(body)


def test_s12_blob_missing_or_damaged_is_retried_never_partial(app, registry):
    engine, _ = _loaded(app, registry, 2)
    missing = _send_crafted(engine, app, _photo_parts_dropped)
    assert {r.status for r in missing.results} == {"retry"} and {r.code for r in missing.results} == {
        "BLOB_MISSING"
    }
    for entry in app.database.outbox.list("pending"):
        assert entry.last_error == "BLOB_MISSING"
    damaged = _send_crafted(engine, app, _photo_byte_flipped)
    assert {(r.status, r.code) for r in damaged.results} == {("retry", "BLOB_HASH_MISMATCH")}
    assert registry.ledger() == {}  # never a partial record
    tally = Tally()
    drain(engine, tally)
    check_oracle(app, registry, tally)


def test_s13_server_restart_mid_batch(app, registry, proxy):
    engine, _ = _loaded(app, registry, 6)
    proxy.set_default(Plan(rate_bps=80_000))
    tally = Tally()
    worker = threading.Thread(target=lambda: tally.add(engine.run_once()))
    worker.start()
    # Restart once the second batch is on the wire (~100 KB up: the first single-record batch is past).
    deadline = time.monotonic() + 20
    while proxy.bytes_up < 100_000 and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.is_alive() and proxy.bytes_up >= 100_000, "the push ended before the restart"
    # The fault fires on a connection in use: the restart closes it from the registry's side (or the
    # proxy kills it just after, whichever comes first -- counting only the proxy's kills was a race).
    assert proxy.open_connections >= 1
    registry.restart()
    proxy.upstream = ("127.0.0.1", registry.port)
    proxy.kill_connections()
    worker.join()
    proxy.set_default(Plan())
    drain(engine_for(app, policy=replace(FAST, offline_after=10)), tally)
    check_oracle(app, registry, tally)


def test_s6_same_key_other_body_is_refused_and_changes_nothing(app, registry):
    from sync.client.errors import FatalSyncError

    engine, _ = _loaded(app, registry, 2)
    store = engine.store
    batch = store.form_batch(max_bytes=10**7, max_records=5)
    outgoing = store.outgoing(batch)
    body = batch_body.build(batch, STATION, app.config.entry_year, outgoing)
    mutated = batch_body.build(batch, STATION, app.config.entry_year, outgoing[:1])  # a client bug
    session = engine.session_factory()
    try:
        session.ping()
        path = f"/v1/stations/{STATION}/batches"
        session.post_batch(path, body.body, body.content_type, batch.batch_id, BatchResponse)
        before = registry.ledger()
        try:
            session.post_batch(path, mutated.body, mutated.content_type, batch.batch_id, BatchResponse)
        except FatalSyncError as error:
            assert error.status == 422 and error.code == "IDEMPOTENCY_KEY_REUSED"
        else:
            raise AssertionError("a reused key with another body must be refused")
        assert registry.ledger().keys() == before.keys()
    finally:
        session.close()
    # The station itself never sends another body under a key: its store refuses the resend first.
    from sync.client.ports import BodyChanged

    store.note_attempt(batch.batch_id, body_sha256=body.sha256)
    try:
        store.note_attempt(batch.batch_id, body_sha256=mutated.sha256)
    except BodyChanged:
        pass
    else:
        raise AssertionError("the store must refuse a changed resend")
    tally = Tally()
    drain(engine, tally)
    check_oracle(app, registry, tally, lost_responses=1)
