"""Alembic environment for the registry database.

``sync.registry.migrate`` runs Alembic programmatically: it opens a connection on the registry's write
engine (``BEGIN IMMEDIATE`` on SQLite), begins the transaction itself and hands the connection over in
``config.attributes["connection"]``, so every revision of one upgrade runs in that single transaction
(DDL is transactional on SQLite and PostgreSQL alike) and a failed upgrade changes nothing. There is no
alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

from sync.registry.db import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("registry migrations run only through sync.registry.migrate with an open connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
