"""Every pooled connection is keyed and configured as the design says."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
import sqlalchemy as sa

from station.store import StationDatabase, keys
from station.store.errors import AdminRequiredError, OfficerRequiredError
from tests.support.stations import OFFICER


def test_connection_settings(station):
    with station.read() as conn:
        settings = {
            name: conn.execute(sa.text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "temp_store", "cipher_version")
        }
    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == 2  # FULL
    assert settings["foreign_keys"] == 1
    assert settings["temp_store"] == 2  # MEMORY: no temporary files on disk
    assert settings["cipher_version"]  # really SQLCipher, not plain SQLite


def test_foreign_keys_are_enforced(station):
    with pytest.raises(sa.exc.IntegrityError), station.write() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO outbox (record_id, state, created_at) VALUES ('no-such-record', 'pending', 'x')"
            )
        )


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring])
def test_unusable_keyrings_mean_key_slots_never_a_key_file(station_home, backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        with pytest.raises(AdminRequiredError):
            StationDatabase.create(station_home)  # no keyring and no administrator to wrap the key
        assert not list(station_home.iterdir())  # refused before anything was written
        database, _ = StationDatabase.create(station_home, admin=OFFICER)
        database.close()
        assert keys.read_metadata(station_home).key_store == keys.SLOTS
        assert keys.key_file_mode(station_home) is None
        with pytest.raises(OfficerRequiredError):
            StationDatabase.open(station_home)
        StationDatabase.open(station_home, officer=OFFICER).close()
    finally:
        keyring.set_keyring(previous)
