"""Damage is detected and named: flipped bytes at several offsets, truncation, a damaged header told
apart from a wrong key, the healthy records still read; restoring a backup salvages what still reads."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from skimage import data

from station.store import StationDatabase, backups, paths
from station.store.errors import DatabaseCorruptError, DatabaseHeaderDamagedError, WrongKeyError
from station.store.health import health
from tests.store.conftest import capture_for, student_for
from tests.support.pages import PAGE, flip, page_holding, page_offset
from tests.support.stations import OFFICER

RECORDS = 6


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    """Six different JPEGs of a real photograph (each record's photo lives on its own pages)."""
    made = []
    for quality in range(70, 70 + RECORDS):
        buffer = io.BytesIO()
        Image.fromarray(data.astronaut()).resize((480, 640)).save(buffer, "JPEG", quality=quality)
        made.append(buffer.getvalue())
    return made


@pytest.fixture
def filled(station, people, photos):
    """A closed station holding six records; (home, key, record ids)."""
    ids = []
    for person, jpeg in zip(people, photos, strict=False):
        station.queue.upsert(student_for(person))
        record = capture_for(person, jpeg)
        station.records.save(record)
        ids.append(record.record_id)
    key = station._key
    station.close()
    return station.home, key, ids


def _items(home):
    return {item.name: item for item in health(home, officer=OFFICER)}


def test_a_flipped_photo_page_names_the_record_and_the_rest_still_read(filled, photos):
    home, key, ids = filled
    db_path = paths.database_path(home)
    flip(db_path, page_offset(page_holding(db_path, key, photos[2][3000:3032])))
    items = _items(home)
    assert items["database"].status == "ok"  # it opens: the damage is inside
    integrity = items["integrity"]
    assert integrity.status == "fail"
    assert "damaged" in integrity.detail.en and "数据库已损坏" in integrity.detail.zh
    assert ids[2] in integrity.detail.en and "restore" in integrity.fix.en
    with StationDatabase.open(home, officer=OFFICER) as database:
        assert len(database.records.list()) == RECORDS  # the list never reads the photos
        found, damaged = database.records.readable_payloads(ids)
        assert damaged == [ids[2]] and sorted(found) == sorted(set(ids) - {ids[2]})
        assert all(found[r].photo_jpeg for r in found)


def test_a_damaged_header_is_not_a_wrong_key(filled):
    home, _key, _ids = filled
    db_path = paths.database_path(home)
    before = db_path.read_bytes()
    with pytest.raises(WrongKeyError) as wrong:
        StationDatabase.open(home, os.urandom(32))
    assert "recovery code" in wrong.value.message.en
    flip(db_path, 20)  # inside the first page: the salt and the schema page fail their HMAC
    with pytest.raises(DatabaseHeaderDamagedError) as damaged:
        StationDatabase.open(home, officer=OFFICER)
    sentence = damaged.value.sentence()
    assert "key is right" in sentence.en and "recovery code is not needed" in sentence.en
    assert "restore" in sentence.en and "备份" in sentence.zh
    item = _items(home)["database"]
    assert item.status == "fail" and "damaged" in item.detail.en and "recover " not in item.fix.en
    assert db_path.read_bytes()[84:] == before[84:]  # nothing else was written while looking


@pytest.mark.parametrize("where", ["page 2", "middle", "last page"])
def test_flipped_bytes_anywhere_are_reported_as_damage_never_raised(filled, where):
    home, _key, _ids = filled
    db_path = paths.database_path(home)
    pages = db_path.stat().st_size // PAGE
    number = {"page 2": 2, "middle": pages // 2, "last page": pages}[where]
    flip(db_path, page_offset(number))
    items = _items(home)
    failing = [item for item in items.values() if item.status == "fail"]
    assert failing, where
    assert all("damaged" in item.detail.en and "restore" in item.fix.en for item in failing)


@pytest.mark.parametrize("cut", [0.5, 0.75])
def test_a_truncated_file_is_damage(filled, cut):
    home, _key, _ids = filled
    db_path = paths.database_path(home)
    size = db_path.stat().st_size
    with open(db_path, "r+b") as handle:
        handle.truncate(int(size * cut) // PAGE * PAGE + 100)  # mid-page, as a torn copy ends
    items = _items(home)
    assert items.get("integrity", items["database"]).status == "fail"
    failing = [item for item in items.values() if item.status == "fail"]
    assert all("damaged" in item.detail.en for item in failing)


def test_restore_puts_the_backup_back_and_salvages_what_still_reads(station, people, photos):
    station.operators.create("op1", "operator-pw-1")
    saved = []
    for index, (person, jpeg) in enumerate(zip(people, photos, strict=False)):
        if index == 3:
            station.backup()
            station.operators.set_password("op1", "operator-pw-2", changed_by=OFFICER.username)
        record = capture_for(person, jpeg)
        station.records.save(record)
        saved.append(record.record_id)
    home, key = station.home, station._key
    station.close()
    db_path = paths.database_path(home)
    flip(db_path, page_offset(page_holding(db_path, key, photos[4][3000:3032])))

    database, report = _restore(home)
    with database:
        assert report.salvaged == [saved[3], saved[5]] and report.unreadable == [saved[4]]
        assert report.damaged_copy.exists() and report.damaged_copy.parent == home
        assert database.page_problems() == []
        states = {e.record_id: e.state for e in database.outbox.list()}
        assert set(states) == set(saved) - {saved[4]} and set(states.values()) == {"pending"}
        assert database.audit.verify_chain() is None  # salvaged audit entries continue the chain
        assert database.audit.list(action="restore")
    # The password changed after the backup still opens the restored store (officers salvaged too).
    StationDatabase.open(home, officer=_login("op1", "operator-pw-2")).close()


def test_a_damaged_backup_is_refused(station):
    backup = station.backup()
    station.close()
    flip(backup, page_offset(2))
    with pytest.raises(DatabaseCorruptError) as refused:
        _restore(station.home, backup)
    assert refused.value.code == "backup_damaged" and "older backup" in refused.value.sentence().en
    assert paths.database_path(station.home).exists()  # the database was left where it was


def test_scheduled_backups_keep_the_newest(station):
    assert station.backup_if_due(every_hours=24, keep=2) is not None
    assert station.backup_if_due(every_hours=24, keep=2) is None  # not due again yet
    for _ in range(3):
        station.backup(keep=2)
    kept = backups.list_backups(station.home)
    assert len(kept) == 2
    for path in kept:
        backups.verify(path, station._key)
        assert path.stat().st_mode & 0o077 == 0


def _restore(home, source=None):
    from station.store.database import restore

    return restore(home, officer=OFFICER, source=source)


def _login(username, password):
    from station.domain.officers import OfficerLogin

    return OfficerLogin(username, password)
