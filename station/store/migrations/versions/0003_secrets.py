"""Secrets: the registry credentials leave the feed-cursor table for a table of their own.

Revision ID: 0003_secrets
Revises: 0002_outbox_size
Create Date: 2026-11-29

The CA, client certificate and private key were kept in ``sync_state`` rows named ``credential:*``.
They move to ``secrets`` as they are (scheme ``plain``: a migration has no access to the key); the
store seals them under the database key the first time it opens the upgraded database
(``SecretRepository.seal_plain``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_secrets"
down_revision = "0002_outbox_size"
branch_labels = None
depends_on = None

_MOVED = {
    "credential:ca_pem": "registry.ca_pem",
    "credential:cert_pem": "registry.cert_pem",
    "credential:key_pem": "registry.key_pem",
}


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("scheme", sa.Text, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.CheckConstraint("scheme IN ('aesgcm-v1', 'plain')", name="ck_secrets_scheme"),
    )
    for old, new in _MOVED.items():
        op.execute(
            sa.text(
                "INSERT INTO secrets (name, scheme, value, updated_at) "
                "SELECT :new, 'plain', CAST(cursor AS BLOB), updated_at FROM sync_state "
                "WHERE feed = :old AND cursor IS NOT NULL"
            ).bindparams(old=old, new=new)
        )
        op.execute(sa.text("DELETE FROM sync_state WHERE feed = :old").bindparams(old=old))


def downgrade() -> None:
    op.drop_table("secrets")
