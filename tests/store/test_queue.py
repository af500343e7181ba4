"""The queue follows the approvals feed: versions honoured, tombstones kept, cursor saved atomically."""

from __future__ import annotations

import pytest

from station.domain.students import Student
from station.store import queue as queue_module
from station.store.rows import FeedItem
from tests.store.conftest import student_for

FEED = "approvals:150102"


def _item(person, seq, version=1, **changes):
    data = {**student_for(person, version=version).feed_data(), **changes}
    return FeedItem(data["student_id"], seq, version, "upsert", data)


def test_feed_page_upserts_and_saves_the_cursor(station, people):
    page = [
        _item(p, seq=i + 1, school_code="S00" + str(i % 2), class_no=str(i % 3))
        for i, p in enumerate(people[:12])
    ]
    result = station.queue.apply_feed_page(page, "c-12", feed=FEED, head_seq=12)
    assert (result.upserted, result.revoked, result.ignored) == (12, 0, 0)
    assert station.sync_state.get(FEED).cursor == "c-12"
    assert station.queue.count() == 12
    assert station.queue.count(school_code="S000") == 6
    assert {s.class_no for s in station.queue.list(school_code="S001", class_no="1")} == {"1"}
    found = station.queue.get_by_national_id(people[3].id_number)
    assert found.name == people[3].name
    # The domain reads the queue entry back through the feed fields.
    assert Student.from_feed(found.feed_data()).national_id == people[3].id_number


def test_older_versions_never_overwrite_and_replays_are_harmless(station, people):
    person = people[0]
    station.queue.apply_feed_page([_item(person, 5, version=3, class_no="7")], "c-5", feed=FEED)
    result = station.queue.apply_feed_page([_item(person, 2, version=2, class_no="1")], "c-5", feed=FEED)
    assert result.ignored == 1
    student = station.queue.get_by_national_id(person.id_number)
    assert (student.version, student.class_no) == (3, "7")
    station.queue.apply_feed_page([_item(person, 5, version=3, class_no="7")], "c-5", feed=FEED)
    assert station.queue.count() == 1


def test_revoke_keeps_a_tombstone(station, people):
    person = people[1]
    item = _item(person, 1)
    station.queue.apply_feed_page([item], "c-1", feed=FEED)
    result = station.queue.apply_feed_page([FeedItem(item.student_id, 2, 2, "revoke")], "c-2", feed=FEED)
    assert result.revoked == 1
    assert station.queue.count() == 0 and station.queue.count(include_revoked=True) == 1
    assert station.queue.get(item.student_id).revoked


def test_a_page_that_fails_midway_changes_nothing_not_even_the_cursor(station, people, monkeypatch):
    station.queue.apply_feed_page([_item(people[0], 1)], "c-1", feed=FEED)

    def crash_after_the_upserts(conn, batch):
        raise OSError("injected crash mid-page")

    monkeypatch.setattr(queue_module, "_revoke_many", crash_after_the_upserts)
    page = [_item(p, i + 2) for i, p in enumerate(people[1:6])]
    with pytest.raises(OSError):
        station.queue.apply_feed_page(
            [*page, FeedItem(_item(people[0], 1).student_id, 9, 2, "revoke")], "c-9", feed=FEED
        )
    assert station.queue.count() == 1
    assert station.sync_state.get(FEED).cursor == "c-1"


def test_digest_matches_the_shared_formula(station, people):
    from sync.protocol.canonical import approval_term, xor_hex

    station.queue.apply_feed_page(
        [_item(p, i + 1, version=i + 1) for i, p in enumerate(people[:5])], "c", feed=FEED
    )
    expected = xor_hex(approval_term(student_for(p).student_id, i + 1) for i, p in enumerate(people[:5]))
    assert station.queue.digest() == (5, expected)
