"""The desk application: the window step of the start-up, and the desk's event loop.

``run_desk`` continues what ``station.app.boot`` began (logging, crash handling, configuration):
the Qt application with Qt's own Chinese translations (dialog buttons read 确定/取消) and Qt's
messages routed into the log, the crash dialog on the crash handler, the store, the officer's
log-in, the devices (camera, card reader, background sync) and the window -- in that order, each
step logged. It returns the process exit code once the window is closed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from station.app import Context, StationApp
from station.i18n import Text, current_language
from station.services import qtlog
from station.services.auth import NO_OPERATORS, Authenticator
from station.services.crash_relay import CrashRelay
from station.services.station_services import DeskServices, build_services
from station.ui.admin.desk_hook import attach_administration
from station.ui.crash_dialog import CrashDialog
from station.ui.login import LoginDialog
from station.ui.main_window import DeskWindow

log = logging.getLogger("station.app")

NOT_ENROLLED = Text("本机尚未登记为采集站。", "This machine is not enrolled as a capture station.")


def qt_application() -> QApplication:
    """The process's QApplication, created once, with Qt's own translations for the language."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    app = QApplication(sys.argv[:1])
    app.setApplicationName("capture-station")
    install_translations(app)
    return app


def install_translations(app: QApplication) -> QTranslator | None:
    """Load Qt's own translation (qtbase_zh_CN) so standard buttons and dialogs read in Chinese."""
    if current_language() != "zh":
        return None
    translator = QTranslator(app)
    directory = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", directory):
        app.installTranslator(translator)
        return translator
    log.warning("Qt's Chinese translation was not found; standard buttons stay in English")
    return None


class CrashReporting:
    """The crash handler's notifications shown as the crash dialog, on the GUI thread."""

    def __init__(self, context: Context) -> None:
        self.relay = CrashRelay()
        self.dialog = CrashDialog()
        self.relay.crashed.connect(self.dialog.show_crash)
        self._crash = context.startup.crash
        self._show = not context.settings.runtime.no_crash_dialog
        if self._crash is not None and self._show:
            self._crash.notify = self.relay.notify

    def unexpected(self, error: BaseException) -> None:
        """A background operation failed with a bug: report it like an uncaught exception."""
        if self._crash is not None:
            self._crash.handle(type(error), error, error.__traceback__, "background operation")


def run_desk(
    context: Context,
    *,
    operator: str | None = None,
    seconds: float | None = None,
    screenshot: Path | None = None,
    after_start: Callable[[DeskWindow, DeskServices], None] | None = None,
) -> int:
    """Open the desk for this station until the window closes (or ``seconds`` pass); the exit code.

    Without ``operator`` an officer logs in first and the desk locks itself when idle (the demo
    passes its own officer and skips the log-in).
    """
    startup = context.startup
    qt_app = startup.window(qt_application, "window: Qt application")
    qtlog.install()
    crashes = CrashReporting(context)
    app: StationApp = context.open_station()
    if not app.config.enrolled:
        app.close()
        sys.stderr.write(f"{NOT_ENROLLED}\n")
        return 2
    authenticator = None
    if operator is None:
        authenticator = Authenticator(app)
        if not authenticator.has_operators():
            app.close()
            sys.stderr.write(f"{NO_OPERATORS}\n")
            return 2
        dialog = LoginDialog(authenticator)
        if dialog.exec() != LoginDialog.DialogCode.Accepted or dialog.username is None:
            app.close()
            return 1
        operator = dialog.username
    services = startup.devices(lambda opened: build_services(opened, operator, on_unexpected=crashes.unexpected))
    window = startup.window(
        lambda: DeskWindow(
            services.controller,
            services.camera,
            services.sync,
            authenticator=authenticator,
            idle_limit_s=app.config.idle_lock_minutes * 60 if authenticator else None,
        )
    )
    services.ops.failed.connect(window.show_error)
    window.resize(1360, 820)
    window.show()
    services.start()
    administration = attach_administration(window, app, services, operator)  # noqa: F841 (lives with the window)
    if after_start is not None:
        after_start(window, services)
    if seconds is not None:

        def finish() -> None:
            if screenshot is not None:
                window.grab().save(str(screenshot), "PNG")
            window.close()

        QTimer.singleShot(int(seconds * 1000), finish)
    try:
        return qt_app.exec()
    finally:
        services.stop()
        app.close()
        qtlog.uninstall()
        log.info("desk closed")
