"""The store's `station doctor` items, each with a status and a plain-language fix."""

from __future__ import annotations

import json

import sqlalchemy as sa

from station.store import StationDatabase, paths
from station.store.health import health
from tests.support.stations import OFFICER


def _by_name(items):
    return {item.name: item for item in items}


def test_healthy_station(station):
    items = _by_name(health(station.home, officer=OFFICER))
    assert [items[n].status for n in ("database", "key", "integrity", "schema", "disk")] == ["ok"] * 5
    assert items["backup"].status == "warn"  # none taken yet
    station.backup()
    assert _by_name(health(station.home, officer=OFFICER))["backup"].status == "ok"
    json.dumps([i.as_dict() for i in items.values()], ensure_ascii=False)


def test_lost_key_fails_with_the_recovery_fix(station):
    station.close()
    (station.home / "keyslots.json").unlink()
    items = _by_name(health(station.home, officer=OFFICER))
    assert items["database"].status == "fail"
    assert "recover" in items["database"].fix.en
    assert items["schema"].status == "warn"


def test_no_station_yet(station_home):
    items = _by_name(health(station_home))
    assert items["database"].status == "fail" and "init" in items["database"].fix.en
    assert not (station_home / paths.DATABASE_FILE).exists()


def test_schema_behind_is_a_warning_and_doctor_does_not_upgrade(station_home):
    database, _ = StationDatabase.create(station_home, admin=OFFICER, schema_revision="0001_initial")
    database.close()
    items = _by_name(health(station_home, officer=OFFICER))
    assert items["schema"].status == "warn" and items["schema"].fix is not None
    with StationDatabase.open(station_home, upgrade=False, officer=OFFICER) as db, db.read() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001_initial"
