"""The administration in the desk window: its menu entries, the unsynced-too-long warning and stop,
and the county administrator's acknowledgement that lets capturing go on.

``attach_administration`` is the one call the desk makes. It uses the desk window's public API
(``add_admin_action``, ``show_notice``/``clear_notice``, ``set_capture_blocked``) and, on a window
without it, the menu bar and the message list, stopping the desk (a modal acknowledgement) where it
cannot block capture alone. The administrator's window opens for a county administrator: the one
logged in, or one who signs in at an officer's desk without logging the officer out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from station.admin.backlog import acknowledge, backlog
from station.admin.common import COUNTY_ADMIN, require_admin
from station.domain.unsynced import Backlog, UnsyncedState
from station.errors import OfficerError
from station.i18n import Text
from station.services.camera_feed import SourceState, state_message
from station.services.checkitems import Status
from station.services.desk_controller import Level
from station.services.tasks import Lane
from station.ui.admin.selfcheck import SelfCheckPanel
from station.ui.admin.widgets import MessageLine
from station.ui.admin.window import AdminWindow

CHECK_EVERY_MS = 5 * 60 * 1000
ACKNOWLEDGED_FOR_S = 8 * 3600  # one working day; the warning stays on the desk meanwhile


class AdminSignIn(QDialog):
    """A county administrator's name and password, checked by ``submit(username, password)`` on the
    store lane; the dialog stays open with the reason when they are refused."""

    def __init__(
        self, title: Text, explanation: Text, submit: Callable[[str, str], object], ops, parent=None
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setWindowTitle(str(title))
        self._submit, self._ops = submit, ops
        self.result_value: object = None
        self.username, self.password = QLineEdit(), QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = MessageLine()
        explanation_label = QLabel(str(explanation))
        explanation_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow(str(Text("旗县管理员用户名", "County administrator")), self.username)
        form.addRow(str(Text("密码", "Password")), self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.try_submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation_label)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def try_submit(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        self.password.clear()
        self.buttons.setEnabled(False)

        def accepted(value: object) -> None:
            self.result_value = value
            self.accept()

        def refused(error: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.message.failed(error)

        self._ops.run(lambda: self._submit(username, password), lane=Lane.STORE, on_success=accepted,
                      on_failure=refused, label="administrator sign-in")  # fmt: skip


class Administration(QObject):
    """What the administration adds to one desk window for the officer logged in."""

    def __init__(self, window, app, services, operator: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(window)
        self.window, self.app, self.services, self.operator = window, app, services, operator
        self.ops = services.ops
        self.admin_window: AdminWindow | None = None
        self.dialog: QDialog | None = None
        self.state = UnsyncedState(Backlog.OK, 0.0)
        self.acknowledged: tuple[str, float] | None = None  # (administrator, monotonic time)
        self.blocked = False
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check)
        self._add_action(Text("管理窗口…", "Administration…"), "Ctrl+Shift+A", self.open_admin)
        self._add_action(Text("自检…", "Self-check…"), None, self.open_selfcheck)
        self._add_action(
            Text("管理员确认继续采集…", "Administrator: capture on…"), None, self.ask_acknowledgement
        )
        sync = getattr(services, "sync", None)
        if sync is not None:
            sync.report_ready.connect(lambda _report: self.check())
        idle = getattr(window, "idle", None)
        if idle is not None:
            idle.idle.connect(self._close_dialogs)  # a locked desk shows nothing personal, anywhere

    def start(self) -> None:
        self._timer.start()
        self.check()

    # -- the desk window's API, or what an older window offers ---------------------------------

    def _add_action(self, text: Text, shortcut: str | None, callback: Callable[[], None]) -> None:
        if hasattr(self.window, "add_admin_action"):
            self.window.add_admin_action(text, shortcut, callback)
            return
        menu = getattr(self, "_menu", None) or self.window.menuBar().addMenu(
            str(Text("管理", "Administration"))
        )
        self._menu = menu
        action = menu.addAction(str(text))
        if shortcut:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: callback())

    def _notice(self, text: Text | None, level: Level = Level.WARN) -> None:
        if hasattr(self.window, "show_notice"):
            if text is None:
                self.window.clear_notice()
            else:
                self.window.show_notice(text, level)
        elif text is not None:
            self.window._on_message(text, level)

    def _block(self, reason: Text | None) -> None:
        self.blocked = reason is not None
        if hasattr(self.window, "set_capture_blocked"):
            self.window.set_capture_blocked(reason)

    # -- the unsynced backlog --------------------------------------------------------------------

    def check(self) -> None:
        self.ops.run(lambda: backlog(self.app), lane=Lane.WORK, on_success=self.apply, label="unsynced check")

    def _acknowledged(self) -> str | None:
        if self.acknowledged is None or time.monotonic() - self.acknowledged[1] > ACKNOWLEDGED_FOR_S:
            return None
        return self.acknowledged[0]

    def apply(self, state: UnsyncedState) -> None:
        self.state = state
        if state.level is Backlog.OK:
            self.acknowledged = None
            self._notice(None)
            if self.blocked:
                self._block(None)
            return
        notice = state.notice()
        if state.level is Backlog.WARN:
            self._notice(notice, Level.WARN)
            if self.blocked:
                self._block(None)
            return
        admin = self._acknowledged()
        if admin is not None:
            self._notice(
                Text(
                    f"{notice.zh}（旗县管理员 {admin} 已确认继续采集，请尽快恢复同步。）",
                    f"{notice.en} (County administrator {admin} let capturing go on: restore sync soon.)",
                ),
                Level.WARN,
            )
            if self.blocked:
                self._block(None)
            return
        self._notice(notice, Level.ERROR)
        if not self.blocked:
            self._block(notice)
            self.ask_acknowledgement()

    def ask_acknowledgement(self) -> None:
        if (
            self.state.level is not Backlog.BLOCK
            or self._acknowledged() is not None
            or self.dialog is not None
        ):
            return
        state = self.state
        dialog = AdminSignIn(
            Text("旗县管理员确认", "County administrator's acknowledgement"),
            Text(
                f"{state.notice().zh}确认后本机可以继续采集，同时请尽快检查网络和登记中心。此确认记入审计日志。",
                f"{state.notice().en} Once acknowledged the desk captures on; restore the link soon. The "
                "acknowledgement is audited.",
            ),
            lambda username, password: acknowledge(
                self.app, username, password, state, at_desk_of=self.operator
            ),
            self.ops,
            self.window,
        )
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.acknowledged = (str(dialog.result_value), time.monotonic())
                self.apply(self.state)
            elif not hasattr(self.window, "set_capture_blocked"):
                self.window.close()  # an older desk cannot block capture: it stops instead

        dialog.finished.connect(finished)
        dialog.open()

    # -- the administrator's window and the self-check -------------------------------------------

    def _camera_probe(self, settings) -> tuple[Status, Text]:  # type: ignore[no-untyped-def]
        """The desk's own camera, read from its running preview (a second opening would fail)."""
        session = self.services.camera.session
        frame = session.latest_frame()
        if session.state is SourceState.OPEN and frame is not None:
            height, width = frame.image.shape[:2]
            spec = settings.station.camera
            return Status.OK, Text(
                f"{spec}：{width}×{height}（采集界面正在使用）",
                f"{spec}: {width}×{height} (in use by the desk)",
            )
        return Status.FAIL, state_message(session.state)

    def open_admin(self) -> None:
        operator = self.app.database.operators.get(self.operator)
        if operator is not None and operator.role == COUNTY_ADMIN and not operator.disabled:
            self._show_admin(self.operator)
            return

        def sign_in(username: str, password: str) -> str:
            signed = self.app.database.operators.verify(username, password)
            require_admin(self.app, signed.username)
            return signed.username

        dialog = AdminSignIn(
            Text("旗县管理员登录", "County administrator sign-in"),
            Text("管理窗口只对旗县管理员开放。采集员无需退出登录。", "Administration is for county administrators; "
                 "the officer stays logged in."),
            sign_in,
            self.ops,
            self.window,
        )  # fmt: skip

        def finished(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self._show_admin(str(dialog.result_value))

        dialog.finished.connect(finished)
        self.dialog = dialog
        dialog.open()

    def _show_admin(self, admin: str) -> None:
        self.dialog = None
        try:
            self.admin_window = AdminWindow(
                self.app,
                admin,
                self.ops,
                desk_camera=self.services.camera,
                camera_probe=self._camera_probe,
                on_settings_changed=self._settings_changed,
                parent=self.window,
            )
        except OfficerError as error:
            self._notice(error.message, Level.ERROR)
            return
        self.admin_window.open()

    def open_selfcheck(self) -> None:
        dialog = QDialog(self.window)
        dialog.setWindowTitle(str(Text("采集站自检", "Station self-check")))
        panel = SelfCheckPanel(self.app, self.operator, self.ops, camera_probe=self._camera_probe)
        panel.purge_button.setVisible(False)  # the purge is the administrator's (administration window)
        QVBoxLayout(dialog).addWidget(panel)
        dialog.resize(900, 560)
        self.dialog = dialog
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()
        panel.run()

    def _settings_changed(self, _change) -> None:  # type: ignore[no-untyped-def]
        idle = getattr(self.window, "idle", None)
        if idle is not None:
            idle.limit_s = self.app.config.idle_lock_minutes * 60
        self.check()  # the thresholds may have moved

    def _close_dialogs(self) -> None:
        for widget in (self.admin_window, self.dialog):
            if isinstance(widget, QWidget) and widget.isVisible():
                widget.reject()  # type: ignore[attr-defined]


def attach_administration(window, app, services, operator: str) -> Administration:  # type: ignore[no-untyped-def]
    """Give the desk ``window`` its administration; call once the window shows and the devices run."""
    administration = Administration(window, app, services, operator)
    administration.start()
    return administration
