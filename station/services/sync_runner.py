"""Background sync for the desk: pull the queue and push the outbox while the officer works.

Each session runs the station's own engine (``StationApp.sync_engine``, the one ``station sync``
runs) on the background operations' sync lane, under the same single-flight lock, so a
``station sync`` started by hand and the desk never send at once. A session starts every
``interval_s`` seconds and soon after each save (``request``). The engine's waits (backoff,
Retry-After) go through an interruptible sleep, so ``stop`` returns promptly even while a session
is backing off: the window closes at once.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.syncing.messages import SYNC_MESSAGES
from sync.client.errors import CredentialsMissing
from sync.client.lock import SyncLockBusy

log = logging.getLogger("station.sync")

BUSY = Text("另一个同步正在运行，稍后再试。", "Another sync is running; trying again later.")


class SyncStopped(Exception):
    """Raised inside the engine's sleep when the desk closes: the session ends where it waits."""


class SyncRunner(QObject):
    """Signals:
    report_ready(SyncReport): a session finished.
    status(Text): why no session ran (not enrolled, another sync running).
    """

    report_ready = Signal(object)
    status = Signal(object)

    def __init__(
        self, app, ops: BackgroundOps, *, interval_s: float = 60.0, parent: QObject | None = None
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._app = app
        self._ops = ops
        self._stopping = threading.Event()
        self._running = False
        self._again = False
        self._engine = None
        self._lock = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.request)

    @property
    def enabled(self) -> bool:
        return bool(self._app.config.registry_url)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if not self.enabled:
            return
        try:
            self._engine = self._app.sync_engine(sleep=self._sleep)
        except CredentialsMissing:
            self.status.emit(SYNC_MESSAGES["NOT_ENROLLED"])
            return
        self._lock = self._app.sync_lock()
        self._timer.start()
        self.request()

    def request(self) -> None:
        """Sync soon (after a save), without waiting for the next interval."""
        if self._engine is None or self._stopping.is_set():
            return
        if self._running:
            self._again = True  # one more session after this one: it may hold the new record
            return
        self._running = True
        self._ops.run(
            self._session, lane=Lane.SYNC, on_success=self._finished, on_failure=self._failed, label="sync"
        )

    def stop(self) -> None:
        """Stop syncing: a waiting session ends at once, a request in flight at its next wait."""
        self._timer.stop()
        self._stopping.set()

    def _sleep(self, seconds: float) -> None:  # on the sync lane
        if self._stopping.wait(seconds):
            raise SyncStopped()

    def _session(self):  # type: ignore[no-untyped-def]
        assert self._engine is not None and self._lock is not None
        try:
            self._lock.acquire()
        except SyncLockBusy:
            return BUSY
        try:
            return self._engine.run_once()
        except SyncStopped:
            return None
        finally:
            self._lock.release()

    def _finished(self, outcome) -> None:  # type: ignore[no-untyped-def]
        self._running = False
        if outcome is None:  # stopped while waiting
            return
        if isinstance(outcome, Text):
            self.status.emit(outcome)
        else:
            log.info(
                "sync: pushed %d, accepted %d, rejected %d, offline %s",
                outcome.pushed, outcome.accepted, outcome.rejected, outcome.offline,
            )  # fmt: skip
            self.report_ready.emit(outcome)
        if self._again:
            self._again = False
            self.request()

    def _failed(self, error: BaseException) -> None:
        self._running = False
        self.status.emit(
            Text(
                "同步出错，记录安全保存在本机，稍后自动重试。",
                "Sync failed; the records are safe here and will be retried.",
            )
        )
