"""The county's progress, counted per school and class, for today and for the season.

Per student, the record that stands for them is the newest *live* capture (waiting, in flight or
accepted); without one, their newest capture (a rejected one). The figures:

* ``approved`` — students in the queue approved for capture (to capture, captured or registered);
* ``captured`` — students with a live capture at this station;
* ``synced`` — students whose standing record the registry has answered (accepted or rejected);
* ``registered`` — students with a registration number;
* ``rejected`` — students whose standing record the registry rejected (they need a new capture).

"Today" counts the same events on today's date in China Standard Time: captures taken today and
registry answers received today. Pure: the inputs are plain rows with ids, states and times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from station.domain.rules import capture_day

APPROVED_STATUSES = frozenset(("approved", "captured", "registered"))
LIVE_STATES = frozenset(("pending", "inflight", "accepted"))
ANSWERED_STATES = frozenset(("accepted", "rejected", "conflict"))
REJECTED_STATES = frozenset(("rejected", "conflict"))


@dataclass(frozen=True)
class Figures:
    approved: int = 0
    captured: int = 0
    synced: int = 0
    registered: int = 0
    rejected: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FIGURE_NAMES = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class ClassProgress:
    school_code: str
    school_name: str
    class_no: str
    season: Figures
    today: Figures


@dataclass(frozen=True)
class Progress:
    day: date
    classes: list[ClassProgress] = field(default_factory=list)

    @property
    def season(self) -> Figures:
        return sum((c.season for c in self.classes), Figures())

    @property
    def today(self) -> Figures:
        return sum((c.today for c in self.classes), Figures())

    def schools(self) -> list[ClassProgress]:
        """One row per school (``class_no`` empty), summed over its classes."""
        merged: dict[str, ClassProgress] = {}
        for row in self.classes:
            known = merged.get(row.school_code)
            merged[row.school_code] = (
                ClassProgress(row.school_code, row.school_name, "", row.season, row.today)
                if known is None
                else ClassProgress(
                    row.school_code, row.school_name, "", known.season + row.season, known.today + row.today
                )
            )
        return list(merged.values())


def _day(iso: str | None) -> date | None:
    if not iso:
        return None
    return capture_day(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def standing_record(found: list[Any]) -> Any | None:
    """The record that stands for a student: the newest live one, else the newest."""
    ordered = sorted(found, key=lambda r: r.captured_at, reverse=True)
    return next((r for r in ordered if r.state in LIVE_STATES), ordered[0] if ordered else None)


def _student_figures(student: Any, record: Any | None, today: date) -> tuple[Figures, Figures]:
    approved = int(student.status in APPROVED_STATUSES)
    live = record is not None and record.state in LIVE_STATES
    answered = record is not None and record.state in ANSWERED_STATES
    registered_here = live and record.state == "accepted" and bool(record.reg_no)
    registered = registered_here or (student.status == "registered" and bool(student.reg_no))
    rejected = record is not None and record.state in REJECTED_STATES
    season = Figures(approved, int(live), int(answered), int(registered), int(rejected))
    answered_today = answered and _day(record.acked_at) == today
    day = Figures(
        0,
        int(live and _day(record.captured_at) == today),
        int(answered_today),
        int(registered_here and answered_today),
        int(rejected and answered_today),
    )
    return season, day


def tally(students: Iterable[Any], records: Iterable[Any], today: date) -> Progress:
    """Count ``students`` (``student_id``, ``school_code``, ``school_name``, ``class_no``, ``status``,
    ``reg_no``) with their ``records`` (``student_id``, ``captured_at``, ``state``, ``reg_no``,
    ``acked_at``) into per-class figures, ordered by school code and class."""
    by_student: dict[str, list[Any]] = {}
    for record in records:
        by_student.setdefault(record.student_id, []).append(record)
    classes: dict[tuple[str, str], list[Any]] = {}
    names: dict[str, str] = {}
    for student in students:
        classes.setdefault((student.school_code, student.class_no), []).append(student)
        names[student.school_code] = student.school_name
    rows = []
    for (school_code, class_no), members in sorted(classes.items()):
        season, day = Figures(), Figures()
        for student in members:
            one_season, one_day = _student_figures(
                student, standing_record(by_student.get(student.student_id, [])), today
            )
            season, day = season + one_season, day + one_day
        rows.append(ClassProgress(school_code, names[school_code], class_no, season, day))
    return Progress(today, rows)
