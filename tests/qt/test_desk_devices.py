"""Devices failing mid-step, a slow store, and the window's public API -- all without losing anything."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from station.capture.workflow import State
from station.domain.students import StudentStatus
from station.i18n import Text
from station.services.camera_feed import SourceState
from station.services.card_feed import ReaderLink
from station.services.desk_controller import Level

K = Qt.Key


def test_an_unplugged_camera_is_a_state_never_a_frozen_preview_with_green_checks(desk):
    student = desk.students(StudentStatus.APPROVED)[0]
    desk.read_card(desk.chip_for(student))
    desk.camera_source.set_plugged(False)
    desk.wait(lambda: desk.services.camera.state is SourceState.LOST)
    desk.wait(lambda: desk.window.preview.image is None)
    assert "断开" in str(desk.window.preview.notice) and "USB" in str(desk.window.preview.notice)
    assert desk.window.guidance.details.count() == 0 and "✔" not in desk.window.guidance.instruction.text()
    assert "断开" in desk.window.status.camera.text()
    assert "摄像头没有画面" in desk.window.banner.text.text()
    desk.press(K.Key_Space)
    desk.wait(lambda: "无法拍照" in desk.window.messages.item(0).text())
    assert desk.controller.state is State.PHOTO and desk.controller.desk.photo is None
    desk.camera_source.set_plugged(True)  # plugged back in: it recovers by itself
    # ... and once a fresh frame has been analysed and passes, Space takes it.
    desk.wait(
        lambda: (
            desk.services.camera.state is SourceState.OPEN
            and desk.services.camera.current is not None
            and desk.services.camera.current.conforms
        )
    )
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)


def test_an_unplugged_reader_says_so_and_the_open_student_stays(desk):
    links: list[ReaderLink] = []
    desk.services.cards.link_changed.connect(links.append)
    desk.services.cards.start()  # the simulated reader: its first card is on it
    desk.wait(lambda: desk.controller.state is not State.WAITING_FOR_CARD)
    opened = desk.controller.desk.student
    assert "就绪" in desk.window.status.reader.text()
    desk.press(K.Key_F2)  # the card is still on the reader: lift it off first
    desk.wait(
        lambda: "拿开" in desk.window.messages.item(0).text() or "取下" in desk.window.messages.item(0).text()
    )
    desk.services.cards.stream.reader.set_plugged(False)
    desk.wait(lambda: ReaderLink.LOST in links)
    assert desk.controller.desk.student == opened  # nothing on screen is lost
    desk.wait(lambda: links[-1] is ReaderLink.READY)  # it reconnects without a restart


def test_the_event_loop_keeps_turning_while_a_save_is_slow(desk):
    student = desk.students(StudentStatus.APPROVED)[1]
    desk.capture_automatically(student)
    release = threading.Event()
    holding = threading.Event()

    def hold_the_database() -> None:
        with desk.app.database.write():  # another writer holds the store (a slow disk, a backup)
            holding.set()
            release.wait(10)

    blocker = threading.Thread(target=hold_the_database)
    blocker.start()
    holding.wait(5)
    try:
        desk.press(K.Key_Return)
        assert desk.controller.saving and "正在保存" in desk.window.banner.text.text()
        shown = desk.services.camera.displayed
        desk.wait(lambda: desk.services.camera.displayed >= shown + 15)  # the preview kept running
        assert desk.controller.state is State.REVIEW  # and "saved" was not claimed early
        desk.read_card(desk.chip_for(desk.students(StudentStatus.APPROVED)[2]))
        assert desk.controller.desk.student.student_id == student.student_id  # held, not switched
    finally:
        release.set()
        blocker.join()
    desk.wait_state(State.SAVED)


def test_the_administrations_hooks(desk):
    called = []
    action = desk.window.add_admin_action(Text("审计记录", "Audit"), "Ctrl+Shift+A", lambda: called.append(1))
    assert action in desk.window.admin_menu.actions()
    desk.press(K.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    desk.wait(lambda: called == [1])
    desk.window.show_notice(Text("记录已超过 3 天未同步", "Unsynced for 3 days"), Level.WARN)
    assert desk.window.notice.isVisible() and "3 天" in desk.window.notice.text()
    desk.window.clear_notice()
    assert not desk.window.notice.isVisible()
    desk.window.set_capture_blocked(Text("须管理员确认后继续采集", "An administrator must acknowledge"))
    assert "暂停采集" in desk.window.banner.text.text() and not desk.window.capture_button.isEnabled()
    student = desk.students(StudentStatus.APPROVED)[3]
    desk.read_card(desk.chip_for(student))
    assert desk.controller.state is State.WAITING_FOR_CARD
    assert "管理员确认" in desk.window.messages.item(0).text()
    desk.window.set_capture_blocked(None)
    desk.read_card(desk.chip_for(student))
    assert desk.controller.state is State.PHOTO


def test_keys_on_screen_and_the_status_bar(desk):
    desk.press(K.Key_F1)
    desk.wait(lambda: desk.window.keys_dialog.isVisible())
    text = " ".join(label.text() for label in desk.window.keys_dialog.findChildren(type(desk.window.notice)))
    for key in ("Space", "Enter", "Esc", "F2", "F3", "F5"):
        assert key in text
    desk.window.keys_dialog.close()
    status = desk.window.status
    assert "officer1" in status.officer.text() and "天" in status.deadline.text()
    assert "未注册本站" in status.registry.text()  # this test station has no registry
    for days, shown in ((5, "距截止 5 天"), (2, "距截止 2 天"), (1, "今天截止"), (0, "注册已截止")):
        status.set_days_left(days)
        assert shown in status.deadline.text(), days


def test_readable_at_1366_by_768(desk):
    window = desk.window
    assert window.width() <= 1366 and window.height() <= 768
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768
    for widget in (window.banner, window.preview, window.student, window.queue.table, window.status):
        assert widget.isVisible() and widget.width() > 0 and widget.height() > 0
        corner = widget.mapTo(window, widget.rect().bottomRight())
        assert corner.x() <= window.width() and corner.y() <= window.height()
    assert window.preview.width() >= 400 and window.student.width() >= 280
    assert QApplication.instance() is not None


def test_the_event_loop_keeps_turning_while_the_reader_does_not_answer(qtbot, station_home):
    from tests.qt.desk import close_desk, open_desk

    # A reader that goes silent: every exchange waits out its whole timeout on the reader's thread.
    desk = open_desk(qtbot, station_home, reader="sim:count=3,fault=timeout")
    try:
        links: list[ReaderLink] = []
        desk.services.cards.link_changed.connect(links.append)
        desk.services.cards.start()
        shown = desk.services.camera.displayed
        desk.wait(lambda: desk.services.camera.displayed >= shown + 30)  # about a second of preview
        assert desk.controller.state is State.WAITING_FOR_CARD
        desk.wait(lambda: ReaderLink.LOST in links, timeout=30_000)  # then it says the reader is silent
        assert "读卡器" in desk.window.messages.item(0).text()
    finally:
        close_desk(desk)
