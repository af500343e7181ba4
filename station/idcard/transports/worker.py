"""One thread that owns every call into a blocking device library, so callers can time out.

Vendor SDKs and the PC/SC client block inside C with no timeout of their own. Calls go to a single
worker thread (the libraries are not thread-safe) and the caller waits at most its timeout. A call
that overruns leaves its worker stuck in C; the owner drops it and starts a fresh one on reopen.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from station.idcard.errors import ReaderTimeoutError


class DeviceWorker:
    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            func, reply = job
            try:
                reply.put((True, func()))
            except Exception as error:  # handed back to the caller's thread
                reply.put((False, error))

    def call(self, func: Callable[[], Any], timeout: float) -> Any:
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._jobs.put((func, reply))
        try:
            ok, value = reply.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            raise ReaderTimeoutError(detail="device library call did not return") from None
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._jobs.put(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
