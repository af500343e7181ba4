"""The desk's dialogs, each usable from the keyboard alone (Enter confirms, Esc cancels).

* ``ReasonDialog`` -- a reason the record keeps: a recapture, a photo used despite warnings;
* ``SignOffDialog`` -- the unreadable-card path: the last six digits as printed on the card and a
  county administrator's user name and password; it stays open with the reason when refused;
* ``KeysDialog`` -- F1: the key list on screen;
* ``ask`` -- a yes/no question whose default answer is the safe one (keep what is on screen).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from station.domain.students import Student
from station.i18n import Text
from station.ui.queue_model import masked_id
from station.ui.theme import RED

KEYS = (
    (
        "空格 Space",
        Text("立即拍照（确认镜头前是本人）", "Take the photo now (you vouch for the person in view)"),
    ),
    (
        "Enter",
        Text(
            "保存核对无误的照片；在名单中：打开所选学生（证件无法读取时）",
            "Save the reviewed photo; in the queue: open the student (unreadable card)",
        ),
    ),
    ("Esc", Text("重拍；取消当前学生；清空搜索", "Retake; cancel the student; clear the search")),
    ("F1", Text("显示本按键说明", "Show this key list")),
    ("F2", Text("重新读卡（先取下证件再放上）", "Read the card again (lift it off first)")),
    (
        "F3",
        Text(
            "搜索名单：姓名、身份证号或后六位、学校、班级",
            "Search the queue: name, ID number or last six digits, school, class",
        ),
    ),
    ("F5", Text("立即同步", "Sync now")),
    ("Ctrl+N", Text("下一位学生（未保存的照片会先询问）", "Next student (asks first if a photo is unsaved)")),
    ("Ctrl+Tab", Text("切换名单 / 今日记录", "Switch queue / today's records")),
)


def _buttons(dialog: QDialog, ok: Text | None = None) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    if ok is not None:
        box.button(QDialogButtonBox.StandardButton.Ok).setText(str(ok))
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class ReasonDialog(QDialog):
    """Asks for a reason; OK only with a reason typed."""

    def __init__(self, title: Text, question: Text, ok: Text, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(str(title))
        self.question = QLabel(str(question))
        self.question.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(str(Text("原因（必填）", "Reason (required)")))
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {RED}")
        self.box = _buttons(self, ok)
        self.box.accepted.disconnect()
        self.box.accepted.connect(self._ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(self.box)
        self.reason.setFocus()

    def _ok(self) -> None:
        if not self.reason.text().strip():
            self.error.setText(str(Text("请填写原因。", "Please give a reason.")))
            return
        self.accept()

    def text(self) -> str:
        return self.reason.text().strip()


class SignOffDialog(QDialog):
    """The unreadable-card path: check the digits, then a county administrator signs off."""

    def __init__(
        self,
        student: Student,
        submit: Callable[[str, str, str, Callable[[Text | None], None]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._submit = submit
        self.setWindowTitle(str(Text("证件无法读取：人工核验", "Unreadable card: manual check")))
        intro = QLabel(
            str(
                Text(
                    f"学生：{student.name}（{student.school_name} {student.class_no}班，证件号 {masked_id(student.national_id)}）\n"
                    "请核对学生本人与证件照片，输入证件上印的身份证号后六位，并由旗县管理员输入账号和密码签字。",
                    f"Student: {student.name} ({student.school_name}, class {student.class_no}, ID {masked_id(student.national_id)})\n"
                    "Compare the student with the card photo, type the last six digits printed on the card, and have a "
                    "county administrator sign off with their account.",
                )
            )
        )
        intro.setWordWrap(True)
        self.last6 = QLineEdit()
        self.last6.setMaxLength(6)
        self.admin = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {RED}")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow(str(Text("身份证号后六位", "Last six digits")), self.last6)
        form.addRow(str(Text("管理员用户名", "Administrator")), self.admin)
        form.addRow(str(Text("管理员密码", "Password")), self.password)
        self.box = _buttons(self, Text("签字并开始采集", "Sign off and capture"))
        self.box.accepted.disconnect()
        self.box.accepted.connect(self._ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.box)
        self.last6.setFocus()

    def _ok(self) -> None:
        self.error.setText(str(Text("正在核验…", "Checking…")))
        self.box.setEnabled(False)
        password = self.password.text()
        self.password.clear()  # a password never stays in a field
        self._submit(self.last6.text(), self.admin.text(), password, self._answered)

    def _answered(self, problem: Text | None) -> None:
        self.box.setEnabled(True)
        if problem is None:
            self.accept()
            return
        self.error.setText(str(problem))
        self.password.setFocus()


class KeysDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(str(Text("按键说明", "Keys")))
        form = QFormLayout(self)
        for key, meaning in KEYS:
            label = QLabel(f"<b>{key}</b>")
            label.setTextFormat(Qt.TextFormat.RichText)
            form.addRow(label, QLabel(str(meaning)))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        form.addRow(close)


def ask(parent: QWidget, title: Text, question: Text, yes: Text, no: Text) -> QMessageBox:
    """A question whose default (Enter) and Esc answer is ``no``: keep what is on screen.

    Y picks ``yes``, N picks ``no`` (the letters are shown on the buttons).
    """
    box = QMessageBox(QMessageBox.Icon.Question, str(title), str(question), parent=parent)
    box.yes = box.addButton(f"{yes} (Y)", QMessageBox.ButtonRole.DestructiveRole)  # type: ignore[attr-defined]
    box.no = box.addButton(f"{no} (N)", QMessageBox.ButtonRole.RejectRole)  # type: ignore[attr-defined]
    box.yes.setShortcut(QKeySequence("Y"))  # type: ignore[attr-defined]
    box.no.setShortcut(QKeySequence("N"))  # type: ignore[attr-defined]
    box.setDefaultButton(box.no)  # type: ignore[attr-defined]
    box.setEscapeButton(box.no)  # type: ignore[attr-defined]
    return box
