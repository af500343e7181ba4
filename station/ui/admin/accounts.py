"""The accounts panel: the station's officers, and adding, disabling, enabling, unlocking and
resetting the password of one, by the county administrator who opened the window."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from station.admin.accounts import Accounts, check_new_password, check_username
from station.admin.common import COUNTY_ADMIN, OFFICER, ROLE_NAMES
from station.errors import OfficerError
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.ui.admin.widgets import MessageLine, fill, selected_row, table


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class AccountDialog(QDialog):
    """A new officer (``new=True``) or a new password for one; checks its fields before accepting."""

    def __init__(self, *, new: bool, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            str(Text("添加账号", "Add an account") if new else Text("重置密码", "Reset password"))
        )
        self.username = QLineEdit(username)
        self.username.setReadOnly(not new)
        self.display_name = QLineEdit()
        self.role = QComboBox()
        for role in (OFFICER, COUNTY_ADMIN):
            self.role.addItem(str(ROLE_NAMES[role]), role)
        self.password, self.again = _password_field(), _password_field()
        self.message = MessageLine()
        form = QFormLayout()
        form.addRow(str(Text("用户名", "User name")), self.username)
        if new:
            form.addRow(str(Text("姓名", "Name")), self.display_name)
            form.addRow(str(Text("角色", "Role")), self.role)
        form.addRow(str(Text("密码（至少 8 位）", "Password (8+ characters)")), self.password)
        form.addRow(str(Text("再输入一次", "Again")), self.again)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def check_and_accept(self) -> None:
        try:
            check_username(self.username.text())
            check_new_password(self.password.text(), self.again.text())
        except OfficerError as error:
            self.message.say(error.message, "error")
            self.again.clear()
            return
        self.accept()


class AccountsPanel(QWidget):
    def __init__(self, app, acting: str, ops: BackgroundOps, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.accounts = Accounts(app, acting)
        self.ops = ops
        self.views: list = []
        self.table = table(
            [Text("用户名", "User"), Text("姓名", "Name"), Text("角色", "Role"), Text("状态", "State"),
             Text("上次登录", "Last log-in")]
        )  # fmt: skip
        self.message = MessageLine()
        self.add_button = QPushButton(str(Text("添加账号…", "Add…")))
        self.disable_button = QPushButton(str(Text("停用", "Disable")))
        self.enable_button = QPushButton(str(Text("启用", "Enable")))
        self.unlock_button = QPushButton(str(Text("解锁", "Unlock")))
        self.password_button = QPushButton(str(Text("重置密码…", "Reset password…")))
        self.add_button.clicked.connect(self.add)
        self.disable_button.clicked.connect(
            lambda: self._change("disable", Text("已停用 {u}。", "Disabled {u}."))
        )
        self.enable_button.clicked.connect(
            lambda: self._change("enable", Text("已启用 {u}。", "Enabled {u}."))
        )
        self.unlock_button.clicked.connect(
            lambda: self._change("unlock", Text("已解锁 {u}。", "Unlocked {u}."))
        )
        self.password_button.clicked.connect(self.reset_password)
        self.table.itemSelectionChanged.connect(self._enable_buttons)
        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.disable_button,
            self.enable_button,
            self.unlock_button,
            self.password_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.message)
        # Dialogs are built through these, so a test can fill them in.
        self.make_dialog: Callable[..., AccountDialog] = lambda **kw: AccountDialog(parent=self, **kw)
        self.refresh()

    def refresh(self) -> None:
        self.views = self.accounts.list()
        fill(
            self.table,
            [(v.username, v.display_name, v.role_name, v.state, v.last_login) for v in self.views],
            colours=["#b00020" if v.locked else "#888888" if v.disabled else None for v in self.views],
        )
        self._enable_buttons()

    def selected(self):  # type: ignore[no-untyped-def]
        row = selected_row(self.table)
        return self.views[row] if row is not None and row < len(self.views) else None

    def select(self, username: str) -> None:
        for row, account in enumerate(self.views):
            if account.username == username:
                self.table.selectRow(row)

    def _enable_buttons(self) -> None:
        account = self.selected()
        self.disable_button.setEnabled(account is not None and not account.disabled)
        self.enable_button.setEnabled(account is not None and account.disabled)
        self.unlock_button.setEnabled(account is not None and account.locked)
        self.password_button.setEnabled(account is not None)

    def _run(self, op, done: Text) -> None:  # type: ignore[no-untyped-def]
        def succeeded(_result: object) -> None:
            self.refresh()
            self.message.say(done, "ok")

        self.ops.run(
            op, lane=Lane.STORE, on_success=succeeded, on_failure=self.message.failed, label="account change"
        )

    def _change(self, action: str, done: Text) -> None:
        account = self.selected()
        if account is None:
            return
        method = getattr(self.accounts, action)
        self._run(lambda: method(account.username), done.format(u=account.username))

    def add(self) -> None:
        dialog = self.make_dialog(new=True)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        username, password = dialog.username.text().strip(), dialog.password.text()
        role, name = dialog.role.currentData(), dialog.display_name.text()
        self._run(
            lambda: self.accounts.add(username, password, role=role, display_name=name),
            Text("已添加 {u}。", "Added {u}.").format(u=username),
        )

    def reset_password(self) -> None:
        account = self.selected()
        if account is None:
            return
        dialog = self.make_dialog(new=False, username=account.username)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        password = dialog.password.text()
        self._run(
            lambda: self.accounts.reset_password(account.username, password),
            Text("已为 {u} 设置新密码。", "New password set for {u}.").format(u=account.username),
        )
