"""The desk as the GUI sees it: card events and photos in, workflow state and messages out.

It owns the pure ``Desk`` workflow and the station's store access (through ``StationApp``), so the
widgets only call its slots and listen to its signals. Saving happens here, synchronously: it is one
small SQLite transaction, and the officer must not see "saved" before it has committed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from station.app import StationApp
from station.capture.workflow import Desk, State, WorkflowError
from station.domain import rules
from station.domain.students import Student
from station.i18n import Text
from station.idcard.events import CardEvent


class DeskController(QObject):
    state_changed = Signal(str)
    message = Signal(object, str)  # Text, level: "info" | "warn" | "error" | "ok"
    card_shown = Signal(object)  # the parsed card (ChipData) or None
    student_shown = Signal(object)  # Student or None
    queue_changed = Signal()
    record_saved = Signal(str)  # record_id, once committed

    def __init__(self, app: StationApp, operator: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.operator = operator
        self.desk: Desk = app.desk()

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
            if self.desk.state is State.REVIEW:
                # An unsaved photo is on screen: a new card must not silently discard it.
                self.message.emit(
                    Text(
                        "当前学生的照片尚未保存，请先确认保存或重拍。",
                        "The current photo is not saved yet: save or retake first.",
                    ),
                    "warn",
                )
                return
            state = self.desk.card_read(event.chip)
            self.card_shown.emit(event.chip)
            self.student_shown.emit(self.desk.student)
            level = "error" if state is State.REFUSED else ("warn" if self.desk.reasons else "ok")
            reasons = self.desk.reasons or [
                Text("核对无误，请学生坐好准备拍照。", "Identity checked: seat the student for the photo.")
            ]
            for reason in reasons:
                self.message.emit(reason, level)
            self.state_changed.emit(str(state))
        elif event.kind in ("error", "remove_card_first", "reader_lost"):
            self.message.emit(event.message, "error" if event.kind != "remove_card_first" else "warn")
        else:
            self.message.emit(event.message, "info")

    def on_photo(self, photo, officer_note: str | None = None) -> None:
        if self.desk.state is not State.PHOTO:
            return  # an auto-capture that arrives before a card was read, or after review began
        try:
            self.desk.photo_taken(photo, officer_note)
        except WorkflowError as error:
            self.message.emit(error.message, "warn")
            return
        self.message.emit(
            Text("照片已生成，请核对后确认保存。", "Photo taken: review it, then save."), "info"
        )
        self.state_changed.emit(str(self.desk.state))

    def retake(self) -> None:
        try:
            self.desk.retake()
        except WorkflowError as error:
            self.message.emit(error.message, "warn")
            return
        self.state_changed.emit(str(self.desk.state))

    def accept(self) -> None:
        try:
            record = self.desk.accept(self.operator)
        except WorkflowError as error:
            self.message.emit(error.message, "warn")
            return
        except Exception as error:  # the store refused: keep the photo on screen, say so, lose nothing
            self.message.emit(
                Text(
                    f"保存失败，照片仍在屏幕上，请重试：{error}",
                    f"Saving failed; the photo is kept, try again: {error}",
                ),
                "error",
            )
            return
        self.message.emit(
            Text(
                f"已保存。回执号 {record.short_id}，考籍号待同步后发放。",
                f"Saved. Receipt {record.short_id}; the number follows sync.",
            ),
            "ok",
        )
        self.state_changed.emit(str(self.desk.state))
        self.queue_changed.emit()
        self.record_saved.emit(record.record_id)

    def next_student(self) -> None:
        self.desk.reset()
        self.card_shown.emit(None)
        self.student_shown.emit(None)
        self.state_changed.emit(str(self.desk.state))
