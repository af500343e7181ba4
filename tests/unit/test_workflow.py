"""The desk workflow state machine, with in-memory ports (the store-backed run is in tests/integration)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import pytest

from station.capture.workflow import Desk, State, Station, WorkflowError
from station.domain.students import Student, StudentStatus
from station.idcard.emulator import synthetic_chip
from sync.protocol import synthetic

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@dataclass
class Report:
    failed: bool = False
    warned: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def warnings(self) -> list:
        return ["lighting"] if self.warned else []

    def as_dict(self) -> dict:
        return {"ok": self.ok}


@dataclass
class Photo:
    report: Report = field(default_factory=Report)
    jpeg_bytes: bytes = b"\xff\xd8\xff\xe0photo"
    profile_id: str = "moe-480"


class Queue:
    def __init__(self, students):
        self.students = {s.national_id: s for s in students}
        self.latest: dict[str, str] = {}

    def student_by_national_id(self, national_id):
        return self.students.get(national_id)

    def latest_record_id(self, student_id):
        return self.latest.get(student_id)


class Sink:
    def __init__(self, fail=False):
        self.saved, self.fail = [], fail

    def save(self, record):
        if self.fail:
            raise OSError("disk full")
        self.saved.append(record)


@pytest.fixture
def setup():
    rows = synthetic.preregistrations(5, "150121", seed=3)
    for row in rows:
        row["status"] = "approved"
    students = [Student.from_feed(r) for r in rows]
    # The cards the simulated reader would read for the same synthetic people (real ChipData, encoded text).
    people = {p.id_number: p for p in synthetic.people(5, "150121", seed=3, birth_year=2010)}
    assert set(people) == {s.national_id for s in students}
    cards = [
        synthetic_chip(people[s.national_id], valid_until=date(2034, 1, 1)).with_reader_data(
            chip_serial="0011223344556677"
        )
        for s in students
    ]
    queue, sink = Queue(students), Sink()
    desk = Desk(Station("ST-01", "150121", 2026), queue, sink, clock=lambda: NOW)
    return desk, queue, sink, students, cards


def test_happy_path_saves_one_immutable_record(setup):
    desk, _, sink, students, cards = setup
    assert desk.card_read(cards[0]) is State.PHOTO
    assert desk.photo_taken(Photo()) is State.REVIEW
    record = desk.accept("officer-1")
    assert desk.state is State.SAVED and sink.saved == [record]
    assert record.student_id == students[0].student_id and record.captured_at == NOW
    assert record.chip.chip_serial == "0011223344556677" and record.supersedes is None


def test_refusals_name_the_reason(setup):
    desk, queue, sink, students, cards = setup
    stranger = synthetic.people(1, "150102", seed=99)[0]
    assert desk.card_read(replace(cards[0], id_number=stranger.id_number)) is State.REFUSED
    assert desk.refusal_code == "NOT_IN_QUEUE"
    queue.students[students[1].national_id] = replace(students[1], status=StudentStatus.PENDING)
    desk.card_read(cards[1])
    assert desk.refusal_code == "NOT_APPROVED"
    desk.card_read(replace(cards[2], name="别人"))
    assert desk.refusal_code == "CHIP_MISMATCH" and "姓名" in desk.reasons[0].zh
    desk.card_read(replace(cards[3], valid_until=date(2026, 11, 1)))
    assert desk.refusal_code == "CARD_EXPIRED"
    with pytest.raises(WorkflowError):
        desk.photo_taken(Photo())
    assert sink.saved == []


def test_failing_photo_stays_in_photo_step_and_warnings_need_a_reason(setup):
    desk, _, sink, _, cards = setup
    desk.card_read(cards[0])
    with pytest.raises(WorkflowError):
        desk.photo_taken(Photo(Report(failed=True)))
    assert desk.state is State.PHOTO
    with pytest.raises(WorkflowError) as caught:
        desk.photo_taken(Photo(Report(warned=True)))
    assert "原因" in caught.value.message.zh
    assert sink.saved == []
    assert (
        desk.photo_taken(Photo(Report(warned=True)), officer_note="glasses cannot come off") is State.REVIEW
    )
    assert desk.accept("officer-1").officer_note == "glasses cannot come off"


def test_a_failed_save_is_never_shown_as_saved(setup):
    desk, _, _, _, cards = setup
    desk.sink = Sink(fail=True)
    desk.card_read(cards[0])
    desk.photo_taken(Photo())
    with pytest.raises(OSError):
        desk.accept("officer-1")
    assert desk.state is State.REVIEW and desk.saved is None


def test_recapture_supersedes_the_previous_record(setup):
    desk, queue, _, students, cards = setup
    queue.students[students[0].national_id] = replace(students[0], status=StudentStatus.CAPTURED)
    queue.latest[students[0].student_id] = "0190f3c2-0000-7000-8000-000000000001"
    assert desk.card_read(cards[0]) is State.CONFIRM_RECAPTURE
    assert "重新采集" in desk.reasons[0].zh
    with pytest.raises(WorkflowError):  # no photo before the officer confirmed with a reason
        desk.photo_taken(Photo())
    with pytest.raises(WorkflowError):
        desk.confirm_recapture("   ")
    assert desk.confirm_recapture("photo was blurred on the first capture") is State.PHOTO
    desk.photo_taken(Photo())
    desk.retake()
    desk.photo_taken(Photo())
    record = desk.accept("officer-1")
    assert record.supersedes == "0190f3c2-0000-7000-8000-000000000001"
    assert record.recapture_reason == "photo was blurred on the first capture"


def test_capture_after_the_deadline_warns_but_does_not_refuse(setup):
    desk, _, _, _, cards = setup
    desk.clock = lambda: datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert desk.card_read(cards[0]) is State.PHOTO
    assert any("截止" in reason.zh for reason in desk.reasons)
    desk.clock = lambda: NOW
    desk.card_read(cards[0])
    assert not desk.reasons


# --- the wrong-person guard inside the desk --------------------------------------------------


def test_an_auto_photo_of_the_person_seated_at_the_card_read_is_refused(setup):
    desk, _, sink, _, cards = setup
    desk.observe_face(True, 10.0)  # the previous student is still in the chair
    desk.card_read(cards[0], now=10.1)
    desk.observe_face(True, 10.4)
    with pytest.raises(WorkflowError) as caught:
        desk.photo_taken(Photo(), auto=True, frame_time=10.4)
    assert caught.value.code == "stale_autocapture" and desk.state is State.PHOTO
    desk.observe_face(False, 11.0)  # they stand up ...
    desk.observe_face(False, 11.7)
    desk.observe_face(True, 12.0)  # ... the new student sits down and stays
    desk.observe_face(True, 13.6)
    assert desk.presence.armed
    with pytest.raises(WorkflowError):  # a frame from before the guard armed is still refused
        desk.photo_taken(Photo(), auto=True, frame_time=13.0)
    assert desk.photo_taken(Photo(), auto=True, frame_time=13.7) is State.REVIEW
    desk.accept("officer-1")
    assert len(sink.saved) == 1


def test_the_officer_taking_the_photo_confirms_the_person_in_view(setup):
    desk, _, _, _, cards = setup
    desk.observe_face(True, 1.0)
    desk.card_read(cards[0], now=1.1)
    assert not desk.presence.armed
    assert desk.photo_taken(Photo(), now=1.2) is State.REVIEW  # a manual capture: the officer's call
    assert desk.presence.confirmed


def test_unreadable_card_path_needs_the_matching_last_six_digits(setup):
    from station.domain.records import ManualEvidence

    desk, _, sink, students, _ = setup
    evidence = ManualEvidence("admin-1", NOW)
    with pytest.raises(WorkflowError):
        desk.open_manual(students[0], evidence, students[1].national_id[-6:])
    assert desk.state is State.WAITING_FOR_CARD
    assert desk.open_manual(students[0], evidence, students[0].national_id[-6:].lower()) is State.PHOTO
    assert "admin-1" in desk.reasons[0].zh
    desk.photo_taken(Photo())
    record = desk.accept("officer-1")
    assert record.chip is None and record.manual == evidence and record.card_type == "unreadable"
    assert sink.saved == [record]


def test_unreadable_card_path_still_refuses_who_may_not_be_captured(setup):
    from station.domain.records import ManualEvidence

    desk, queue, _, students, _ = setup
    queue.students[students[2].national_id] = replace(students[2], status=StudentStatus.CAPTURED_AT_ZHONGKAO)
    state = desk.open_manual(students[2], ManualEvidence("admin-1", NOW), students[2].national_id[-6:])
    assert state is State.REFUSED and desk.refusal_code == "CAPTURED_AT_ZHONGKAO"


def test_a_second_accept_after_saved_is_refused_and_saves_nothing(setup):
    desk, _, sink, _, cards = setup
    desk.card_read(cards[0])
    desk.photo_taken(Photo())
    record = desk.accept("officer-1")
    with pytest.raises(WorkflowError) as caught:
        desk.accept("officer-1")  # a double click on "accept"
    assert caught.value.message.zh and desk.state is State.SAVED
    assert sink.saved == [record] and desk.saved is record


def test_the_officer_note_is_kept_only_for_a_photo_with_warnings(setup):
    desk, _, sink, _, cards = setup
    # Kept: the photo warns and the officer says why; it travels with the record.
    desk.card_read(cards[0])
    desk.photo_taken(Photo(Report(warned=True)), officer_note="眼镜无法摘下")
    kept = desk.accept("officer-1")
    assert kept.officer_note == "眼镜无法摘下"
    # Dropped: a note given for a photo without warnings explains nothing.
    desk.card_read(cards[1])
    desk.photo_taken(Photo(), officer_note="不需要的说明")
    assert desk.accept("officer-1").officer_note is None
    # Dropped: a retake discards the note of the photo it replaces.
    desk.card_read(cards[2])
    desk.photo_taken(Photo(Report(warned=True)), officer_note="逆光")
    desk.retake()
    desk.photo_taken(Photo())
    assert desk.accept("officer-1").officer_note is None
    assert [r.officer_note for r in sink.saved] == ["眼镜无法摘下", None, None]
