"""The approvals feed (docs/sync-protocol.md §11.2 P1, P2 (see test_station_faults), P4-P6)."""

from __future__ import annotations

import sqlalchemy as sa

from sync.registry.admin import set_status
from sync.registry.core import bump_epoch
from tests.sync.harness import COUNTY, engine_for

FEED = f"approvals:{COUNTY}"


def test_p1_same_page_applied_twice_is_idempotent(app, registry):
    engine = engine_for(app)
    first = engine.run_once(push=False)
    before = app.database.queue.digest()
    app.database.sync_state.reset(FEED)  # as if the cursor write had been lost: the pages come again
    again = engine.run_once(push=False)
    assert first.queue_upserted == 40 and again.queue_upserted == 0
    assert app.database.queue.digest() == before and again.queue_digest_ok


def test_small_pages_each_with_their_cursor(app, registry):
    from dataclasses import replace

    from tests.sync.harness import FAST

    engine = engine_for(app, policy=replace(FAST, page_limit=7))
    report = engine.run_once(push=False)
    assert report.pages == 6 and report.queue_digest_ok and app.database.queue.count() == 40


def test_p4_revoke_then_reapprove(app, registry):
    engine = engine_for(app)
    engine.run_once(push=False)
    student = registry.approved()[0]
    set_status(registry.registry, [student.student_id], "withdrawn")
    report = engine.run_once(push=False)
    assert report.queue_revoked == 1 and report.queue_digest_ok
    assert app.database.queue.get(student.student_id).revoked
    assert set_status(registry.registry, [student.student_id], "approved")[student.student_id] == "ok"
    report = engine.run_once(push=False)
    row = app.database.queue.get(student.student_id)
    assert report.queue_digest_ok and not row.revoked and row.status == "approved"


def test_p5_gone_cursor_means_full_resync(app, registry):
    engine = engine_for(app)
    engine.run_once(push=False)
    bump_epoch(registry.registry.db)  # the registry was restored: old cursors are 410 Gone
    report = engine.run_once(push=False)
    assert report.resyncs == 1 and report.queue_digest_ok and app.database.queue.count() == 40


def test_p6_digest_mismatch_triggers_resync_and_alert(app, registry):
    engine = engine_for(app)
    engine.run_once(push=False)
    student = registry.approved()[0]
    with app.database.write() as conn:  # a damaged local row, newer than anything the feed holds
        conn.execute(
            sa.text("UPDATE students SET version = 99, name = 'x' WHERE student_id = :s"),
            {"s": student.student_id},
        )
        conn.execute(
            sa.text("DELETE FROM students WHERE student_id = :s"), {"s": registry.approved()[1].student_id}
        )
    report = engine.run_once(push=False)
    assert report.resyncs == 1 and report.queue_digest_ok
    assert "QUEUE_DIGEST_MISMATCH" in {code for code, _ in engine.store.alerts}
    assert app.database.queue.get(student.student_id).version == 1
    assert app.database.queue.count() == 40


def test_p3_change_committed_late_is_not_skipped(app, registry):
    """T1 takes seq k and holds its transaction; T2 (k+1) waits behind it; a pull in between sees neither,
    and after both commit it sees both: the cursor never jumps over a late commit."""
    import threading

    from sync.registry.feed import change_student

    engine = engine_for(app)
    engine.run_once(push=False)
    first, second = registry.approved()[:2]
    holding, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with registry.registry.db.write() as session:
            change_student(session, first.student_id, "withdrawn")
            holding.set()
            release.wait(5)

    t1 = threading.Thread(target=slow_writer)
    t1.start()
    assert holding.wait(5)
    t2 = threading.Thread(target=lambda: set_status(registry.registry, [second.student_id], "withdrawn"))
    t2.start()
    report = engine.run_once(push=False)
    assert report.queue_revoked == 0 and report.ok
    release.set()
    t1.join()
    t2.join()
    report = engine.run_once(push=False)
    assert report.queue_revoked == 2 and report.queue_digest_ok
    assert (
        app.database.queue.get(first.student_id).revoked and app.database.queue.get(second.student_id).revoked
    )
