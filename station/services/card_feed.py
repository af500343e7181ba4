"""The card reader in the GUI: card events from the reader thread, re-emitted as Qt signals.

``station.idcard.events.CardEventStream`` runs the reader on its own thread and queues events; a
QTimer drains that queue on the GUI thread without ever blocking it (``get(timeout=0)``). The
reader's link is a state of its own (``ReaderLink``) for the status bar: a reader missing at start
or unplugged later says so and names the fix, and says so again when it is back.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from station.i18n import Text
from station.idcard.events import CardEvent, CardEventStream

POLL_INTERVAL_MS = 50


class ReaderLink(StrEnum):
    STARTING = "starting"
    READY = "ready"
    LOST = "lost"


READER_FIX = Text(
    "请检查读卡器的 USB 线是否插好；插好后会自动重新连接，无需重启程序。",
    "Check the reader's USB cable; it reconnects by itself, no restart needed.",
)


class CardFeed(QObject):
    """Signals:
    event(CardEvent): every event of the reader thread, in order.
    link_changed(ReaderLink): the reader became ready or was lost.
    """

    event = Signal(object)
    link_changed = Signal(object)

    def __init__(self, stream: CardEventStream, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stream = stream
        self._started = False
        self.link = ReaderLink.STARTING
        self.last_problem: Text | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    @property
    def stream(self) -> CardEventStream:
        return self._stream

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
            if event.kind == "reader_ready":
                self._set_link(ReaderLink.READY, None)
            elif event.kind == "reader_lost":
                self._set_link(ReaderLink.LOST, event.message)
            self.event.emit(event)

    def _set_link(self, link: ReaderLink, problem: Text | None) -> None:
        self.last_problem = problem
        if link is not self.link:
            self.link = link
            self.link_changed.emit(link)
