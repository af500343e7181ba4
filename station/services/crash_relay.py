"""Crashes reported from any thread reach the GUI thread as a signal (the crash dialog listens).

The crash handler (``station.crash``) runs where the exception happened -- often a worker thread,
where no widget may be touched. ``CrashRelay.notify`` only emits a signal; the relay lives on the
GUI thread, so Qt queues the delivery there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal


class CrashRelay(QObject):
    """Signals:
    crashed(object): the crash report's path (or None when it could not be written).
    """

    crashed = Signal(object)

    def notify(self, report: Path | None) -> None:  # any thread
        self.crashed.emit(report)
