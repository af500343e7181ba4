"""The self-check panel: ``station doctor`` in the window — the same checklist
(``station.services.health``), each item with its one fix — and the retention purge on demand."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from station.admin.retention import purge_now
from station.i18n import Text
from station.services.checkitems import CameraProbe, Status
from station.services.health import healthy, run_checks
from station.services.tasks import BackgroundOps, Lane
from station.ui.admin.widgets import COLOURS, MessageLine

MARKS = {Status.OK: "✔", Status.WARN: "!", Status.FAIL: "✘"}
_COLOURS = {Status.OK: COLOURS["ok"], Status.WARN: COLOURS["warn"], Status.FAIL: COLOURS["error"]}


class SelfCheckPanel(QWidget):
    def __init__(
        self,
        app,  # type: ignore[no-untyped-def]
        acting: str,
        ops: BackgroundOps,
        *,
        camera_probe: CameraProbe | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.app, self.acting, self.ops = app, acting, ops
        self.camera_probe = camera_probe
        self.items: list = []
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.message = MessageLine()
        self.run_button = QPushButton(str(Text("开始自检", "Run the self-check")))
        self.purge_button = QPushButton(str(Text("立即清除到期个人数据", "Purge due personal data now")))
        self.run_button.clicked.connect(self.run)
        self.purge_button.clicked.connect(self.purge)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.purge_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.list, stretch=1)
        layout.addWidget(self.message)

    def run(self) -> None:
        self.run_button.setEnabled(False)
        self.message.say(Text("正在检查…", "Checking…"))
        settings = self.app.settings
        self.ops.run(
            lambda: run_checks(settings, camera_probe=self.camera_probe, opened=self.app),
            lane=Lane.WORK,
            on_success=self.show_items,
            on_failure=self._failed,
            label="self-check",
        )

    def _failed(self, error: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.message.failed(error)

    def show_items(self, items: list) -> None:  # type: ignore[type-arg]
        self.run_button.setEnabled(True)
        self.items = items
        self.list.clear()
        for item in items:
            line = QListWidgetItem(f"{MARKS[item.status]} {item.title}：{item.detail}")
            line.setForeground(QColor(_COLOURS[item.status]))
            self.list.addItem(line)
            if item.fix and item.status is not Status.OK:
                fix = QListWidgetItem(f"      → {item.fix}")
                fix.setForeground(QColor(COLOURS["info"]))
                self.list.addItem(fix)
        if healthy(items):
            self.message.say(Text("采集站状态良好。", "The station is healthy."), "ok")
        else:
            self.message.say(
                Text("有项目需要处理，请按提示操作。", "Something needs attention: follow the fixes."),
                "error",
            )

    def purge(self) -> None:
        self.ops.run(
            lambda: purge_now(self.app, acting=self.acting),
            lane=Lane.STORE,
            on_success=lambda count: self.message.say(
                Text(
                    "已清除 {n} 条记录的照片和芯片数据。", "Purged the photos and chip data of {n} records."
                ).format(n=count),
                "ok",
            ),
            on_failure=self.message.failed,
            label="retention purge",
        )
