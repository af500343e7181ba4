"""The desk window: queue on the left, live preview and guidance in the middle, card and student on the right.

The officer's path is top to bottom on the right-hand side: card read → identity checked → photo →
review → save. Every message (refusals, guidance, save receipts) goes to the message list in plain
language; the buttons enable themselves from the workflow state, so a wrong step cannot be clicked.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from station.capture.workflow import State
from station.domain.students import STATUS_NAMES
from station.errors import OfficerError
from station.i18n import Text
from station.services.camera_feed import CameraFeed, SourceState, state_message
from station.services.desk_controller import DeskController, Level
from station.services.sync_runner import SyncRunner
from station.ui.idle_lock import IdleWatcher
from station.ui.login import LoginDialog
from station.ui.queue_model import QueueModel
from sync.protocol import codes

_LEVEL_COLOURS = {Level.OK: "#1b7f3b", Level.INFO: "#333333", Level.WARN: "#a86400", Level.ERROR: "#b00020"}
_CHECK_MARKS = {"pass": "✔", "warn": "!", "fail": "✘"}


class DeskWindow(QMainWindow):
    def __init__(
        self,
        controller: DeskController,
        camera: CameraFeed,
        sync: SyncRunner | None = None,
        *,
        authenticator=None,  # station.services.auth.Authenticator: enables the idle lock
        idle_limit_s: float | None = None,
    ) -> None:
        super().__init__()
        self.controller, self.camera = controller, camera
        self._sync_text = str(Text("未同步", "not synced"))
        config = controller.app.config
        county = codes.county(config.county_code6)
        self.setWindowTitle(str(Text("考籍注册采集站", "Exam-registration capture station")))
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self._county_text = f"{county.league_name_zh}{county.name_zh}" if county else config.county_code6

        self.queue_model = QueueModel()
        self.queue_view = QTableView()
        self.queue_view.setModel(self.queue_model)
        self.queue_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.queue_view.horizontalHeader().setStretchLastSection(True)

        self.preview = QLabel(str(Text("正在打开摄像头…", "Opening the camera…")))
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(480, 360)
        self.guidance = QListWidget()
        self.guidance.setObjectName("guidance")
        self.guidance.setWordWrap(True)

        self.card_labels = {
            key: QLabel("—") for key in ("name", "sex", "nation", "birth_date", "id_number", "valid")
        }
        self.student_labels = {key: QLabel("—") for key in ("school", "class", "language", "status")}
        self.photo_view = QLabel()
        self.photo_view.setFixedSize(180, 240)
        self.photo_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.messages = QListWidget()
        self.messages.setObjectName("messages")
        self.messages.setWordWrap(True)

        self.capture_button = QPushButton(str(Text("拍照", "Take photo")))
        self.retake_button = QPushButton(str(Text("重拍", "Retake")))
        self.save_button = QPushButton(str(Text("确认保存", "Save")))
        self.next_button = QPushButton(str(Text("下一位", "Next student")))
        self.capture_button.clicked.connect(self._manual_capture)
        self.retake_button.clicked.connect(controller.retake)
        self.save_button.clicked.connect(controller.accept)
        self.next_button.clicked.connect(self._next)

        self.setCentralWidget(self._layout())
        controller.state_changed.connect(self._on_state)
        controller.message.connect(self._on_message)
        controller.card_shown.connect(self._on_card)
        controller.student_shown.connect(self._on_student)
        controller.queue_changed.connect(self.refresh_queue)
        camera.frame_ready.connect(self._on_frame)
        camera.report_ready.connect(self._on_report)
        camera.state_changed.connect(self._on_camera_state)
        camera.photo_ready.connect(controller.on_photo)
        if sync is not None:
            sync.report_ready.connect(self._on_sync_report)
            sync.status.connect(self._on_sync_status)
        self._authenticator = authenticator
        self.idle: IdleWatcher | None = None
        self.lock_dialog: LoginDialog | None = None
        if authenticator is not None and idle_limit_s:
            self.idle = IdleWatcher(idle_limit_s, parent=self)
            QApplication.instance().installEventFilter(self.idle)
            self.idle.idle.connect(self.lock)
            self.idle.start()
        self.refresh_queue()
        self._on_state(controller.state)

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> QWidget:
        card_box = QGroupBox(str(Text("身份证", "ID card")))
        card_form = QFormLayout(card_box)
        for key, label in (
            ("name", Text("姓名", "Name")), ("sex", Text("性别", "Sex")), ("nation", Text("民族", "Ethnic group")),
            ("birth_date", Text("出生日期", "Born")), ("id_number", Text("证件号码", "ID number")),
            ("valid", Text("有效期", "Valid")),
        ):  # fmt: skip
            card_form.addRow(str(label), self.card_labels[key])
        student_box = QGroupBox(str(Text("预注册信息", "Pre-registration")))
        student_form = QFormLayout(student_box)
        for key, label in (
            ("school", Text("学校", "School")), ("class", Text("班级", "Class")),
            ("language", Text("教学语言", "Teaching language")), ("status", Text("状态", "Status")),
        ):  # fmt: skip
            student_form.addRow(str(label), self.student_labels[key])
        right = QVBoxLayout()
        right.addWidget(card_box)
        right.addWidget(student_box)
        right.addWidget(self.photo_view, alignment=Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        for button in (self.capture_button, self.retake_button, self.save_button, self.next_button):
            buttons.addWidget(button)
        right.addLayout(buttons)
        right.addWidget(self.messages, stretch=1)
        right_widget = QWidget()
        right_widget.setLayout(right)

        middle = QVBoxLayout()
        middle.addWidget(self.preview, stretch=3)
        middle.addWidget(self.guidance, stretch=2)
        middle_widget = QWidget()
        middle_widget.setLayout(middle)

        splitter = QSplitter()
        splitter.addWidget(self.queue_view)
        splitter.addWidget(middle_widget)
        splitter.addWidget(right_widget)
        splitter.setSizes([380, 560, 380])
        outer = QVBoxLayout()
        outer.addWidget(self.banner)
        outer.addWidget(splitter, stretch=1)
        root = QWidget()
        root.setLayout(outer)
        return root

    # -- slots --------------------------------------------------------------------------------

    def refresh_queue(self) -> None:
        students = self.controller.queue_rows()
        self.queue_model.set_students(students)
        config = self.controller.app.config
        self.banner.setText(
            f"{self._county_text} · {Text('采集站', 'station')} {config.station_id} · "
            f"{self.controller.deadline_notice()} · "
            f"{Text('待同步', 'awaiting sync')} {self.controller.pending_records()} · {self._sync_text}"
        )

    def _on_sync_report(self, report) -> None:
        from datetime import datetime

        when = datetime.now().strftime("%H:%M")
        if report.ok:
            self._sync_text = str(
                Text(
                    f"{when} 已同步：受理 {report.accepted + report.duplicates}，退回 {report.rejected}",
                    f"synced {when}: {report.accepted + report.duplicates} accepted, {report.rejected} rejected",
                )
            )
        elif report.offline:
            self._sync_text = str(Text(f"{when} 离线，稍后自动重试", f"{when} offline; retrying later"))
        else:
            self._sync_text = str(
                Text(
                    f"{when} 同步未完成：{report.error_code}", f"{when} sync incomplete: {report.error_code}"
                )
            )
        if report.rejected or report.conflicts:
            self._on_message(
                Text(
                    "有记录被登记中心退回，请在“记录状态”中查看原因。",
                    "The registry returned some records: see their reasons in the status.",
                ),
                Level.WARN,
            )
        self.refresh_queue()

    def lock(self) -> None:
        """Hide everything personal and ask the logged-in officer's password again."""
        self.centralWidget().setVisible(False)
        self.lock_dialog = LoginDialog(
            self._authenticator, username=self.controller.operator, locked=True, parent=self
        )
        self.lock_dialog.finished.connect(self._lock_finished)
        self.lock_dialog.open()

    def _lock_finished(self, result: int) -> None:
        if result != LoginDialog.DialogCode.Accepted:
            self.close()  # leaving the lock screen without the password logs the officer out
            return
        self.centralWidget().setVisible(True)
        if self.idle is not None:
            self.idle.unlocked()

    def _on_sync_status(self, text: Text) -> None:
        self._sync_text = str(text)
        self.refresh_queue()

    def _on_state(self, current: State) -> None:
        self.capture_button.setEnabled(current is State.PHOTO)
        self.retake_button.setEnabled(current is State.REVIEW)
        self.save_button.setEnabled(current is State.REVIEW)
        self.next_button.setEnabled(current in (State.SAVED, State.REFUSED, State.REVIEW, State.PHOTO))
        if current is State.PHOTO:
            self.camera.rearm()
            self.photo_view.clear()
        if current is State.REVIEW and self.controller.desk.photo is not None:
            pixmap = QPixmap()
            pixmap.loadFromData(self.controller.desk.photo.jpeg_bytes, "JPEG")
            self.photo_view.setPixmap(
                pixmap.scaled(self.photo_view.size(), Qt.AspectRatioMode.KeepAspectRatio)
            )
        if current in (State.WAITING_FOR_CARD, State.REFUSED):
            self.photo_view.clear()

    def show_error(self, error: OfficerError) -> None:
        """A background operation failed for a known reason: its sentence, with what to do."""
        self._on_message(error.sentence(), Level.ERROR)

    def _on_message(self, text: Text, level: Level) -> None:
        item = QListWidgetItem(str(text))
        item.setForeground(QColor(_LEVEL_COLOURS.get(level, "#333333")))
        self.messages.insertItem(0, item)
        while self.messages.count() > 200:
            self.messages.takeItem(self.messages.count() - 1)

    def _on_card(self, chip) -> None:
        if chip is None:
            for label in self.card_labels.values():
                label.setText("—")
            return
        self.card_labels["name"].setText(chip.name)
        self.card_labels["sex"].setText(codes.sexes().get(chip.sex, chip.sex))
        self.card_labels["nation"].setText(codes.ethnic_groups().get(chip.nation or "", "—"))
        self.card_labels["birth_date"].setText(chip.birth_date.isoformat())
        self.card_labels["id_number"].setText(chip.id_number)
        until = chip.valid_until.isoformat() if chip.valid_until else "长期"
        self.card_labels["valid"].setText(f"{chip.valid_from.isoformat()} – {until}")

    def _on_student(self, student) -> None:
        if student is None:
            for label in self.student_labels.values():
                label.setText("—")
            return
        self.student_labels["school"].setText(student.school_name)
        self.student_labels["class"].setText(student.class_no)
        self.student_labels["language"].setText(str(student.teaching_language))
        self.student_labels["status"].setText(str(STATUS_NAMES.get(student.status, student.status)))

    def _on_frame(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        self.preview.setPixmap(pixmap)

    def _on_report(self, report) -> None:
        self.guidance.clear()
        for check in sorted(report.checks, key=lambda c: {"fail": 0, "warn": 1}.get(c.status, 2)):
            item = QListWidgetItem(f"{_CHECK_MARKS.get(check.status, '?')} {check.message}")
            item.setForeground(QColor({"fail": "#b00020", "warn": "#a86400"}.get(check.status, "#1b7f3b")))
            self.guidance.addItem(item)

    def _on_camera_state(self, state: SourceState) -> None:
        self._on_message(state_message(state), Level.INFO if state is SourceState.OPEN else Level.WARN)

    def _manual_capture(self) -> None:
        reason = None
        report = self.camera.latest_report()
        if report is not None and report.ok and report.warnings():
            reason, accepted = QInputDialog.getText(
                self, str(Text("使用有提示项的照片", "Use a photo with warnings")),
                str(Text("请填写原因：", "Reason:")),
            )  # fmt: skip
            if not accepted or not reason.strip():
                return
        self.capture_button.setEnabled(False)  # the JPEG search runs in the background
        self.camera.capture_manual(
            reason,
            lambda photo: self.controller.on_photo(photo, reason),
            self._manual_refused,
        )

    def _manual_refused(self, error: BaseException) -> None:
        self.capture_button.setEnabled(self.controller.state is State.PHOTO)
        if isinstance(error, OfficerError):
            self._on_message(error.message, Level.WARN)

    def _next(self) -> None:
        self.controller.next_student()
        self.refresh_queue()
