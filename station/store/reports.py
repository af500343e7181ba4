"""What the county administrator's reports read from the store.

* ``progress_facts`` — per student the queue's status and per record its outbox state, ids and times
  only (no names, no ID numbers): the progress report counts these (``station.domain.progress``).
* ``class_sheet`` / ``student_sheet`` — the rows of a class sign-off sheet or a student's receipt,
  with names, ID numbers and photos. Reading them is a disclosure of personal data, so the audit
  entry (``signoff``, ``receipt`` or ``view``) is written in the same transaction as the read.
* ``oldest_unsynced`` — when the oldest capture still waiting for the registry was taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from station.domain.progress import standing_record
from station.store import audit
from station.store.engine import read_transaction, write_transaction
from station.store.models import outbox, records, students


@dataclass(frozen=True)
class StudentFacts:
    student_id: str
    school_code: str
    school_name: str
    class_no: str
    status: str
    reg_no: str | None


@dataclass(frozen=True)
class RecordFacts:
    record_id: str
    student_id: str
    captured_at: str
    state: str
    reg_no: str | None
    acked_at: str | None


@dataclass(frozen=True)
class SheetRow:
    """One student as a sign-off sheet or a receipt shows them (personal data: never logged)."""

    student_id: str
    name: str
    national_id: str
    school_code: str
    school_name: str
    class_no: str
    status: str
    reg_no: str | None
    record_id: str | None
    captured_at: str | None
    state: str | None  # the outbox state of the record shown; None when never captured here
    photo_jpeg: bytes | None  # None when not captured here or purged after retention


@dataclass(frozen=True)
class ClassKey:
    school_code: str
    school_name: str
    class_no: str
    students: int


class ReportQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def progress_facts(self) -> tuple[list[StudentFacts], list[RecordFacts]]:
        queue = sa.select(
            students.c.student_id,
            students.c.school_code,
            students.c.school_name,
            students.c.class_no,
            students.c.status,
            students.c.reg_no,
        ).where(students.c.revoked.is_(False))
        captured = sa.select(
            records.c.record_id,
            records.c.student_id,
            records.c.captured_at,
            outbox.c.state,
            outbox.c.reg_no,
            outbox.c.acked_at,
        ).join(outbox, outbox.c.record_id == records.c.record_id)
        with read_transaction(self._engine) as conn:
            facts = [StudentFacts(*row) for row in conn.execute(queue)]
            found = [RecordFacts(*row) for row in conn.execute(captured)]
        return facts, found

    def classes(self) -> list[ClassKey]:
        query = (
            sa.select(students.c.school_code, students.c.school_name, students.c.class_no, sa.func.count())
            .where(students.c.revoked.is_(False))
            .group_by(students.c.school_code, students.c.school_name, students.c.class_no)
            .order_by(students.c.school_code, students.c.class_no)
        )
        with read_transaction(self._engine) as conn:
            return [ClassKey(*row) for row in conn.execute(query)]

    def class_sheet(
        self, school_code: str, class_no: str, *, operator: str, action: str = audit.SIGNOFF
    ) -> list[SheetRow]:
        """The class's students (ordered by student id) with their latest capture here; audited."""
        query = (
            sa.select(students)
            .where(
                students.c.school_code == school_code,
                students.c.class_no == class_no,
                students.c.revoked.is_(False),
            )
            .order_by(students.c.student_id)
        )
        with write_transaction(self._engine) as conn:
            rows = [_sheet_row(conn, student) for student in conn.execute(query).mappings()]
            audit.append(
                conn,
                action,
                operator=operator,
                subject=f"class:{school_code}/{class_no}",
                detail={"school": school_code, "class": class_no, "students": len(rows)},
            )
        return rows

    def student_sheet(
        self, student_id: str, *, operator: str, action: str = audit.RECEIPT
    ) -> SheetRow | None:
        query = sa.select(students).where(students.c.student_id == student_id)
        with write_transaction(self._engine) as conn:
            student = conn.execute(query).mappings().first()
            if student is None:
                return None
            row = _sheet_row(conn, student)
            audit.append(
                conn, action, operator=operator, subject=student_id, detail={"record_id": row.record_id}
            )
        return row

    def oldest_unsynced(self) -> str | None:
        """The capture time (UTC ISO) of the oldest record the registry has not answered yet."""
        query = sa.select(sa.func.min(outbox.c.created_at)).where(outbox.c.state.in_(("pending", "inflight")))
        with read_transaction(self._engine) as conn:
            return conn.execute(query).scalar()


def _sheet_row(conn: Connection, student) -> SheetRow:  # type: ignore[no-untyped-def]
    """The student with the record that stands for them: the newest live one, else the newest."""
    found = conn.execute(
        sa.select(
            records.c.record_id, records.c.captured_at, records.c.photo_jpeg, outbox.c.state, outbox.c.reg_no
        )
        .join(outbox, outbox.c.record_id == records.c.record_id)
        .where(records.c.student_id == student["student_id"])
        .order_by(records.c.captured_at.desc())
    ).all()
    chosen = standing_record(found)
    reg_no = (chosen.reg_no if chosen is not None else None) or student["reg_no"]
    return SheetRow(
        student_id=student["student_id"],
        name=student["name"],
        national_id=student["national_id"],
        school_code=student["school_code"],
        school_name=student["school_name"],
        class_no=student["class_no"],
        status=student["status"],
        reg_no=reg_no,
        record_id=chosen.record_id if chosen is not None else None,
        captured_at=chosen.captured_at if chosen is not None else None,
        state=chosen.state if chosen is not None else None,
        photo_jpeg=bytes(chosen.photo_jpeg) if chosen is not None and chosen.photo_jpeg is not None else None,
    )
