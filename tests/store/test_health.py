"""The store's `station doctor` items, each with a status and a plain-language fix."""

from __future__ import annotations

import json

import sqlalchemy as sa

from station.store import StationDatabase, paths
from station.store.health import health


def _by_name(items):
    return {item.name: item for item in items}


def test_healthy_station(station):
    items = _by_name(health(station.home))
    assert [items[n].status for n in ("database", "schema", "disk")] == ["ok", "ok", "ok"]
    json.dumps([i.as_dict() for i in items.values()], ensure_ascii=False)


def test_lost_key_fails_with_the_recovery_fix(station):
    station.close()
    (station.home / paths.KEY_FILE).unlink()
    items = _by_name(health(station.home))
    assert items["database"].status == "fail"
    assert "recover" in items["database"].fix.en
    assert items["schema"].status == "warn"


def test_no_station_yet(station_home):
    items = _by_name(health(station_home))
    assert items["database"].status == "fail" and "init" in items["database"].fix.en
    assert not (station_home / paths.DATABASE_FILE).exists()


def test_schema_behind_is_a_warning_and_doctor_does_not_upgrade(station_home):
    database, _ = StationDatabase.create(station_home, schema_revision="0001_initial")
    database.close()
    items = _by_name(health(station_home))
    assert items["schema"].status == "warn" and items["schema"].fix is not None
    with StationDatabase.open(station_home, upgrade=False) as db, db.read() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001_initial"
