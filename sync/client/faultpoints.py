"""Named crash points for the fault tests (docs/sync-protocol.md §11.1): ``STATION_CRASH_AT=name`` ends the
process there with ``os._exit(137)``, as a power cut or a kill would, without cleanup or flushing.

``STATION_CRASH_AT=name:N`` crashes at the N-th time the point is reached (1-based).
"""

from __future__ import annotations

import os

POINTS = (
    "after_capture_commit",
    "after_batch_persist",
    "after_send",
    "after_response_before_apply",
    "mid_apply",
    "pull_mid_page",
)
_seen: dict[str, int] = {}


def faultpoint(name: str) -> None:
    wanted = os.environ.get("STATION_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= (int(nth) if nth.isdigit() else 1):
        os._exit(137)
