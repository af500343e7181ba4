"""The station database schema at head, as SQLAlchemy Core tables.

The migrations in ``station/store/migrations`` create this schema (a test checks they agree); the
repositories query through these tables. Triggers live in the migrations only: they enforce what
must hold whatever code runs (records immutable except for the audited retention purge, audit log
append-only, outbox rows never deleted).

Times are UTC ISO-8601 text (``2026-11-28T08:05:13.123456Z``), so they sort as strings. JSON columns
are JSON text with sorted keys. Every personal value (names, ID numbers, chip data, photos) lives only here,
inside the SQLCipher-encrypted file.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

STUDENT_STATUSES = (
    "approved",
    "pending",
    "captured_at_zhongkao",
    "captured",
    "registered",
    "withdrawn",
    "transferred",
    "suspended",
)
OUTBOX_STATES = ("pending", "inflight", "accepted", "rejected", "conflict")
BATCH_STATES = ("open", "done", "abandoned")
ROLES = ("operator", "county_admin")
# Record columns that hold personal data: the retention purge sets exactly these to NULL.
PERSONAL_RECORD_COLUMNS = (
    "national_id",
    "chip_text",
    "chip_wlt",
    "chip_fingerprint",
    "chip_serial",
    "photo_jpeg",
    "payload",
    "comparison",
    "officer_note",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


students = sa.Table(
    "students",
    metadata,
    sa.Column("student_id", sa.Text, primary_key=True),
    sa.Column("national_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("nation", sa.Text),
    sa.Column("birth_date", sa.Text, nullable=False),
    sa.Column("political_status", sa.Text),
    sa.Column("school_code", sa.Text, nullable=False),
    sa.Column("school_name", sa.Text, nullable=False),
    sa.Column("class_no", sa.Text, nullable=False),
    sa.Column("teaching_language", sa.Text, nullable=False),
    sa.Column("student_category", sa.Text, nullable=False),
    sa.Column("county_code6", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("reg_no", sa.Text),
    # Local bookkeeping: the feed position of the last change, tombstone flag, when it arrived.
    sa.Column("seq", sa.Integer),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.text("0")),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.CheckConstraint(_in("status", STUDENT_STATUSES), name="ck_students_status"),
    sa.Index("ix_students_national_id", "national_id"),
    sa.Index("ix_students_school_class", "school_code", "class_no"),
    sa.Index("ix_students_status", "status"),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("student_id", sa.Text, nullable=False),
    sa.Column("national_id", sa.Text),
    sa.Column("station_id", sa.Text, nullable=False),
    sa.Column("county_code6", sa.Text, nullable=False),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("captured_at", sa.Text, nullable=False),
    sa.Column("card_type", sa.Text, nullable=False),
    sa.Column("chip_text", sa.LargeBinary),
    sa.Column("chip_wlt", sa.LargeBinary),
    sa.Column("chip_fingerprint", sa.LargeBinary),
    sa.Column("chip_serial", sa.Text),
    sa.Column("sam_id", sa.Text),
    sa.Column("photo_jpeg", sa.LargeBinary),
    sa.Column("photo_sha256", sa.Text, nullable=False),
    sa.Column("photo_profile", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary),
    sa.Column("payload_sha256", sa.Text, nullable=False),
    sa.Column("quality_report", sa.Text, nullable=False),
    sa.Column("comparison", sa.Text),
    sa.Column("officer_note", sa.Text),
    sa.Column("supersedes", sa.Text, sa.ForeignKey("records.record_id")),
    sa.Column("saved_at", sa.Text, nullable=False),
    sa.Column("purged_at", sa.Text),
    sa.CheckConstraint("chip_text IS NULL OR length(chip_text) = 256", name="ck_records_chip_text"),
    sa.CheckConstraint("chip_wlt IS NULL OR length(chip_wlt) = 1024", name="ck_records_chip_wlt"),
    sa.CheckConstraint(
        # A record without chip blocks must be an administrator's manual sign-off (revision 0004).
        "purged_at IS NOT NULL OR (national_id IS NOT NULL AND photo_jpeg IS NOT NULL AND payload IS NOT NULL "
        "AND ((chip_text IS NOT NULL AND chip_wlt IS NOT NULL) OR card_type = 'unreadable'))",
        name="ck_records_complete",
    ),
    sa.Index("ix_records_student", "student_id"),
    sa.Index("ix_records_captured_at", "captured_at"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("body_sha256", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
    sa.Column("completed_at", sa.Text),
    sa.CheckConstraint(_in("state", BATCH_STATES), name="ck_batches_state"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("record_id", sa.Text, sa.ForeignKey("records.record_id"), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("batch_id", sa.Text, sa.ForeignKey("batches.batch_id")),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("reg_no", sa.Text),
    sa.Column("result_json", sa.Text),
    sa.Column("acked_at", sa.Text),
    sa.Column("ledger_confirmed_at", sa.Text),
    # Added by revision 0002: bytes this record adds to a batch (photo + payload), for byte-sized batches.
    sa.Column("size_bytes", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.CheckConstraint(_in("state", OUTBOX_STATES), name="ck_outbox_state"),
    sa.Index("ix_outbox_due", "state", "next_attempt_at"),
    sa.Index("ix_outbox_batch", "batch_id"),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("feed", sa.Text, primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("epoch", sa.Text),
    sa.Column("head_seq", sa.Integer),
    sa.Column("updated_at", sa.Text, nullable=False),
)

# Secrets the station holds (the registry credentials): each value sealed with AES-GCM under a key
# derived from the database key, so even a leaked decrypted page does not show a private key.
secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("scheme", sa.Text, nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.CheckConstraint("scheme IN ('aesgcm-v1', 'plain')", name="ck_secrets_scheme"),
)

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("locked_until", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("last_login_at", sa.Text),
    sa.CheckConstraint(_in("role", ROLES), name="ck_operators_role"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("operator", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("detail", sa.Text),
    # Hash chain: each entry's hash covers the previous one, so a rewritten history is detectable
    # even by someone who bypasses the triggers with the key in hand.
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("entry_hash", sa.Text, nullable=False, unique=True),
    sa.Index("ix_audit_subject", "subject"),
    sa.Index("ix_audit_action_at", "action", "at"),
    sqlite_autoincrement=True,
)
