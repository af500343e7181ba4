"""The audit viewer: who did what and when, filtered by kind of action and officer, paged back in
time, with the check of the hash chain one click away."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from station.admin.audit_view import ACTION_GROUPS, AuditView, chain_verdict
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.ui.admin.widgets import MessageLine, fill, table

PAGE = 200


class AuditPanel(QWidget):
    def __init__(self, app, acting: str, ops: BackgroundOps, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.view = AuditView(app, acting)
        self.ops = ops
        self.lines: list = []
        self.group = QComboBox()
        self.group.addItem(str(Text("全部", "all")), None)
        for key, (label, _actions) in ACTION_GROUPS.items():
            self.group.addItem(str(label), key)
        self.operator = QLineEdit()
        self.operator.setPlaceholderText(str(Text("操作员（留空为全部）", "officer (empty: all)")))
        self.refresh_button = QPushButton(str(Text("查询", "Show")))
        self.older_button = QPushButton(str(Text("更早的记录", "Older")))
        self.verify_button = QPushButton(str(Text("校验完整性", "Check integrity")))
        self.refresh_button.clicked.connect(self.refresh)
        self.group.currentIndexChanged.connect(self.refresh)
        self.operator.returnPressed.connect(self.refresh)
        self.older_button.clicked.connect(self.older)
        self.verify_button.clicked.connect(self.verify)
        self.table = table(
            [Text("时间", "Time"), Text("操作员", "Officer"), Text("操作", "Action"), Text("对象", "Subject"),
             Text("详情", "Details")]
        )  # fmt: skip
        self.verdict = MessageLine()
        filters = QHBoxLayout()
        filters.addWidget(QLabel(str(Text("类别", "Kind"))))
        filters.addWidget(self.group)
        filters.addWidget(self.operator)
        for button in (self.refresh_button, self.older_button, self.verify_button):
            filters.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.verdict)
        self.refresh()

    def _filters(self) -> dict:
        key = self.group.currentData()
        return {
            "actions": ACTION_GROUPS[key][1] if key else None,
            "operator": self.operator.text().strip() or None,
        }

    def refresh(self) -> None:
        self.lines = self.view.lines(**self._filters(), limit=PAGE)
        self._show()

    def older(self) -> None:
        if not self.lines:
            return
        self.lines = self.lines + self.view.lines(**self._filters(), before_id=self.lines[-1].id, limit=PAGE)
        self._show()

    def _show(self) -> None:
        fill(self.table, [(l.at, l.operator, l.action_name, l.subject, l.detail) for l in self.lines])  # noqa: E741

    def verify(self) -> None:
        def show(check) -> None:  # type: ignore[no-untyped-def]
            self.verdict.say(chain_verdict(check), "ok" if check.intact else "error")

        self.verdict.say(Text("正在校验…", "Checking…"))
        self.ops.run(
            self.view.check,
            lane=Lane.WORK,
            on_success=show,
            on_failure=self.verdict.failed,
            label="audit check",
        )
