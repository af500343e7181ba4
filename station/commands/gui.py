"""``station gui``: the desk window for this station (reader, camera and store from its settings)."""

from __future__ import annotations

import sys
from pathlib import Path

from station.commands.output import fail
from station.i18n import Text


def register(subparsers) -> None:
    parser = subparsers.add_parser("gui", help="open the capture desk / 打开采集界面")
    add_gui_options(parser)
    parser.set_defaults(handler=run)


def add_gui_options(parser) -> None:
    parser.add_argument(
        "--seconds", type=float, help="close the window after this many seconds (demos, tests)"
    )
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the window just before it closes")


def run(args) -> int:
    from station.app import StationApp
    from station.store.errors import StoreError

    try:
        app = StationApp.open()
    except StoreError as error:
        return fail(getattr(error, "message", error))
    if not app.config.enrolled:
        app.close()
        return fail(Text("本机尚未登记为采集站。", "This machine is not enrolled as a capture station."))
    from PySide6.QtWidgets import QApplication

    from station.services.auth import NO_OPERATORS, Authenticator
    from station.ui.login import LoginDialog

    authenticator = Authenticator(app)
    if not authenticator.has_operators():
        app.close()
        return fail(NO_OPERATORS)
    QApplication.instance() or QApplication(sys.argv[:1])
    dialog = LoginDialog(authenticator)
    if dialog.exec() != LoginDialog.DialogCode.Accepted or dialog.username is None:
        app.close()
        return 1
    return launch(
        app, dialog.username, seconds=args.seconds, screenshot=args.screenshot, authenticator=authenticator
    )


def launch(
    app, operator: str, *, seconds: float | None = None, screenshot: Path | None = None, authenticator=None
) -> int:
    """Run the desk window until it is closed (or for ``seconds``); returns the exit code.

    With an ``authenticator`` the desk locks itself after the configured idle minutes.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from station.services.station_services import build_services
    from station.ui.main_window import DeskWindow

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    controller, camera, cards, sync = build_services(app, operator)
    window = DeskWindow(
        controller, camera, sync, authenticator=authenticator, idle_limit_s=app.config.idle_lock_minutes * 60
    )
    cards.event.connect(controller.on_card_event)
    window.resize(1360, 820)
    window.show()
    camera.start()
    cards.start()
    sync.start()
    if seconds is not None:

        def finish() -> None:
            if screenshot is not None:
                window.grab().save(str(screenshot), "PNG")
            window.close()

        QTimer.singleShot(int(seconds * 1000), finish)
    try:
        return qt_app.exec()
    finally:
        cards.stop()
        camera.stop()
        sync.stop()
        app.close()
