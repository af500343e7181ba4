"""The county administrator's window: progress, accounts, the audit log, settings and the self-check,
one tab each, for the administrator who opened it (the panels refuse anyone else)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QTabWidget, QVBoxLayout, QWidget

from station.admin.common import require_admin
from station.i18n import Text
from station.services.camera_feed import CameraFeed
from station.services.checkitems import CameraProbe
from station.services.tasks import BackgroundOps
from station.ui.admin.accounts import AccountsPanel
from station.ui.admin.audit import AuditPanel
from station.ui.admin.reports import ReportsPanel
from station.ui.admin.selfcheck import SelfCheckPanel
from station.ui.admin.settings import SettingsPanel


class AdminWindow(QDialog):
    def __init__(
        self,
        app,  # type: ignore[no-untyped-def]
        acting: str,
        ops: BackgroundOps,
        *,
        desk_camera: CameraFeed | None = None,
        camera_probe: CameraProbe | None = None,
        on_settings_changed: Callable[[object], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        require_admin(app, acting)
        self.setWindowTitle(str(Text("采集站管理 — {u}", "Station administration — {u}").format(u=acting)))
        self.tabs = QTabWidget()
        self.reports = ReportsPanel(app, acting, ops)
        self.accounts = AccountsPanel(app, acting, ops)
        self.audit = AuditPanel(app, acting, ops)
        self.settings = SettingsPanel(
            app, acting, ops, desk_camera=desk_camera, on_changed=on_settings_changed
        )
        self.selfcheck = SelfCheckPanel(app, acting, ops, camera_probe=camera_probe)
        for panel, title in (
            (self.reports, Text("进度与报表", "Progress and reports")),
            (self.accounts, Text("账号", "Accounts")),
            (self.audit, Text("审计日志", "Audit log")),
            (self.settings, Text("设置", "Settings")),
            (self.selfcheck, Text("自检", "Self-check")),
        ):
            self.tabs.addTab(panel, str(title))
        self.tabs.currentChanged.connect(self._tab_shown)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.resize(1100, 720)

    def _tab_shown(self, index: int) -> None:
        panel = self.tabs.widget(index)
        if panel in (self.reports, self.accounts, self.audit):
            panel.refresh()  # type: ignore[union-attr]

    def done(self, result: int) -> None:
        self.settings.stop_preview()
        super().done(result)
