"""Registry schema migrations (Alembic), on SQLite and PostgreSQL.

An old registry -- made by the first release's ``init`` (its tables, no migration bookkeeping) and
holding a registration -- is refused by the current version until ``sync-registry migrate`` upgrades it;
then it serves: the old registration answers ``duplicate`` with its number, the next one takes the next
serial. The revisions, applied one after the other from nothing, give exactly the schema of the models
(what ``init`` creates), and the first revision gives exactly the first release's tables.
"""

from __future__ import annotations

import json
import warnings

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sync.protocol import synthetic
from sync.protocol.canonical import canonical_json, sha256_hex
from sync.protocol.wire import LEDGER_DIGEST_HEADER, parse_ledger_digest
from sync.registry import migrate
from sync.registry.app import create_app
from sync.registry.cli import main as registry_cli
from sync.registry.config import Settings
from sync.registry.core import Registry
from sync.registry.db import Base, Database
from sync.registry.errors import AdminError
from tests.registry import schema_2c89b6d
from tests.registry.conftest import AsStation
from tests.registry.helpers import (
    COUNTY,
    SEASON,
    STATION,
    make_batch,
    make_record,
    photo_jpeg,
    push,
    registry_clock,
    students,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _differences(conn: sa.Connection, metadata: sa.MetaData) -> list:
    ignored = {"alembic_version"}
    context = MigrationContext.configure(
        conn, opts={"include_name": lambda name, kind, _parent: name not in ignored or kind != "table"}
    )
    return compare_metadata(context, metadata)


def test_revisions_from_nothing_give_the_models_schema(db_url):
    db = Database(db_url)
    try:
        with db.writer.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), migrate.FIRST_RELEASE)
            assert _differences(conn, schema_2c89b6d.metadata) == []  # 0001 is the first release
            command.upgrade(migrate.alembic_config(conn), "head")
            assert _differences(conn, Base.metadata) == []
        assert migrate.current_revision(db) == migrate.head_revision()
    finally:
        db.dispose()


def test_a_registry_v2_database_without_bookkeeping_is_recognised(db_url):
    db = Database(db_url)
    try:
        with db.writer.begin() as conn:  # what the v2 code's create_all made: no alembic_version
            command.upgrade(migrate.alembic_config(conn), migrate.REGISTRY_V2)
            conn.execute(sa.text("DROP TABLE alembic_version"))
        assert migrate.current_revision(db) == migrate.REGISTRY_V2
        assert migrate.upgrade(db).from_revision == migrate.REGISTRY_V2
        migrate.require_head(db)
        with db.writer.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        with pytest.raises(AdminError) as refused:
            migrate.require_head(db)
        assert refused.value.code == "SCHEMA_NEWER"
    finally:
        db.dispose()


def _first_release_registry(db: Database) -> dict:
    """An entry-year-2026 registry as the first release left it: students, a station, one registration."""
    schema_2c89b6d.metadata.create_all(db.writer)
    people = synthetic.people(12, COUNTY, seed=1, birth_year=SEASON - 16)
    tables = schema_2c89b6d.metadata.tables
    photo = photo_jpeg(300)
    with db.writer.begin() as conn:
        conn.execute(
            tables["registry_meta"].insert(),
            [{"key": "season", "value": str(SEASON)}, {"key": "epoch", "value": "oldepoch0001"}],
        )
        conn.execute(tables["feed_counters"].insert(), {"county": COUNTY, "seq": len(people) + 1})
        conn.execute(tables["reg_counters"].insert(), {"season": SEASON, "county": COUNTY, "last_serial": 1})
        conn.execute(
            tables["stations"].insert(),
            {
                "station_id": STATION,
                "county": COUNTY,
                "ledger_seq": 1,
                "first_seen_at": "2026-10-01T00:00:00+00:00",
            },
        )
        conn.execute(
            tables["students"].insert(),
            [
                {
                    "student_id": f"{COUNTY}-{SEASON}-old-{index:03d}",
                    "season": SEASON,
                    "county": COUNTY,
                    "national_id": person.id_number,
                    "name": person.name,
                    "sex": person.sex,
                    "nation": person.nation,
                    "birth_date": person.birth_date.isoformat(),
                    "political_status": "13",
                    "school_code": f"{COUNTY}0001",
                    "school_name": "示例第1中学",
                    "class_no": "01",
                    "teaching_language": "汉语",
                    "student_category": "普通",
                    "status": "registered" if index == 0 else "approved",
                    "version": 2 if index == 0 else 1,
                    "seq": len(people) + 1 if index == 0 else index + 1,
                }
                for index, person in enumerate(people)
            ],
        )
    with db.read() as session:
        first = session.execute(
            sa.select(tables["students"]).where(tables["students"].c.status == "registered")
        ).one()
    record = make_record(first, photo)
    with db.writer.begin() as conn:
        conn.execute(
            tables["records"].insert(),
            {
                "record_id": record["record_id"],
                "station_id": STATION,
                "season": SEASON,
                "county": COUNTY,
                "student_id": first.student_id,
                "national_id": first.national_id,
                "payload_sha256": record["payload_sha256"],
                "photo_sha256": sha256_hex(photo),
                "outcome": "registered",
                "serial": 1,
                "reg_no": f"260102{1:05d}",
                "captured_at": record["captured_at"],
                "received_at": "2026-10-16T01:00:00+00:00",
                "ledger_seq": 1,
                "record_json": canonical_json(record).decode(),
            },
        )
    return {"record": record, "photo": photo}


def test_first_release_registry_is_upgraded_and_serves(db_url, tmp_path, tls_dir, cert_pem, capsys):
    db = Database(db_url)
    old = _first_release_registry(db)
    settings = Settings(db_url=db_url, tls_dir=tls_dir, clock=registry_clock())
    if db_url.startswith("sqlite"):
        settings.blob_dir = tmp_path / "blobs"
    try:
        # Behind: every command that opens it refuses, naming the command that upgrades it.
        with pytest.raises(AdminError) as behind:
            Registry.open(settings, db)
        assert behind.value.code == "SCHEMA_BEHIND" and "sync-registry migrate" in behind.value.detail
        assert registry_cli(["serve", "--db", db_url, "--port", "1", "--tls-dir", str(tls_dir)]) == 1
        assert "sync-registry migrate --db" in capsys.readouterr().err
        assert registry_cli(["init", "--db", db_url, "--year", str(SEASON)]) == 1

        assert registry_cli(["migrate", "--db", db_url]) == 0
        assert f"from {migrate.FIRST_RELEASE} to {migrate.head_revision()}" in capsys.readouterr().out
        assert registry_cli(["migrate", "--db", db_url]) == 0
        assert "nothing to do" in capsys.readouterr().out

        registry = Registry.open(settings, db)
        assert registry.season == SEASON and registry.epoch == "oldepoch0001"
        people = students(db)
        photo = photo_jpeg(301)
        with TestClient(
            AsStation(create_app(registry), cert_pem(STATION)), base_url="https://testserver"
        ) as client:
            replay = push(client, STATION, make_batch(STATION, [old["record"]]), [old["photo"]]).json()
            assert replay["results"][0]["status"] == "duplicate"
            assert replay["results"][0]["reg_no"] == "26010200001"
            answer = push(
                client,
                STATION,
                make_batch(STATION, [make_record(people[0], photo)]),
                [photo],
                prefer="ledger-digest",
            )
            new = answer.json()
            assert new["results"][0]["status"] == "accepted", new
            assert new["results"][0]["reg_no"] == "26010200002"  # the serials go on without a gap
            ledger = client.get(f"/v1/stations/{STATION}/ledger").json()
            assert [item["seq"] for item in ledger["items"]] == [1, 2]
            # The old registration counts in the station's ledger digest.
            digest = client.get(f"/v1/stations/{STATION}/ledger/digest").json()
            assert (
                digest["count"] == 2
                and parse_ledger_digest(answer.headers[LEDGER_DIGEST_HEADER]).model_dump() == digest
            )
        assert registry_cli(["report", "--db", db_url, "--json"]) == 0
        (county,) = [r for r in json.loads(capsys.readouterr().out) if r["county"] == COUNTY]
        assert county["registered"] == county["registered_chip"] == 2 and county["serial_gaps"] == 0
    finally:
        db.dispose()
