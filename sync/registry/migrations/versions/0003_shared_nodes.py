"""Stateless nodes: photos in the database and the certificate issuance index shared by every node.

Revision ID: 0003_shared_nodes
Revises: 0002_evidence_revocation
Create Date: 2026-11-29

- ``blobs``: content-addressed photos (PostgreSQL deployments keep them here, so any node serves any
  photo; a SQLite registry keeps files and leaves the table empty);
- ``issued_certificates``: every station certificate issued (``pki station --db``), renewed through any
  node, or seen on a request, so ``pki revoke --station`` on any host finds them all (it replaces the
  per-directory ``issued.jsonl`` as the index a multi-node registry relies on);
- ``stations.ledger_count`` and ``stations.ledger_xor``: each station's ledger digest, kept as the
  ledger grows (a batch answer carries it), filled here from the records already decided.
"""

from __future__ import annotations

import hashlib

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
    zero = "0" * 64
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("ledger_count", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("ledger_xor", sa.String(64), nullable=False, server_default=zero))
    _fill_ledger_digests()


def _fill_ledger_digests() -> None:
    """Each station's ledger digest over its decided records (docs/sync-protocol.md §4.4), frozen here."""
    conn = op.get_bind()
    records = conn.execute(
        sa.text(
            "SELECT station_id, record_id, outcome, reg_no FROM records "
            "WHERE ledger_seq IS NOT NULL ORDER BY station_id"
        )
    )
    digests: dict[str, list[int]] = {}
    for station_id, record_id, outcome, reg_no in records:
        status = "accepted" if outcome == "registered" else "rejected"
        term = int.from_bytes(hashlib.sha256(f"{record_id}|{status}|{reg_no or ''}".encode()).digest(), "big")
        digest = digests.setdefault(station_id, [0, 0])
        digest[0] += 1
        digest[1] ^= term
    for station_id, (count, xor) in digests.items():
        conn.execute(
            sa.text(
                "UPDATE stations SET ledger_count = :count, ledger_xor = :xor WHERE station_id = :station"
            ),
            {"count": count, "xor": f"{xor:064x}", "station": station_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("ledger_xor")
        batch.drop_column("ledger_count")
    op.drop_index("issued_by_station", table_name="issued_certificates")
    op.drop_table("issued_certificates")
    op.drop_table("blobs")
