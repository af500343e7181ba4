"""The desk driven by keys through its normal path, the wrong-person guard and the slips it forgives.

Real parts: the encrypted store, the simulated camera (a real face photograph with its quality
checks), the real window. Keys go where the keyboard focus is, as an officer's would.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from station.capture.presence import Presence
from station.capture.workflow import State
from station.domain.students import StudentStatus

K = Qt.Key


def test_a_student_captured_with_the_keyboard_alone(desk):
    student = desk.students(StudentStatus.APPROVED)[0]
    assert "身份证放在读卡器上" in desk.window.banner.text.text()
    desk.seat(False)
    desk.wait_face(False)
    assert "镜头前没有人" in desk.window.guidance.instruction.text()  # the cause, not "face the camera"
    desk.read_card(desk.chip_for(student))
    assert desk.controller.presence is Presence.WAIT_ARRIVE
    assert desk.window.student.value("Name", 1) == student.name == desk.window.student.value("Name", 2)
    assert desk.window.student.value("School", 2) == student.school_name
    assert desk.window.queue.model.current_student_id == student.student_id
    desk.seat(True)
    desk.wait(lambda: desk.controller.presence is Presence.SETTLING)
    assert "秒后自动拍照" in desk.window.banner.text.text()
    desk.wait_state(State.REVIEW)  # the guard armed and the camera took the photo by itself
    assert desk.window.review.captured.has_photo()
    assert "Enter" in desk.window.banner.text.text()
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    saved = desk.app.database.records.list(student_id=student.student_id)
    assert len(saved) == 1 and saved[0].state == "pending"
    assert "回执号" in desk.window.messages.item(0).text()
    desk.wait(lambda: desk.window.records.model_.rowCount() == 1)
    line = desk.window.records.model_.lines[0]
    assert line.name == student.name and line.state == "pending"
    desk.wait(lambda: any(s.student_id == student.student_id and s.status is StudentStatus.CAPTURED
                          for s in desk.window.queue.model._students))  # fmt: skip
    desk.wait(lambda: "待同步 1 条" in desk.window.status.outbox.text())
    desk.press(K.Key_Escape)
    assert desk.controller.state is State.WAITING_FOR_CARD


def test_the_face_seated_at_the_card_read_is_never_captured_automatically(desk):
    student = desk.students(StudentStatus.APPROVED)[1]
    desk.wait_face(True)  # the previous student is still in the chair
    desk.read_card(desk.chip_for(student))
    assert desk.controller.presence is Presence.WAIT_LEAVE
    assert "读卡前就已在座" in desk.window.banner.text.text()
    analysed = desk.services.camera.session.stats.analysed
    desk.wait(
        lambda: desk.services.camera.session.stats.analysed >= analysed + 8
    )  # well past the auto window
    assert desk.controller.state is State.PHOTO and desk.controller.presence is Presence.WAIT_LEAVE
    # They get up, the student sits down: now it arms and captures.
    desk.seat(False)
    desk.wait(lambda: desk.controller.presence is Presence.WAIT_ARRIVE)
    desk.seat(True)
    desk.wait_state(State.REVIEW)
    assert desk.controller.desk.photo.capture.mode == "auto"


def test_space_captures_at_once_when_the_officer_vouches_for_the_person(desk):
    student = desk.students(StudentStatus.APPROVED)[2]
    desk.wait_face(True)
    desk.read_card(desk.chip_for(student))
    assert desk.controller.presence is Presence.WAIT_LEAVE
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    assert desk.controller.desk.photo.capture.mode == "manual"
    desk.press(K.Key_Escape)  # retake
    assert desk.controller.state is State.PHOTO
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    desk.press(K.Key_Enter)
    desk.wait_state(State.SAVED)


def test_a_new_card_during_an_unsaved_review_asks_first(desk):
    first, second = desk.students(StudentStatus.APPROVED)[3:5]
    desk.capture_automatically(first)
    desk.read_card(desk.chip_for(second))
    box = desk.window.switch_box
    desk.wait(box.isVisible)
    desk.press(K.Key_Return)  # the default answer keeps the photo on screen
    desk.wait(lambda: not box.isVisible())
    assert (
        desk.controller.state is State.REVIEW and desk.controller.desk.student.student_id == first.student_id
    )
    desk.read_card(desk.chip_for(second))
    box = desk.window.switch_box
    desk.wait(box.isVisible)
    desk.press(K.Key_Y)  # discard and open the new student
    desk.wait(
        lambda: (
            desk.controller.desk.student is not None
            and desk.controller.desk.student.student_id == second.student_id
        )
    )
    assert desk.app.database.records.list(student_id=first.student_id) == []


def test_next_during_an_unsaved_review_asks_and_esc_keeps_the_photo(desk):
    student = desk.students(StudentStatus.APPROVED)[5]
    desk.capture_automatically(student)
    desk.press(K.Key_N, Qt.KeyboardModifier.ControlModifier)
    box = desk.window.confirm_box
    desk.wait(box.isVisible)
    desk.press(K.Key_Escape)
    desk.wait(lambda: not box.isVisible())
    assert desk.controller.state is State.REVIEW
    desk.press(K.Key_N, Qt.KeyboardModifier.ControlModifier)
    desk.wait(desk.window.confirm_box.isVisible)
    desk.press(K.Key_Y)
    desk.wait_state(State.WAITING_FOR_CARD)


def test_a_recapture_needs_a_reason_and_a_confirmation(desk):
    student = desk.students(StudentStatus.APPROVED)[6]
    desk.capture_automatically(student)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    first = desk.controller.desk.saved.record_id
    desk.read_card(desk.chip_for(student))
    assert desk.controller.state is State.CONFIRM_RECAPTURE
    dialog = desk.window.recapture_dialog
    desk.wait(dialog.isVisible)
    desk.press(K.Key_Return)  # no reason: refused, the dialog stays
    assert dialog.isVisible() and dialog.error.text()
    desk.type("第一次照片模糊")
    desk.press(K.Key_Return)
    desk.wait_state(State.PHOTO)
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    record = desk.controller.desk.saved
    assert record.supersedes == first and record.recapture_reason == "第一次照片模糊"


def test_cancelling_a_recapture_leaves_the_first_record_alone(desk):
    student = desk.students(StudentStatus.APPROVED)[7]
    desk.capture_automatically(student)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    desk.read_card(desk.chip_for(student))
    desk.wait(desk.window.recapture_dialog.isVisible)
    desk.press(K.Key_Escape)
    desk.wait_state(State.WAITING_FOR_CARD)
    assert len(desk.app.database.records.list(student_id=student.student_id)) == 1
