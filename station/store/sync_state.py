"""Feed cursors (docs/sync-protocol.md §6.4): saved in the same transaction as the page they follow."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.sqlite import insert

from station.store import clock
from station.store.engine import read_transaction, write_transaction
from station.store.models import sync_state
from station.store.rows import SyncState


def save(
    conn: Connection, feed: str, cursor: str | None, *, epoch: str | None = None, head_seq: int | None = None
) -> None:
    """Set ``feed``'s cursor inside the caller's transaction."""
    values = {
        "cursor": cursor,
        "epoch": epoch,
        "head_seq": head_seq,
        "updated_at": clock.iso(clock.utc_now()),
    }
    conn.execute(
        insert(sync_state)
        .values(feed=feed, **values)
        .on_conflict_do_update(index_elements=["feed"], set_=values)
    )


class SyncStateRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, feed: str) -> SyncState | None:
        with read_transaction(self._engine) as conn:
            row = conn.execute(sa.select(sync_state).where(sync_state.c.feed == feed)).mappings().first()
        return SyncState(**row) if row else None

    def set(
        self, feed: str, cursor: str | None, *, epoch: str | None = None, head_seq: int | None = None
    ) -> None:
        with write_transaction(self._engine) as conn:
            save(conn, feed, cursor, epoch=epoch, head_seq=head_seq)

    def reset(self, feed: str) -> None:
        """Forget the cursor (the registry answered 410 Gone): the next pull starts from the beginning."""
        with write_transaction(self._engine) as conn:
            conn.execute(sync_state.delete().where(sync_state.c.feed == feed))
