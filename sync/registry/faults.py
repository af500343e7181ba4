"""Fault hooks for the fault-injection tests (docs/sync-protocol.md §11.1): an injected collaborator.

The push path calls a handful of named hook points on the object it was given (``create_app(...,
faults=...)``). Production passes ``NO_FAULTS``, whose hooks do nothing, so the code paths read
straight; the tests pass a ``Faults`` armed from configuration (``Faults.from_config`` of a JSON object
given to ``serve --faults``). Nothing here reacts to request headers. Counters say how many times a
hook fires (-1: every time); they are thread-safe, so a test can arm "fail once".

Hook points, in the order a batch meets them:

- ``before_intake``: ``retry_after_s`` (+ ``retry_after_status`` 429|503, ``retry_after_count``)
  refuses the batch with Retry-After before anything is stored.
- ``after_claim``: ``hold_batch_s`` waits (up to this long, or until ``release()``) after the
  Idempotency-Key was claimed, so a concurrent retry of the same key sees 409.
- ``after_serial_allocated``: ``abort_after_allocation`` (probability, with ``seed``; drawn once per serial)
  rolls the deciding transaction back after its serials were allocated; its records are answered
  ``retry BUSY`` (§10.2).
- ``before_commit``: ``fail_before_commit`` makes the deciding transaction raise before COMMIT -> 500.
- ``after_commit``: ``fail_after_commit`` fails the request after the records committed -> 500.
- ``after_response_stored``: ``drop_after_commit`` aborts the connection without a response.
- ``respond``: ``slow_response_bps`` trickles the batch response body at this many bytes per second.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from starlette.responses import Response, StreamingResponse

from sync.registry.errors import ApiError

TRANSPORT_EXTENSION = "registry.transport"  # the connection's transport, for drop_after_commit


class InjectedFault(Exception):
    """Raised by a fault hook inside a record's transaction (rolled back, answered ``retry``)."""


class FailBeforeCommit(Exception):
    """The ``fail_before_commit`` hook fired (propagates to a 500)."""


class NoFaults:
    """The production collaborator: every hook point does nothing."""

    active = False

    def before_intake(self) -> None:
        pass

    def after_claim(self) -> None:
        pass

    def after_serial_allocated(self) -> None:
        pass

    def before_commit(self) -> None:
        pass

    def after_commit(self) -> None:
        pass

    def after_response_stored(self, scope: dict) -> None:
        pass

    def respond(self, payload: bytes) -> Response | None:
        return None


NO_FAULTS = NoFaults()


@dataclass
class Faults(NoFaults):
    fail_before_commit: int = 0
    fail_after_commit: int = 0
    drop_after_commit: int = 0
    hold_batch_s: float = 0.0
    slow_response_bps: float = 0.0
    retry_after_s: int | None = None
    retry_after_status: int = 503
    retry_after_count: int = -1
    abort_after_allocation: float = 0.0
    seed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)
    _rng: random.Random | None = field(default=None, repr=False)
    _fired: Counter = field(default_factory=Counter, repr=False)

    def fired(self, name: str) -> int:
        """How many times hook ``name`` fired (a test asserts that its fault actually happened)."""
        with self._lock:
            return self._fired[name]

    @classmethod
    def from_config(cls, config: str | dict[str, Any] | None) -> Faults:
        """From a dict, a JSON text, or a path to a JSON file; unknown names are an error."""
        if config is None or config == "":
            return cls()
        if isinstance(config, str):
            text = Path(config).read_text() if not config.lstrip().startswith("{") else config
            config = json.loads(text)
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown fault hooks: {sorted(unknown)}")
        return cls(**config)

    @property
    def active(self) -> bool:  # type: ignore[override]
        return any(
            (
                self.fail_before_commit,
                self.fail_after_commit,
                self.drop_after_commit,
                self.hold_batch_s,
                self.slow_response_bps,
                self.retry_after_s is not None,
                self.abort_after_allocation,
            )
        )

    def take(self, name: str) -> bool:
        """True if hook ``name`` fires now (and count it down)."""
        with self._lock:
            left = getattr(self, name)
            if left == 0:
                return False
            if left > 0:
                setattr(self, name, left - 1)
            self._fired[name] += 1
            return True

    def release(self) -> None:
        self._released.set()

    # ---------------------------------------------------------------- hook points

    def before_intake(self) -> None:
        if self.retry_after_s is None:
            return
        with self._lock:
            if self.retry_after_count == 0:
                return
            if self.retry_after_count > 0:
                self.retry_after_count -= 1
            self._fired["retry_after_s"] += 1
        raise ApiError(
            self.retry_after_status,
            "RETRY_LATER",
            "the registry asks to wait",
            retry_after_s=self.retry_after_s,
        )

    def after_claim(self) -> None:
        if self.hold_batch_s > 0:
            with self._lock:
                self._fired["hold_batch_s"] += 1
            self._released.wait(self.hold_batch_s)

    def after_serial_allocated(self) -> None:
        if not self.abort_after_allocation:
            return
        with self._lock:
            if self._rng is None:
                self._rng = random.Random(self.seed)
            fire = self._rng.random() < self.abort_after_allocation
            self._fired["abort_after_allocation"] += fire
        if fire:
            raise InjectedFault("abort after allocation")

    def before_commit(self) -> None:
        if self.take("fail_before_commit"):
            raise FailBeforeCommit("fault hook fail_before_commit")

    def after_commit(self) -> None:
        if self.take("fail_after_commit"):
            raise ApiError(500, "INJECTED_FAULT", "fault hook fail_after_commit")

    def after_response_stored(self, scope: dict) -> None:
        if self.take("drop_after_commit"):
            transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
            if transport is not None:
                transport.abort()
            raise ApiError(500, "INJECTED_FAULT", "fault hook drop_after_commit")

    def respond(self, payload: bytes) -> Response | None:
        if self.slow_response_bps <= 0:
            return None
        return StreamingResponse(
            _trickle(payload, self.slow_response_bps),
            media_type="application/json",
            headers={"Content-Length": str(len(payload))},
        )


async def _trickle(body: bytes, bytes_per_s: float):
    for index in range(len(body)):
        yield body[index : index + 1]
        await asyncio.sleep(1.0 / bytes_per_s)
