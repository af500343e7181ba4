"""Stateless nodes: photos in the database and the certificate issuance index shared by every node.

Revision ID: 0003_shared_nodes
Revises: 0002_evidence_revocation
Create Date: 2026-11-29

- ``blobs``: content-addressed photos (PostgreSQL deployments keep them here, so any node serves any
  photo; a SQLite registry keeps files and leaves the table empty);
- ``issued_certificates``: every station certificate issued (``pki station --db``), renewed through any
  node, or seen on a request, so ``pki revoke --station`` on any host finds them all (it replaces the
  per-directory ``issued.jsonl`` as the index a multi-node registry relies on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_shared_nodes"
down_revision = "0002_evidence_revocation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.Float, nullable=False),
    )
    op.create_table(
        "issued_certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("not_after", sa.String(40)),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
    )
    op.create_index("issued_by_station", "issued_certificates", ["station_id"])


def downgrade() -> None:
    op.drop_index("issued_by_station", table_name="issued_certificates")
    op.drop_table("issued_certificates")
    op.drop_table("blobs")
