"""Manual evidence: a record may be saved without chip blocks when an administrator signed it off.

Revision ID: 0004_manual_evidence
Revises: 0003_secrets
Create Date: 2026-11-29

The desk's unreadable-card path (the student found by the last six digits of the ID number, a county
administrator's sign-off) produces a record with no chip text block and no chip photo, marked
``card_type = 'unreadable'``. ``ck_records_complete`` demanded both blocks of every unpurged record;
it now accepts their absence for such records only.

Only a CHECK constraint is loosened, which changes no stored byte, so the table is not rebuilt (a
rebuild would trip the foreign keys of ``outbox`` and ``records.supersedes`` inside the single upgrade
transaction): the constraint text is replaced in the schema, the procedure SQLite documents for
removing a CHECK constraint (https://www.sqlite.org/lang_altertable.html, "making other kinds of table
schema changes"), followed by an integrity check -- all inside the upgrade's one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_manual_evidence"
down_revision = "0003_secrets"
branch_labels = None
depends_on = None

_OLD = (
    "purged_at IS NOT NULL OR (national_id IS NOT NULL AND chip_text IS NOT NULL "
    "AND chip_wlt IS NOT NULL AND photo_jpeg IS NOT NULL AND payload IS NOT NULL)"
)
_NEW = (
    "purged_at IS NOT NULL OR (national_id IS NOT NULL AND photo_jpeg IS NOT NULL AND payload IS NOT NULL "
    "AND ((chip_text IS NOT NULL AND chip_wlt IS NOT NULL) OR card_type = 'unreadable'))"
)


def _replace_check(old: str, new: str) -> None:
    conn = op.get_bind()
    sql = conn.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'")
    ).scalar()
    if sql is None or sql.count(old) != 1:
        raise RuntimeError("the records table does not carry the expected ck_records_complete constraint")
    version = conn.execute(sa.text("PRAGMA schema_version")).scalar()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'records'"),
            {"sql": sql.replace(old, new)},
        )
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    result = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    if result != "ok":
        raise RuntimeError("the records table failed its integrity check after the schema change")


def upgrade() -> None:
    _replace_check(_OLD, _NEW)


def downgrade() -> None:
    # Only while no record without chip blocks exists: the old constraint would not hold for one.
    conn = op.get_bind()
    unread = conn.execute(
        sa.text("SELECT count(*) FROM records WHERE card_type = 'unreadable' AND purged_at IS NULL")
    ).scalar()
    if unread:
        raise RuntimeError("records without chip evidence exist; the old schema cannot hold them")
    _replace_check(_NEW, _OLD)
