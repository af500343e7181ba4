"""The first-run wizard: what ``station gui`` opens on a machine that is not a station yet.

1. the county's enrollment file (checked at once: format, county, certificate and key) — or the
   training demo;
2. the first county administrator (name, password twice);
3. the encrypted store is created with the administrator, and the station enrolled;
4. the recovery code, shown this once: print it or save it as PDF, and confirm it is kept safe;
5. done: the desk opens and the administrator logs in.

A machine with a store but no enrollment, or no accounts, gets only the pages it still needs. The
command line keeps its equivalents for scripted installs (``station enroll``, ``station operator
add``). The work is ``station.admin.setup``; it runs on a background lane while the page waits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from station.admin.accounts import check_new_password, check_username
from station.admin.setup import FirstAdministrator, SetupState, needs_administrator, set_up, setup_state
from station.config import Settings
from station.domain.rules import CHINA_STANDARD_TIME
from station.errors import OfficerError
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.syncing.enrollment import check_credentials, read_enrollment, staged_enrollment_file
from station.ui.admin.widgets import MessageLine, choose_save_path
from station.ui.documents.recovery import draw_recovery, write_recovery_pdf


class SourcePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(str(Text("欢迎使用考籍注册采集站", "Welcome to the capture station")))
        self.setSubTitle(str(Text("第一步：本站的登记文件", "Step 1: this station's enrollment file")))
        self.from_file = QRadioButton(
            str(Text("导入本旗县的登记文件（由盟市管理员提供）", "Import the county's enrollment file"))
        )
        self.demo = QRadioButton(
            str(
                Text(
                    "演示站（仅用于培训：模拟读卡器和摄像头，虚构的学生）",
                    "Training demo (simulated devices, fictional students)",
                )
            )
        )
        self.from_file.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_file)
        group.addButton(self.demo)
        self.path = QLineEdit()
        self.path.setPlaceholderText(str(Text("登记文件（.json）", "enrollment file (.json)")))
        self.staged = staged_enrollment_file()  # left by the installer: imported, then deleted
        if self.staged is not None:
            self.path.setText(str(self.staged))
        browse = QPushButton(str(Text("浏览…", "Browse…")))
        browse.clicked.connect(self.browse)
        self.message = MessageLine()
        row = QHBoxLayout()
        row.addWidget(self.path, stretch=1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.from_file)
        layout.addLayout(row)
        layout.addWidget(self.demo)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, str(Text("选择登记文件", "Choose the enrollment file")), "",
                                                "JSON (*.json);;*")  # fmt: skip
        if chosen:
            self.path.setText(chosen)

    def validatePage(self) -> bool:
        if self.demo.isChecked():
            return True
        if not self.path.text().strip():
            self.message.say(Text("请选择登记文件。", "Choose the enrollment file."), "error")
            return False
        try:
            check_credentials(read_enrollment(Path(self.path.text().strip())))
        except OfficerError as error:
            self.message.say(error.sentence(), "error")
            return False
        self.message.say("")
        return True

    def enrollment(self) -> Path | None:
        return None if self.demo.isChecked() else Path(self.path.text().strip())


class AdminPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(str(Text("旗县管理员账号", "County administrator")))
        self.setSubTitle(
            str(Text("第二步：创建第一个旗县管理员。以后用它登录、添加采集员和打印报表。",
                     "Step 2: the first county administrator, who logs in, adds officers and prints reports."))
        )  # fmt: skip
        self.username, self.display_name = QLineEdit(), QLineEdit()
        self.password, self.again = QLineEdit(), QLineEdit()
        for field in (self.password, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = MessageLine()
        form = QFormLayout(self)
        form.addRow(str(Text("用户名（英文字母或数字）", "User name")), self.username)
        form.addRow(str(Text("姓名", "Name")), self.display_name)
        form.addRow(str(Text("密码（至少 8 位）", "Password (8+ characters)")), self.password)
        form.addRow(str(Text("再输入一次", "Again")), self.again)
        form.addRow(self.message)

    def validatePage(self) -> bool:
        try:
            check_username(self.username.text())
            check_new_password(self.password.text(), self.again.text())
        except OfficerError as error:
            self.message.say(error.message, "error")
            self.again.clear()
            return False
        return True

    def administrator(self) -> FirstAdministrator:
        return FirstAdministrator(
            self.username.text().strip(), self.password.text(), self.display_name.text().strip() or None
        )


class CreatePage(QWizardPage):
    """Creates the station when shown (the page before it commits: there is no way back); Next is
    offered once it is done, and a failure (a full disk) can be tried again."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(str(Text("创建采集站", "Setting the station up")))
        self.setSubTitle(str(Text("第三步：创建加密数据库、管理员账号并导入登记信息。", "Step 3: the encrypted store, the account, the enrollment.")))  # fmt: skip
        self.setCommitPage(True)  # once the station exists, there is no going back to the questions
        self.setButtonText(QWizard.WizardButton.CommitButton, str(Text("下一步", "Next")))
        self.message = MessageLine()
        self.retry = QPushButton(str(Text("重试", "Try again")))
        self.retry.clicked.connect(self.start)
        self.retry.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.retry)
        layout.addStretch(1)
        self.done = False
        self.running = False

    def initializePage(self) -> None:
        if not (self.done or self.running):
            self.start()

    def start(self) -> None:
        self.retry.hide()
        self.running = True
        self.message.say(Text("正在创建，请稍候…", "Working, please wait…"))
        self._wizard.create(on_done=self._finished, on_failed=self._failed)

    def _finished(self) -> None:
        self.running, self.done = False, True
        # From here on leaving early would lose the recovery code: no Cancel any more.
        self._wizard.setOption(QWizard.WizardOption.NoCancelButton, True)
        self.message.say(Text("采集站已设置完成。", "The station is set up."), "ok")
        self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self.running = False
        self.message.failed(error)
        self.retry.show()

    def isComplete(self) -> bool:
        return self.done


class RecoveryPage(QWizardPage):
    """The recovery code, this once: print or save it, then confirm; it is never shown again."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(str(Text("恢复码（只显示这一次）", "Recovery code (shown only this once)")))
        self.setSubTitle(
            str(Text("密钥丢失时，只有它能找回未同步的采集数据。请打印或保存到 U 盘，交旗县管理员保管。",
                     "If the key is lost, only this code brings unsynced captures back. Print it or save it to a USB "
                     "stick for the county administrator."))
        )  # fmt: skip
        self.code = QLabel("")
        font = QFont()
        font.setFamilies(["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"])
        font.setPointSize(20)
        font.setBold(True)
        self.code.setFont(font)
        self.print_button = QPushButton(str(Text("打印…", "Print…")))
        self.save_button = QPushButton(str(Text("保存为 PDF…", "Save as PDF…")))
        self.print_button.clicked.connect(self.print_code)
        self.save_button.clicked.connect(self.save_code)
        self.confirm = QCheckBox(str(Text("我已打印或保存恢复码，并交旗县管理员妥善保管。", "I printed or saved the code and it is kept safe.")))  # fmt: skip
        self.confirm.toggled.connect(self.completeChanged)
        self.message = MessageLine()
        self.kept = False
        self.choose_path = choose_save_path
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.confirm)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.code.setText(self._wizard.recovery_code or "")

    def _document(self):  # type: ignore[no-untyped-def]
        station = self._wizard.station_name()
        created = datetime.now(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
        return self._wizard.recovery_code or "", station, created

    def save_code(self) -> None:
        path = self.choose_path(
            self, Text("保存恢复码", "Save the recovery code"), "采集站恢复码.pdf", "PDF (*.pdf)"
        )
        if path is None:
            return
        try:
            write_recovery_pdf(*self._document(), path)
        except OfficerError as error:
            self.message.failed(error)
            return
        self.kept = True
        self.message.say(Text("已保存：{f}。请把文件移到 U 盘，不要留在本机。", "Saved {f}. Move it to a USB stick; do not keep it on this computer.").format(f=path), "ok")  # fmt: skip
        self.completeChanged.emit()

    def print_code(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from station.ui.documents.page import print_pages

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        code, station, created = self._document()
        print_pages(printer, lambda device, painter: draw_recovery(code, station, created, device, painter))
        self.kept = True
        self.message.say(Text("已发送到打印机。", "Sent to the printer."), "ok")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.kept and self.confirm.isChecked()


class DonePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(str(Text("设置完成", "All set")))
        self.label = QLabel("")
        self.label.setWordWrap(True)
        QVBoxLayout(self).addWidget(self.label)

    def initializePage(self) -> None:
        admin = self._wizard.admin_page.username.text().strip() if self._wizard.admin_page else ""
        text = Text("接下来打开采集界面。", "The desk opens next.")
        if admin:
            text = Text(
                f"接下来打开采集界面：请用旗县管理员 {admin} 登录，然后在“管理”菜单中添加采集员账号、检查设置和自检。",
                f"The desk opens next: log in as {admin}, then add officers, check the settings and run the self-check "
                "from the Administration menu.",
            )
        self.label.setText(str(text))


class FirstRunWizard(QWizard):
    def __init__(
        self, settings: Settings, state: SetupState | None = None, *, with_admin: bool | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.state = state or setup_state(settings)
        needs_admin = needs_administrator(settings) if with_admin is None else with_admin
        self.ops = BackgroundOps()
        self.recovery_code: str | None = None
        self.setWindowTitle(str(Text("采集站首次设置", "Station set-up")))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.source_page = SourcePage() if self.state in (SetupState.NEW, SetupState.NOT_ENROLLED) else None
        self.admin_page = AdminPage() if needs_admin else None
        self.create_page = CreatePage(self)
        self.recovery_page = RecoveryPage(self) if self.state is SetupState.NEW else None
        last_input = self.admin_page or self.source_page
        if last_input is not None:
            last_input.setCommitPage(True)
            last_input.setButtonText(
                QWizard.WizardButton.CommitButton, str(Text("创建采集站", "Set the station up"))
            )
        for page in (self.source_page, self.admin_page, self.create_page, self.recovery_page, DonePage(self)):
            if page is not None:
                self.addPage(page)
        self.resize(760, 480)

    def station_name(self) -> str:
        from station import config as station_config

        config = station_config.load(self.settings.home)
        return config.station_id or str(self.settings.home)

    def create(self, *, on_done, on_failed) -> None:  # type: ignore[no-untyped-def]
        enrollment = self.source_page.enrollment() if self.source_page else None
        staged = enrollment is not None and enrollment == self.source_page.staged
        demo = bool(self.source_page and self.source_page.demo.isChecked())
        admin = self.admin_page.administrator() if self.admin_page else None
        settings = self.settings

        def done(code: str | None) -> None:
            self.recovery_code = code
            on_done()

        self.ops.run(
            lambda: set_up(settings, enrollment=enrollment, demo=demo, admin=admin, remove_enrollment=staged),
            lane=Lane.STORE,
            on_success=done,
            on_failure=on_failed,
            label="first run",
        )

    def reject(self) -> None:
        """Closing the window is refused while a recovery code is on screen and not yet kept."""
        if self.recovery_code and self.recovery_page is not None and not self.recovery_page.isComplete():
            self.recovery_page.message.say(
                Text("请先打印或保存恢复码并确认，否则它将无法再次显示。", "Print or save the code and confirm first: "
                     "it cannot be shown again."), "error")  # fmt: skip
            return
        super().reject()

    def done(self, result: int) -> None:
        # The code is never kept: once the wizard closes it is gone from the screen and from memory.
        self.recovery_code = None
        if self.recovery_page is not None:
            self.recovery_page.code.clear()
        self.ops.shutdown(wait_for=(Lane.STORE,))
        super().done(result)


def first_run_if_needed(context, qt_application: Callable[[], object]):  # type: ignore[no-untyped-def]
    """The context to open the desk with: as it was when the machine is set up; after the wizard
    otherwise; None when the wizard was left before the end. ``qt_application`` makes the desk's
    QApplication (with its translations) when the wizard is needed."""
    state = setup_state(context.settings)
    if state is SetupState.READY:
        return context
    context.startup.window(qt_application, "window: Qt application")
    wizard = FirstRunWizard(context.settings, state)
    if wizard.exec() != QWizard.DialogCode.Accepted:
        return None
    return context.reload()
