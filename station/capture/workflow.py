"""The desk workflow as a state machine: card → student → photo → review → saved.

This is the one implementation of what happens at the desk; the GUI drives it through its services
layer and ``station capture`` drives it from the command line, so both refuse, warn and save alike.
It is pure: the queue, the photo maker and the record store are small ports passed in, so it runs
in tests without Qt, devices or a database.

States and transitions::

    WAITING_FOR_CARD --card_read--> PHOTO            (student found, may be captured, chip agrees)
                     --card_read--> REFUSED          (not in queue / not approved / chip differs / expired)
    PHOTO --photo_taken--> REVIEW                    (the photo conforms, or the officer accepts warnings)
    PHOTO --photo_taken--> PHOTO                     (a blocking check failed: guidance, try again)
    REVIEW --retake--> PHOTO
    REVIEW --accept--> SAVED                         (only after the record store has committed: L1)
    any --reset--> WAITING_FOR_CARD

"Saved" is shown only once the store returns: a capture the officer saw as saved is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from station.domain import rules
from station.domain.records import CaptureRecord, ChipEvidence
from station.domain.students import DeskDecision, Student, desk_decision
from station.errors import OfficerError
from station.i18n import Text


class State(StrEnum):
    WAITING_FOR_CARD = "waiting_for_card"
    REFUSED = "refused"
    PHOTO = "photo"
    REVIEW = "review"
    SAVED = "saved"


class CardRead(rules.ChipIdentity, Protocol):
    """A parsed card with its raw chip data (sync.protocol.card.ChipData satisfies it)."""

    raw_text: bytes
    raw_wlt: bytes
    fingerprint: bytes | None
    chip_serial: str | None
    sam_id: str | None


class QualityVerdict(Protocol):
    @property
    def ok(self) -> bool:
        """No blocking check failed (warnings allowed)."""

    def warnings(self) -> list: ...

    def as_dict(self) -> dict: ...


class PhotoOutcome(Protocol):
    """A finished photo (station.camera.photo.PhotoResult satisfies it): profile JPEG and its report."""

    jpeg_bytes: bytes
    profile_id: str
    report: QualityVerdict


class Queue(Protocol):
    def student_by_national_id(self, national_id: str) -> Student | None: ...

    def latest_record_id(self, student_id: str) -> str | None: ...


class RecordSink(Protocol):
    def save(self, record: CaptureRecord) -> None:
        """Commit the record and its outbox entry in one transaction, or raise."""


class WorkflowError(OfficerError):
    """A desk action not possible in the current step, or a photo the rules do not let through."""

    code = "workflow"
    exit_code = 1


@dataclass(frozen=True)
class Station:
    station_id: str
    county_code6: str
    entry_year: int


@dataclass
class Desk:
    """One desk session for one student at a time."""

    station: Station
    queue: Queue
    sink: RecordSink
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    state: State = State.WAITING_FOR_CARD
    card: CardRead | None = None
    student: Student | None = None
    decision: DeskDecision | None = None
    comparison: rules.Comparison | None = None
    reasons: list[Text] = field(default_factory=list)
    refusal_code: str | None = None
    photo: PhotoOutcome | None = None
    officer_note: str | None = None  # why a photo with warnings was used
    saved: CaptureRecord | None = None

    # --- transitions -------------------------------------------------------------------------

    def reset(self) -> None:
        self.state = State.WAITING_FOR_CARD
        self.card = self.student = self.decision = self.comparison = self.photo = self.saved = None
        self.refusal_code = self.officer_note = None
        self.reasons = []

    def card_read(self, card: CardRead) -> State:
        """A card was read: find the student and decide whether the capture may go on."""
        self.reset()
        self.card = card
        self.student = self.queue.student_by_national_id(card.id_number)
        self.decision = desk_decision(self.student, self.station.county_code6)
        if not self.decision.may_capture:
            return self._refuse(self.decision.code, [self.decision.message])
        assert self.student is not None
        validity = rules.card_validity(card, rules.capture_day(self.clock()))
        if not validity.ok:
            return self._refuse(validity.code, [validity.message])
        self.comparison = rules.compare(card, self.student)
        if self.comparison.blocks_capture:
            return self._refuse(
                "CHIP_MISMATCH",
                [d.message for d in self.comparison.differences if d.severity is rules.Severity.BLOCK],
            )
        self.reasons = [d.message for d in self.comparison.differences]
        if not rules.captured_in_time(self.clock(), self.station.entry_year):
            # Not a refusal: the province may open a late window; the registry decides (rule 7.1).
            self.reasons.append(
                Text(
                    "已过 {y} 年 11 月 30 日注册截止日：只有自治区开放补注册时，登记中心才会接受此记录。",
                    "Past the 30 November {y} deadline: the registry accepts this only in a late window.",
                ).format(y=self.station.entry_year)
            )
        if self.decision.is_recapture:
            self.reasons.insert(0, self.decision.message)
        self.state = State.PHOTO
        return self.state

    def photo_taken(self, photo: PhotoOutcome, officer_note: str | None = None) -> State:
        """A photo was made; it goes to review if it conforms, or if it only warns and the officer says why."""
        self._expect(State.PHOTO)
        if not photo.report.ok:
            raise WorkflowError(
                Text(
                    "照片不符合规格，请按提示调整后重拍。",
                    "The photo does not conform: follow the guidance and retake.",
                )
            )
        if photo.report.warnings() and not officer_note:
            raise WorkflowError(
                Text(
                    "照片有提示项，如仍要使用请填写原因。",
                    "The photo has warnings: give a reason to use it anyway.",
                )
            )
        self.photo = photo
        self.officer_note = officer_note if photo.report.warnings() else None
        self.state = State.REVIEW
        return self.state

    def retake(self) -> State:
        self._expect(State.REVIEW)
        self.photo = self.officer_note = None
        self.state = State.PHOTO
        return self.state

    def accept(self, operator: str) -> CaptureRecord:
        """Save the capture as an immutable record; the state becomes SAVED only after the commit."""
        record = self.prepare_record(operator)
        self.sink.save(record)  # raises on failure: the state stays REVIEW and nothing is shown as saved
        return self.record_saved(record)

    def prepare_record(self, operator: str) -> CaptureRecord:
        """The immutable record the reviewed capture becomes (nothing is saved yet).

        The GUI saves it off its own thread and calls ``record_saved`` once the store has committed;
        the state stays REVIEW until then.
        """
        self._expect(State.REVIEW)
        assert self.card is not None and self.student is not None and self.photo is not None
        card, student, photo = self.card, self.student, self.photo
        supersedes = (
            self.queue.latest_record_id(student.student_id)
            if self.decision and self.decision.is_recapture
            else None
        )
        return CaptureRecord.new(
            student_id=student.student_id,
            national_id=student.national_id,
            station_id=self.station.station_id,
            county_code6=self.station.county_code6,
            operator=operator,
            captured_at=self.clock(),
            chip=ChipEvidence(
                text=card.raw_text,
                wlt=card.raw_wlt,
                fingerprint=card.fingerprint,
                chip_serial=card.chip_serial,
                sam_id=card.sam_id,
                card_type=card.card_type,
                parsed=_parsed_identity(card),
            ),
            photo_jpeg=photo.jpeg_bytes,
            photo_profile=photo.profile_id,
            quality=photo.report.as_dict(),
            comparison=self.comparison.as_dict() if self.comparison else {},
            supersedes=supersedes,
            officer_note=self.officer_note,
        )

    def record_saved(self, record: CaptureRecord) -> CaptureRecord:
        """The store committed ``record`` (prepared from this review): the capture is SAVED."""
        self._expect(State.REVIEW)
        self.saved = record
        self.state = State.SAVED
        return record

    # --- helpers -----------------------------------------------------------------------------

    def _refuse(self, code: str, reasons: list[Text]) -> State:
        self.state = State.REFUSED
        self.refusal_code = code
        self.reasons = reasons
        return self.state

    def _expect(self, state: State) -> None:
        if self.state is not state:
            raise WorkflowError(
                Text(f"当前步骤为“{self.state}”，不能执行此操作。", f"Not possible in step '{self.state}'.")
            )


def _parsed_identity(card: CardRead) -> dict[str, str]:
    """The chip fields the registry compares with the pre-registration (sync.protocol.wire.ChipParsed)."""
    parsed = {"name": card.name, "sex": card.sex, "birth_date": card.birth_date.isoformat()}
    if card.nation is not None:
        parsed["nation"] = card.nation
    return parsed
