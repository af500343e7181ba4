"""The desk workflow as a state machine: card → student → photo → review → saved.

This is the one implementation of what happens at the desk; the GUI drives it through its services
layer and ``station capture`` drives it from the command line, so both refuse, warn and save alike.
It is pure: the queue, the photo maker and the record store are small ports passed in, so it runs
in tests without Qt, devices or a database.

States and transitions::

    WAITING_FOR_CARD --card_read--> PHOTO            (student found, may be captured, chip agrees)
                     --card_read--> REFUSED          (not in queue / not approved / chip differs / expired)
                     --card_read--> CONFIRM_RECAPTURE (captured here before)
                     --open_manual--> PHOTO          (unreadable card: found by the last six digits,
                                                      signed off by a county administrator)
    CONFIRM_RECAPTURE --confirm_recapture(reason)--> PHOTO
    PHOTO --photo_taken--> REVIEW                    (the photo conforms, or the officer accepts warnings)
    PHOTO --photo_taken--> PHOTO                     (a blocking check failed: guidance, try again)
    REVIEW --retake--> PHOTO
    REVIEW --accept--> SAVED                         (only after the record store has committed: L1)
    any --reset--> WAITING_FOR_CARD

"Saved" is shown only once the store returns: a capture the officer saw as saved is never lost.

The wrong-person guard (``station.capture.presence``) is part of the desk: ``observe_face`` feeds it
the camera's face presence, a student opened by a card or a sign-off starts it, and an automatic
photo is taken into review only when it was made of a frame seen after the guard armed. A photo the
officer takes (``photo_taken(..., auto=False)``) is the officer's own confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from station.capture.presence import FaceGuard
from station.domain import rules
from station.domain.records import CaptureRecord, ChipEvidence, ManualEvidence
from station.domain.students import DeskDecision, Student, desk_decision
from station.errors import OfficerError
from station.i18n import Text
from sync.protocol import idnumber


class State(StrEnum):
    WAITING_FOR_CARD = "waiting_for_card"
    REFUSED = "refused"
    CONFIRM_RECAPTURE = "confirm_recapture"
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
    recapture_reason: str | None = None  # why a student captured here before is captured again
    manual: ManualEvidence | None = None  # the sign-off standing in for an unreadable chip
    saved: CaptureRecord | None = None
    presence: FaceGuard = field(default_factory=FaceGuard)

    # --- transitions -------------------------------------------------------------------------

    def reset(self) -> None:
        self.state = State.WAITING_FOR_CARD
        self.card = self.student = self.decision = self.comparison = self.photo = self.saved = None
        self.refusal_code = self.officer_note = self.recapture_reason = None
        self.manual = None
        self.reasons = []
        self.presence.close()

    def observe_face(self, face_present: bool | None, now: float) -> None:
        """The camera's latest analysed frame: a face in view, none, or no picture at all (None)."""
        self.presence.observe(face_present, now)

    def card_read(self, card: CardRead, *, now: float = 0.0) -> State:
        """A card was read: find the student and decide whether the capture may go on.

        ``now`` is the monotonic time of the read, on the clock of ``observe_face``.
        """
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
        return self._open(now)

    def open_manual(
        self, student: Student, evidence: ManualEvidence, id_last6: str, *, now: float = 0.0
    ) -> State:
        """The unreadable-card path: the officer found ``student`` by the last six digits of the ID
        number printed on the card, and a county administrator signed off (``evidence``).

        The student is looked up again (the queue may have changed) and the desk's decision applies
        as for a card; only the chip comparison is impossible.
        """
        typed = idnumber.normalize(id_last6)
        if len(typed) != 6 or not idnumber.normalize(student.national_id).endswith(typed):
            raise WorkflowError(
                Text(
                    "输入的后六位与所选学生的身份证号不符。",
                    "The last six digits typed do not match the chosen student's ID number.",
                )
            )
        self.reset()
        self.manual = evidence
        self.student = self.queue.student_by_national_id(student.national_id)
        self.decision = desk_decision(self.student, self.station.county_code6)
        if not self.decision.may_capture:
            return self._refuse(self.decision.code, [self.decision.message])
        self.reasons = [
            Text(
                "证件芯片无法读取，已由旗县管理员 {admin} 核验签字。请核对证件照片与本人。",
                "The chip could not be read; county administrator {admin} signed off. Compare the card "
                "photo with the student.",
            ).format(admin=evidence.approved_by)
        ]
        return self._open(now)

    def confirm_recapture(self, reason: str, *, now: float = 0.0) -> State:
        """The officer confirms capturing again a student captured here before, and says why."""
        self._expect(State.CONFIRM_RECAPTURE)
        reason = reason.strip()
        if not reason:
            raise WorkflowError(Text("请填写重新采集的原因。", "Give the reason for the recapture."))
        self.recapture_reason = reason
        self.state = State.PHOTO
        self.presence.open(now)
        return self.state

    def _open(self, now: float) -> State:
        assert self.decision is not None
        if self.decision.is_recapture:
            self.reasons.insert(0, self.decision.message)
            self.state = State.CONFIRM_RECAPTURE
            return self.state
        self.state = State.PHOTO
        self.presence.open(now)
        return self.state

    def photo_taken(
        self,
        photo: PhotoOutcome,
        officer_note: str | None = None,
        *,
        auto: bool = False,
        frame_time: float | None = None,
        now: float = 0.0,
    ) -> State:
        """A photo was made; it goes to review if it conforms, or if it only warns and the officer says why.

        An automatic photo (``auto``) is taken only of a frame seen after the wrong-person guard armed
        (``frame_time``); a photo the officer took is their confirmation of the person in view.
        """
        self._expect(State.PHOTO)
        if auto and not self.presence.allows(frame_time):
            raise WorkflowError(
                Text(
                    "自动拍摄的画面早于学生就座，已忽略。",
                    "The automatic photo was of a frame from before the student sat down; ignored.",
                ),
                code="stale_autocapture",
            )
        if not auto:
            self.presence.confirm(now)
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
        assert self.student is not None and self.photo is not None
        assert (self.card is None) != (self.manual is None)
        student, photo = self.student, self.photo
        recapture = bool(self.decision and self.decision.is_recapture)
        if recapture and not self.recapture_reason:
            raise WorkflowError(Text("重新采集须填写原因。", "A recapture needs a reason."))
        supersedes = self.queue.latest_record_id(student.student_id) if recapture else None
        return CaptureRecord.new(
            student_id=student.student_id,
            national_id=student.national_id,
            station_id=self.station.station_id,
            county_code6=self.station.county_code6,
            operator=operator,
            captured_at=self.clock(),
            chip=_chip_evidence(self.card) if self.card is not None else None,
            manual=self.manual,
            photo_jpeg=photo.jpeg_bytes,
            photo_profile=photo.profile_id,
            quality=photo.report.as_dict(),
            comparison=self.comparison.as_dict() if self.comparison else {},
            supersedes=supersedes,
            officer_note=self.officer_note,
            recapture_reason=self.recapture_reason if recapture else None,
        )

    def record_saved(self, record: CaptureRecord) -> CaptureRecord:
        """The store committed ``record`` (prepared from this review): the capture is SAVED."""
        self._expect(State.REVIEW)
        self.saved = record
        self.state = State.SAVED
        return record

    # --- helpers -----------------------------------------------------------------------------

    def _refuse(self, code: str, reasons: list[Text]) -> State:
        self.presence.close()
        self.state = State.REFUSED
        self.refusal_code = code
        self.reasons = reasons
        return self.state

    def _expect(self, state: State) -> None:
        if self.state is not state:
            raise WorkflowError(
                Text(f"当前步骤为“{self.state}”，不能执行此操作。", f"Not possible in step '{self.state}'.")
            )


def _chip_evidence(card: CardRead) -> ChipEvidence:
    return ChipEvidence(
        text=card.raw_text,
        wlt=card.raw_wlt,
        fingerprint=card.fingerprint,
        chip_serial=card.chip_serial,
        sam_id=card.sam_id,
        card_type=card.card_type,
        parsed=_parsed_identity(card),
    )


def _parsed_identity(card: CardRead) -> dict[str, str]:
    """The chip fields the registry compares with the pre-registration (sync.protocol.wire.ChipParsed)."""
    parsed = {"name": card.name, "sex": card.sex, "birth_date": card.birth_date.isoformat()}
    if card.nation is not None:
        parsed["nation"] = card.nation
    return parsed
