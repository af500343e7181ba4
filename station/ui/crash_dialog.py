"""The dialog a person sees when the station itself failed: what it means, what to do, no traceback.

It says that captures already shown as saved are safe, that the step in progress must be done
again, and where the crash report is (to send to IT support). It is modeless, so the desk keeps
running when the failure was in a background task; several crashes in a row reuse one dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from station.crash import crash_sentence
from station.i18n import Text

TITLE = Text("采集站出现意外错误", "The station hit an unexpected error")


class CrashDialog(QMessageBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crash_dialog")
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle(str(TITLE))
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.setModal(False)
        self.report: Path | None = None

    def show_crash(self, report: Path | None) -> None:
        self.report = report
        self.setText(str(crash_sentence(report)))
        self.open()
