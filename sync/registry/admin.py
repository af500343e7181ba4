"""Administration: approve or withdraw students (feed changes) and the per-county report."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from sync.registry.core import Registry
from sync.registry.db import RecordRow, RegCounter, Student
from sync.registry.errors import AdminError
from sync.registry.feed import change_student

_APPROVABLE = {"pending", "withdrawn", "suspended", "approved"}


def set_status(registry: Registry, student_ids: list[str], status: str) -> dict[str, str]:
    """Approve or withdraw each student in its own transaction; returns id -> "ok" or the error code."""
    outcome: dict[str, str] = {}
    for student_id in student_ids:
        try:
            with registry.db.write() as session:
                student = session.get(Student, student_id)
                if student is None:
                    raise AdminError("UNKNOWN_STUDENT", f"no student {student_id}")
                if status == "approved" and student.status not in _APPROVABLE:
                    raise AdminError("NOT_APPROVABLE", f"student {student_id} is {student.status}")
                if student.status != status:
                    change_student(session, student_id, status)
            outcome[student_id] = "ok"
        except AdminError as error:
            outcome[student_id] = error.code
    return outcome


@dataclass(frozen=True)
class CountyReport:
    county: str
    students: int
    pending: int
    approved: int  # approved and waiting for capture
    captured_at_zhongkao: int
    withdrawn: int
    captured: int  # records received from stations (registered + rejected)
    registered: int  # registration numbers issued
    rejected: int
    last_serial: int
    serial_gaps: int  # last_serial - registrations holding a serial: 0 when gapless (docs/sync-protocol.md §10.5)


def report(registry: Registry, county: str | None = None) -> list[CountyReport]:
    with registry.db.read() as session:
        student_counts = session.execute(
            select(Student.county, Student.status, func.count()).group_by(Student.county, Student.status)
        ).all()
        record_counts = session.execute(
            select(RecordRow.county, RecordRow.outcome, func.count())
            .where(RecordRow.season == registry.season)
            .group_by(RecordRow.county, RecordRow.outcome)
        ).all()
        issued = dict(
            session.execute(
                select(RecordRow.county, func.count())
                .where(RecordRow.season == registry.season, RecordRow.serial.is_not(None))
                .group_by(RecordRow.county)
            ).all()
        )
        serials = dict(
            session.execute(
                select(RegCounter.county, RegCounter.last_serial).where(RegCounter.season == registry.season)
            ).all()
        )
    counties = sorted({c for c, _, _ in student_counts} | {c for c, _, _ in record_counts} | set(serials))
    if county is not None:
        counties = [county]
    reports = []
    for code in counties:
        by_status = {s: n for c, s, n in student_counts if c == code}
        by_outcome = {o: n for c, o, n in record_counts if c == code}
        registered, rejected = by_outcome.get("registered", 0), by_outcome.get("rejected", 0)
        reports.append(
            CountyReport(
                county=code,
                students=sum(by_status.values()),
                pending=by_status.get("pending", 0),
                approved=by_status.get("approved", 0),
                captured_at_zhongkao=by_status.get("captured_at_zhongkao", 0),
                withdrawn=sum(by_status.get(s, 0) for s in ("withdrawn", "transferred", "suspended")),
                captured=registered + rejected,
                registered=registered,
                rejected=rejected,
                last_serial=int(serials.get(code, 0)),
                serial_gaps=int(serials.get(code, 0)) - int(issued.get(code, 0)),
            )
        )
    return reports


def report_dicts(reports: list[CountyReport]) -> list[dict]:
    return [asdict(r) for r in reports]
