"""Registry v2 (issue 12): evidence kind and approving administrator, records held for review, revocation.

Revision ID: 0002_evidence_revocation
Revises: 0001_initial
Create Date: 2026-11-29

- ``revoked_certificates``: serials refused on every request (every node sees them);
- ``records.evidence`` (``chip`` | ``manual``; existing records were chip records) and
  ``records.approved_by`` (the county administrator who signed off a manual record);
- ``records.ledger_seq`` nullable (a record held for league review has no ledger position yet) and the
  outcome ``held``;
- an index on ``records.photo_sha256`` (one photo for two students is refused).

On SQLite the records table is rebuilt (``batch_alter_table``) from the frozen definition below, so the
constraints carried over never depend on what SQLite reflection recovers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_evidence_revocation"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _records_0001() -> sa.Table:
    """The records table as revision 0001 created it (the copy source of the SQLite rebuild)."""
    return sa.Table(
        "records",
        sa.MetaData(),
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("season", sa.Integer, nullable=False),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("student_id", sa.String(64), nullable=False),
        sa.Column("national_id", sa.String(32), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("photo_sha256", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("code", sa.String(32)),
        sa.Column("detail", sa.Text),
        sa.Column("fields", sa.String(256)),
        sa.Column("holder_school_code", sa.String(32)),
        sa.Column("holder_school_name", sa.String(128)),
        sa.Column("serial", sa.Integer),
        sa.Column("reg_no", sa.String(11), unique=True),
        sa.Column("captured_at", sa.String(40), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("clock_offset_s", sa.Float),
        sa.Column("ledger_seq", sa.BigInteger, nullable=False),
        sa.Column("record_json", sa.Text, nullable=False),
        sa.UniqueConstraint("season", "county", "serial", name="one_serial"),
        sa.UniqueConstraint("station_id", "ledger_seq", name="ledger_position"),
        sa.CheckConstraint("outcome IN ('registered', 'rejected')", name="outcome_kind"),
        sa.Index(
            "one_registration_per_person",
            "season",
            "national_id",
            unique=True,
            sqlite_where=sa.text("outcome = 'registered'"),
            postgresql_where=sa.text("outcome = 'registered'"),
        ),
    )


def upgrade() -> None:
    op.create_table(
        "revoked_certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("station_id", sa.String(64)),
        sa.Column("revoked_at", sa.String(40), nullable=False),
    )
    with op.batch_alter_table("records", copy_from=_records_0001()) as batch:
        batch.add_column(sa.Column("evidence", sa.String(8), nullable=False, server_default="chip"))
        batch.add_column(sa.Column("approved_by", sa.String(64)))
        batch.alter_column("ledger_seq", existing_type=sa.BigInteger, nullable=True)
        batch.drop_constraint("outcome_kind", type_="check")
        batch.create_check_constraint(
            "outcome_kind", sa.text("outcome IN ('registered', 'rejected', 'held')")
        )
        batch.create_check_constraint("evidence_kind", sa.text("evidence IN ('chip', 'manual')"))
    op.create_index("records_by_photo", "records", ["photo_sha256"])


def downgrade() -> None:
    op.drop_index("records_by_photo", table_name="records")
    op.execute("DELETE FROM records WHERE outcome = 'held'")
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint("evidence_kind", type_="check")
        batch.drop_constraint("outcome_kind", type_="check")
        batch.create_check_constraint("outcome_kind", sa.text("outcome IN ('registered', 'rejected')"))
        batch.alter_column("ledger_seq", existing_type=sa.BigInteger, nullable=False)
        batch.drop_column("approved_by")
        batch.drop_column("evidence")
    op.drop_table("revoked_certificates")
