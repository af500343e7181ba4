"""Background sync for the desk: pull the queue and push the outbox while the officer works.

One thread runs the same engine as ``station sync`` (``station.commands.sync.build_engine``), under the
same single-flight lock, so a `station sync` started by hand and the desk never send at once. It syncs
every ``interval_s`` seconds and soon after each save (``request``). Its reports reach the GUI through
a one-slot mailbox polled on the GUI thread, like the camera's frames: no worker thread touches a widget.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from station.i18n import Text

POLL_INTERVAL_MS = 250


class SyncRunner(QObject):
    report_ready = Signal(object)  # sync.client.report.SyncReport
    status = Signal(object)  # Text: why no sync ran (not enrolled, another sync running)

    def __init__(self, app, *, interval_s: float = 60.0, parent: QObject | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._app = app
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._mailbox: list[object] = []
        self._mailbox_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="desk-sync", daemon=True)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    @property
    def enabled(self) -> bool:
        return bool(self._app.config.registry_url)

    def start(self) -> None:
        if self.enabled:
            self._thread.start()
        self._timer.start()

    def request(self) -> None:
        """Sync soon (after a save), without waiting for the next interval."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> bool:
        self._timer.stop()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _post(self, item: object) -> None:
        with self._mailbox_lock:
            self._mailbox.append(item)

    def _drain(self) -> None:
        with self._mailbox_lock:
            items, self._mailbox = self._mailbox, []
        for item in items:
            if isinstance(item, Text):
                self.status.emit(item)
            else:
                self.report_ready.emit(item)

    def _run(self) -> None:
        from station.commands.sync import LOCK_FILE, SYNC_MESSAGES, build_engine
        from sync.client.errors import CredentialsMissing
        from sync.client.lock import SyncLock, SyncLockBusy

        try:
            engine = build_engine(self._app)
        except CredentialsMissing:
            self._post(SYNC_MESSAGES["NOT_ENROLLED"])
            return
        lock = SyncLock(self._app.home / LOCK_FILE)
        while not self._stop.is_set():
            try:
                lock.acquire()
            except SyncLockBusy:
                self._post(
                    Text("另一个同步正在运行，稍后再试。", "Another sync is running; trying again later.")
                )
            else:
                try:
                    self._post(engine.run_once())
                except Exception as error:  # the desk keeps working whatever the network does
                    self._post(
                        Text(f"同步出错：{type(error).__name__}", f"Sync failed: {type(error).__name__}")
                    )
                finally:
                    lock.release()
            self._wake.wait(self._interval_s)
            self._wake.clear()
