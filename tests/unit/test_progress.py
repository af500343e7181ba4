"""The county's progress: which record stands for a student, and the season's and today's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from station.domain.progress import FIGURE_NAMES, ClassProgress, Figures, Progress, standing_record, tally

TODAY = date(2026, 11, 28)
# 2026-11-28 in China Standard Time runs from 2026-11-27T16:00Z to 2026-11-28T16:00Z.
EARLY_TODAY = "2026-11-27T16:30:00Z"  # 00:30 CST today, but yesterday in UTC
LATE_TODAY = "2026-11-28T15:30:00+00:00"  # 23:30 CST today
YESTERDAY = "2026-11-27T15:30:00Z"  # 23:30 CST yesterday, but today in UTC
TOMORROW = "2026-11-28T16:30:00Z"  # 00:30 CST tomorrow


@dataclass
class Student:
    student_id: str
    school_code: str = "S01"
    school_name: str = "一中"
    class_no: str = "1"
    status: str = "approved"
    reg_no: str | None = None


@dataclass
class Row:
    student_id: str
    captured_at: str
    state: str
    reg_no: str | None = None
    acked_at: str | None = None


def one(student: Student, *records: Row) -> tuple[Figures, Figures]:
    progress = tally([student], records, TODAY)
    assert len(progress.classes) == 1
    return progress.classes[0].season, progress.classes[0].today


def test_the_newest_live_record_stands_over_a_newer_rejected_one():
    older_live = Row("A", "2026-11-20T01:00:00Z", "accepted")
    newer_rejected = Row("A", "2026-11-21T01:00:00Z", "rejected")
    newest_pending = Row("A", "2026-11-22T01:00:00Z", "pending")
    assert standing_record([older_live, newer_rejected]) is older_live
    assert standing_record([newest_pending, older_live, newer_rejected]) is newest_pending
    assert standing_record([Row("A", "2026-11-20T01:00:00Z", "inflight"), newer_rejected]).state == "inflight"


def test_without_a_live_record_the_newest_one_stands():
    old = Row("A", "2026-11-20T01:00:00Z", "rejected")
    new = Row("A", "2026-11-21T01:00:00Z", "conflict")
    assert standing_record([old, new]) is new and standing_record([new, old]) is new
    assert standing_record([]) is None


def test_an_approved_student_without_a_capture_counts_only_as_approved():
    season, today = one(Student("A"))
    assert season == Figures(approved=1) and today == Figures()


@pytest.mark.parametrize(
    ("status", "approved"),
    [("approved", 1), ("captured", 1), ("registered", 1), ("pending", 0), ("withdrawn", 0)],
)
def test_approved_counts_the_statuses_that_may_be_or_were_captured(status, approved):
    assert one(Student("A", status=status))[0].approved == approved


def test_a_capture_waiting_today_counts_as_captured_today_not_synced():
    season, today = one(Student("A"), Row("A", EARLY_TODAY, "pending"))
    assert season == Figures(approved=1, captured=1)
    assert today == Figures(captured=1)


def test_a_capture_from_yesterday_counts_for_the_season_only():
    season, today = one(Student("A"), Row("A", YESTERDAY, "inflight"))
    assert season.captured == 1 and today == Figures()
    assert one(Student("A"), Row("A", TOMORROW, "pending"))[1] == Figures()
    assert one(Student("A"), Row("A", LATE_TODAY, "pending"))[1] == Figures(captured=1)


def test_an_accepted_record_with_a_number_answered_today_is_registered_today():
    record = Row("A", YESTERDAY, "accepted", reg_no="15010226000001", acked_at=LATE_TODAY)
    season, today = one(Student("A", status="captured"), record)
    assert season == Figures(approved=1, captured=1, synced=1, registered=1)
    assert today == Figures(synced=1, registered=1)


def test_an_accepted_record_answered_yesterday_counts_for_the_season_only():
    record = Row("A", YESTERDAY, "accepted", reg_no="15010226000001", acked_at=YESTERDAY)
    season, today = one(Student("A"), record)
    assert season.registered == 1 and season.synced == 1 and today == Figures()


def test_an_accepted_record_without_a_number_is_synced_not_registered():
    season, today = one(Student("A"), Row("A", EARLY_TODAY, "accepted", acked_at=LATE_TODAY))
    assert season == Figures(approved=1, captured=1, synced=1)
    assert today == Figures(captured=1, synced=1)


def test_a_registered_student_counts_as_registered_without_a_record_here():
    season, today = one(Student("A", status="registered", reg_no="15010226000001"))
    assert season == Figures(approved=1, registered=1) and today == Figures()
    # "registered" without the number is not counted as registered.
    assert one(Student("A", status="registered"))[0].registered == 0
    # A number on a student not registered does not count either.
    assert one(Student("A", status="captured", reg_no="15010226000001"))[0].registered == 0


@pytest.mark.parametrize("state", ["rejected", "conflict"])
def test_a_rejected_standing_record_needs_a_new_capture(state):
    season, today = one(Student("A"), Row("A", YESTERDAY, state, reg_no="x", acked_at=EARLY_TODAY))
    assert season == Figures(approved=1, synced=1, rejected=1)
    assert today == Figures(synced=1, rejected=1)


def test_a_new_capture_after_a_rejection_stands_and_clears_the_rejection():
    records = (
        Row("A", "2026-11-20T01:00:00Z", "rejected", acked_at=YESTERDAY),
        Row("A", LATE_TODAY, "pending"),
    )
    season, today = one(Student("A"), *records)
    assert season == Figures(approved=1, captured=1) and today == Figures(captured=1)


def test_records_of_other_students_do_not_count():
    season, _ = one(Student("A"), Row("B", EARLY_TODAY, "accepted", reg_no="1", acked_at=EARLY_TODAY))
    assert season == Figures(approved=1)


def test_classes_are_ordered_by_school_and_class_and_summed_per_school():
    students = [
        Student("C", school_code="S02", school_name="二中", class_no="1"),
        Student("B", class_no="2"),
        Student("A", class_no="1"),
        Student("D", class_no="1", status="pending"),
    ]
    records = [Row("A", EARLY_TODAY, "pending"), Row("C", YESTERDAY, "accepted", "n", acked_at=EARLY_TODAY)]
    progress = tally(students, records, TODAY)
    assert progress.day == TODAY
    keys = [(c.school_code, c.school_name, c.class_no) for c in progress.classes]
    assert keys == [("S01", "一中", "1"), ("S01", "一中", "2"), ("S02", "二中", "1")]
    assert progress.classes[0].season == Figures(approved=1, captured=1)
    assert progress.season == Figures(approved=3, captured=2, synced=1, registered=1)
    assert progress.today == Figures(captured=1, synced=1, registered=1)
    schools = progress.schools()
    assert [(s.school_code, s.school_name, s.class_no) for s in schools] == [
        ("S01", "一中", ""),
        ("S02", "二中", ""),
    ]
    assert schools[0].season == Figures(approved=2, captured=1) and schools[0].today == Figures(captured=1)
    assert schools[1].today == Figures(synced=1, registered=1)


def test_figures_add_field_by_field_and_name_themselves():
    total = Figures(1, 2, 3, 4, 5) + Figures(10, 20, 30, 40, 50)
    assert total == Figures(11, 22, 33, 44, 55)
    assert total.as_dict() == {"approved": 11, "captured": 22, "synced": 33, "registered": 44, "rejected": 55}
    assert FIGURE_NAMES == ("approved", "captured", "synced", "registered", "rejected")


def test_an_empty_county_has_zero_figures():
    empty = Progress(TODAY)
    assert empty.season == Figures() and empty.today == Figures() and empty.schools() == []
    row = ClassProgress("S01", "一中", "1", Figures(approved=1), Figures())
    assert Progress(TODAY, [row]).schools()[0].season == Figures(approved=1)
