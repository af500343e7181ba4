"""The desk as the GUI sees it: card events, camera guidance and keys in; steps, panels and messages out.

It owns the pure ``Desk`` workflow (with its wrong-person guard) and reaches the station through the
composition root's ``StationApp``, so the widgets only call its slots and listen to its signals.

* A card read opens the student (card → student on screen within one event-loop turn); a card read
  while an unsaved photo is in review is held and the window asks first (``switch_asked``).
* Each analysed frame feeds the guard; auto-capture is armed in the camera only while the guard is
  armed, and an automatic photo of a frame from before that is never taken into review.
* Saving runs on the background operations' store lane; the desk stays in review (and holds new
  cards and photos) until the store has committed, and only then says "saved": a capture the
  officer saw as saved is never lost, and the preview never freezes while the disk works.
* The unreadable-card path: the officer chose a student in the queue, typed the last six digits of
  the ID number and a county administrator signed off with their password; the check runs on the
  store lane (it counts towards the lockout), the sign-off goes to the audit log, then the desk
  opens the student without chip evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from station.app import StationApp
from station.capture.guidance import Refusal, Step, current_step, refusal
from station.capture.panels import FieldRow, identity_rows, validity_text
from station.capture.presence import Presence
from station.capture.workflow import Desk, State, WorkflowError
from station.domain import rules
from station.domain.records import CaptureRecord, ManualEvidence
from station.domain.students import Student
from station.errors import OfficerError
from station.i18n import Text
from station.idcard.events import CardEvent
from station.idcard.wlt import photo_for
from station.services.camera_feed import CameraFeed, LiveGuidance
from station.services.tasks import BackgroundOps, Lane

log = logging.getLogger("station.desk")

COUNTDOWN_TICK_MS = 200
MANUAL_SIGNOFF = "manual_signoff"  # the audit action of an administrator's sign-off
NO_PICTURE = Text(
    "摄像头没有实时画面，无法拍照：请检查摄像头连接。",
    "No live picture from the camera: check its connection.",
)


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


class DeskController(QObject):
    """Signals:
    state_changed(State): the workflow moved to another step.
    step_changed(Step): the banner (also while the countdown runs).
    message(Text, Level): something to tell the officer beside the step.
    identity_shown(list[FieldRow], str): the student panel rows and the card's validity text.
    chip_photo(bytes | None, Text | None): the chip photo as BMP bytes, or None and why not.
    refusal_shown(Refusal | None): the refusal panel.
    recapture_asked(Text): a student captured before: ask for the reason and a confirmation.
    switch_asked(Text): a new card arrived during an unsaved review: ask before switching.
    queue_changed(): the queue view needs a refresh.
    record_saved(str): a record id, once the store committed it.
    timing(str, float): desk-internal durations for the benchmark (card_to_student, capture_to_saved).
    """

    state_changed = Signal(object)
    step_changed = Signal(object)
    message = Signal(object, object)
    identity_shown = Signal(object, str)
    chip_photo = Signal(object, object)
    refusal_shown = Signal(object)
    recapture_asked = Signal(object)
    switch_asked = Signal(object)
    queue_changed = Signal()
    record_saved = Signal(str)
    timing = Signal(str, float)

    def __init__(
        self,
        app: StationApp,
        operator: str,
        ops: BackgroundOps | None = None,
        parent: QObject | None = None,
        *,
        camera: CameraFeed | None = None,
        chip_decoder=None,  # type: ignore[no-untyped-def]  # station.idcard.wlt.WltDecoder | None
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.app = app
        self.operator = operator
        self.ops = ops
        self.camera: CameraFeed | None = None
        self.chip_decoder = chip_decoder
        self.monotonic = monotonic
        self.desk: Desk = app.desk()
        self.saving = False
        self.pending_card = None  # a card read while an unsaved photo was in review
        self.blocked: Text | None = None  # capture disabled by the administration (set_capture_blocked)
        self._camera_ok = True
        self._armed_in_camera = False
        self._capture_started: float | None = None
        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_TICK_MS)
        self._countdown.timeout.connect(self._emit_step)
        if camera is not None:
            self.attach_camera(camera)

    def attach_camera(self, camera: CameraFeed) -> None:
        self.camera = camera
        camera.guidance_ready.connect(self.on_guidance)
        camera.guidance_lost.connect(self.on_guidance_lost)
        camera.photo_ready.connect(self.on_auto_photo)

    # -- what the widgets read ----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.desk.state

    @property
    def presence(self) -> Presence:
        return self.desk.presence.state

    def step(self) -> Step:
        now = self.monotonic()
        return current_step(
            self.desk.state,
            self.desk.presence.state,
            countdown=self.desk.presence.remaining(now),
            saving=self.saving,
            camera_ok=self._camera_ok,
            blocked=self.blocked,
        )

    def queue_rows(self) -> list[Student]:
        return self.app.queue_view()

    def pending_records(self) -> int:
        return self.app.unsynced()[0]

    def deadline_notice(self) -> Text:
        return rules.deadline_notice(rules.today_in_china(), self.app.config.entry_year)

    def days_left(self) -> int:
        return rules.days_left(rules.today_in_china(), self.app.config.entry_year)

    # -- the administration's switch ------------------------------------------------------------

    def set_blocked(self, reason: Text | None) -> None:
        """Disable capture with ``reason`` shown until cleared (None); an open student is kept."""
        self.blocked = reason
        self._emit_step()

    # -- the card ------------------------------------------------------------------------------

    def on_card_event(self, event: CardEvent) -> None:
        if event.kind == "result" and event.chip is not None:
            self._card_read(event.chip)
        elif event.kind in ("error", "reader_lost"):
            self.message.emit(event.message, Level.ERROR)
        elif event.kind == "remove_card_first":
            self.message.emit(event.message, Level.WARN)

    def _card_read(self, chip) -> None:  # type: ignore[no-untyped-def]
        if self.saving:
            self.message.emit(
                Text(
                    "正在保存上一位学生，请稍候再放证件。",
                    "Saving the previous student: place the card again shortly.",
                ),
                Level.WARN,
            )
            return
        if self.blocked is not None:
            self.message.emit(self.blocked, Level.WARN)
            return
        if self.desk.state is State.REVIEW:
            # An unsaved photo is on screen: a new card must never silently discard it.
            self.pending_card = chip
            self.switch_asked.emit(
                Text(
                    "读到新的身份证，但当前学生的照片尚未保存。放弃当前照片，改为采集新学生？",
                    "A new card was read but the current photo is not saved. Discard it and open the new student?",
                )
            )
            return
        self._open_card(chip)

    def switch_to_pending_card(self) -> None:
        """The officer chose to discard the unsaved photo for the card read meanwhile."""
        chip, self.pending_card = self.pending_card, None
        if chip is not None and not self.saving:
            self._open_card(chip)

    def keep_current_student(self) -> None:
        self.pending_card = None
        self.message.emit(
            Text(
                "继续当前学生。新证件未处理：稍后请重新放置。",
                "Staying with the current student; place the new card again later.",
            ),
            Level.INFO,
        )

    def _open_card(self, chip) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        self._disarm_camera()
        state = self.desk.card_read(chip, now=self.monotonic())
        log.info(
            "card read: %s", "refused " + str(self.desk.refusal_code) if state is State.REFUSED else "ok"
        )
        self.identity_shown.emit(identity_rows(chip, self.desk.student), validity_text(chip))
        self._show_chip_photo(chip)
        self._after_open(state)
        self.timing.emit("card_to_student", time.perf_counter() - started)

    def reread(self, cards) -> None:  # type: ignore[no-untyped-def]
        """F2: read the card on the reader again (the reader refuses until it was taken off)."""
        if self.desk.state is State.REVIEW:
            self.message.emit(
                Text(
                    "当前照片尚未保存：请先保存或重拍。",
                    "The current photo is not saved: save or retake first.",
                ),
                Level.WARN,
            )
            return
        cards.request_read()

    def _show_chip_photo(self, chip) -> None:  # type: ignore[no-untyped-def]
        if chip.photo_bmp:
            self.chip_photo.emit(chip.photo_bmp, None)
            return
        if self.chip_decoder is None or not chip.raw_wlt:
            self.chip_photo.emit(None, None)
            return
        shown = photo_for(chip.raw_wlt, self.chip_decoder)
        self.chip_photo.emit(shown.bmp if shown.decoded else None, shown.reason)

    def _after_open(self, state: State) -> None:
        if state is State.REFUSED:
            self.refusal_shown.emit(self.current_refusal())
        else:
            self.refusal_shown.emit(None)
            for reason in self.desk.reasons:
                self.message.emit(reason, Level.WARN)
        if state is State.CONFIRM_RECAPTURE:
            self.recapture_asked.emit(self.desk.decision.message if self.desk.decision else Text("", ""))
        self._state_changed()

    def current_refusal(self) -> Refusal | None:
        if self.desk.state is not State.REFUSED:
            return None
        return refusal(self.desk.refusal_code, self.desk.reasons)

    # -- recapture ------------------------------------------------------------------------------

    def confirm_recapture(self, reason: str) -> bool:
        try:
            self.desk.confirm_recapture(reason, now=self.monotonic())
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return False
        self._state_changed()
        return True

    def cancel_recapture(self) -> None:
        if self.desk.state is State.CONFIRM_RECAPTURE:
            self.next_student()

    # -- the unreadable-card path ----------------------------------------------------------------

    def open_without_card(
        self,
        student: Student,
        id_last6: str,
        admin: str,
        password: str,
        on_done: Callable[[Text | None], None],
    ) -> None:
        """Check the administrator's password (store lane), audit the sign-off, open the student.

        ``on_done(None)`` when the student is open, ``on_done(reason)`` when refused (wrong password,
        not an administrator, digits not matching): the dialog shows the reason and stays open.
        """
        if self.desk.state is State.REVIEW or self.saving:
            on_done(
                Text(
                    "当前照片尚未保存：请先保存或重拍。",
                    "The current photo is not saved: save or retake first.",
                )
            )
            return
        if self.blocked is not None:
            on_done(self.blocked)
            return

        def sign_off() -> str:
            approved_by = self.app.verify_administrator(admin, password)
            self.app.audit(
                MANUAL_SIGNOFF,
                operator=self.operator,
                subject=student.student_id,
                detail={"approved_by": approved_by, "lookup": "id_last6", "reason": "card_unreadable"},
            )
            return approved_by

        def signed(approved_by: str) -> None:
            evidence = ManualEvidence(approved_by, datetime.now(UTC))
            try:
                self._disarm_camera()
                state = self.desk.open_manual(student, evidence, id_last6, now=self.monotonic())
            except WorkflowError as error:
                on_done(error.message)
                return
            self.identity_shown.emit(identity_rows(None, self.desk.student), "")
            self.chip_photo.emit(None, Text("证件芯片无法读取", "The chip could not be read"))
            self._after_open(state)
            on_done(None)

        def refused(error: BaseException) -> None:
            on_done(
                error.message
                if isinstance(error, OfficerError)
                else Text("签字未能完成。", "The sign-off failed.")
            )

        typed = id_last6.strip().upper()
        if len(typed) != 6 or not student.national_id.upper().endswith(typed):
            on_done(
                Text(
                    "输入的后六位与所选学生的身份证号不符。", "The last six digits do not match this student."
                )
            )
            return
        if self.ops is None:
            try:
                signed(sign_off())
            except Exception as error:  # the same single failure path as the lane gives
                refused(error)
            return
        self.ops.run(
            sign_off, lane=Lane.STORE, on_success=signed, on_failure=refused, label="manual sign-off"
        )

    # -- the camera ------------------------------------------------------------------------------

    def on_guidance(self, guidance: LiveGuidance) -> None:
        self._camera_ok = True
        before = self.desk.presence.state
        self.desk.observe_face(guidance.face_present, guidance.frame_time)
        self._sync_camera_arming()
        if self.desk.presence.state is not before:
            self._emit_step()

    def on_guidance_lost(self) -> None:
        self._camera_ok = False
        self.desk.observe_face(None, self.monotonic())
        self._sync_camera_arming()
        self._emit_step()

    def _sync_camera_arming(self) -> None:
        armed = self.desk.state is State.PHOTO and self.desk.presence.armed and self.blocked is None
        if armed and not self._armed_in_camera and self.camera is not None:
            self.camera.rearm()
            self._armed_in_camera = True
        elif not armed and self._armed_in_camera:
            self._disarm_camera()

    def _disarm_camera(self) -> None:
        self._armed_in_camera = False
        if self.camera is not None:
            self.camera.disarm()

    def on_auto_photo(self, photo) -> None:  # type: ignore[no-untyped-def]
        """An automatic capture: taken into review only for the right person (the guard decides)."""
        self._armed_in_camera = False  # the camera disarms itself after firing
        if self.desk.state is not State.PHOTO or self.saving or self.blocked is not None:
            return
        try:
            self.desk.photo_taken(photo, auto=True, frame_time=photo.capture.frame_time, now=self.monotonic())
        except WorkflowError as error:
            if error.code != "stale_autocapture":
                self.message.emit(error.message, Level.WARN)
            self._sync_camera_arming()
            return
        self._photo_in_review()

    def capture_now(self, reason: str | None, on_refused: Callable[[Text], None]) -> None:
        """Space: the officer takes the photo now (and so vouches for the person in view)."""
        if self.desk.state is not State.PHOTO or self.saving or self.camera is None:
            return
        if self.blocked is not None:
            on_refused(self.blocked)
            return
        if self.camera.current is None:  # no live picture: never photograph the last frame seen
            on_refused(NO_PICTURE)
            return
        self.desk.presence.confirm(self.monotonic())
        self._sync_camera_arming()  # if the checks refuse now, auto-capture follows once they pass
        self._emit_step()

        def taken(photo) -> None:  # type: ignore[no-untyped-def]
            if self.desk.state is not State.PHOTO or self.saving:
                return
            try:
                self.desk.photo_taken(photo, reason, now=self.monotonic())
            except WorkflowError as error:
                on_refused(error.message)
                return
            self._photo_in_review()

        def refused(error: BaseException) -> None:
            officer = error if isinstance(error, OfficerError) else None
            code = officer.code if officer is not None else type(error).__name__
            log.info("manual capture refused: %s", code)
            guidance = self.camera.current if self.camera is not None else None
            if officer is not None and code == "no_frame":  # no picture since the key press
                on_refused(officer.message)
            elif guidance is not None and not guidance.conforms:
                on_refused(guidance.primary.text)  # the sentence to act on, never check names
            elif code == "reason_required":
                on_refused(Text("照片有提示项：请填写原因后再拍。", "The photo has warnings: give a reason."))
            else:
                on_refused(
                    Text(
                        "暂时无法拍照：请按提示调整后再试。",
                        "Cannot take the photo yet: follow the guidance.",
                    )
                )

        self.camera.capture_manual(reason, taken, refused)

    def _photo_in_review(self) -> None:
        self._disarm_camera()
        self.message.emit(
            Text("照片已生成：核对后按 Enter 保存。", "Photo taken: check it, then Enter saves it."),
            Level.INFO,
        )
        self._state_changed()

    # -- review and save --------------------------------------------------------------------------

    def retake(self) -> None:
        if self.saving:
            return
        try:
            self.desk.retake()
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return
        self._state_changed()

    def accept(self) -> None:
        """Save the reviewed capture (on the store lane when there is one); "saved" only after the commit."""
        if self.saving:
            return
        try:
            record = self.desk.prepare_record(self.operator)
        except WorkflowError as error:
            self.message.emit(error.message, Level.WARN)
            return
        self._capture_started = time.perf_counter()
        if self.ops is None:
            try:
                self.desk.sink.save(record)
            except Exception as error:
                self._save_failed(error)
                return
            self._saved(record)
            return
        self.saving = True
        self._emit_step()
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
        if self._capture_started is not None:
            self.timing.emit("capture_to_saved", time.perf_counter() - self._capture_started)
        self.message.emit(
            Text(
                f"已保存。回执号 {record.short_id}，考籍号待同步后发放。",
                f"Saved. Receipt {record.short_id}; the number follows sync.",
            ),
            Level.OK,
        )
        self._state_changed()
        self.queue_changed.emit()
        self.record_saved.emit(record.record_id)
        if self.pending_card is not None:  # a card read while saving: open it now
            self.switch_to_pending_card()

    def _save_failed(self, error: BaseException) -> None:
        """The store refused: keep the photo on screen, say so in a sentence, lose nothing."""
        self.saving = False
        log.warning("saving a capture failed: %s", getattr(error, "code", type(error).__name__))
        reason = error.sentence() if isinstance(error, OfficerError) else None
        text = Text("保存失败，照片仍在屏幕上，请重试。", "Saving failed; the photo is kept, try again.")
        if reason is not None:
            text = Text(f"{text.zh}{reason.zh}", f"{text.en} {reason.en}")
        self.message.emit(text, Level.ERROR)
        self._emit_step()

    def next_student(self) -> None:
        """Clear the desk for the next student (the window asks first when a photo is unsaved)."""
        if self.saving:
            return
        self.desk.reset()
        self.pending_card = None
        self._disarm_camera()
        self.identity_shown.emit(identity_rows(None, None), "")
        self.chip_photo.emit(None, None)
        self.refusal_shown.emit(None)
        self._state_changed()

    # -- helpers ---------------------------------------------------------------------------------

    def _state_changed(self) -> None:
        if self.desk.state is State.PHOTO:
            self._countdown.start()
        else:
            self._countdown.stop()
        self._sync_camera_arming()
        self.state_changed.emit(self.desk.state)
        self._emit_step()

    def _emit_step(self) -> None:
        self.step_changed.emit(self.step())


__all__ = ["MANUAL_SIGNOFF", "DeskController", "FieldRow", "Level"]
