"""Deciding records inside one write transaction: the rules of docs/sync-protocol.md §7.5, in bulk.

``decide_in_transaction`` takes the records of a batch that are not known yet, with what was found
before the transaction (the card as the chip block says, an early refusal), and decides them in batch
order exactly as one transaction per record would: each decision sees the ones before it (a student
registered, an ID number claimed or a photo used earlier in the same batch counts). It reads what the
rules need in a few queries (the known ids unless the caller looked them up, the students, the records
using the photos or holding the ID numbers), decides in memory,
then writes: the station's ledger positions (one counter update), the record rows (one multi-row
insert, which claims the ID numbers through the partial unique index), the students' feed changes
(one counter update for the county's feed), and LAST the serials (one counter update for the county's
serials) and their registration numbers. Counter rows are taken in the fixed order of db.py, so two
transactions never wait on each other in a cycle through them; the serial row is locked only for the
tail of the transaction, and a rollback returns every serial it took (gapless).

The caller (``intake``) runs it once for the whole batch; if that transaction fails (a lost race on an ID
number or record id with another node or station, a deadlock, the serial range exhausted) it decides the
records again one transaction each, where each failure touches only its own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from sync.protocol import idnumber, regno
from sync.protocol.canonical import canonical_json
from sync.protocol.card import ChipData
from sync.protocol.wire import BatchEnvelope, Record
from sync.registry import evidence
from sync.registry.db import RecordRow, RegCounter, Station, Student, iso
from sync.registry.evidence import Rejection
from sync.registry.faults import NoFaults
from sync.registry.feed import bump_feed

_RECORDS = RecordRow.__table__
_STUDENTS = Student.__table__
_STATIONS = Station.__table__
_HOLDS_PHOTO = ("registered", "held")
_GONE = ("withdrawn", "transferred", "suspended")


@dataclass(frozen=True)
class Pending:
    """A record to decide, with what was found about it before the transaction."""

    record: Record
    raw: dict
    card: ChipData | None  # the card as the chip block says (None: manual evidence without a block)
    early: Rejection | None  # a refusal found before the transaction (evidence, photo, time)
    canonical: str | None = None  # the record's canonical JSON, when the envelope check made it


@dataclass(frozen=True)
class Batch:
    """What every record of one batch shares."""

    station_id: str
    county: str
    season: int
    envelope: BatchEnvelope
    received_at: datetime
    deadline_end: datetime
    grace: timedelta
    review_manual: bool  # manual evidence is held for league review


@dataclass
class Decision:
    row: dict | None  # the row stored for this record (None: the record was known already)
    known: object | None = None  # the stored row of a known record id


def decide_in_transaction(
    session: Session, batch: Batch, pending: list[Pending], faults: NoFaults, *, check_known: bool = True
) -> list[Decision]:
    """Decide ``pending`` in batch order (module docstring). Without ``check_known`` the caller has looked
    the record ids up already; one that arrived since fails the insert on the primary key instead."""
    conn = session.connection()
    ids = [p.record.record_id for p in pending]
    known = {}
    if check_known:
        known = {
            row.record_id: row for row in conn.execute(select(_RECORDS).where(_RECORDS.c.record_id.in_(ids)))
        }
    wanted = {p.record.student_id for p in pending}
    students = {
        row.student_id: row
        for row in conn.execute(select(_STUDENTS).where(_STUDENTS.c.student_id.in_(wanted)))
    }
    national_ids = {p.record.record_id: _national_id(p, students.get(p.record.student_id)) for p in pending}
    photos = {p.record.photo.sha256 for p in pending}
    photo_users: dict[str, set[str]] = {}
    holders: dict[str, str] = {}
    uses_photo = _RECORDS.c.photo_sha256.in_(photos) & _RECORDS.c.outcome.in_(_HOLDS_PHOTO)
    holds_number = (
        (_RECORDS.c.season == batch.season)
        & _RECORDS.c.national_id.in_(set(national_ids.values()))
        & (_RECORDS.c.outcome == "registered")
    )
    lookup = select(
        _RECORDS.c.photo_sha256,
        _RECORDS.c.national_id,
        _RECORDS.c.student_id,
        _RECORDS.c.outcome,
        _RECORDS.c.season,
    )
    for sha, national_id, student_id, outcome, season in conn.execute(
        lookup.where(uses_photo | holds_number)
    ):
        if sha in photos and outcome in _HOLDS_PHOTO:
            photo_users.setdefault(sha, set()).add(student_id)
        if outcome == "registered" and season == batch.season:
            holders[national_id] = student_id
    missing_holders = set(holders.values()) - set(students)
    if missing_holders:
        students.update(
            (row.student_id, row)
            for row in conn.execute(select(_STUDENTS).where(_STUDENTS.c.student_id.in_(missing_holders)))
        )
    status = {sid: row.status for sid, row in students.items()}

    decisions: list[Decision] = []
    for item in pending:
        record = item.record
        if record.record_id in known:
            decisions.append(Decision(None, known[record.record_id]))
            continue
        student = students.get(record.student_id)
        national_id = national_ids[record.record_id]
        outcome, values = _judge(batch, item, student, status, national_id, photo_users, holders, students)
        if outcome != "rejected":
            photo_users.setdefault(record.photo.sha256, set()).add(record.student_id)
        if outcome == "registered":
            holders[national_id] = record.student_id
            status[record.student_id] = "registered"
        decisions.append(Decision(_new_row(batch, item, national_id, outcome, values)))

    _write(session, batch, [d.row for d in decisions if d.row is not None], students, faults)
    return decisions


def _judge(batch, item, student, status, national_id, photo_users, holders, students):  # type: ignore[no-untyped-def]
    """The first rule the record fails, as (``"rejected"``, its values), or ``registered`` / ``held``."""
    record = item.record

    def reject(code: str, detail: str, **extra):  # type: ignore[no-untyped-def]
        return "rejected", {"code": code, "detail": detail, **extra}

    if item.early is not None:
        return reject(item.early.code, item.early.detail, fields=",".join(item.early.fields) or None)
    if student is None or student.county != batch.county or student.season != batch.season:
        return reject("NOT_APPROVED", "no approved pre-registration for this student in this county")
    current = status[student.student_id]
    if current in _GONE:
        return reject("WITHDRAWN", f"the student is {current}")
    if current == "captured_at_zhongkao":
        return reject("CAPTURED_AT_ZHONGKAO", "photo and ID card were taken at 中考; no capture needed")
    if current == "pending":
        return reject("NOT_APPROVED", "the class teacher has not approved the pre-registration")
    if item.card is not None:
        differing = evidence.identity_differences(item.card, _pre_registered(student))
        if differing:
            return reject(
                "ID_MISMATCH", "the chip block differs from the pre-registration", fields=",".join(differing)
            )
    if record.captured_at >= batch.deadline_end:
        return reject("DEADLINE_PASSED", f"captured after the deadline ({batch.deadline_end.isoformat()})")
    if batch.received_at >= batch.deadline_end + batch.grace:
        return reject("DEADLINE_PASSED", "arrived after the late-arrival grace period")
    if photo_users.get(record.photo.sha256, set()) - {record.student_id}:
        return reject("PHOTO_REUSED", "this photo already stands for another student's registration")
    holder = holders.get(national_id)
    if holder is not None or current in ("registered", "captured"):
        school = students[holder] if holder is not None else student
        return reject(
            "ALREADY_REGISTERED",
            f"this ID number is registered this season at {school.school_name}",
            holder_school_code=school.school_code,
            holder_school_name=school.school_name,
        )
    if record.evidence == "manual" and batch.review_manual:
        return "held", {}
    return "registered", {}


def _new_row(batch: Batch, item: Pending, national_id: str, outcome: str, values: dict) -> dict:
    record = item.record
    row = {column.name: None for column in _RECORDS.columns}
    row.update(
        record_id=record.record_id,
        station_id=batch.station_id,
        season=batch.season,
        county=batch.county,
        student_id=record.student_id,
        national_id=national_id,
        payload_sha256=record.payload_sha256,
        photo_sha256=record.photo.sha256,
        outcome=outcome,
        captured_at=iso(record.captured_at),
        received_at=iso(batch.received_at),
        clock_offset_s=batch.envelope.clock_offset_s,
        record_json=item.canonical
        if item.canonical is not None
        else canonical_json(item.raw).decode("utf-8"),
        evidence=record.evidence,
        approved_by=record.manual_approval.approved_by if record.manual_approval else None,
    )
    row.update(values)
    return row


def _write(session: Session, batch: Batch, rows: list[dict], students: dict, faults: NoFaults) -> None:
    """Ledger positions, the rows, the feed changes, then last the serials (module docstring)."""
    if not rows:
        return
    conn = session.connection()
    in_ledger = [row for row in rows if row["outcome"] != "held"]
    if in_ledger:
        last = advance_ledger(conn, batch.station_id, len(in_ledger))
        for offset, row in enumerate(in_ledger):
            row["ledger_seq"] = last - len(in_ledger) + 1 + offset
    conn.execute(insert(_RECORDS), rows)
    registered = [row for row in rows if row["outcome"] == "registered"]
    if not registered:
        return
    head = bump_feed(session, batch.county, by=len(registered))
    conn.execute(
        update(_STUDENTS)
        .where(_STUDENTS.c.student_id == bindparam("sid"))
        .values(status="registered", version=_STUDENTS.c.version + 1, seq=bindparam("new_seq")),
        [
            {"sid": row["student_id"], "new_seq": head - len(registered) + 1 + offset}
            for offset, row in enumerate(registered)
        ],
    )
    last_serial = advance_serials(conn, batch.season, batch.county, len(registered))
    for offset, row in enumerate(registered):
        row["serial"] = last_serial - len(registered) + 1 + offset
        row["reg_no"] = regno.build(batch.season, batch.county, row["serial"])
        faults.after_serial_allocated()
    conn.execute(
        update(_RECORDS)
        .where(_RECORDS.c.record_id == bindparam("rid"))
        .values(serial=bindparam("new_serial"), reg_no=bindparam("new_reg_no")),
        [{"rid": r["record_id"], "new_serial": r["serial"], "new_reg_no": r["reg_no"]} for r in registered],
    )


def advance_ledger(conn, station_id: str, by: int = 1) -> int:  # type: ignore[no-untyped-def]
    """Take ``by`` more positions of the station's ledger; returns the last one. Locks the row."""
    return conn.execute(
        update(_STATIONS)
        .where(_STATIONS.c.station_id == station_id)
        .values(ledger_seq=_STATIONS.c.ledger_seq + by)
        .returning(_STATIONS.c.ledger_seq)
    ).scalar_one()


def advance_serials(conn, season: int, county: str, by: int = 1) -> int:  # type: ignore[no-untyped-def]
    """Take ``by`` more serials of the county's year; returns the last one (CHECK ``serial_range``)."""
    return conn.execute(
        update(RegCounter.__table__)
        .where(RegCounter.season == season, RegCounter.county == county)
        .values(last_serial=RegCounter.last_serial + by)
        .returning(RegCounter.last_serial)
    ).scalar_one()


def register(session: Session, student, season: int, county: str, faults: NoFaults) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Move one student in the feed, then take the county's next serial (league review, ``admin``)."""
    conn = session.connection()
    feed_seq = bump_feed(session, student.county)
    conn.execute(
        update(_STUDENTS)
        .where(_STUDENTS.c.student_id == student.student_id)
        .values(status="registered", version=_STUDENTS.c.version + 1, seq=feed_seq)
    )
    serial = advance_serials(conn, season, county)
    faults.after_serial_allocated()
    return serial, regno.build(season, county, serial)


def _pre_registered(student) -> evidence.PreRegistered:  # type: ignore[no-untyped-def]
    return evidence.PreRegistered(
        student.national_id, student.name, student.sex, student.nation, student.birth_date
    )


def _national_id(item: Pending, student) -> str:  # type: ignore[no-untyped-def]
    """The ID number a record stands for: the chip block's; without one, the pre-registration's."""
    if item.card is not None:
        return idnumber.normalize(item.card.id_number)
    if item.record.chip is None and student is not None:
        return idnumber.normalize(student.national_id)
    if item.record.chip is not None:  # a block that failed its checks: kept as the station claimed it
        return idnumber.normalize(item.record.chip.parsed.national_id)
    return ""
