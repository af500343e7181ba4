"""The desk window: one screen that says what to do, worked from the keyboard all day.

Top to bottom: the current-step banner (the largest text on screen), a notice bar for the
administration's notices, then three columns -- the queue and today's records (left), the live
preview with its face guide and the one photo instruction, or the review, or a refusal panel
(middle), the student side by side and the desk's messages (right) -- and the status bar.

Keys (also in the README and under F1): Space capture now · Enter save (in the queue: open the
student without a readable card) · Esc retake / cancel / clear · F2 re-read · F3 search · F5 sync
now · F1 keys · Ctrl+N next student · Ctrl+Tab queue / records. Buttons never take the keyboard
focus, so Space and Enter always mean the desk's own actions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station.capture.presence import Presence
from station.capture.workflow import State
from station.domain import rules
from station.errors import OfficerError
from station.i18n import Text
from station.services.camera_feed import CameraFeed, LiveGuidance, SourceState, state_message
from station.services.card_feed import READER_FIX, ReaderLink
from station.services.desk_controller import DeskController, Level
from station.services.sync_runner import SyncRunner
from station.ui import dialogs
from station.ui.desk_questions import DeskQuestions
from station.ui.idle_lock import IdleWatcher
from station.ui.login import LoginDialog
from station.ui.panels import CHIP_PHOTO_SIZE, GuidancePanel, RefusalPanel, ReviewPanel, StudentPanel
from station.ui.preview import PhotoView, PreviewView
from station.ui.queue_panel import QueuePanel
from station.ui.records_panel import RecordsView, line_for
from station.ui.status_bar import DeskStatusBar
from station.ui.step_banner import StepBanner
from station.ui.theme import STYLESHEET

_LEVEL_COLOURS = {Level.OK: "#1b7f3b", Level.INFO: "#333333", Level.WARN: "#a35f00", Level.ERROR: "#b00020"}
_NOTICE_BACKGROUNDS = {
    Level.OK: "#e6f4ea",
    Level.INFO: "#e8f0fe",
    Level.WARN: "#fef7e0",
    Level.ERROR: "#fce8e6",
}
LIVE, REVIEW, REFUSAL = 0, 1, 2
STATUS_REFRESH_MS = 5000


class DeskWindow(DeskQuestions, QMainWindow):
    """The capture desk.

    Public API for the administration (kept stable; other windows plug in through it):

    * ``admin_menu`` -- the "管理" QMenu; ``add_admin_action(text, shortcut, callback) -> QAction``
      adds an entry (``shortcut`` a ``QKeySequence`` string such as ``"Ctrl+Shift+A"`` or None);
    * ``show_notice(text, level)`` -- a prominent notice under the step banner (not a refusal) until
      ``clear_notice()`` or the next notice; ``level`` is ``station.services.desk_controller.Level``;
    * ``set_capture_blocked(reason)`` -- capture disabled with ``reason`` in the banner until
      ``set_capture_blocked(None)``; a student already open is kept, nothing is discarded;
    * ``show_error(error)`` -- a background operation's ``OfficerError`` as a sentence.
    """

    def __init__(
        self,
        controller: DeskController,
        camera: CameraFeed,
        sync: SyncRunner | None = None,
        *,
        cards=None,  # type: ignore[no-untyped-def]  # station.services.card_feed.CardFeed (F2, reader state)
        authenticator=None,  # type: ignore[no-untyped-def]  # enables the idle lock
        idle_limit_s: float | None = None,
    ) -> None:
        super().__init__()
        self.controller, self.camera, self.sync, self.cards = controller, camera, sync, cards
        self._camera_was_open = False
        self.setWindowTitle(str(Text("考籍注册采集站", "Exam-registration capture station")))
        self.setStyleSheet(STYLESHEET)
        self._build()
        self._connect()
        self._authenticator = authenticator
        self.idle: IdleWatcher | None = None
        self.lock_dialog: LoginDialog | None = None
        if authenticator is not None and idle_limit_s:
            self.idle = IdleWatcher(idle_limit_s, parent=self)
            QApplication.instance().installEventFilter(self.idle)
            self.idle.idle.connect(self.lock)
            self.idle.start()
        self.status.set_officer(controller.operator)
        self.status.set_days_left(controller.days_left())
        self.refresh_queue()
        self.refresh_records()
        self.refresh_status()
        self._on_state(controller.state)
        self.banner.show_step(controller.step())

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = StepBanner()
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.queue = QueuePanel()
        self.records = RecordsView()
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(self.queue, str(Text("待采集名单", "Queue")))
        self.tabs.addTab(self.records, str(Text("今日记录", "Today's records")))

        self.preview = PreviewView()
        self.preview.set_guide(self.camera.face_guide())
        self.preview.on_resized = lambda width: setattr(self.camera, "display_width", width)
        self.chip_live = PhotoView(Text("芯片照片", "Chip photo"), CHIP_PHOTO_SIZE)
        self.chip_live.setVisible(self.controller.chip_decoder is not None)
        self.guidance = GuidancePanel()
        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(0, 0, 0, 0)
        picture = QHBoxLayout()
        picture.addWidget(self.preview, stretch=1)
        picture.addWidget(self.chip_live, alignment=Qt.AlignmentFlag.AlignTop)
        live_layout.addLayout(picture, stretch=1)
        live_layout.addWidget(self.guidance)
        self.review = ReviewPanel()
        self.refusal = RefusalPanel()
        self.centre = QStackedWidget()
        for page in (live, self.review, self.refusal):
            self.centre.addWidget(page)

        self.student = StudentPanel()
        self.messages = QListWidget()
        self.messages.setObjectName("messages")
        self.messages.setWordWrap(True)
        self.messages.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.capture_button = self._button(Text("拍照 (空格)", "Capture (Space)"), self._capture_now)
        self.save_button = self._button(Text("保存 (Enter)", "Save (Enter)"), self.controller.accept)
        self.retake_button = self._button(Text("重拍 (Esc)", "Retake (Esc)"), self.controller.retake)
        self.next_button = self._button(Text("下一位 (Ctrl+N)", "Next (Ctrl+N)"), self.next_student)
        buttons = QHBoxLayout()
        for button in (self.capture_button, self.save_button, self.retake_button, self.next_button):
            buttons.addWidget(button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.student)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.messages, stretch=1)

        splitter = QSplitter()
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.centre)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 620, 320])
        root = QWidget()
        root.setObjectName("desk")
        root.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        outer = QVBoxLayout(root)
        outer.setContentsMargins(6, 6, 6, 0)
        outer.addWidget(self.banner)
        outer.addWidget(self.notice)
        outer.addWidget(splitter, stretch=1)
        self.setCentralWidget(root)
        self.status = DeskStatusBar()
        self.setStatusBar(self.status)
        self.admin_menu = QMenu(str(Text("管理", "Administration")), self)
        self.menuBar().addMenu(self.admin_menu)
        help_menu = self.menuBar().addMenu(str(Text("帮助", "Help")))
        help_menu.addAction(str(Text("按键说明 (F1)", "Keys (F1)")), self.show_keys)

    def _button(self, text: Text, action: Callable[[], None]) -> QPushButton:
        button = QPushButton(str(text))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space/Enter are the desk's, never a button's
        button.clicked.connect(action)
        return button

    def _connect(self) -> None:
        c = self.controller
        c.state_changed.connect(self._on_state)
        c.step_changed.connect(self._on_step)
        c.message.connect(self._on_message)
        c.identity_shown.connect(self.student.show_rows)
        c.chip_photo.connect(self._on_chip_photo)
        c.refusal_shown.connect(self._on_refusal)
        c.recapture_asked.connect(self._ask_recapture)
        c.switch_asked.connect(self._ask_switch)
        c.queue_changed.connect(self.refresh_queue)
        c.record_saved.connect(lambda _id: (self.refresh_records(), self.refresh_status()))
        self.camera.frame_ready.connect(self._on_frame)
        self.camera.guidance_ready.connect(self._on_guidance)
        self.camera.guidance_lost.connect(self._on_guidance_lost)
        self.camera.state_changed.connect(self._on_camera_state)
        self.queue.open_requested.connect(self.open_without_card)
        self.queue.done.connect(self.focus_desk)
        if self.sync is not None:
            self.sync.report_ready.connect(self._on_sync_report)
            self.sync.status.connect(lambda text: self._on_message(text, Level.WARN))
            self.sync.link_changed.connect(lambda _link: self._show_registry())
        if self.cards is not None:
            self.cards.link_changed.connect(self._on_reader_link)
        for key, action in (
            ("F1", self.show_keys), ("F2", self.reread), ("F3", self.focus_search), ("F5", self.sync_now),
            ("Ctrl+N", self.next_student), ("Ctrl+Tab", self.switch_tab),
        ):  # fmt: skip
            QShortcut(QKeySequence(key), self, activated=action)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()

    # -- the public API (administration) --------------------------------------------------------

    def add_admin_action(self, text: Text, shortcut: str | None, callback: Callable[[], None]) -> QAction:
        action = self.admin_menu.addAction(str(text))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: callback())
        return action

    def show_notice(self, text: Text, level: Level) -> None:
        self.notice.setText(str(text))
        colour, background = _LEVEL_COLOURS[level], _NOTICE_BACKGROUNDS[level]
        self.notice.setStyleSheet(
            f"QLabel#notice {{ color: {colour}; background: {background}; border: 2px solid {colour};"
            " border-radius: 4px; padding: 6px; font-size: 13pt; font-weight: bold; }"
        )
        self.notice.setVisible(True)

    def clear_notice(self) -> None:
        self.notice.clear()
        self.notice.setVisible(False)

    def set_capture_blocked(self, reason: Text | None) -> None:
        self.controller.set_blocked(reason)
        self._on_state(self.controller.state)

    def show_error(self, error: OfficerError) -> None:
        """A background operation failed for a known reason: its sentence, with what to do."""
        self._on_message(error.sentence(), Level.ERROR)

    # -- keys --------------------------------------------------------------------------------------

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        key, state = event.key(), self.controller.state
        if key == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self._capture_now()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if state is State.REVIEW:
                self.controller.accept()
        elif key == Qt.Key.Key_Escape:
            if state is State.REVIEW:
                self.controller.retake()
            elif state is not State.WAITING_FOR_CARD:
                self.controller.next_student()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focus_desk(self) -> None:
        self.centralWidget().setFocus()

    def focus_search(self) -> None:
        self.tabs.setCurrentWidget(self.queue)
        self.queue.focus_search()

    def switch_tab(self) -> None:
        self.tabs.setCurrentIndex(1 - self.tabs.currentIndex())

    def show_keys(self) -> None:
        self.keys_dialog = dialogs.KeysDialog(self)
        self.keys_dialog.open()

    def reread(self) -> None:
        if self.cards is not None:
            self.controller.reread(self.cards)

    def sync_now(self) -> None:
        if self.sync is not None and self.sync.sync_now():
            self._on_message(Text("正在同步…", "Syncing…"), Level.INFO)

    # -- what the services say ---------------------------------------------------------------------

    def _on_state(self, current: State) -> None:
        blocked = self.controller.blocked is not None
        self.capture_button.setEnabled(current is State.PHOTO and not blocked)
        self.retake_button.setEnabled(current is State.REVIEW)
        self.save_button.setEnabled(current is State.REVIEW)
        self.next_button.setEnabled(current is not State.WAITING_FOR_CARD)
        if current is State.REVIEW and self.controller.desk.photo is not None:
            self.review.captured.show_bytes(self.controller.desk.photo.jpeg_bytes)
            self.centre.setCurrentIndex(REVIEW)
        elif current is State.REFUSED:
            self.centre.setCurrentIndex(REFUSAL)
        else:
            self.centre.setCurrentIndex(LIVE)
        student = self.controller.desk.student
        self.queue.set_current(
            student.student_id if student and current is not State.WAITING_FOR_CARD else None
        )
        if current in (State.PHOTO, State.REVIEW, State.WAITING_FOR_CARD):
            self.focus_desk()

    def _on_step(self, step) -> None:  # type: ignore[no-untyped-def]
        self.banner.show_step(step)
        countdown = self.controller.desk.presence.remaining(self.controller.monotonic())
        settling = self.controller.presence is Presence.SETTLING and self.controller.state is State.PHOTO
        self.preview.set_countdown(max(1, round(countdown)) if settling and countdown is not None else None)

    def _on_message(self, text: Text, level: Level) -> None:
        item = QListWidgetItem(f"{datetime.now(rules.CHINA_STANDARD_TIME):%H:%M} {text}")
        item.setForeground(QColor(_LEVEL_COLOURS.get(level, "#333333")))
        self.messages.insertItem(0, item)
        while self.messages.count() > 100:
            self.messages.takeItem(self.messages.count() - 1)

    def _on_chip_photo(self, bmp, missing) -> None:  # type: ignore[no-untyped-def]
        if bmp is not None:
            self.chip_live.setVisible(True)
        self.chip_live.show_bytes(bmp, missing)
        self.review.show_chip(bmp, missing)

    def _on_refusal(self, refusal) -> None:  # type: ignore[no-untyped-def]
        if refusal is not None:
            self.refusal.show_refusal(refusal)

    def _on_frame(self, image: QImage) -> None:
        self.preview.show_frame(image)

    def _on_guidance(self, guidance: LiveGuidance) -> None:
        self.guidance.show_guidance(guidance)
        self.preview.set_framing(guidance.framing_ok)

    def _on_guidance_lost(self) -> None:
        self.guidance.clear(Text("没有实时画面，无法检查照片。", "No live picture: nothing to check."))
        self.preview.set_framing(None)

    def _on_camera_state(self, state: SourceState) -> None:
        self.status.set_camera(state)
        if state is SourceState.CLOSED and not self._camera_was_open:
            return  # still starting: nothing to report
        self._camera_was_open = True
        if state is not SourceState.OPEN:
            notice = Text(
                f"{state_message(state).zh}\n请检查摄像头的 USB 线；插好后会自动恢复。",
                f"{state_message(state).en}\nCheck the camera's USB cable; it recovers by itself.",
            )
            self.preview.withdraw(notice)
            self._on_message(state_message(state), Level.WARN)
        else:
            self._on_message(state_message(state), Level.INFO)

    def _on_sync_report(self, report) -> None:  # type: ignore[no-untyped-def]
        if report.ok and report.accepted + report.duplicates:
            self._on_message(
                Text(f"同步完成：{report.accepted + report.duplicates} 条已注册。", f"Synced: {report.accepted + report.duplicates} registered."),
                Level.OK,
            )  # fmt: skip
        if report.rejected or report.conflicts:
            self._on_message(
                Text(
                    "有记录被登记中心退回：原因见“今日记录”。",
                    "The registry returned records: see today's records.",
                ),
                Level.WARN,
            )
        self.refresh_queue()
        self.refresh_records()
        self.refresh_status()

    def _on_reader_link(self, link: ReaderLink) -> None:
        problem = self.cards.last_problem if self.cards is not None else None
        self.status.set_reader(link, problem)
        if link is ReaderLink.LOST:  # missing at start or unplugged: say so, with the fix
            self._on_message(
                Text(f"读卡器未连接。{READER_FIX.zh}", f"The card reader is not connected. {READER_FIX.en}"),
                Level.ERROR,
            )
        elif link is ReaderLink.READY:
            self._on_message(Text("读卡器已就绪。", "The card reader is ready."), Level.INFO)

    def _show_registry(self) -> None:
        if self.sync is not None:
            self.status.set_registry(self.sync.link, self.sync.last_success, self.sync.last_problem)

    # -- refreshing from the store (off the GUI thread when there are background lanes) -------------

    def _read(self, op: Callable[[], object], done: Callable[[object], None]) -> None:
        ops = self.controller.ops
        if ops is None:
            done(op())
            return
        try:
            ops.run(op, on_success=done, label="desk read")
        except RuntimeError:  # shutting down
            pass

    def refresh_queue(self) -> None:
        def loaded(students) -> None:  # type: ignore[no-untyped-def]
            self.queue.set_students(students)
            self._on_state(self.controller.state)

        self._read(self.controller.queue_rows, loaded)

    def refresh_records(self) -> None:
        since = _today_start()
        app = self.controller.app

        def loaded(found) -> None:  # type: ignore[no-untyped-def]
            students = {s.student_id: s for s in self.queue.model._students}
            lines = [
                line_for(summary, result, students, _local_time(summary.captured_at))
                for summary, result in found
            ]
            self.records.model_.set_lines(lines)

        self._read(lambda: app.records_since(since), loaded)

    def refresh_status(self) -> None:
        self._read(self.controller.app.unsynced, lambda found: self.status.set_outbox(*found))  # type: ignore[misc]
        self.status.set_days_left(self.controller.days_left())
        self._show_registry()

    # -- idle lock ---------------------------------------------------------------------------------

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

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._status_timer.stop()
        super().closeEvent(event)


def _today_start() -> datetime:
    """Midnight today, China time: "today's records" follow the county's calendar, not the PC's zone."""
    today = rules.today_in_china()
    return datetime(today.year, today.month, today.day, tzinfo=rules.CHINA_STANDARD_TIME)


def _local_time(captured_at: str) -> str:
    try:
        return (
            datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
            .astimezone(rules.CHINA_STANDARD_TIME)
            .strftime("%H:%M")
        )
    except ValueError:
        return ""
