"""The first station schema: queue, records, batches, outbox, sync state, operators, audit log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28

Frozen: this file never imports the current models, so upgrading an old station replays exactly what
that station's version created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_KEPT_RECORD_COLUMNS = [
    "record_id",
    "student_id",
    "station_id",
    "county_code6",
    "operator",
    "captured_at",
    "card_type",
    "sam_id",
    "photo_sha256",
    "photo_profile",
    "payload_sha256",
    "quality_report",
    "supersedes",
    "saved_at",
]
_PERSONAL_RECORD_COLUMNS = [
    "national_id",
    "chip_text",
    "chip_wlt",
    "chip_fingerprint",
    "chip_serial",
    "photo_jpeg",
    "payload",
    "comparison",
    "officer_note",
]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "students",
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
        sa.Column("seq", sa.Integer),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.text("0")),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.CheckConstraint(
            _in(
                "status",
                (
                    "approved",
                    "pending",
                    "captured_at_zhongkao",
                    "captured",
                    "registered",
                    "withdrawn",
                    "transferred",
                    "suspended",
                ),
            ),
            name="ck_students_status",
        ),
    )
    op.create_index("ix_students_national_id", "students", ["national_id"])
    op.create_index("ix_students_school_class", "students", ["school_code", "class_no"])
    op.create_index("ix_students_status", "students", ["status"])

    op.create_table(
        "records",
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
            "purged_at IS NOT NULL OR (national_id IS NOT NULL AND chip_text IS NOT NULL "
            "AND chip_wlt IS NOT NULL AND photo_jpeg IS NOT NULL AND payload IS NOT NULL)",
            name="ck_records_complete",
        ),
    )
    op.create_index("ix_records_student", "records", ["student_id"])
    op.create_index("ix_records_captured_at", "records", ["captured_at"])

    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("body_sha256", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
        sa.Column("completed_at", sa.Text),
        sa.CheckConstraint(_in("state", ("open", "done", "abandoned")), name="ck_batches_state"),
    )

    op.create_table(
        "outbox",
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
        sa.CheckConstraint(
            _in("state", ("pending", "inflight", "accepted", "rejected", "conflict")), name="ck_outbox_state"
        ),
    )
    op.create_index("ix_outbox_batch", "outbox", ["batch_id"])

    op.create_table(
        "sync_state",
        sa.Column("feed", sa.Text, primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("epoch", sa.Text),
        sa.Column("head_seq", sa.Integer),
        sa.Column("updated_at", sa.Text, nullable=False),
    )

    op.create_table(
        "operators",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("locked_until", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("last_login_at", sa.Text),
        sa.CheckConstraint(_in("role", ("operator", "county_admin")), name="ck_operators_role"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("operator", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("entry_hash", sa.Text, nullable=False, unique=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_subject", "audit_log", ["subject"])
    op.create_index("ix_audit_action_at", "audit_log", ["action", "at"])

    _create_triggers()


def _create_triggers() -> None:
    kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _KEPT_RECORD_COLUMNS)
    nulled = " AND ".join(f"NEW.{c} IS NULL" for c in _PERSONAL_RECORD_COLUMNS)
    # The only change a record may ever see is the retention purge (docs/sync-protocol.md §2.2 L3): personal
    # columns set to NULL, nothing else touched, once the registry's ledger confirmed the outcome,
    # and only after the purge was written to the audit log in the same transaction.
    op.execute(
        f"""
        CREATE TRIGGER records_immutable BEFORE UPDATE ON records
        WHEN NOT (
            OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL AND {kept} AND {nulled}
            AND EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = OLD.record_id
                        AND o.state IN ('accepted', 'rejected') AND o.ledger_confirmed_at IS NOT NULL)
            AND EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'purge' AND a.subject = OLD.record_id)
        )
        BEGIN SELECT RAISE(ABORT, 'records are immutable; only the audited retention purge may change one'); END
        """
    )
    op.execute(
        "CREATE TRIGGER records_no_delete BEFORE DELETE ON records "
        "BEGIN SELECT RAISE(ABORT, 'records are immutable; they are never deleted'); END"
    )
    op.execute(
        "CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'outbox rows are never deleted'); END"
    )
    op.execute(
        "CREATE TRIGGER outbox_fixed_record BEFORE UPDATE OF record_id ON outbox "
        "WHEN NEW.record_id IS NOT OLD.record_id "
        "BEGIN SELECT RAISE(ABORT, 'an outbox row belongs to its record for ever'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


def downgrade() -> None:
    raise NotImplementedError("the first schema is never dropped: that would destroy captures")
