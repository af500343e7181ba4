"""The approvals feed (docs/sync-protocol.md §6): paging, digest, tombstones, 410, and scenario P3 (out-of-order commits)."""

from __future__ import annotations

import threading
import time

import pytest

from sync.protocol.canonical import approval_term, xor_hex
from sync.protocol.wire import ApprovalsPage
from sync.registry import feed
from sync.registry.admin import set_status
from sync.registry.core import bump_epoch
from tests.registry.helpers import COUNTY, OTHER_COUNTY, students


def _pull(client, cursor=None, limit=500) -> ApprovalsPage:
    params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    response = client.get(f"/v1/counties/{COUNTY}/approvals", params=params)
    assert response.status_code == 200, response.text
    return ApprovalsPage.model_validate(response.json())


def _pull_all(client, cursor=None, limit=7):
    items = []
    while True:
        page = _pull(client, cursor, limit)
        items += page.items
        cursor = page.next_cursor
        if not page.has_more:
            return items, cursor, page.head_seq


def test_full_pull_then_incremental_changes_and_digest(registry, client):
    items, cursor, head = _pull_all(client)
    assert len(items) == 40 and head == 40
    assert [i.seq for i in items] == list(range(1, 41))
    assert all(i.op == "upsert" and i.data.county_code6 == COUNTY for i in items)
    local = {i.student_id: i.version for i in items}

    digest = client.get(f"/v1/counties/{COUNTY}/approvals/digest").json()
    assert digest["count"] == 40 and digest["xor_sha256"] == xor_hex(
        approval_term(s, v) for s, v in local.items()
    )

    pending = students(registry.db, status="pending")[0].student_id
    gone = items[0].student_id
    assert set_status(registry, [pending], "approved") == {pending: "ok"}
    assert set_status(registry, [gone, "nobody"], "withdrawn") == {gone: "ok", "nobody": "UNKNOWN_STUDENT"}
    changes, cursor, head = _pull_all(client, cursor)
    assert [(c.student_id, c.op) for c in changes] == [(pending, "upsert"), (gone, "revoke")]
    assert changes[0].data.status == "approved" and changes[1].data is None
    for change in changes:
        if change.op == "revoke":
            local.pop(change.student_id)
        else:
            local[change.student_id] = change.version
    digest = client.get(f"/v1/counties/{COUNTY}/approvals/digest").json()
    assert digest == {
        "head_seq": head,
        "count": 39,
        "xor_sha256": xor_hex(approval_term(s, v) for s, v in local.items()),
    }

    # Caught up: If-None-Match with the head ETag is a cheap 304.
    response = client.get(f"/v1/counties/{COUNTY}/approvals", params={"cursor": cursor})
    etag = response.headers["ETag"]
    again = client.get(
        f"/v1/counties/{COUNTY}/approvals", params={"cursor": cursor}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.headers["X-Registry-Protocol"] == "1"


def test_cursor_errors_and_other_county(registry, client):
    _, cursor, _ = _pull_all(client)
    assert client.get(f"/v1/counties/{COUNTY}/approvals", params={"cursor": "garbage!"}).status_code == 400
    assert client.get(f"/v1/counties/{OTHER_COUNTY}/approvals").status_code == 403
    assert client.get(f"/v1/counties/{OTHER_COUNTY}/approvals/digest").status_code == 403
    bump_epoch(registry.db)  # a restore: every old cursor must resync
    gone = client.get(f"/v1/counties/{COUNTY}/approvals", params={"cursor": cursor})
    assert gone.status_code == 410 and gone.json()["code"] == "RESYNC_REQUIRED"
    assert len(_pull_all(client)[0]) == 40


def _when_thread_waits_for_the_writer(registry, thread_name: str, issued: threading.Event):
    """Set ``issued`` when thread ``thread_name`` sends the statement that waits for another writer:
    SQLite's BEGIN IMMEDIATE (one writer at a time), PostgreSQL's UPDATE of the county's feed counter
    (a row lock). Returns the function that removes the hook."""
    from sqlalchemy import event

    def before(conn, cursor, statement, *_args) -> None:
        if threading.current_thread().name != thread_name:
            return
        if statement.startswith("BEGIN IMMEDIATE") or ("UPDATE" in statement and "feed_counter" in statement):
            issued.set()

    event.listen(registry.db.writer, "before_cursor_execute", before)
    return lambda: event.remove(registry.db.writer, "before_cursor_execute", before)


def _waits_or_ended(registry, thread: threading.Thread, timeout: float = 10.0) -> bool:
    """PostgreSQL: poll until a backend waits on a lock, or T2 ended (a product that let it through).
    SQLite: T2 sent BEGIN IMMEDIATE while T1 holds the write lock; the driver cannot show the wait."""
    if registry.db.is_sqlite:
        return True
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return True
        with registry.db.reader.connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar()
        if waiting:
            return True
        time.sleep(0.02)
    return False


def test_p3_out_of_order_commits_skip_nothing(registry, client):
    """T1 takes seq k and holds; T2 wants k+1; a pull in between sees neither; then both, in order."""
    _, cursor, head = _pull_all(client)
    first, second = [s.student_id for s in students(registry.db, status="pending")[:2]]
    t1_has_seq, release_t1 = threading.Event(), threading.Event()
    t2_started = threading.Event()
    seqs = {}

    def t1():
        with registry.db.write() as session:
            seqs["t1"] = feed.change_student(session, first, "approved").seq
            t1_has_seq.set()
            release_t1.wait(20)

    def t2():
        with registry.db.write() as session:
            seqs["t2"] = feed.change_student(session, second, "approved").seq

    one = threading.Thread(target=t1)
    one.start()
    assert t1_has_seq.wait(10)
    two = threading.Thread(target=t2, name="feed-t2")
    waiting = _when_thread_waits_for_the_writer(registry, two.name, t2_started)
    two.start()
    try:
        assert t2_started.wait(10)  # T2 issued the statement that waits behind T1
        assert _waits_or_ended(registry, two), "T2 neither waits for T1 nor ended"
    finally:
        waiting()
    try:
        during = _pull(client, cursor)
        assert during.items == [] and during.head_seq == head
    finally:
        release_t1.set()
        one.join(20)
        two.join(20)
    assert seqs == {"t1": head + 1, "t2": head + 2}
    after = _pull(client, cursor)
    assert [(i.student_id, i.seq) for i in after.items] == [(first, head + 1), (second, head + 2)]


# SQLite has one writer at a time, so nothing commits out of order there: PostgreSQL only.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_p3_the_naive_bigserial_cursor_would_skip(registry):
    """Control for P3: ``id > cursor`` over a BIGSERIAL loses the row that commits late (PostgreSQL)."""
    from sqlalchemy import text

    engine = registry.db.writer
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE naive_feed (id BIGSERIAL PRIMARY KEY, v TEXT)"))
    t1 = engine.connect()
    t1_tx = t1.begin()
    t1.execute(text("INSERT INTO naive_feed (v) VALUES ('first')"))  # takes id 1, holds
    with engine.begin() as t2:
        t2.execute(text("INSERT INTO naive_feed (v) VALUES ('second')"))  # takes id 2, commits
    with engine.connect() as reader:
        seen = [row.id for row in reader.execute(text("SELECT id FROM naive_feed WHERE id > 0 ORDER BY id"))]
    cursor = max(seen)
    t1_tx.commit()
    t1.close()
    with engine.connect() as reader:
        later = [
            row.id for row in reader.execute(text("SELECT id FROM naive_feed WHERE id > :c"), {"c": cursor})
        ]
    assert seen == [2] and later == []  # id 1 is never delivered: the skip the counter row prevents
