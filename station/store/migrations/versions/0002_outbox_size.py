"""Outbox: bytes per record (for batches sized by bytes, docs/sync-protocol.md §8.2) and a due-rows index.

Revision ID: 0002_outbox_size
Revises: 0001_initial
Create Date: 2026-11-28

Existing rows are backfilled from their records, so a station upgraded mid-season sizes its next
batches correctly.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_outbox_size"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("size_bytes", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.execute(
        """
        UPDATE outbox SET size_bytes = (
            SELECT coalesce(length(r.photo_jpeg), 0) + coalesce(length(r.payload), 0)
            FROM records r WHERE r.record_id = outbox.record_id
        )
        """
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("size_bytes")
