"""Administration: approve or withdraw students (feed changes), the per-county report, league review.

Records without chip evidence are never mixed silently with chip-verified ones: the report counts them
apart (``registered_manual``, ``held_for_review``) and ``manual_records`` lists them for the league
office (record, station, student id, approving administrator, outcome -- no name or ID number). Under
``manual_evidence = review`` they wait as ``held`` until ``review`` numbers or refuses them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select, update

from sync.registry.core import Registry
from sync.registry.db import RecordRow, RegCounter, Student
from sync.registry.decisions import advance_ledger, register
from sync.registry.errors import AdminError
from sync.registry.faults import NO_FAULTS
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
    captured: int  # records received from stations (registered + rejected + held)
    registered: int  # registration numbers issued (chip-verified and manual)
    registered_chip: int  # ... of which on chip evidence
    registered_manual: int  # ... of which without chip evidence (county administrator's sign-off)
    held_for_review: int  # manual-evidence records waiting for the league office
    rejected: int
    last_serial: int
    serial_gaps: (
        int  # last_serial - registrations holding a serial: 0 when gapless (docs/sync-protocol.md §10.5)
    )


def report(registry: Registry, county: str | None = None) -> list[CountyReport]:
    with registry.db.read() as session:
        student_counts = session.execute(
            select(Student.county, Student.status, func.count()).group_by(Student.county, Student.status)
        ).all()
        record_counts = session.execute(
            select(RecordRow.county, RecordRow.outcome, RecordRow.evidence, func.count())
            .where(RecordRow.season == registry.season)
            .group_by(RecordRow.county, RecordRow.outcome, RecordRow.evidence)
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
    counties = sorted({c for c, _, _ in student_counts} | {c for c, *_ in record_counts} | set(serials))
    if county is not None:
        counties = [county]
    reports = []
    for code in counties:
        by_status = {s: n for c, s, n in student_counts if c == code}
        counts = {(o, e): n for c, o, e, n in record_counts if c == code}
        registered_chip = counts.get(("registered", "chip"), 0)
        registered_manual = counts.get(("registered", "manual"), 0)
        registered = registered_chip + registered_manual
        held = counts.get(("held", "manual"), 0)
        rejected = counts.get(("rejected", "chip"), 0) + counts.get(("rejected", "manual"), 0)
        reports.append(
            CountyReport(
                county=code,
                students=sum(by_status.values()),
                pending=by_status.get("pending", 0),
                approved=by_status.get("approved", 0),
                captured_at_zhongkao=by_status.get("captured_at_zhongkao", 0),
                withdrawn=sum(by_status.get(s, 0) for s in ("withdrawn", "transferred", "suspended")),
                captured=registered + rejected + held,
                registered=registered,
                registered_chip=registered_chip,
                registered_manual=registered_manual,
                held_for_review=held,
                rejected=rejected,
                last_serial=int(serials.get(code, 0)),
                serial_gaps=int(serials.get(code, 0)) - int(issued.get(code, 0)),
            )
        )
    return reports


def report_dicts(reports: list[CountyReport]) -> list[dict]:
    return [asdict(r) for r in reports]


@dataclass(frozen=True)
class ManualRecord:
    record_id: str
    county: str
    station_id: str
    student_id: str
    approved_by: str | None
    outcome: str  # registered | held | rejected
    reg_no: str | None
    code: str | None
    captured_at: str


def manual_records(registry: Registry, county: str | None = None) -> list[ManualRecord]:
    """Every record without chip evidence this season, for the league office (no names, no ID numbers)."""
    query = select(RecordRow).where(RecordRow.season == registry.season, RecordRow.evidence == "manual")
    if county is not None:
        query = query.where(RecordRow.county == county)
    with registry.db.read() as session:
        rows = session.scalars(query.order_by(RecordRow.county, RecordRow.received_at)).all()
    return [
        ManualRecord(
            r.record_id,
            r.county,
            r.station_id,
            r.student_id,
            r.approved_by,
            r.outcome,
            r.reg_no,
            r.code,
            r.captured_at,
        )
        for r in rows
    ]


def review(registry: Registry, record_id: str, *, approve: bool) -> str:
    """Decide a held record: number it (checks as at intake: one registration per ID number) or refuse it.

    Returns the registration number, or the rejection code.
    """
    with registry.db.write() as session:
        row = session.get(RecordRow, record_id)
        if row is None or row.outcome != "held":
            raise AdminError("NOT_HELD", f"record {record_id} is not waiting for review")
        conn = session.connection()
        row.ledger_seq = advance_ledger(conn, row.station_id)
        holder = session.scalar(
            select(RecordRow.record_id).where(
                RecordRow.season == row.season,
                RecordRow.national_id == row.national_id,
                RecordRow.outcome == "registered",
            )
        )
        student = session.get(Student, row.student_id)
        refusal = None
        if not approve:
            refusal = ("MANUAL_REFUSED", "the league office refused the capture without chip evidence")
        elif holder is not None or student is None or student.status != "approved":
            refusal = ("ALREADY_REGISTERED", "this student or ID number is registered already")
        if refusal is not None:
            row.outcome, row.code, row.detail = "rejected", *refusal
            return refusal[0]
        row.outcome = "registered"
        session.flush()
        serial, reg_no = register(session, student, row.season, row.county, NO_FAULTS)
        session.execute(
            update(RecordRow).where(RecordRow.record_id == record_id).values(serial=serial, reg_no=reg_no)
        )
        return reg_no
