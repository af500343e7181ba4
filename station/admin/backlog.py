"""Captures waiting too long for the registry: the desk's warning, its stop, and the county
administrator's acknowledgement that lets capturing go on.

The thresholds are settings (``unsynced_warn_hours``, ``unsynced_block_hours``); the rule is pure
(``station.domain.unsynced``). An acknowledgement needs a county administrator's own password (the
officer at the desk may not be one) and is audited as a manual override with the hours waited.
"""

from __future__ import annotations

from datetime import UTC, datetime

from station.admin.common import require_admin
from station.domain.unsynced import UnsyncedState, unsynced_state


def backlog(app, now: datetime | None = None) -> UnsyncedState:  # type: ignore[no-untyped-def]
    """How long the oldest unsynced capture has waited, against the station's thresholds."""
    oldest = app.database.reports.oldest_unsynced()
    config = app.config
    return unsynced_state(
        datetime.fromisoformat(oldest.replace("Z", "+00:00")) if oldest else None,
        now or datetime.now(UTC),
        config.unsynced_warn_hours,
        config.unsynced_block_hours,
    )


def acknowledge(app, username: str, password: str, state: UnsyncedState, *, at_desk_of: str) -> str:  # type: ignore[no-untyped-def]
    """A county administrator lets the desk of ``at_desk_of`` capture on; returns the administrator.

    Wrong credentials raise the store's log-in errors (counted towards the lockout); an officer who
    is not a county administrator gets ``NotAllowed``."""
    operator = app.database.operators.verify(username.strip(), password)
    require_admin(app, operator.username)
    app.database.audit.append(
        "manual_override",
        operator=operator.username,
        subject=at_desk_of,
        detail={"kind": "unsynced", "hours": int(state.hours)},
    )
    return operator.username
