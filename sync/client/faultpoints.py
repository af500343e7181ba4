"""Named crash points for the fault tests (docs/sync-protocol.md §11.1): the process ends at a
named point with ``os._exit(137)``, as a power cut or a kill would, without cleanup or flushing.

The points are an injected collaborator: the engine and the station's store port take a
``FaultPoints`` and call ``reached(name)`` where a crash must be survivable. Production passes
``NO_FAULTS``, whose ``reached`` does nothing; the fault tests start the station with
``STATION_CRASH_AT=name`` (or ``name:N``, the N-th time the point is reached, 1-based), which the
station's settings turn into ``FaultPoints("name:N")``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

POINTS = (
    "after_capture_commit",
    "after_batch_persist",
    "after_send",
    "after_response_before_apply",
    "mid_apply",
    "pull_mid_page",
)


def _exit_now() -> None:
    os._exit(137)


class FaultPoints:
    def __init__(self, spec: str | None = None, *, crash: Callable[[], None] = _exit_now) -> None:
        point, _, nth = (spec or "").partition(":")
        if point and point not in POINTS:
            raise ValueError(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")
        self.point = point or None
        self.nth = int(nth) if nth.isdigit() else 1
        self.seen = 0
        self._crash = crash

    def armed_for(self, name: str) -> bool:
        return self.point == name

    def reached(self, name: str) -> None:
        if self.point != name:
            return
        self.seen += 1
        if self.seen >= self.nth:
            self._crash()


NO_FAULTS = FaultPoints()
