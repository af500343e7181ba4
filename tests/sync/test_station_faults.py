"""Station-side faults: crashes at named points, a full disk, a corrupted record, two sync loops
(docs/sync-protocol.md §11.2 C1, C3-C5). The station runs as the real ``station`` command in a subprocess;
``STATION_CRASH_AT`` ends it with ``os._exit(137)`` at the named point, and the test restarts it.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from station.capture.workflow import State
from station.store.errors import StoreError
from sync.client.lock import SyncLock
from tests.sync.harness import (
    Tally,
    capture,
    card_file,
    check_oracle,
    chip_for,
    drain,
    engine_for,
    open_app,
    photo,
    station_cli,
)

CRASHED = 137


def _pulled(app):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    return engine


@pytest.mark.parametrize(
    ("point", "lost"),
    [
        ("after_batch_persist", 0),
        ("after_send", 1),
        ("after_response_before_apply", 1),
        ("mid_apply", 1),
    ],
)
def test_c1_crash_during_push_then_restart(app, registry, station_home, point, lost):
    _pulled(app)
    for student in registry.approved()[:3]:
        capture(app, student.national_id)
    app.close()
    crashed = station_cli(
        station_home, "sync", "--once", "--push-only", "--json", env={"STATION_CRASH_AT": point}
    )
    assert crashed.returncode == CRASHED, crashed.stderr[-2000:]
    restarted = station_cli(station_home, "sync", "--once", "--json")
    assert restarted.returncode == 0, restarted.stderr[-2000:] + restarted.stdout
    report = json.loads(restarted.stdout)
    assert report["duplicates"] >= lost  # the registry had committed what the dead process never applied
    reopened = open_app(station_home)
    try:
        check_oracle(reopened, registry)
    finally:
        reopened.close()


def test_c1_crash_right_after_capture_commit(app, registry, station_home, tmp_path):
    _pulled(app)
    app.close()
    import cv2

    from tests.camera.portraits import positive

    image = tmp_path / "portrait.png"
    cv2.imwrite(str(image), positive())
    card = card_file(tmp_path / "card.bin", registry.approved()[0].national_id)
    crashed = station_cli(
        station_home,
        "capture",
        "--card",
        str(card),
        "--photo",
        str(image),
        "--json",
        env={"STATION_CRASH_AT": "after_capture_commit"},
    )
    assert crashed.returncode == CRASHED
    reopened = open_app(station_home)
    try:
        assert reopened.database.outbox.counts()["pending"] == 1  # committed before the crash: not lost
        drain(engine_for(reopened))
        check_oracle(reopened, registry)
    finally:
        reopened.close()


def test_c1_crash_mid_pull_page_keeps_the_cursor(registry, station_home):
    crashed = station_cli(
        station_home, "sync", "--once", "--pull-only", env={"STATION_CRASH_AT": "pull_mid_page"}
    )
    assert crashed.returncode == CRASHED
    app = open_app(station_home)
    try:
        assert app.database.queue.count() == 0  # the page's transaction never committed
        assert app.database.sync_state.get("approvals:150102") is None  # nor did its cursor
        report = engine_for(app).run_once(push=False)
        assert report.queue_digest_ok and app.database.queue.count() == 40
    finally:
        app.close()


def test_c3_disk_full_never_shows_saved(app, registry):
    _pulled(app)
    student = registry.approved()[0]
    with app.database.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    app.database.engine.dispose()

    @sa.event.listens_for(app.database.engine, "connect")
    def _small_disk(dbapi_conn, _record) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 2}")

    desk = app.desk()
    assert desk.card_read(chip_for(student.national_id)) is State.PHOTO
    desk.photo_taken(photo())
    with pytest.raises(StoreError):
        desk.accept("op-01")
    assert desk.state is State.REVIEW and desk.saved is None
    sa.event.remove(app.database.engine, "connect", _small_disk)
    app.database.engine.dispose()
    assert app.database.outbox.counts()["pending"] == 0
    with app.database.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM records")).scalar() == 0
    desk.accept("op-01")  # room again: the same capture saves
    drain(engine_for(app))
    check_oracle(app, registry)


def test_c4_corrupted_local_record_is_quarantined(app, registry):
    engine = _pulled(app)
    ids = [capture(app, s.national_id) for s in registry.approved()[:3]]
    with app.database.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER records_immutable")
        conn.execute(
            sa.text(
                "UPDATE records SET photo_jpeg = CAST(substr(photo_jpeg, 1, 500) || x'00' || substr(photo_jpeg, 502) AS BLOB) "
                "WHERE record_id = :r"
            ),
            {"r": ids[1]},
        )
    report = engine.run_once()
    assert report.accepted == 2
    entry = app.database.outbox.get(ids[1])
    assert entry.state == "pending" and entry.last_error == "LOCAL_HASH_MISMATCH"
    assert "LOCAL_HASH_MISMATCH" in {code for code, _ in engine.store.alerts}
    assert ids[1] not in registry.ledger()  # never sent


def test_c5_two_sync_loops_at_once(app, registry, station_home):
    _pulled(app)
    for student in registry.approved()[:2]:
        capture(app, student.national_id)
    with SyncLock(station_home / "sync.lock"):
        second = station_cli(station_home, "sync", "--once", "--json")
    assert second.returncode == 1 and json.loads(second.stdout)["error_code"] == "SYNC_RUNNING"
    assert app.database.outbox.counts()["pending"] == 2  # the refused loop sent nothing
    first = station_cli(station_home, "sync", "--once", "--json")
    assert first.returncode == 0
    check_oracle(app, registry, Tally())
