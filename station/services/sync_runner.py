"""Background sync for the desk: pull the queue and push the outbox while the officer works.

Each session runs the station's own engine (``StationApp.sync_engine``, the one ``station sync``
runs) on the background operations' sync lane, under the same single-flight lock, so a
``station sync`` started by hand and the desk never send at once. A session starts every
``interval_s`` seconds, soon after each save (``request``) and when the officer asks (F5,
``sync_now``). The engine's waits (backoff, Retry-After) go through an interruptible sleep, so
``stop`` returns promptly even while a session is backing off: the window closes at once.

The registry link is a state (``RegistryLink``) for the status bar. The desk's engine gives up a
session after two transport failures in a row, so "offline" shows within seconds of a failed
attempt, and then probes again every ``probe_s`` seconds instead of the full interval.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from station.errors import OfficerError
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.syncing.messages import SYNC_MESSAGES, describe
from sync.client.errors import CredentialsMissing
from sync.client.lock import SyncLockBusy

log = logging.getLogger("station.sync")

BUSY = Text("另一个同步正在运行，稍后再试。", "Another sync is running; trying again later.")
DESK_OFFLINE_AFTER = 2  # transport failures in a row before a desk session reports offline


class RegistryLink(StrEnum):
    NOT_ENROLLED = "not_enrolled"
    UNKNOWN = "unknown"  # not tried yet
    SYNCING = "syncing"
    ONLINE = "online"
    OFFLINE = "offline"
    FAILED = "failed"  # reached, but the session ended with an error


class SyncStopped(Exception):
    """Raised inside the engine's sleep when the desk closes: the session ends where it waits."""


class SyncRunner(QObject):
    """Signals:
    report_ready(SyncReport): a session finished.
    status(Text): a sentence about sync for the officer (not enrolled, another sync running, failed).
    link_changed(RegistryLink): the registry link changed.
    """

    report_ready = Signal(object)
    status = Signal(object)
    link_changed = Signal(object)

    def __init__(
        self,
        app,  # type: ignore[no-untyped-def]
        ops: BackgroundOps,
        *,
        interval_s: float = 60.0,
        probe_s: float = 15.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._ops = ops
        self._stopping = threading.Event()
        self._running = False
        self._again = False
        self._engine = None
        self._lock = None
        self.link = RegistryLink.UNKNOWN if self.enabled else RegistryLink.NOT_ENROLLED
        self.last_success: datetime | None = None
        self.last_problem: Text | None = None
        self._interval_ms = int(interval_s * 1000)
        self._probe_ms = int(min(probe_s, interval_s) * 1000)
        self._timer = QTimer(self)
        self._timer.setInterval(self._interval_ms)
        self._timer.timeout.connect(self.request)

    @property
    def enabled(self) -> bool:
        return bool(self._app.config.registry_url)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if not self.enabled:
            self._set_link(RegistryLink.NOT_ENROLLED)
            return
        try:
            self._engine = self._app.sync_engine(sleep=self._sleep, offline_after=DESK_OFFLINE_AFTER)
        except CredentialsMissing:
            self._set_link(RegistryLink.NOT_ENROLLED)
            self.status.emit(SYNC_MESSAGES["NOT_ENROLLED"])
            return
        self._lock = self._app.sync_lock()
        self._timer.start()
        self.request()

    def sync_now(self) -> bool:
        """The officer asked (F5): a session now, or right after the running one. False if sync is off."""
        if self._engine is None:
            self.status.emit(SYNC_MESSAGES["NOT_ENROLLED"])
            return False
        self.request()
        return True

    def request(self) -> None:
        """Sync soon (after a save), without waiting for the next interval."""
        if self._engine is None or self._stopping.is_set():
            return
        if self._running:
            self._again = True  # one more session after this one: it may hold the new record
            return
        self._running = True
        self._set_link(RegistryLink.SYNCING)
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
            report = self._engine.run_once()
        except SyncStopped:
            return None
        finally:
            self._lock.release()
        self._app.backup_if_due()  # the scheduled encrypted backup rides on the sync loop
        return report

    def _finished(self, outcome) -> None:  # type: ignore[no-untyped-def]
        self._running = False
        if outcome is None:  # stopped while waiting
            return
        if isinstance(outcome, Text):
            self._set_link(RegistryLink.UNKNOWN)
            self.status.emit(outcome)
        else:
            log.info(
                "sync: pushed %d, accepted %d, rejected %d, offline %s",
                outcome.pushed, outcome.accepted, outcome.rejected, outcome.offline,
            )  # fmt: skip
            if outcome.ok:
                self.last_success, self.last_problem = datetime.now(UTC), None
                self._set_link(RegistryLink.ONLINE)
            elif outcome.offline:
                self.last_problem = Text(
                    "无法连接登记中心：记录已安全保存在本机，会自动重试。",
                    "The registry cannot be reached: records are safe here and will be retried.",
                )
                self._set_link(RegistryLink.OFFLINE)
            else:
                self.last_problem = describe(outcome.error_code)
                self._set_link(RegistryLink.FAILED)
            self.report_ready.emit(outcome)
        # Offline or failed: probe again soon; online: the normal interval.
        self._timer.setInterval(self._interval_ms if self.link is RegistryLink.ONLINE else self._probe_ms)
        if self._again:
            self._again = False
            self.request()

    def _failed(self, error: BaseException) -> None:
        self._running = False
        # The store refused (damaged pages, a full disk): say what happened and what to do.
        self.last_problem = (
            error.sentence()
            if isinstance(error, OfficerError)
            else Text(
                "同步出错，记录安全保存在本机，稍后自动重试。",
                "Sync failed; the records are safe here and will be retried.",
            )
        )
        self._set_link(RegistryLink.FAILED)
        self.status.emit(self.last_problem)

    def _set_link(self, link: RegistryLink) -> None:
        if link is not self.link:
            self.link = link
            self.link_changed.emit(link)
