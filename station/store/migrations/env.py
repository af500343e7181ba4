"""Alembic environment for the station database.

``station.store.migrate`` runs Alembic programmatically: it opens the keyed SQLCipher connection,
begins ``BEGIN IMMEDIATE`` itself and hands the connection over in ``config.attributes["connection"]``,
so every revision of one upgrade runs in that single transaction (SQLite DDL is transactional) and a
failed upgrade leaves the database exactly as it was. There is no alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

from station.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("station migrations run only through station.store.migrate with an open connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
