"""The station's local store: an encrypted SQLCipher database with the queue, capture records, the
outbox, sync state, operators and the audit log; key management, recovery and migrations.

Start with ``StationDatabase.create`` / ``StationDatabase.open`` / ``recover`` (station.store.database)
and ``station.store.health.health()`` for ``station doctor``.
"""

from __future__ import annotations

from station.store.database import StationDatabase, recover

__all__ = ["StationDatabase", "recover"]
