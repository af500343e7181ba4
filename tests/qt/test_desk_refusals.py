"""Refusals as a prominent panel in plain Chinese, and the unreadable-card path with a sign-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from station.capture.workflow import State
from station.domain.students import StudentStatus
from sync.protocol import synthetic
from tests.qt.desk import ADMIN, ADMIN_PASSWORD, OFFICER, OFFICER_PASSWORD

K = Qt.Key


def refused(desk, chip, code: str, title: str, next_step: str) -> None:  # type: ignore[no-untyped-def]
    desk.read_card(chip)
    assert desk.controller.state is State.REFUSED and desk.controller.desk.refusal_code == code
    panel = desk.window.refusal
    assert desk.window.centre.currentWidget() is panel and panel.isVisible()
    assert title in panel.title.text() and next_step in panel.next_step.text()
    on_screen = " ".join(label.text() for label in panel.findChildren(QLabel)) + desk.window.banner.text.text()
    assert code not in on_screen  # officers read sentences; the code goes to the log only
    assert not desk.window.capture_button.isEnabled()
    desk.press(K.Key_Space)  # nothing to photograph
    assert desk.controller.state is State.REFUSED and desk.controller.desk.photo is None
    desk.press(K.Key_Escape)
    assert desk.controller.state is State.WAITING_FOR_CARD


def test_each_refusal_says_why_and_what_the_student_must_do(desk):
    approved = desk.students(StudentStatus.APPROVED)
    stranger = synthetic.people(1, "150102", seed=99)[0]
    refused(
        desk,
        replace(desk.chip_for(approved[0]), id_number=stranger.id_number),
        "NOT_IN_QUEUE",
        "不在本旗县",
        "班主任审核",
    )
    for status, code, title in (
        (StudentStatus.PENDING, "NOT_APPROVED", "尚未审核通过"),
        (StudentStatus.CAPTURED_AT_ZHONGKAO, "CAPTURED_AT_ZHONGKAO", "中考时已采集"),
    ):
        students = desk.students(status)
        if students:
            refused(desk, desk.chip_for(students[0]), code, title, "")
    refused(
        desk,
        desk.chip_for(approved[1], valid_until=date(2020, 1, 1)),
        "CARD_EXPIRED",
        "身份证已过期",
        "换领新证",
    )


def test_a_mismatch_shows_the_differing_fields_side_by_side(desk):
    student = desk.students(StudentStatus.APPROVED)[2]
    chip = desk.chip_for(student, name="别的名字", sex="1" if student.sex == "2" else "2")
    refused(desk, chip, "CHIP_MISMATCH", "不符", "更正预注册")
    # Read again to look at the student panel while the refusal is shown.
    desk.read_card(chip)
    panel = desk.window.student
    assert panel.value("Name", 1) == "别的名字" and panel.value("Name", 2) == student.name
    assert panel.differs("Name") and panel.differs("Sex") and not panel.differs("Born")
    assert "姓名不一致" in desk.window.refusal.reasons.text()


def search_and_open(desk, student):  # type: ignore[no-untyped-def]
    desk.press(K.Key_F3)
    assert desk.window.queue.search.hasFocus() or desk.window.focusWidget() is desk.window.queue.search
    desk.type(student.national_id[-6:])
    assert [s.student_id for s in desk.window.queue.visible_students()] == [student.student_id]
    desk.press(K.Key_Down)  # into the result list
    desk.press(K.Key_Return)  # Enter on the row: the unreadable-card path
    dialog = desk.window.signoff_dialog
    desk.wait(dialog.isVisible)
    return dialog


def test_unreadable_card_lookup_by_last_six_digits_with_an_administrators_sign_off(desk):
    student = desk.students(StudentStatus.APPROVED)[3]
    dialog = search_and_open(desk, student)
    desk.type(student.national_id[-6:])
    desk.press(K.Key_Tab)
    desk.type(OFFICER)  # an officer cannot sign off
    desk.press(K.Key_Tab)
    desk.type(OFFICER_PASSWORD)
    desk.press(K.Key_Return)
    desk.wait(lambda: "管理员" in dialog.error.text())
    assert dialog.isVisible() and dialog.password.text() == ""
    dialog.admin.setFocus()
    dialog.admin.selectAll()
    desk.type(ADMIN)
    desk.press(K.Key_Tab)
    desk.type("wrong-password")
    desk.press(K.Key_Return)
    desk.wait(lambda: "密码" in dialog.error.text())
    desk.type(ADMIN_PASSWORD)
    desk.press(K.Key_Return)
    desk.wait_state(State.PHOTO)
    assert not dialog.isVisible()
    assert (
        desk.window.student.value("Name", 2) == student.name and desk.window.student.value("Name", 1) == "—"
    )
    signoffs = desk.app.database.audit.list(action="manual_signoff")
    assert len(signoffs) == 1 and signoffs[0].subject == student.student_id
    assert signoffs[0].detail["approved_by"] == ADMIN and signoffs[0].operator == OFFICER
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    record = desk.controller.desk.saved
    assert record.chip is None and record.manual.approved_by == ADMIN
    payload = record.payload()
    assert "chip" not in payload and payload["evidence"] == "manual"
    assert (
        payload["manual_approval"]["approved_by"] == ADMIN
        and payload["manual_approval"]["lookup"] == "id_last6"
    )
    assert desk.app.database.outbox.get(record.record_id).state == "pending"


def test_digits_that_do_not_match_the_chosen_student_are_refused(desk):
    student = desk.students(StudentStatus.APPROVED)[4]
    dialog = search_and_open(desk, student)
    desk.type("000000")
    desk.press(K.Key_Tab)
    desk.type(ADMIN)
    desk.press(K.Key_Tab)
    desk.type(ADMIN_PASSWORD)
    desk.press(K.Key_Return)
    desk.wait(lambda: "不符" in dialog.error.text())
    assert desk.controller.state is State.WAITING_FOR_CARD
    assert desk.app.database.audit.list(action="manual_signoff") == []
    desk.press(K.Key_Escape)
    desk.wait(lambda: not dialog.isVisible())


@pytest.mark.parametrize("typed", ["刘", "01"])
def test_search_as_you_type_by_name_or_class(desk, typed):
    desk.press(K.Key_F3)
    desk.type(typed)
    shown = desk.window.queue.visible_students()
    assert shown and all(typed in s.name or typed in s.class_no or typed in s.national_id for s in shown)
    desk.press(K.Key_Escape)  # clears the search and gives the keyboard back to the desk
    assert desk.window.queue.search.text() == ""
    assert len(desk.window.queue.visible_students()) == len(desk.students())
