"""The card-event stream: placed → reading → result or error, across unplug / replug.

One stoppable thread polls a reader made by ``reader_factory`` and turns what it sees into
``CardEvent`` values on a queue (the Qt services layer bridges them into signals). It never re-reads
a card that is still on the reader: the officer removes it first (``remove_card_first`` when a re-read
is requested too early). A reader that disappears is reported once (``reader_lost``) and reopened
every ``reconnect`` seconds until it answers again (``reader_ready``), without restarting the app.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from station.i18n import Text
from station.idcard.errors import CardError, IdCardError, NoCardError, ReaderError, RemoveCardFirstError
from station.idcard.transports.base import Reader
from sync.protocol.card import ChipData

EVENT_KINDS = (
    "reader_ready", "reader_lost", "placed", "reading", "result", "error", "removed", "remove_card_first", "stopped",
)  # fmt: skip

MESSAGES = {
    "reader_ready": Text(zh="读卡器已就绪，请放置身份证", en="Reader ready; place the ID card"),
    "placed": Text(zh="检测到证件", en="Card detected"),
    "reading": Text(zh="正在读卡，请勿移动证件", en="Reading; do not move the card"),
    "result": Text(zh="读卡成功", en="Card read"),
    "removed": Text(zh="证件已拿开", en="Card removed"),
    "stopped": Text(zh="读卡已停止", en="Card reading stopped"),
}


@dataclass(frozen=True)
class CardEvent:
    kind: str
    chip: ChipData | None = None
    error: IdCardError | None = None

    @property
    def message(self) -> Text:
        if self.error is not None:
            return self.error.message
        return MESSAGES.get(self.kind, Text(zh=self.kind, en=self.kind))


class CardEventStream:
    """Runs the desk's read loop on a thread. ``get(timeout)`` takes the next event (None on timeout)."""

    def __init__(
        self,
        reader_factory: Callable[[], Reader],
        *,
        poll: float = 0.2,
        read_timeout: float = 5.0,
        reconnect: float = 1.0,
        retry_after_error: float = 1.0,
        on_event: Callable[[CardEvent], None] | None = None,
    ) -> None:
        self._factory = reader_factory
        self._poll, self._read_timeout = poll, read_timeout
        self._reconnect, self._retry_after_error = reconnect, retry_after_error
        self._on_event = on_event
        self._queue: queue.Queue[CardEvent] = queue.Queue()
        self._stop = threading.Event()
        self._reread = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-events", daemon=True)
        self._reader: Reader | None = None

    # -- control ------------------------------------------------------------------------------

    def start(self) -> CardEventStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to stop; True when it ended within ``timeout``."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def reader(self) -> Reader | None:
        """The reader the thread has open now (None while it is lost); the demo's simulated hand uses it."""
        return self._reader

    def request_read(self) -> None:
        """The officer asks to read again; refused with ``remove_card_first`` while the card stays."""
        self._reread.set()

    def get(self, timeout: float) -> CardEvent | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_for(self, kind: str, timeout: float) -> CardEvent | None:
        """Skip events until one of ``kind`` (used by tests and the CLI); None when time runs out."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.get(left)
            if event is not None and event.kind == kind:
                return event
        return None

    # -- the loop -----------------------------------------------------------------------------

    def _emit(self, kind: str, chip: ChipData | None = None, error: IdCardError | None = None) -> None:
        event = CardEvent(kind, chip, error)
        self._queue.put(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a consumer's bug must not stop the reader loop
                pass

    def _run(self) -> None:
        lost_reported = False
        ready_reported = False
        awaiting_removal = False  # a card was read and may still be on the reader
        read_done = False  # the last card placed has been read (SAM readers cannot see removal)
        try:
            while not self._stop.is_set():
                if self._reader is None:
                    try:
                        self._reader = self._factory()
                        self._reader.open()
                    except IdCardError as error:
                        self._drop_reader()
                        if not lost_reported:
                            self._emit("reader_lost", error=error)
                            lost_reported, ready_reported = True, False
                        self._stop.wait(self._reconnect)
                        continue
                reader = self._reader
                try:
                    present = reader.card_present(self._poll)
                    if not ready_reported:
                        self._emit("reader_ready")
                        ready_reported, lost_reported = True, False
                    tracks_presence = reader.reports_presence
                    if self._reread.is_set():
                        self._reread.clear()
                        if (present and awaiting_removal) or (not present and read_done):
                            self._emit("remove_card_first", error=RemoveCardFirstError())
                        elif not present:
                            self._emit("error", error=NoCardError())
                    if not present:
                        if awaiting_removal and tracks_presence:
                            self._emit("removed")
                            read_done = False
                        awaiting_removal = False
                        self._stop.wait(self._poll)
                        continue
                    if awaiting_removal and tracks_presence:
                        self._stop.wait(self._poll)
                        continue
                    read_done = False
                    self._emit("placed")
                    self._emit("reading")
                    chip = reader.read_card(self._read_timeout)
                    self._emit("result", chip=chip)
                    awaiting_removal = read_done = True
                except CardError as error:
                    self._emit("error", error=error)
                    # A reader that sees the card waits for it to leave; a SAM reader tries again.
                    awaiting_removal = reader.reports_presence
                    self._stop.wait(self._retry_after_error)
                except ReaderError as error:
                    self._drop_reader()
                    if not lost_reported:
                        self._emit("reader_lost", error=error)
                        lost_reported, ready_reported = True, False
                    self._stop.wait(self._reconnect)
                except IdCardError as error:  # bad frame or unparsable card data: report, keep going
                    self._emit("error", error=error)
                    self._stop.wait(self._retry_after_error)
        finally:
            self._drop_reader()
            self._emit("stopped")

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except IdCardError:
                pass
