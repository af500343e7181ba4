"""Migrations: a station created at the first schema upgrades to head after an encrypted backup."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from station.store import StationDatabase, engine, migrate, paths
from station.store.errors import SchemaTooNewError, WrongKeyError
from station.store.models import metadata
from tests.store.conftest import capture_for
from tests.support.stations import OFFICER

FIRST = "0001_initial"


def _insert_at_first_revision(database: StationDatabase, record) -> None:
    """Write a capture the way a station on revision 0001 did (its outbox had no size_bytes yet)."""
    with database.write() as conn:
        columns = {
            c.name: getattr(record, c.name)
            for c in metadata.tables["records"].columns
            if hasattr(record, c.name)
        }
        columns["quality_report"] = json.dumps(record.quality_report)
        columns["comparison"] = json.dumps(record.comparison)
        columns["saved_at"] = record.captured_at
        names = ", ".join(columns)
        conn.execute(
            sa.text(f"INSERT INTO records ({names}) VALUES ({', '.join(':' + n for n in columns)})"), columns
        )
        conn.execute(
            sa.text("INSERT INTO outbox (record_id, state, created_at) VALUES (:r, 'pending', :t)"),
            {"r": record.record_id, "t": record.captured_at},
        )


def test_upgrade_from_the_first_schema_backs_up_then_migrates(station_home, people, jpeg):
    database, _code = StationDatabase.create(station_home, admin=OFFICER, schema_revision=FIRST)
    assert database.schema_revision() == FIRST
    record = capture_for(people[0], jpeg)
    _insert_at_first_revision(database, record)
    key = database._key
    database.close()

    with StationDatabase.open(station_home, officer=OFFICER) as upgraded:
        assert upgraded.schema_revision() == migrate.head_revision()
        entry = upgraded.outbox.get(record.record_id)
        assert entry.state == "pending"
        assert entry.size_bytes == len(jpeg) + len(record.payload)  # backfilled by 0002
        migration = upgraded.audit.list(action="migrate")
        assert migration and migration[0].detail["from"] == FIRST

    assert (station_home / paths.BACKUP_DIR / paths.RECOVERY_FILE).read_bytes() == (
        station_home / paths.RECOVERY_FILE
    ).read_bytes()
    backups = list((station_home / paths.BACKUP_DIR).glob("*.db"))
    assert len(backups) == 1 and backups[0].name == migration[0].detail["backup"]
    backup = backups[0]
    assert oct(backup.stat().st_mode & 0o777) == oct(0o600)
    content = backup.read_bytes()
    assert not content.startswith(b"SQLite format 3")
    for needle in (people[0].name.encode(), people[0].id_number.encode(), jpeg[1000:1032], jpeg[:4]):
        assert needle not in content
    # The backup opens with the station key only, and holds the pre-upgrade schema and the capture.
    with pytest.raises(WrongKeyError):
        engine.connect(backup, os.urandom(32), configure=False)
    conn = engine.connect(backup, key, configure=False)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == FIRST
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 1
    finally:
        conn.close()


def test_no_backup_when_already_at_head(station):
    station.close()
    StationDatabase.open(station.home, officer=OFFICER).close()
    assert not (station.home / paths.BACKUP_DIR).exists()


def test_models_match_what_the_migrations_build(station):
    with station.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_a_newer_schema_is_refused_not_downgraded(station):
    with station.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    station.close()
    with pytest.raises(SchemaTooNewError) as error:
        StationDatabase.open(station.home, officer=OFFICER)
    assert "newer" in error.value.message.en
    assert not (station.home / paths.BACKUP_DIR).exists()


def test_manual_backup_is_encrypted_and_verified(station, people, jpeg):
    station.records.save(capture_for(people[3], jpeg))
    path = station.backup()
    assert path.parent.name == paths.BACKUP_DIR
    assert people[3].id_number.encode() not in path.read_bytes()


def test_credentials_moved_by_0003_are_sealed_and_leave_no_plaintext_page(station_home):
    """Stations before 0003 kept the registry's private key in ``sync_state``: after the upgrade it is
    sealed, the rows are gone, and no page of the database -- decrypted with the key -- shows it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.pages import PAGE, plain_page

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    database, _code = StationDatabase.create(station_home, admin=OFFICER, schema_revision="0002_outbox_size")
    with database.write() as conn:
        for name, value in (("ca_pem", "CA"), ("cert_pem", "CERT"), ("key_pem", pem)):
            conn.execute(
                sa.text("INSERT INTO sync_state (feed, cursor, updated_at) VALUES (:f, :c, 'then')"),
                {"f": f"credential:{name}", "c": value},
            )
    key = database._key
    database.close()
    body = pem.splitlines()[1].encode()

    def pages_showing_the_key() -> list[int]:
        raw = paths.database_path(station_home).read_bytes()
        return [
            n
            for n in range(1, len(raw) // PAGE + 1)
            if b"PRIVATE KEY" in (p := plain_page(raw, key, n)) or body in p
        ]

    assert pages_showing_the_key()  # as the old schema kept it: readable by anyone holding the key
    with StationDatabase.open(station_home, officer=OFFICER) as upgraded:
        assert upgraded.secrets.get("registry.key_pem") == pem.encode()
        with upgraded.read() as conn:
            assert not conn.execute(
                sa.text("SELECT feed FROM sync_state WHERE feed LIKE 'credential%'")
            ).all()
            assert set(conn.execute(sa.text("SELECT scheme FROM secrets")).scalars()) == {"aesgcm-v1"}
    assert pages_showing_the_key() == []
