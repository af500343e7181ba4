"""The fault matrix against the real ``station`` command and a real registry over mTLS: a damaged
record, a full disk during capture and during sync, a read-only home, a copied folder on a machine
without a keyring. Each ends in a sentence and its exit code, never a traceback, and the healthy
records reach the registry exactly once."""

from __future__ import annotations

import base64
import json
import shutil
import time

import cv2
import sqlalchemy as sa

from station.store import paths
from tests.camera.portraits import positive
from tests.support.disks import fill, read_only, tmpfs
from tests.support.pages import flip, page_holding, page_offset, plain_page
from tests.support.stations import OFFICER
from tests.sync.harness import (
    STATION,
    capture,
    card_file,
    credentials,
    engine_for,
    make_station,
    open_app,
    photo_variants,
    station_cli,
)


def _no_traceback(*results) -> None:  # type: ignore[no-untyped-def]
    for result in results:
        assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def _ledger_once(registry, record_ids) -> None:  # type: ignore[no-untyped-def]
    """Each record in the registry's ledger exactly once, under a number issued once."""
    ledger = registry.ledger()
    assert set(ledger) == set(record_ids)
    numbers = [r.reg_no for r in registry.all_records() if r.reg_no]
    assert len(numbers) == len(set(numbers))


def test_a_damaged_record_is_set_aside_by_id_and_the_rest_sync_exactly_once(app, registry, station_home):
    engine_for(app).run_once(push=False)
    photos = photo_variants(5)
    ids = [capture(app, s.national_id, photos[i]) for i, s in enumerate(registry.approved()[:5])]
    key = app.database._key
    app.close()
    db_path = paths.database_path(station_home)
    flip(db_path, page_offset(page_holding(db_path, key, photos[2].jpeg_bytes[4000:4032])))

    before = station_cli(station_home, "status", "--json")
    pushed = station_cli(station_home, "sync", "--once", "--json")
    after = station_cli(station_home, "status")
    doctor = station_cli(station_home, "doctor", "--json")
    again = station_cli(station_home, "sync", "--once", "--json")
    _no_traceback(before, pushed, after, doctor, again)
    assert before.returncode == 0 and json.loads(before.stdout)["counts"]["pending"] == 5
    report = json.loads(pushed.stdout)
    assert pushed.returncode == 0 and report["accepted"] == 4 and report["duplicates"] == 0
    assert any(a["code"] == "LOCAL_RECORD_DAMAGED" and ids[2] in a["detail"] for a in report["alerts"])
    assert after.returncode == 0 and ids[2] in after.stdout and "set aside" in after.stdout
    assert doctor.returncode == 1
    integrity = {i["name"]: i for i in json.loads(doctor.stdout)["items"]}["integrity"]
    assert (
        "damaged" in integrity["detail"] and ids[2] in integrity["detail"] and "restore" in integrity["fix"]
    )
    assert json.loads(again.stdout)["pushed"] == 0  # the set-aside record is not retried by a timer
    _ledger_once(registry, set(ids) - {ids[2]})


def test_full_disk_during_capture_and_during_sync(registry, proxy, tls_dir, tmp_path):
    with tmpfs(tmp_path / "small-disk", "24m") as disk:
        home = make_station(disk / "station", proxy.url, tls_dir, STATION)
        app = open_app(home)
        engine_for(app).run_once(push=False)
        students = registry.approved()
        ids = [capture(app, s.national_id) for s in students[:3]]
        app.close()
        image = tmp_path / "face.jpg"
        cv2.imwrite(str(image), positive())
        card = card_file(tmp_path / "card.bin", students[3].national_id)

        filler = fill(disk)
        captured = station_cli(home, "capture", "--card", str(card), "--photo", str(image), "--json")
        synced = station_cli(home, "sync", "--once", "--json")
        _no_traceback(captured, synced)
        told = captured.stderr + (json.dumps(json.loads(captured.stdout)) if captured.stdout else "")
        assert captured.returncode == 2 and ("disk is full" in told or "disk_full" in told), told
        assert synced.returncode == 2 and "disk is full" in synced.stderr
        filler.unlink()
        app = open_app(home)
        try:
            assert app.database.outbox.counts()["pending"] == 3  # the refused capture left nothing
        finally:
            app.close()

        # The disk fills while the registry holds the first batch: the registry commits it, the
        # station cannot record the answer, and the next session's resend is answered as a duplicate.
        registry.faults.hold_batch_s = 60
        from tests.support.stations import station_process

        worker = station_process("sync", "--once", "--json", env=_env(home), stdout=-1, stderr=-1)
        _wait_for_a_sent_batch(home)
        filler = fill(disk)
        registry.faults.release()
        _out, err = worker.communicate(timeout=60)
        assert worker.returncode == 2 and "Traceback" not in err and "disk" in err, err
        filler.unlink()
        resumed = station_cli(home, "sync", "--once", "--json")
        _no_traceback(resumed)
        assert resumed.returncode == 0 and json.loads(resumed.stdout)["duplicates"] >= 1
        _ledger_once(registry, ids)


def test_a_read_only_home_is_a_sentence_and_exit_2(station_home, tmp_path):
    image = tmp_path / "face.jpg"
    cv2.imwrite(str(image), positive())
    with read_only(station_home):
        status = station_cli(station_home, "status")
        sync = station_cli(station_home, "sync", "--once")
    _no_traceback(status, sync)
    assert status.returncode == 2 and "read-only" in status.stderr
    assert sync.returncode == 2 and "read-only" in sync.stderr


def test_a_copied_folder_opens_nothing_without_a_password(app, station_home, tmp_path, tls_dir):
    """No keyring here (the suite's keyring backend always fails): a copy of the station folder holds
    the key only wrapped, the registry key only sealed, and no command opens it without a password."""
    engine_for(app).run_once(push=False)
    key = app.database._key
    app.close()
    copy = tmp_path / "copied"
    shutil.copytree(station_home, copy)
    anonymous = _bare(copy, "status")
    guessed = _bare(copy, "status", "--operator", OFFICER.username, "--password-stdin", stdin="guess-1234\n")
    _no_traceback(anonymous, guessed)
    assert anonymous.returncode == 2 and "must log in" in anonymous.stderr
    assert guessed.returncode == 2 and "Wrong username or password" in guessed.stderr
    forms = (key, key.hex().encode(), base64.b64encode(key))
    private_key = credentials(tls_dir, STATION).key_pem.encode()
    pem_body = private_key.splitlines()[1]
    for path in copy.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(form in content for form in forms), path.name
            assert b"PRIVATE KEY" not in content and pem_body not in content, path.name
    # Even decrypted, no page holds the registry's private key: it is sealed under a key derived
    # from the database key, and the credential rows of the sync-state table are gone.
    raw = paths.database_path(copy).read_bytes()
    for number in range(1, len(raw) // 4096 + 1):
        page = plain_page(raw, key, number)
        assert b"PRIVATE KEY" not in page and pem_body not in page, number
    opened = open_app(copy)
    try:
        with opened.database.read() as conn:
            feeds = conn.execute(sa.text("SELECT feed FROM sync_state")).scalars().all()
            schemes = set(conn.execute(sa.text("SELECT scheme FROM secrets")).scalars())
        assert not [f for f in feeds if f.startswith("credential")] and schemes == {"aesgcm-v1"}
    finally:
        opened.close()


def _bare(home, *args: str, stdin: str = ""):  # type: ignore[no-untyped-def]
    """The command as someone without the password runs it (no terminal, no log-in added)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        env=_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env(home):  # type: ignore[no-untyped-def]
    import os

    return {**os.environ, "STATION_HOME": str(home), "STATION_LANG": "en", "STATION_SYNC_BACKOFF_S": "0.01"}


def _wait_for_a_sent_batch(home) -> None:  # type: ignore[no-untyped-def]
    """Until the station committed a batch as sent (it then waits for the registry's held answer)."""
    import sqlcipher3.dbapi2  # noqa: F401  (the store's own driver, through the store's connect)

    from station.store import engine, keys

    key = keys.load_key(home, OFFICER)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        conn = engine.connect(paths.database_path(home), key, configure=False)
        try:
            sent = conn.execute("SELECT count(*) FROM batches WHERE attempts > 0").fetchone()[0]
        finally:
            conn.close()
        if sent:
            return
        time.sleep(0.1)
    raise AssertionError("no batch was sent")
