"""PC/SC presence events and the service watchdog, on one stoppable thread.

pyscard's own ``CardMonitor`` is a process-wide singleton whose thread blocks up to 60 s and stops for
good when pcscd goes away, so it is not used. This monitor polls ``SCardGetStatusChange`` in short
slices on its own context and bridges what it sees into a callback (the caller usually puts it on a
queue or a Qt signal; the callback must not block). When the service disappears it reports
``service_lost``, then re-establishes a context every ``retry`` seconds and reports ``service_back``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from station.idcard.transports.pcsc import SERVICE_GONE, _code


@dataclass(frozen=True)
class PresenceEvent:
    """``kind``: inserted, removed, reader_added, reader_removed, service_lost, service_back."""

    kind: str
    reader: str | None = None
    atr: bytes | None = None


_GONE = {_code(c) for c in SERVICE_GONE}


class PcscMonitor:
    def __init__(
        self, callback: Callable[[PresenceEvent], None], poll: float = 0.2, retry: float = 0.5
    ) -> None:
        self._callback = callback
        self._poll_ms = max(1, int(poll * 1000))
        self._retry = retry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-pcsc-monitor", daemon=True)
        self._context: Any = None
        self._states: dict[str, int] = {}
        self.service_up: bool | None = None

    def start(self) -> PcscMonitor:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _emit(self, event: PresenceEvent) -> None:
        try:
            self._callback(event)
        except Exception:  # a faulty consumer must not kill the monitor
            pass

    def _service(self, up: bool) -> None:
        if self.service_up is not up:
            if self.service_up is not None or not up:
                self._emit(PresenceEvent("service_back" if up else "service_lost"))
            self.service_up = up

    def _drop_context(self) -> None:
        if self._context is not None:
            try:
                scard.SCardReleaseContext(self._context)
            except Exception:
                pass
        self._context = None
        for name in list(self._states):
            self._emit(PresenceEvent("reader_removed", name))
        self._states.clear()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._context is None and not self._establish():
                    self._stop.wait(self._retry)
                    continue
                self._poll_once()
        finally:
            self._drop_context()

    def _establish(self) -> bool:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            self._service(False)
            return False
        self._context = context
        self._service(True)
        return True

    def _poll_once(self) -> None:
        hresult, names = scard.SCardListReaders(self._context, [])
        code = _code(hresult)
        if code in _GONE:
            self._drop_context()
            self._service(False)
            return
        names = list(names) if hresult == scard.SCARD_S_SUCCESS else []
        for name in [n for n in self._states if n not in names]:
            del self._states[name]
            self._emit(PresenceEvent("reader_removed", name))
        for name in names:
            if name not in self._states:
                self._states[name] = scard.SCARD_STATE_UNAWARE
                self._emit(PresenceEvent("reader_added", name))
        if not names:
            self._stop.wait(self._poll_ms / 1000)
            return
        query = [(name, self._states[name]) for name in names]
        hresult, states = scard.SCardGetStatusChange(self._context, self._poll_ms, query)
        code = _code(hresult)
        if code in _GONE:
            self._drop_context()
            self._service(False)
            return
        if hresult != scard.SCARD_S_SUCCESS:
            if code != _code(scard.SCARD_E_TIMEOUT):
                self._stop.wait(self._poll_ms / 1000)  # e.g. a reader vanished mid-wait: list again
            return
        for name, event_state, atr in states:
            before = self._states.get(name, scard.SCARD_STATE_UNAWARE)
            was_present = bool(before & scard.SCARD_STATE_PRESENT)
            now_present = bool(event_state & scard.SCARD_STATE_PRESENT)
            self._states[name] = event_state & ~scard.SCARD_STATE_CHANGED
            if now_present and not was_present:
                self._emit(PresenceEvent("inserted", name, bytes(atr)))
            elif was_present and not now_present:
                self._emit(PresenceEvent("removed", name))
