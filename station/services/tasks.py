"""Background operations for the GUI: the work runs off the GUI thread, its outcome comes back on it.

The model is Anki's ``CollectionOp``/``QueryOp``: ``ops.run(op, on_success=..., on_failure=...)``
runs ``op`` on a worker and calls exactly one of the callbacks on the GUI thread. ``op`` must not
touch a widget. Work goes to one of three lanes:

* ``Lane.STORE`` -- one worker: every write to the store from the GUI is serialised here;
* ``Lane.SYNC`` -- one worker: one sync session at a time;
* ``Lane.WORK`` -- two workers for CPU work such as the JPEG search of a manual capture.

There is one failure path. ``on_failure`` receives the error when given; without it an
``OfficerError`` goes out as ``failed`` (its sentence, shown by the window). Any other exception is
a bug and also goes to ``on_unexpected`` (the crash handler: a report and the crash dialog), so it
is never silently dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from station.errors import OfficerError

log = logging.getLogger("station.app")


class Lane(StrEnum):
    STORE = "store"
    SYNC = "sync"
    WORK = "work"


_WORKERS = {Lane.STORE: 1, Lane.SYNC: 1, Lane.WORK: 2}


@dataclass
class _Outcome:
    lane: Lane
    label: str
    value: Any
    error: BaseException | None
    on_success: Callable[[Any], None] | None
    on_failure: Callable[[BaseException], None] | None


class BackgroundOps(QObject):
    """Runs operations on worker lanes; delivers each outcome on the GUI thread.

    Signals:
        failed(OfficerError): an operation without its own failure callback failed for a known reason.
    """

    failed = Signal(object)
    _finished = Signal(object)  # _Outcome, emitted on a worker, received on the GUI thread

    def __init__(
        self, on_unexpected: Callable[[BaseException], None] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._on_unexpected = on_unexpected
        self._executors = {
            lane: ThreadPoolExecutor(max_workers=count, thread_name_prefix=f"ops-{lane}")
            for lane, count in _WORKERS.items()
        }
        self._pending: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._count_lock = threading.Lock()
        self._closed = False
        self._finished.connect(self._deliver)

    def run(
        self,
        op: Callable[[], Any],
        *,
        lane: Lane = Lane.WORK,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        label: str = "operation",
    ) -> Future:
        """Run ``op`` on ``lane``; ``on_success(result)`` or ``on_failure(error)`` follow on the GUI thread."""
        if self._closed:
            raise RuntimeError("background operations are shut down")
        with self._count_lock:
            self._pending[lane] += 1

        def work() -> None:
            try:
                value, error = op(), None
            except BaseException as exc:  # delivered to exactly one failure path on the GUI thread
                value, error = None, exc
            if error is not None and not isinstance(error, OfficerError):
                log.error("%s failed: %s", label, type(error).__name__)
            self._finished.emit(_Outcome(lane, label, value, error, on_success, on_failure))

        return self._executors[lane].submit(work)

    def busy(self, lane: Lane) -> int:
        """Operations on ``lane`` not finished yet: queued, running, or their outcome not yet handled on
        the GUI thread (so 0 means every callback has run)."""
        with self._count_lock:
            return self._pending[lane]

    def shutdown(self, *, wait_for: tuple[Lane, ...] = tuple(Lane)) -> None:
        """Stop taking work. Lanes in ``wait_for`` finish what they hold first (the store lane must:
        an accepted capture is being written); the others drop queued work and are not waited for
        (a sync request in flight ends at its own timeout, on its own)."""
        self._closed = True
        for lane, executor in self._executors.items():
            waiting = lane in wait_for
            executor.shutdown(wait=waiting, cancel_futures=not waiting)

    @Slot(object)
    def _deliver(self, outcome: _Outcome) -> None:
        try:
            self._handle(outcome)
        finally:
            with self._count_lock:
                self._pending[outcome.lane] -= 1

    def _handle(self, outcome: _Outcome) -> None:
        if outcome.error is None:
            if outcome.on_success is not None:
                outcome.on_success(outcome.value)
            return
        expected = isinstance(outcome.error, OfficerError)
        if outcome.on_failure is not None:
            outcome.on_failure(outcome.error)
        elif expected:
            self.failed.emit(outcome.error)
        if not expected:  # a bug: it is reported even when the caller handled the failure
            if self._on_unexpected is None:
                raise outcome.error
            self._on_unexpected(outcome.error)
