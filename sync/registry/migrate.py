"""Registry schema migrations (Alembic, programmatic: ``script_location`` is ``sync.registry:migrations``).

``create_at_head`` makes a new database's schema from the models and stamps it at head (Alembic's
advice for fresh databases; a test checks that upgrading from 0001 gives the same schema).
``upgrade`` brings an existing database to head in one transaction (a failed upgrade changes nothing).
A database made before the registry had migrations (no ``alembic_version``) is recognised by its
tables: with ``revoked_certificates`` it is at ``0002_evidence_revocation`` (the registry v2 schema),
else at ``0001_initial`` (the first release); it is stamped so and upgraded from there.
``require_head`` is what every command that opens a registry runs: a database that is behind is
refused with a message naming ``sync-registry migrate``, one written by a newer version is refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from sync.registry.db import Base, Database
from sync.registry.errors import AdminError

SCRIPT_LOCATION = "sync.registry:migrations"
FIRST_RELEASE = "0001_initial"
REGISTRY_V2 = "0002_evidence_revocation"


@dataclass(frozen=True)
class UpgradeReport:
    from_revision: str | None  # None: the database was empty
    to_revision: str


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def _known(revision: str) -> bool:
    return any(script.revision == revision for script in script_directory().walk_revisions())


def _versioned_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _unversioned_revision(conn: Connection) -> str | None:
    """The revision a database without ``alembic_version`` is at (None: it holds no registry schema)."""
    tables = set(inspect(conn).get_table_names())
    if "records" not in tables:
        return None
    return REGISTRY_V2 if "revoked_certificates" in tables else FIRST_RELEASE


def current_revision(db: Database) -> str | None:
    """The schema revision of ``db`` (versioned or recognised); None for an empty database."""
    with db.reader.connect() as conn:
        return _versioned_revision(conn) or _unversioned_revision(conn)


def create_at_head(conn: Connection) -> None:
    Base.metadata.create_all(conn)
    command.stamp(alembic_config(conn), "head")


def upgrade(db: Database) -> UpgradeReport:
    """Bring ``db`` to head (an empty database is created at head); one transaction."""
    head = head_revision()
    with db.writer.begin() as conn:
        before = _versioned_revision(conn)
        if before is None:
            before = _unversioned_revision(conn)
            if before is None:
                create_at_head(conn)
                return UpgradeReport(None, head)
            command.stamp(alembic_config(conn), before)
        _check_not_newer(before)
        if before != head:
            command.upgrade(alembic_config(conn), "head")
    return UpgradeReport(before, head)


def _check_not_newer(revision: str) -> None:
    if not _known(revision):
        raise AdminError(
            "SCHEMA_NEWER",
            f"the database schema is at {revision}, written by a newer registry version; use that version",
        )


def require_head(db: Database) -> None:
    """Refuse a database that is not at head (behind: run ``sync-registry migrate``; newer: refused)."""
    revision = current_revision(db)
    if revision is None:
        raise AdminError("NOT_INITIALISED", "run `sync-registry init --db URL --year YYYY` first")
    head = head_revision()
    if revision == head:
        return
    _check_not_newer(revision)
    raise AdminError(
        "SCHEMA_BEHIND",
        f"the database schema is at {revision}, this registry needs {head}: "
        "run `sync-registry migrate --db URL` first",
    )
