"""The registry's tables exactly as the first release created them (``db.py`` at 2c89b6d, frozen).

The upgrade test builds an old registry with this copy's ``create_all`` -- as that release's
``sync-registry init`` did, without any migration bookkeeping -- fills it with data and upgrades it.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

sa.Table(
    "registry_meta",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)
sa.Table(
    "feed_counters",
    metadata,
    sa.Column("county", sa.String(6), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)
sa.Table(
    "reg_counters",
    metadata,
    sa.Column("season", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("county", sa.String(6), primary_key=True),
    sa.Column("last_serial", sa.Integer, nullable=False),
    sa.CheckConstraint("last_serial >= 0 AND last_serial <= 99999", name="serial_range"),
)
sa.Table(
    "stations",
    metadata,
    sa.Column("station_id", sa.String(64), primary_key=True),
    sa.Column("county", sa.String(6), nullable=False),
    sa.Column("ledger_seq", sa.BigInteger, nullable=False),
    sa.Column("first_seen_at", sa.String(40), nullable=False),
)
sa.Table(
    "students",
    metadata,
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
    sa.Index("students_by_national_id", "season", "national_id"),
)
sa.Table(
    "records",
    metadata,
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
    sa.Index(
        "one_registration_per_person",
        "season",
        "national_id",
        unique=True,
        sqlite_where=sa.text("outcome = 'registered'"),
        postgresql_where=sa.text("outcome = 'registered'"),
    ),
    sa.CheckConstraint("outcome IN ('registered', 'rejected')", name="outcome_kind"),
)
sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(36), primary_key=True),
    sa.Column("station_id", sa.String(64), nullable=False),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("lease_until", sa.Float, nullable=False),
    sa.Column("response_json", sa.Text),
    sa.Column("created_at", sa.String(40), nullable=False),
)
