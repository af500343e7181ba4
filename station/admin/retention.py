"""The retention purge: a record's photo and chip data go once the registry's ledger confirmed it and
the retention period (``retention_days``) has passed. The record keeps its identifiers, hashes and
registration number; each purge is audited by the store, and the database's triggers allow no other
change to a record. Sync runs it after every session; the administrator can run it at once."""

from __future__ import annotations

from station.admin.common import require_admin


def due(app) -> int:  # type: ignore[no-untyped-def]
    return app.database.records.purge_candidates(retention_days=app.config.retention_days)


def purge_now(app, *, acting: str) -> int:  # type: ignore[no-untyped-def]
    require_admin(app, acting)
    return len(app.database.records.purge_due(operator=acting, retention_days=app.config.retention_days))
