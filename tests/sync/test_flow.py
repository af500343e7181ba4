"""The happy path end to end over mutual TLS: pull the queue, capture at the desk, push, reconcile."""

from __future__ import annotations

import json

from sync.registry.enrollment import enroll
from tests.support.stations import station_process
from tests.sync.harness import (
    COUNTY,
    SEASON,
    STATION,
    Tally,
    capture,
    card_file,
    check_oracle,
    drain,
    engine_for,
    open_app,
    set_entry_year,
    station_cli,
)


def test_pull_capture_push_reconcile(app, registry):
    engine = engine_for(app)
    report = engine.run_once(push=False)
    assert report.ok and report.queue_digest_ok
    assert report.queue_upserted == 40 and app.database.queue.count() == 40
    approved = registry.approved()[:5]
    ids = [capture(app, s.national_id) for s in approved]
    tally = Tally()
    report = drain(engine, tally)
    assert report.accepted == 5 and report.ledger_digest_ok
    entries = {e.record_id: e for e in app.database.outbox.list()}
    assert all(entries[i].state == "accepted" and entries[i].reg_no.startswith(f"{SEASON % 100:02d}") for i in ids)
    assert all(entries[i].ledger_confirmed_at for i in ids)
    assert report.batch_sizes[0] == 1  # the first batch of a session is a single record
    check_oracle(app, registry, tally)


def test_batches_after_the_probe_are_sized_by_bytes_and_the_answer_carries_the_ledger(app, registry):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    for student in registry.approved()[:12]:
        capture(app, student.national_id)
    asked: list[str] = []
    factory = engine.session_factory

    def watched():  # type: ignore[no-untyped-def]
        session = factory()
        get_model = session.get_model

        def recording(path, model, params=None):  # type: ignore[no-untyped-def]
            asked.append(path)
            return get_model(path, model, params)

        session.get_model = recording  # type: ignore[method-assign]
        return session

    engine.session_factory = watched
    report = engine.run_once(pull=False)
    # The probe, then the rest at once: the byte budget (1 MB here, a fast link) decides, not a count ramp.
    assert report.accepted == 12 and report.batch_sizes == [1, 11]
    # The last batch answer carried the station's ledger digest: no separate request for it, and it agrees.
    assert report.ledger_digest_ok and not any(path.endswith("/ledger/digest") for path in asked)
    # A session with nothing to push asks for the digest as before.
    assert engine.run_once(pull=False).ledger_digest_ok
    assert any(path.endswith("/ledger/digest") for path in asked)
    check_oracle(app, registry)


def test_cli_enroll_capture_sync_status(tmp_path, registry, tls_dir, monkeypatch):
    home = tmp_path / "cli-station"
    monkeypatch.setenv("STATION_HOME", str(home))
    enrollment = tmp_path / "enroll.json"
    enroll(tls_dir, COUNTY, STATION, registry.server.url, enrollment)
    # No keyring here: a new station needs its first county administrator to wrap the key.
    refused = station_cli(home, "enroll", str(enrollment), "--admin", "", "--json")
    assert refused.returncode == 2 and "county administrator" in refused.stderr
    assert not (home / "station.db").exists() and enrollment.exists()
    done = station_cli(home, "enroll", str(enrollment), "--remove-file", "--json")  # --admin test-admin
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["station_id"] == STATION and summary["recovery_code"] and not enrollment.exists()
    # The enrollment file names no entry year, so the station took the one open today: set the
    # registry's (the suite's season) as the county administrator would.
    set_entry_year(home, SEASON)
    config_text = (home / "config.json").read_text()
    assert "PRIVATE KEY" not in config_text
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in home.rglob("*") if p.is_file())
    done = station_cli(home, "sync", "--once", "--pull-only", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["queue_upserted"] == 40

    students = registry.approved()
    import cv2

    from tests.camera.portraits import positive

    photo_path = tmp_path / "portrait.png"
    cv2.imwrite(str(photo_path), positive())
    card = card_file(tmp_path / "card.bin", students[0].national_id)
    done = station_cli(home, "capture", "--card", str(card), "--photo", str(photo_path), "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    saved = json.loads(done.stdout)
    assert saved["state"] == "saved"
    # The same card again: the desk refuses (already captured here, recapture needs the GUI's reason)...
    with_pending = station_cli(home, "status", "--json")
    assert json.loads(with_pending.stdout)["counts"]["pending"] == 1

    # A card whose student is not approved: refused with the desk's reason.
    pending_student = next(s for s in _all_students(registry) if s.status == "pending")
    refused_card = card_file(tmp_path / "card2.bin", pending_student.national_id)
    done = station_cli(home, "capture", "--card", str(refused_card), "--photo", str(photo_path), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["refusal_code"]

    done = station_cli(home, "sync", "--once", "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)
    assert result["accepted"] == 1 and result["ledger_digest_ok"]
    status = json.loads(station_cli(home, "status", "--json").stdout)
    assert status["counts"]["accepted"] == 1
    accepted = status["records"]["accepted"][0]
    assert accepted["record_id"] == saved["record_id"] and len(accepted["reg_no"]) == 11
    assert status["enrolled"] and status["queue_size"] == 40
    assert len(list((home / "backups").glob("station-*.db"))) == 1  # the scheduled backup, taken once
    app = open_app(home)
    try:
        check_oracle(app, registry)
    finally:
        app.close()


def _all_students(registry):
    import sqlalchemy as sa

    from sync.registry.db import Student

    with registry.registry.db.read() as session:
        return list(session.scalars(sa.select(Student).where(Student.county == COUNTY)).all())


def test_retention_purges_personal_data_after_ledger_confirmation(app, registry):
    from dataclasses import replace

    import sqlalchemy as sa

    engine = engine_for(app)
    engine.run_once(push=False)
    record_id = capture(app, registry.approved()[0].national_id)
    report = engine.run_once()
    assert report.accepted == 1 and report.purged == 0  # 30 days by default: kept for now
    app.config = replace(app.config, retention_days=0)
    report = engine_for(app).run_once()
    assert report.purged == 1
    with app.database.read() as conn:
        row = conn.execute(
            sa.text("SELECT photo_jpeg, chip_text, purged_at FROM records WHERE record_id = :r"),
            {"r": record_id},
        ).one()
    assert row.photo_jpeg is None and row.chip_text is None and row.purged_at
    entry = app.database.outbox.get(record_id)
    assert entry.state == "accepted" and entry.reg_no  # the outcome stays; only personal data goes
    check_oracle(app, registry)


def test_sync_loop_mode_keeps_syncing_until_stopped(app, registry, station_home):
    import os
    import subprocess
    import time

    engine = engine_for(app)
    engine.run_once(push=False)
    record_id = capture(app, registry.approved()[0].national_id)
    env = {**os.environ, "STATION_HOME": str(station_home), "STATION_SYNC_BACKOFF_S": "0.01"}
    loop = station_process(
        "sync", "--interval", "0.3", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and app.database.outbox.get(record_id).state != "accepted":
            time.sleep(0.2)
        second = capture(app, registry.approved()[1].national_id)  # captured while the loop runs
        while time.monotonic() < deadline and app.database.outbox.get(second).state != "accepted":
            time.sleep(0.2)
        assert app.database.outbox.get(second).state == "accepted"
    finally:
        loop.terminate()
        loop.wait(timeout=10)
    check_oracle(app, registry)
