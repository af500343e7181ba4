"""The registry schema of the first release (main at 2c89b6d): meta, counters, stations, students, records, batches.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29

Frozen: this file never imports the current models, so upgrading an old registry replays exactly what
that release created (``Base.metadata.create_all`` of its ``db.py``, with the same constraint names).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_meta",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.create_table(
        "feed_counters",
        sa.Column("county", sa.String(6), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reg_counters",
        sa.Column("season", sa.Integer, primary_key=True),
        sa.Column("county", sa.String(6), primary_key=True),
        sa.Column("last_serial", sa.Integer, nullable=False),
        sa.CheckConstraint("last_serial >= 0 AND last_serial <= 99999", name="serial_range"),
    )
    op.create_table(
        "stations",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger, nullable=False),
        sa.Column("first_seen_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "students",
        sa.Column("student_id", sa.String(64), primary_key=True),
        sa.Column("season", sa.Integer, nullable=False),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("national_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("nation", sa.String(2), nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=False),
        sa.Column("political_status", sa.String(2), nullable=False),
        sa.Column("school_code", sa.String(32), nullable=False),
        sa.Column("school_name", sa.String(128), nullable=False),
        sa.Column("class_no", sa.String(16), nullable=False),
        sa.Column("teaching_language", sa.String(8), nullable=False),
        sa.Column("student_category", sa.String(8), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("county", "seq", name="feed_position"),
    )
    op.create_index("students_by_national_id", "students", ["season", "national_id"])
    op.create_table(
        "records",
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
    )
    op.create_index(
        "one_registration_per_person",
        "records",
        ["season", "national_id"],
        unique=True,
        sqlite_where=sa.text("outcome = 'registered'"),
        postgresql_where=sa.text("outcome = 'registered'"),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("response_json", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "batches",
        "records",
        "students",
        "stations",
        "reg_counters",
        "feed_counters",
        "registry_meta",
    ):
        op.drop_table(table)
