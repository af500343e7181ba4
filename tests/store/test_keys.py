"""Key management: credential store or 0600 file, recovery code, wrong or lost keys never lose data."""

from __future__ import annotations

import hashlib
import os

import keyring
import pytest
from keyring.backend import KeyringBackend

from station.store import StationDatabase, engine, keys, paths, recover, recovery
from station.store.errors import (
    DatabaseExistsError,
    DatabaseMissingError,
    DatabaseNotInitialisedError,
    InvalidRecoveryCode,
    KeyMissingError,
    WrongKeyError,
)
from tests.store.conftest import capture_for, student_for


class MemoryKeyring(KeyringBackend):
    """A working credential store kept in memory (a real keyring backend, registered via set_keyring)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _snapshot(home):
    return {
        p.relative_to(home): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in home.rglob("*")
        if p.is_file()
    }


def test_without_a_usable_keyring_the_key_goes_to_a_user_only_file(station):
    metadata = keys.read_metadata(station.home)
    assert metadata is not None and metadata.key_store == keys.KEY_FILE
    assert keys.key_file_mode(station.home) == 0o600
    assert keys.load_key(station.home) == station._key


def test_a_working_keyring_keeps_the_key_and_no_key_file_is_written(station_home, memory_keyring):
    database, _code = StationDatabase.create(station_home)
    database.close()
    metadata = keys.read_metadata(station_home)
    assert metadata.key_store == keys.KEYRING
    assert not (station_home / paths.KEY_FILE).exists()
    stored = memory_keyring.secrets[(keys.KEYRING_SERVICE, metadata.keyring_username)]
    assert len(bytes.fromhex(stored)) == 32
    StationDatabase.open(station_home).close()


def test_keyring_that_loses_the_key_gives_key_missing_then_recovery_brings_it_back(
    station_home, memory_keyring, people, jpeg
):
    database, code = StationDatabase.create(station_home)
    database.queue.upsert(student_for(people[0]))
    record = capture_for(people[0], jpeg)
    database.records.save(record)
    database.close()
    memory_keyring.secrets.clear()  # e.g. the Windows profile was rebuilt
    with pytest.raises(KeyMissingError) as missing:
        StationDatabase.open(station_home)
    assert missing.value.code == "key_missing" and "recovery code" in missing.value.message.en
    with recover(code, station_home) as recovered:
        assert recovered.outbox.get(record.record_id).state == "pending"
        assert recovered.audit.list(action="key_recovered")
    StationDatabase.open(station_home).close()  # stored again: opens without the code now


def test_lost_key_file_and_recovery_code_bring_unsynced_captures_back(created, people, jpeg):
    database, code = created
    record = capture_for(people[1], jpeg)
    database.records.save(record)
    database.close()
    (database.home / paths.KEY_FILE).unlink()
    with pytest.raises(KeyMissingError):
        StationDatabase.open(database.home)
    # The officer types it in lower case, without dashes, with an O for a 0 and an I for a 1.
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "i")
    with recover(typed, database.home) as recovered:
        back = recovered.records.get(record.record_id, viewed_by="admin")
        assert back is not None and back.photo_jpeg == jpeg and back.national_id == people[1].id_number
    assert keys.key_file_mode(database.home) == 0o600


def test_wrong_key_is_a_clear_error_and_the_file_is_untouched(created, people, jpeg):
    database, _code = created
    database.records.save(capture_for(people[2], jpeg))
    database.close()
    before = _snapshot(database.home)
    with pytest.raises(WrongKeyError) as wrong:
        StationDatabase.open(database.home, os.urandom(32))
    assert wrong.value.code == "wrong_key"
    assert "recovery code" in wrong.value.message.en and "恢复码" in wrong.value.message.zh
    # A key file replaced by another key: refused by the key check before SQLCipher is asked...
    key_file = database.home / paths.KEY_FILE
    key_file.write_text(os.urandom(32).hex())
    with pytest.raises(WrongKeyError):
        StationDatabase.open(database.home)
    # ...and SQLCipher refuses a wrong key by itself too ("file is not a database").
    with pytest.raises(WrongKeyError):
        engine.connect(database.path, os.urandom(32))
    after = _snapshot(database.home)
    key_name = key_file.relative_to(database.home)
    before.pop(key_name)
    after.pop(key_name)
    assert after == before


def test_missing_database_is_an_error_and_no_empty_database_appears(station_home):
    with pytest.raises(DatabaseMissingError):
        StationDatabase.open(station_home)
    assert not (station_home / paths.DATABASE_FILE).exists()


def test_setting_up_twice_never_overwrites_a_station(created):
    database, _code = created
    with pytest.raises(DatabaseExistsError):
        StationDatabase.create(database.home)
    database.close()
    database.path.unlink()  # even with the database file gone, its keys and recovery file are kept
    with pytest.raises(DatabaseExistsError):
        StationDatabase.create(database.home)


def test_a_truncated_database_is_refused_not_reinitialised(created):
    database, _code = created
    database.close()
    for sidecar in paths.sidecar_paths(database.path):
        sidecar.unlink(missing_ok=True)
    database.path.write_bytes(b"")
    with pytest.raises(DatabaseNotInitialisedError):
        StationDatabase.open(database.home)
    assert database.path.read_bytes() == b""


def test_recovery_code_format_and_checks():
    code = recovery.generate()
    groups = code.split("-")
    assert len(groups) == 6 and all(len(g) == 5 for g in groups)
    assert recovery.normalise(code) == recovery.normalise(code.lower().replace("-", ""))
    for bad, reason in (
        (code[:-1], "recovery_length"),
        (code[:-1] + "U", "recovery_characters"),
        (_mistype(code), "recovery_checksum"),
    ):
        with pytest.raises(InvalidRecoveryCode) as error:
            recovery.normalise(bad)
        assert error.value.code == reason, bad
        assert error.value.message.zh and error.value.message.en


def test_a_well_formed_code_of_another_station_does_not_unlock(created):
    database, _code = created
    database.close()
    with pytest.raises(InvalidRecoveryCode) as error:
        recover(recovery.generate(), database.home)
    assert error.value.code == "recovery_mismatch"


def _mistype(code: str) -> str:
    """Change one data character (the checksum then no longer matches, barring a 1-in-1024 collision)."""
    for replacement in "23456789":
        candidate = replacement + code[1:]
        if candidate != code:
            try:
                recovery.normalise(candidate)
            except InvalidRecoveryCode:
                return candidate
    raise AssertionError("no mistyped variant found")
