"""Nothing personal in plaintext on disk: the database, its WAL and every other file in the home."""

from __future__ import annotations

import sqlite3

from station.store import paths
from tests.store.conftest import capture_for, chip_text_for, student_for


def _needles(person, jpeg: bytes) -> dict[str, bytes]:
    # FF D8 FF alone is 3 bytes: in a few hundred KB of ciphertext it turns up by chance about once in
    # a hundred runs, so the JPEG is looked for by its 4-byte start (FF D8 FF E0/E1) and by slices of
    # its body, which random bytes never reproduce.
    return {
        "name utf-8": person.name.encode(),
        "name utf-16le": person.name.encode("utf-16-le"),
        "id number": person.id_number.encode(),
        "id number utf-16le": person.id_number.encode("utf-16-le"),
        "jpeg start": jpeg[:4],
        "jpeg body": jpeg[1000:1032],
        "chip text": chip_text_for(person)[:32],
    }


def _files(home):
    return [p for p in home.rglob("*") if p.is_file()]


def test_files_hold_no_plaintext_personal_data(station, people, jpeg):
    person = people[0]
    assert jpeg.startswith(b"\xff\xd8\xff")
    station.queue.upsert(student_for(person))
    station.records.save(capture_for(person, jpeg))
    db_path = paths.database_path(station.home)
    wal = paths.sidecar_paths(db_path)[0]
    # The engine still holds its connections, so the WAL has not been checkpointed away: look at it too.
    assert wal.exists() and wal.stat().st_size > 0
    files = _files(station.home)
    assert {db_path.name, wal.name} <= {f.name for f in files}
    for path in files:
        content = path.read_bytes()
        assert not content.startswith(b"SQLite format 3"), path.name
        for label, needle in _needles(person, jpeg).items():
            assert needle not in content, f"{label} in plaintext in {path.name}"
    # After closing (checkpoint into the main file) the same holds.
    station.close()
    for path in _files(station.home):
        content = path.read_bytes()
        for label, needle in _needles(person, jpeg).items():
            assert needle not in content, f"{label} in plaintext in {path.name} after checkpoint"


def test_the_detector_would_see_plaintext(tmp_path, people, jpeg):
    """Control: the same values in an unencrypted SQLite file are found, so the check above means something."""
    person = people[0]
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (name TEXT, nid TEXT, chip BLOB, photo BLOB)")
        conn.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?)", (person.name, person.id_number, chip_text_for(person), jpeg)
        )
    content = plain.read_bytes()
    for label, needle in _needles(person, jpeg).items():
        assert needle in content, label


def test_no_file_holds_the_key_openable(station):
    """Without a keyring the key exists at rest only wrapped (key slots, recovery file): no key file,
    and neither the key nor its hex or base64 form appears in any file, all of them owner-only."""
    import base64

    key = station._key
    station.close()
    assert not (station.home / paths.KEY_FILE).exists()
    forms = (key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key))
    for path in _files(station.home):
        content = path.read_bytes()
        assert not any(form in content for form in forms), path.name
        assert path.stat().st_mode & 0o077 == 0, path.name
