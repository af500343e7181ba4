"""Key management: credential store or 0600 file, recovery code, wrong or lost keys never lose data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from station.domain.officers import OfficerLogin
from station.store import StationDatabase, engine, keys, paths, recover, recovery
from station.store.errors import (
    AdminRequiredError,
    DatabaseExistsError,
    DatabaseMissingError,
    DatabaseNotInitialisedError,
    InvalidCredentialsError,
    InvalidRecoveryCode,
    KeyMissingError,
    OfficerRequiredError,
    OperatorLockedError,
    OperatorUnknownError,
    StoreError,
    WrongKeyError,
)
from station.store.keyslots import KeySlots
from station.store.operators import MAX_FAILED_ATTEMPTS
from tests.store.conftest import capture_for, student_for
from tests.support.stations import OFFICER


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


def test_without_a_usable_keyring_the_key_is_wrapped_by_the_administrators_password(station):
    metadata = keys.read_metadata(station.home)
    assert metadata is not None and metadata.key_store == keys.SLOTS
    assert keys.key_file_mode(station.home) is None  # no key file
    assert KeySlots(station.home).usernames() == [OFFICER.username]
    assert keys.load_key(station.home, OFFICER) == station._key
    with pytest.raises(OfficerRequiredError) as required:
        keys.load_key(station.home)
    assert "--operator" in required.value.sentence().en
    with pytest.raises(InvalidCredentialsError):
        keys.load_key(station.home, OfficerLogin(OFFICER.username, "not-the-password"))
    with pytest.raises(InvalidCredentialsError):  # an unknown officer reads the same
        keys.load_key(station.home, OfficerLogin("nobody", OFFICER.password))


def test_password_changes_rewrap_the_slot_and_disabling_drops_it(station):
    station.operators.create("op1", "operator-pw-1")
    assert KeySlots(station.home).usernames() == ["op1", OFFICER.username]
    assert keys.load_key(station.home, OfficerLogin("op1", "operator-pw-1")) == station._key
    station.operators.set_password("op1", "operator-pw-2", changed_by=OFFICER.username)
    with pytest.raises(InvalidCredentialsError):
        keys.load_key(station.home, OfficerLogin("op1", "operator-pw-1"))
    assert keys.load_key(station.home, OfficerLogin("op1", "operator-pw-2")) == station._key
    # A password change that does not commit leaves the slots as they were.
    with pytest.raises(OperatorUnknownError):
        station.operators.set_password("ghost", "ghost-password", changed_by=OFFICER.username)
    assert "ghost" not in KeySlots(station.home).usernames()
    # A disabled officer's password no longer opens the store, not even from a copied folder.
    station.operators.disable("op1", by=OFFICER.username)
    assert KeySlots(station.home).usernames() == [OFFICER.username]
    with pytest.raises(InvalidCredentialsError):
        keys.load_key(station.home, OfficerLogin("op1", "operator-pw-2"))
    station.operators.enable("op1", by=OFFICER.username)  # the slot is back, made from the stored hash
    assert keys.load_key(station.home, OfficerLogin("op1", "operator-pw-2")) == station._key
    slots = KeySlots(station.home)
    assert slots.remove(OFFICER.username)
    with pytest.raises(StoreError) as last:  # the store must stay openable by someone
        slots.remove("op1")
    assert last.value.code == "last_key_slot"


def test_wrong_passwords_at_the_slot_lock_it_like_the_desk(station):
    wrong = OfficerLogin(OFFICER.username, "not-the-password")
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(InvalidCredentialsError):
            keys.load_key(station.home, wrong)
    with pytest.raises(OperatorLockedError):
        keys.load_key(station.home, wrong)
    with pytest.raises(OperatorLockedError):  # even the right password, until the lockout ends
        keys.load_key(station.home, OFFICER)
    station.operators.create("op2", "operator-pw-2", role="county_admin")
    station.operators.unlock(OFFICER.username, by="op2")  # an administrator's unlock lifts it here too
    assert keys.load_key(station.home, OFFICER) == station._key


def test_a_station_with_its_key_in_a_plaintext_file_is_converted_at_the_next_open(station_home, people, jpeg):
    """Stations set up before key slots kept the key in station.key: the next open wraps it for every
    officer (from their password hashes, no password typed) and deletes the file."""
    database, _code = StationDatabase.create(station_home, admin=OFFICER)
    database.operators.create("op1", "operator-pw-1")
    record = capture_for(people[3], jpeg)
    database.records.save(record)
    key = database._key
    database.close()
    _make_legacy(station_home, key)
    assert keys.read_metadata(station_home).key_store == keys.KEY_FILE

    with StationDatabase.open(station_home) as opened:  # no password: the key file still opens it
        assert opened.outbox.get(record.record_id).state == "pending"
    assert keys.read_metadata(station_home).key_store == keys.SLOTS
    assert not (station_home / paths.KEY_FILE).exists()
    assert KeySlots(station_home).usernames() == ["op1", OFFICER.username]
    with pytest.raises(OfficerRequiredError):
        StationDatabase.open(station_home)
    for login in (OFFICER, OfficerLogin("op1", "operator-pw-1")):
        StationDatabase.open(station_home, officer=login).close()


def test_a_legacy_station_without_officers_keeps_its_key_file_until_the_first_administrator(station_home):
    database, _code = StationDatabase.create(station_home, admin=OFFICER)
    key = database._key
    database.close()
    _make_legacy(station_home, key, officers=False)
    with StationDatabase.open(station_home) as opened:
        assert keys.read_metadata(station_home).key_store == keys.KEY_FILE  # nobody to wrap it for
        opened.operators.create("wuyun", "county-admin-pw", role="county_admin")
    StationDatabase.open(station_home).close()
    assert keys.read_metadata(station_home).key_store == keys.SLOTS
    assert not (station_home / paths.KEY_FILE).exists()


def _make_legacy(home, key: bytes, *, officers: bool = True) -> None:
    """Turn ``home`` into a station as set up before key slots: the key in station.key, no slots."""
    metadata = keys.read_metadata(home)
    paths.write_atomically(home / paths.KEY_FILE, key.hex().encode() + b"\n")
    paths.write_atomically(
        home / paths.METADATA_FILE,
        json.dumps({**dataclasses.asdict(metadata), "key_store": keys.KEY_FILE}).encode(),
    )
    (home / "keyslots.json").unlink()
    if not officers:
        conn = engine.connect(paths.database_path(home), key)
        try:
            conn.execute("DELETE FROM operators")
        finally:
            conn.close()


def test_a_working_keyring_keeps_the_key_and_no_key_file_is_written(station_home, memory_keyring):
    database, _code = StationDatabase.create(station_home, admin=OFFICER)
    database.close()
    metadata = keys.read_metadata(station_home)
    assert metadata.key_store == keys.KEYRING
    assert not (station_home / paths.KEY_FILE).exists()
    stored = memory_keyring.secrets[(keys.KEYRING_SERVICE, metadata.keyring_username)]
    assert len(bytes.fromhex(stored)) == 32
    StationDatabase.open(station_home, officer=OFFICER).close()


def test_keyring_that_loses_the_key_gives_key_missing_then_recovery_brings_it_back(
    station_home, memory_keyring, people, jpeg
):
    database, code = StationDatabase.create(station_home, admin=OFFICER)
    database.queue.upsert(student_for(people[0]))
    record = capture_for(people[0], jpeg)
    database.records.save(record)
    database.close()
    memory_keyring.secrets.clear()  # e.g. the Windows profile was rebuilt
    with pytest.raises(KeyMissingError) as missing:
        StationDatabase.open(station_home, officer=OFFICER)
    assert missing.value.code == "key_missing" and "recovery code" in missing.value.message.en
    with recover(code, station_home) as recovered:
        assert recovered.outbox.get(record.record_id).state == "pending"
        assert recovered.audit.list(action="key_recovered")
    StationDatabase.open(station_home, officer=OFFICER).close()  # stored again: opens without the code now


def test_lost_key_slots_and_recovery_code_bring_unsynced_captures_back(created, people, jpeg):
    database, code = created
    record = capture_for(people[1], jpeg)
    database.records.save(record)
    database.close()
    (database.home / "keyslots.json").unlink()
    with pytest.raises(KeyMissingError) as missing:
        StationDatabase.open(database.home, officer=OFFICER)
    assert "--admin" in missing.value.message.en
    # The officer types it in lower case, without dashes, with an O for a 0 and an I for a 1.
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "i")
    with pytest.raises(AdminRequiredError):  # no keyring: someone must hold the key again
        recover(typed, database.home)
    admin = OfficerLogin(OFFICER.username, "a-new-password")
    with recover(typed, database.home, admin=admin) as recovered:
        back = recovered.records.get(record.record_id, viewed_by="admin")
        assert back is not None and back.photo_jpeg == jpeg and back.national_id == people[1].id_number
    assert keys.key_file_mode(database.home) is None
    StationDatabase.open(database.home, officer=admin).close()  # the administrator's new password opens it


def test_wrong_key_is_a_clear_error_and_the_file_is_untouched(created, people, jpeg):
    database, _code = created
    database.records.save(capture_for(people[2], jpeg))
    database.close()
    before = _snapshot(database.home)
    with pytest.raises(WrongKeyError) as wrong:
        StationDatabase.open(database.home, os.urandom(32))
    assert wrong.value.code == "wrong_key"
    assert "recovery code" in wrong.value.message.en and "恢复码" in wrong.value.message.zh
    # A key slot that unwraps another key: refused by the key check before SQLCipher is asked...
    KeySlots(database.home).put("intruder", "intruder-password", os.urandom(32))
    with pytest.raises(WrongKeyError):
        StationDatabase.open(database.home, officer=OfficerLogin("intruder", "intruder-password"))
    # ...and SQLCipher refuses a wrong key by itself too ("file is not a database").
    with pytest.raises(WrongKeyError):
        engine.connect(database.path, os.urandom(32))
    after = _snapshot(database.home)
    for changed in (Path("keyslots.json"), Path("keyslots.lock")):
        before.pop(changed, None)
        after.pop(changed, None)
    assert after == before


def test_missing_database_is_an_error_and_no_empty_database_appears(station_home):
    with pytest.raises(DatabaseMissingError):
        StationDatabase.open(station_home, officer=OFFICER)
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
        StationDatabase.open(database.home, officer=OFFICER)
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
