"""The desk as the GUI sees it: card events and photos in, workflow state and messages out.

It owns the pure ``Desk`` workflow and reaches the station through the composition root's
``StationApp``, so the widgets only call its slots and listen to its signals. Saving runs on the
background operations' store lane; the desk stays in review (and ignores new cards and photos)
until the store has committed, and only then says "saved": a capture the officer saw as saved is
never lost, and the preview never freezes while the disk works.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from station.app import StationApp
from station.capture.workflow import Desk, State, WorkflowError
from station.domain import rules
from station.domain.records import CaptureRecord
from station.domain.students import Student
from station.errors import OfficerError
from station.i18n import Text
from station.idcard.events import CardEvent
from station.services.tasks import BackgroundOps, Lane

log = logging.getLogger("station.desk")


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


class DeskController(QObject):
    """Signals:
    state_changed(State): the workflow moved to another step.
    message(Text, Level): something to tell the officer.
    card_shown(ChipData | None), student_shown(Student | None): what the panels show.
    queue_changed(): the queue view needs a refresh.
    record_saved(str): a record id, once the store committed it.
    """

    state_changed = Signal(object)
    message = Signal(object, object)
    card_shown = Signal(object)
    student_shown = Signal(object)
    queue_changed = Signal()
    record_saved = Signal(str)

    def __init__(
        self, app: StationApp, operator: str, ops: BackgroundOps | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.app = app
        self.operator = operator
        self.ops = ops
        self.desk: Desk = app.desk()
        self.saving = False

    # -- what the widgets read ----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.desk.state

    def queue_rows(self) -> list[Student]:
        return self.app.queue_view()

    def pending_records(self) -> int:
        counts = self.app.database.outbox.counts()
        return counts.get("pending", 0) + counts.get("inflight", 0)

    def deadline_notice(self) -> Text:
        return rules.deadline_notice(rules.today_in_china(), self.app.config.entry_year)

    # -- inputs -------------------------------------------------------------------------------

    def on_card_event(self, event: CardEvent) -> None:
        if event.kind == "result" and event.chip is not None:
            if self.desk.state is State.REVIEW or self.saving:
                # An unsaved photo is on screen: a new card must not silently discard it.
                self.message.emit(
                    Text(
                        "当前学生的照片尚未保存，请先确认保存或重拍。",
                        "The current photo is not saved yet: save or retake first.",
                    ),
                    Level.WARN,
                )
                return
            state = self.desk.card_read(event.chip)
            log.info("card read: %s", "refused " + str(self.desk.refusal_code) if state is State.REFUSED else "ok")
            self.card_shown.emit(event.chip)
            self.student_shown.emit(self.desk.student)
            level = Level.ERROR if state is State.REFUSED else (Level.WARN if self.desk.reasons else Level.OK)
            reasons = self.desk.reasons or [
                Text("核对无误，请学生坐好准备拍照。", "Identity checked: seat the student for the photo.")
            ]
            for reason in reasons:
                self.message.emit(reason, level)
            self.state_changed.emit(state)
        elif event.kind in ("error", "remove_card_first", "reader_lost"):
            self.message.emit(event.message, Level.ERROR if event.kind != "remove_card_first" else Level.WARN)
        else:
            self.message.emit(event.message, Level.INFO)

    def on_photo(self, photo, officer_note: str | None = None) -> None:  # type: ignore[no-untyped-def]
        if self.desk.state is not State.PHOTO or self.saving:
            return  # an auto-capture that arrives before a card was read, or after review began
        try:
            self.desk.photo_taken(photo, officer_note)
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return
        self.message.emit(Text("照片已生成，请核对后确认保存。", "Photo taken: review it, then save."), Level.INFO)
        self.state_changed.emit(self.desk.state)

    def retake(self) -> None:
        if self.saving:
            return
        try:
            self.desk.retake()
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return
        self.state_changed.emit(self.desk.state)

    def accept(self) -> None:
        """Save the reviewed capture (on the store lane when there is one); "saved" only after the commit."""
        if self.saving:
            return
        try:
            record = self.desk.prepare_record(self.operator)
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return
        if self.ops is None:
            try:
                self.desk.sink.save(record)
            except Exception as error:
                self._save_failed(error)
                return
            self._saved(record)
            return
        self.saving = True
        self.ops.run(
            lambda: self.desk.sink.save(record),
            lane=Lane.STORE,
            on_success=lambda _none: self._saved(record),
            on_failure=self._save_failed,
            label="save capture",
        )

    def _saved(self, record: CaptureRecord) -> None:
        self.saving = False
        self.desk.record_saved(record)
        self.message.emit(
            Text(
                f"已保存。回执号 {record.short_id}，考籍号待同步后发放。",
                f"Saved. Receipt {record.short_id}; the number follows sync.",
            ),
            Level.OK,
        )
        self.state_changed.emit(self.desk.state)
        self.queue_changed.emit()
        self.record_saved.emit(record.record_id)

    def _save_failed(self, error: BaseException) -> None:
        """The store refused: keep the photo on screen, say so in a sentence, lose nothing."""
        self.saving = False
        log.warning("saving a capture failed: %s", getattr(error, "code", type(error).__name__))
        reason = error.sentence() if isinstance(error, OfficerError) else None
        text = Text("保存失败，照片仍在屏幕上，请重试。", "Saving failed; the photo is kept, try again.")
        if reason is not None:
            text = Text(f"{text.zh}{reason.zh}", f"{text.en} {reason.en}")
        self.message.emit(text, Level.ERROR)

    def next_student(self) -> None:
        if self.saving:
            return
        self.desk.reset()
        self.card_shown.emit(None)
        self.student_shown.emit(None)
        self.state_changed.emit(self.desk.state)
