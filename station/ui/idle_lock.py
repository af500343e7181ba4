"""Locks the desk after a period without keyboard or mouse input (screen lock when idle).

An application-wide event filter notes the last input; a timer compares it with the limit. While
locked, the window hides everything personal and asks the logged-in officer's password again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

_INPUT_EVENTS = frozenset(
    (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel)
)


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, limit_s: float, *, check_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.limit_s = limit_s
        self.last_input = time.monotonic()
        self.locked = False
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        self.last_input = time.monotonic()
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self.last_input = time.monotonic()
        return False

    def unlocked(self) -> None:
        self.locked = False
        self.last_input = time.monotonic()

    def _check(self) -> None:
        if not self.locked and time.monotonic() - self.last_input >= self.limit_s:
            self.locked = True
            self.idle.emit()
