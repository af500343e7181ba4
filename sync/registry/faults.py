"""Fault hooks for the fault-injection tests (docs/sync-protocol.md §11.1), off unless configured.

Nothing here reacts to request headers: faults come only from the registry's configuration
(``Faults.from_config`` of a JSON object given to ``serve --faults`` or to ``Settings``). Counters say
how many times a hook fires (-1: every time); they are thread-safe, so a test can arm "fail once".

- ``fail_before_commit``: the first record's transaction raises before COMMIT -> 500, nothing stored.
- ``fail_after_commit``: the batch's records commit, then the request fails -> 500.
- ``drop_after_commit``: the records commit, then the connection is aborted without a response.
- ``hold_batch_s``: after claiming the Idempotency-Key, wait (up to this long, or until ``release()``),
  so a concurrent retry of the same key sees 409.
- ``slow_response_bps``: the batch response body trickles at this many bytes per second.
- ``retry_after_s`` (+ ``retry_after_status`` 429|503, ``retry_after_count``): refuse batches with it.
- ``abort_after_allocation`` (probability, with ``seed``): roll a record's transaction back after its
  serial was allocated; the record is answered ``retry BUSY`` (the gapless-serial test, S10 of §11.2).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class InjectedFault(Exception):
    """Raised by a fault hook; never seen outside fault tests."""


@dataclass
class Faults:
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
    def active(self) -> bool:
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
            return True

    def take_retry_after(self) -> int | None:
        if self.retry_after_s is None:
            return None
        with self._lock:
            if self.retry_after_count == 0:
                return None
            if self.retry_after_count > 0:
                self.retry_after_count -= 1
            return self.retry_after_s

    def abort_now(self) -> bool:
        if not self.abort_after_allocation:
            return False
        with self._lock:
            if self._rng is None:
                self._rng = random.Random(self.seed)
            return self._rng.random() < self.abort_after_allocation

    def hold(self) -> None:
        if self.hold_batch_s > 0:
            self._released.wait(self.hold_batch_s)

    def release(self) -> None:
        self._released.set()
