"""The log-in dialog, also used to unlock the desk after it locked itself when idle."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from station.i18n import Text


class LoginDialog(QDialog):
    def __init__(
        self, authenticator, *, username: str | None = None, locked: bool = False, parent=None
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._authenticator = authenticator
        self.username: str | None = None
        self.setWindowTitle(
            str(Text("采集员登录", "Officer log-in") if not locked else Text("屏幕已锁定", "Screen locked"))
        )
        self.user_edit = QLineEdit(username or "")
        self.user_edit.setReadOnly(username is not None)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow(str(Text("用户名", "User name")), self.user_edit)
        form.addRow(str(Text("密码", "Password")), self.password_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if locked:
            layout.addWidget(
                QLabel(
                    str(
                        Text(
                            "长时间无操作，屏幕已锁定。请输入密码继续。",
                            "Locked after inactivity. Enter your password.",
                        )
                    )
                )
            )
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        (self.password_edit if username else self.user_edit).setFocus()

    def try_login(self) -> None:
        username, problem = self._authenticator.verify(self.user_edit.text(), self.password_edit.text())
        self.password_edit.clear()
        if username is None:
            self.error_label.setText(str(problem))
            return
        self.username = username
        self.accept()
