"""Qt's own messages (warnings from plugins, fonts, threads) routed into the station's log.

Without this they go to stderr, where nobody at a county desk reads them; in the log they sit next
to what the station was doing at the time (``station.qt`` logger, at the matching level).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("station.qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _handle(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = context.category or "qt"
    log.log(_LEVELS.get(kind, logging.WARNING), "%s: %s", category, message)


def install() -> None:
    """Route Qt's messages into logging for the rest of the process."""
    qInstallMessageHandler(_handle)


def uninstall() -> None:
    qInstallMessageHandler(None)
