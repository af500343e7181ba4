"""The questions the desk asks the officer, each answerable from the keyboard (a mixin of ``DeskWindow``).

Discarding an unsaved photo (Ctrl+N, a new card during review), the reason for a photo that warns,
the reason and confirmation of a recapture, and the unreadable-card sign-off. The dialog just opened
stays reachable as an attribute (``confirm_box``, ``switch_box``, ``reason_dialog``,
``recapture_dialog``, ``signoff_dialog``) for the tests that answer it.
"""

from __future__ import annotations

from collections.abc import Callable

from station.capture.workflow import State
from station.i18n import Text
from station.services.desk_controller import Level
from station.ui import dialogs


class DeskQuestions:
    """Needs ``controller``, ``camera``, ``capture_button``, ``focus_desk`` and ``_on_message``."""

    def next_student(self) -> None:
        if self.controller.state is not State.REVIEW:
            self.controller.next_student()
            return
        box = dialogs.ask(
            self, Text("照片尚未保存", "The photo is not saved"),
            Text("当前学生的照片尚未保存。放弃这张照片，转到下一位？", "The current photo is not saved. Discard it and move on?"),
            Text("放弃照片", "Discard"), Text("继续核对", "Keep reviewing"),
        )  # fmt: skip
        box.finished.connect(lambda _r: box.clickedButton() is box.yes and self.controller.next_student())
        self.confirm_box = box
        box.open()

    def _capture_now(self) -> None:
        if self.controller.state is not State.PHOTO:
            return
        guidance = self.camera.current
        if (
            guidance is not None
            and guidance.conforms
            and any(line.status == "warn" for line in guidance.checks)
        ):
            dialog = dialogs.ReasonDialog(
                Text("使用有提示项的照片", "Use a photo with warnings"),
                Text(f"照片有提示项：{guidance.primary.text.zh}\n如仍要使用，请填写原因：", f"The photo warns: {guidance.primary.text.en}\nGive the reason to use it anyway:"),
                Text("拍照", "Capture"), self,
            )  # fmt: skip
            dialog.accepted.connect(lambda: self._capture_with(dialog.text()))
            self.reason_dialog = dialog
            dialog.open()
            return
        self._capture_with(None)

    def _capture_with(self, reason: str | None) -> None:
        self.capture_button.setEnabled(False)  # the JPEG search runs in the background
        self.controller.capture_now(reason, self._capture_refused)

    def _capture_refused(self, text: Text) -> None:
        self.capture_button.setEnabled(self.controller.state is State.PHOTO)
        self._on_message(text, Level.WARN)

    # -- dialogs the controller asks for ----------------------------------------------------------

    def _ask_recapture(self, why: Text) -> None:
        dialog = dialogs.ReasonDialog(
            Text("重新采集", "Recapture"),
            Text(f"{why.zh}\n请填写重新采集的原因：", f"{why.en}\nReason for the recapture:"),
            Text("确认重新采集", "Confirm recapture"), self,
        )  # fmt: skip
        dialog.accepted.connect(lambda: self.controller.confirm_recapture(dialog.text()))
        dialog.rejected.connect(self.controller.cancel_recapture)
        self.recapture_dialog = dialog
        dialog.open()

    def _ask_switch(self, question: Text) -> None:
        box = dialogs.ask(
            self, Text("新的身份证", "A new card"), question,
            Text("放弃照片，采集新学生", "Discard and open the new student"), Text("继续当前学生", "Stay with this student"),
        )  # fmt: skip

        def answered(_result: int) -> None:
            if box.clickedButton() is box.yes:
                self.controller.switch_to_pending_card()
            else:
                self.controller.keep_current_student()

        box.finished.connect(answered)
        self.switch_box = box
        box.open()

    def open_without_card(self, student) -> None:  # type: ignore[no-untyped-def]
        def submit(last6: str, admin: str, password: str, done: Callable[[Text | None], None]) -> None:
            self.controller.open_without_card(student, last6, admin, password, done)

        dialog = dialogs.SignOffDialog(student, submit, self)
        dialog.accepted.connect(self.focus_desk)
        self.signoff_dialog = dialog
        dialog.open()
