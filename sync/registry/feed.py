"""The approvals feed (docs/sync-protocol.md §6): per-county sequence, pages, digest, student changes.

Every change of a student takes the next ``seq`` of its county from the ``feed_counters`` row inside
the changing transaction; the row lock (or SQLite's single writer) is held to COMMIT, so a reader that
sees ``seq = k`` already sees every smaller seq (prefix-closed visibility, §6.2). The feed is
compacted in place: a student row carries only its latest ``seq``. Statuses in
``wire.REVOKED_STATUSES`` go out as tombstones (``op: revoke``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sync.protocol import cursor as cursors
from sync.protocol.canonical import approval_term, xor_hex
from sync.protocol.wire import REVOKED_STATUSES, ApprovalsDigest, ApprovalsPage, FeedItem, PreRegistration
from sync.registry.db import Database, FeedCounter, RegCounter, Student, utc_now
from sync.registry.errors import AdminError, ApiError


def ensure_county(session: Session, county: str, season: int) -> None:
    """Create the county's feed and serial counter rows if missing (idempotent)."""
    if session.get(FeedCounter, county) is None:
        session.add(FeedCounter(county=county, seq=0))
    if session.get(RegCounter, (season, county)) is None:
        session.add(RegCounter(season=season, county=county, last_serial=0))
    session.flush()


def bump_feed(session: Session, county: str, by: int = 1) -> int:
    """Advance the county's feed counter by ``by``; returns the new (highest) seq. Locks the row."""
    stmt = (
        update(FeedCounter.__table__)
        .where(FeedCounter.county == county)
        .values(seq=FeedCounter.seq + by)
        .returning(FeedCounter.seq)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        session.execute(insert(FeedCounter).values(county=county, seq=by))
        value = by
    return int(value)


def change_student(session: Session, student_id: str, status: str) -> Student:
    """Set a student's status as a new feed change (version + 1, next seq). Caller commits."""
    student = session.get(Student, student_id)
    if student is None:
        raise AdminError("UNKNOWN_STUDENT", f"no student {student_id}")
    student.status = status
    student.version += 1
    student.seq = bump_feed(session, student.county)
    session.flush()
    return student


def feed_item(student: Student) -> FeedItem:
    if student.status in REVOKED_STATUSES:
        return FeedItem(student_id=student.student_id, seq=student.seq, version=student.version, op="revoke")
    data = PreRegistration(
        national_id=student.national_id,
        name=student.name,
        sex=student.sex,
        nation=student.nation,
        birth_date=student.birth_date,
        political_status=student.political_status,
        school_code=student.school_code,
        school_name=student.school_name,
        class_no=student.class_no,
        teaching_language=student.teaching_language,
        student_category=student.student_category,
        county_code6=student.county,
        status=student.status,
    )
    return FeedItem(
        student_id=student.student_id, seq=student.seq, version=student.version, op="upsert", data=data
    )


def head_seq(session: Session, county: str) -> int:
    counter = session.get(FeedCounter, county)
    return int(counter.seq) if counter else 0


def start_seq(raw_cursor: str | None, *, epoch: str, season: int, scope: str, head: int) -> int:
    """The last seq a cursor has seen; 400 for a foreign cursor, 410 for an older epoch or a lost head."""
    if cursors.is_start(raw_cursor):
        return 0
    try:
        parsed = cursors.decode(raw_cursor)
    except cursors.InvalidCursor as error:
        raise ApiError(400, "BAD_CURSOR", error.reason) from None
    if parsed.scope != scope:
        raise ApiError(400, "BAD_CURSOR", "the cursor belongs to another feed")
    if parsed.epoch != epoch or parsed.season != season:
        raise ApiError(410, "RESYNC_REQUIRED", "the feed was rebuilt; start again from cursor=0")
    if parsed.seq > head:
        raise ApiError(410, "RESYNC_REQUIRED", "the cursor is ahead of the feed (registry restored)")
    return parsed.seq


def approvals_page(
    db: Database,
    county: str,
    raw_cursor: str | None,
    limit: int,
    *,
    epoch: str,
    season: int,
    now: datetime | None = None,
) -> ApprovalsPage:
    with db.read() as session:
        head = head_seq(session, county)
        after = start_seq(raw_cursor, epoch=epoch, season=season, scope=county, head=head)
        rows = session.scalars(
            select(Student)
            .where(Student.county == county, Student.seq > after, Student.seq <= head)
            .order_by(Student.seq)
            .limit(limit)
        ).all()
        items = [feed_item(row) for row in rows]
    last = items[-1].seq if items else after
    return ApprovalsPage(
        items=items,
        next_cursor=cursors.encode(epoch, season, county, last),
        has_more=last < head,
        head_seq=head,
        server_time=now or utc_now(),
    )


def approvals_digest(db: Database, county: str) -> ApprovalsDigest:
    with db.read() as session:
        head = head_seq(session, county)
        rows = session.execute(
            select(Student.student_id, Student.version, Student.status).where(
                Student.county == county, Student.seq <= head
            )
        ).all()
    live = [(sid, version) for sid, version, status in rows if status not in REVOKED_STATUSES]
    return ApprovalsDigest(
        head_seq=head, count=len(live), xor_sha256=xor_hex(approval_term(s, v) for s, v in live)
    )
