"""The card reader in the GUI: card events from the reader thread, re-emitted as Qt signals.

``station.idcard.events.CardEventStream`` runs the reader on its own thread and queues events; a
QTimer drains that queue on the GUI thread without ever blocking it (``get(timeout=0)``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from station.idcard.events import CardEvent, CardEventStream

POLL_INTERVAL_MS = 50


class CardFeed(QObject):
    event = Signal(object)  # CardEvent

    def __init__(self, stream: CardEventStream, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stream = stream
        self._started = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    def start(self) -> None:
        self._stream.start()
        self._timer.start()
        self._started = True

    def stop(self) -> None:
        self._timer.stop()
        if self._started:
            self._stream.stop()
            self._started = False

    def request_read(self) -> None:
        self._stream.request_read()

    def _drain(self) -> None:
        for _ in range(20):  # bounded: a flood of events cannot starve the GUI
            event: CardEvent | None = self._stream.get(timeout=0)
            if event is None:
                return
            self.event.emit(event)
