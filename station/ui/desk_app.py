"""The desk application: the window step of the start-up, and the desk's event loop.

``run_desk`` continues what ``station.app.boot`` began (logging, crash handling, configuration):
the Qt application with Qt's own Chinese translations (dialog buttons read 确定/取消) and Qt's
messages routed into the log, the crash dialog on the crash handler, the store and the officer's
log-in (``open_desk_station``: one place, so the order can change when the key becomes per officer),
the devices (camera, card reader, background sync) and the window -- in that order, each step
logged. It returns the process exit code once the window is closed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from station.app import Context, StationApp, needs_officer
from station.i18n import Text, current_language
from station.services import qtlog
from station.services.auth import NO_OPERATORS, Authenticator, StoreLogin
from station.services.crash_relay import CrashRelay
from station.services.desk_controller import Level
from station.services.station_services import DeskServices, build_services
from station.ui.admin.desk_hook import attach_administration
from station.ui.crash_dialog import CrashDialog
from station.ui.login import LoginDialog
from station.ui.main_window import DeskWindow

log = logging.getLogger("station.app")

NOT_ENROLLED = Text("本机尚未登记为采集站。", "This machine is not enrolled as a capture station.")


def qt_application(platform: str | None = None) -> QApplication:
    """The process's QApplication, created once, with Qt's own translations for the language.

    ``platform`` picks Qt's platform plugin (``offscreen``: no display needed, as the headless demo).
    """
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    app = QApplication(sys.argv[:1] + (["-platform", platform] if platform else []))
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


@dataclass
class Officer:
    """Who works the desk: the user name, and the authenticator that unlocks the idle lock (None for
    the demo's built-in officer, who never logs in)."""

    username: str
    authenticator: Authenticator | None = None


def log_in(app: StationApp) -> Officer | int:
    """The log-in step: an officer of this station gives their password; the exit code if not.

    It runs after the store opened (accounts live in it) -- unless the database key is wrapped per
    officer (no OS keyring): then ``open_desk_station`` asks first and the log-in opens the store.
    """
    authenticator = Authenticator(app)
    if not authenticator.has_operators():
        sys.stderr.write(f"{NO_OPERATORS}\n")
        return 2
    dialog = LoginDialog(authenticator)
    if dialog.exec() != LoginDialog.DialogCode.Accepted or dialog.username is None:
        return 1
    return Officer(dialog.username, authenticator)


def open_desk_station(context: Context, operator: str | None) -> tuple[StationApp, Officer] | int:
    """The store, then the officer (``operator`` given: the demo's officer, no log-in); or an exit code.

    Without an OS keyring nothing can be read before an officer logs in: the log-in comes first and
    its password unwraps the database key (``StoreLogin``)."""
    if operator is None and needs_officer(context.settings):
        login = StoreLogin(context)
        dialog = LoginDialog(login)
        if dialog.exec() != LoginDialog.DialogCode.Accepted or login.app is None or dialog.username is None:
            return 1
        app: StationApp = login.app
        if not app.config.enrolled:
            app.close()
            sys.stderr.write(f"{NOT_ENROLLED}\n")
            return 2
        return app, Officer(dialog.username, Authenticator(app))
    app = context.open_station()
    if not app.config.enrolled:
        app.close()
        sys.stderr.write(f"{NOT_ENROLLED}\n")
        return 2
    officer = Officer(operator) if operator is not None else log_in(app)
    if isinstance(officer, int):
        app.close()
        return officer
    return app, officer


def run_desk(
    context: Context,
    *,
    operator: str | None = None,
    seconds: float | None = None,
    screenshot: Path | None = None,
    after_start: Callable[[DeskWindow, DeskServices], None] | None = None,
    size: tuple[int, int] = (1366, 768),
    sync_interval_s: float = 60.0,
    platform: str | None = None,
) -> int:
    """Open the desk for this station until the window closes (or ``seconds`` pass); the exit code.

    Without ``operator`` an officer logs in first and the desk locks itself when idle (the demo
    passes its own officer and skips the log-in). ``after_start`` is called once the window shows
    and the devices run (the demo drives its walkthrough from there).
    """
    startup = context.startup
    qt_app = startup.window(lambda: qt_application(platform), "window: Qt application")
    qtlog.install()
    crashes = CrashReporting(context)
    opened = open_desk_station(context, operator)
    if isinstance(opened, int):
        qtlog.uninstall()
        return opened
    app, officer = opened
    services = startup.devices(
        lambda station: build_services(
            station, officer.username, sync_interval_s=sync_interval_s, on_unexpected=crashes.unexpected
        )
    )
    window = startup.window(
        lambda: DeskWindow(
            services.controller,
            services.camera,
            services.sync,
            cards=services.cards,
            authenticator=officer.authenticator,
            idle_limit_s=app.config.idle_lock_minutes * 60 if officer.authenticator else None,
        )
    )
    services.ops.failed.connect(window.show_error)
    window.resize(*size)
    window.show()
    services.start()
    for notice in services.notices:
        window.show_notice(notice, Level.WARN)
    administration = attach_administration(window, app, services, officer.username)  # noqa: F841 (lives with the window)
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
