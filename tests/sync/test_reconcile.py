"""Reconciliation against the registry's ledger (sync-protocol.md §2.9) when the two sides disagree: the
registry lost records (a restore from an older backup), holds another outcome, or holds records this
station lacks. The station talks to the real registry over mutual TLS; only the registry's database is
changed behind its back, as a restore or an administrator would."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from sync.client import batch as batch_body
from sync.client.ports import OpenBatch, Outgoing
from sync.client.report import SyncReport
from sync.protocol.canonical import uuid7
from sync.protocol.wire import BatchResponse
from sync.registry.db import RecordRow, RegCounter, Station, Student
from tests.sync.harness import COUNTY, SEASON, STATION, capture, check_oracle, drain, engine_for


def _synced(app, registry, count: int):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    ids = [capture(app, s.national_id) for s in registry.approved()[:count]]
    report = drain(engine)
    assert report.ok and report.ledger_digest_ok
    return engine, ids


def _restore_backup_without(registry, record_ids: list[str]) -> None:
    """The registry restored a backup taken before these records: their rows are gone, their students
    are approved again, the county's serial counter and the station's ledger head are back at what was
    kept."""
    with registry.registry.db.write() as session:
        lost = session.scalars(sa.select(RecordRow).where(RecordRow.record_id.in_(record_ids))).all()
        students = [row.student_id for row in lost]
        session.execute(sa.delete(RecordRow).where(RecordRow.record_id.in_(record_ids)))
        session.execute(sa.update(Student).where(Student.student_id.in_(students)).values(status="approved"))
        kept = session.scalar(sa.select(sa.func.max(RecordRow.serial)).where(RecordRow.county == COUNTY))
        session.execute(
            sa.update(RegCounter)
            .where(RegCounter.county == COUNTY, RegCounter.season == SEASON)
            .values(last_serial=kept or 0)
        )
        head = session.scalar(
            sa.select(sa.func.max(RecordRow.ledger_seq)).where(RecordRow.station_id == STATION)
        )
        session.execute(sa.update(Station).where(Station.station_id == STATION).values(ledger_seq=head or 0))


def _alerts(engine) -> list[str]:
    return [code for code, _ in engine.store.alerts]


def _first_ledger_page_fails_once(engine) -> None:
    """The first ledger page of the walk is lost on the way back (a reset connection), once."""
    from sync.client.errors import TransportError
    from sync.protocol.wire import LedgerPage

    factory, failed = engine.session_factory, []

    def make():
        session = factory()
        get_model = session.get_model

        def get(path, model, *args, **kwargs):
            answer = get_model(path, model, *args, **kwargs)
            if model is LedgerPage and not failed:
                failed.append(path)
                raise TransportError("CONNECTION_RESET", "reset by the test")
            return answer

        session.get_model = get
        return session

    engine.session_factory = make


def test_records_the_registry_lost_are_sent_again(app, registry):
    engine, ids = _synced(app, registry, 4)
    lost = ids[2:]
    _restore_backup_without(registry, lost)
    assert set(registry.ledger()) == set(ids[:2])
    _first_ledger_page_fails_once(engine)
    report = engine.run_once(pull=False)
    assert report.ok, report.as_dict()
    assert report.retries_by_cause["CONNECTION_RESET"] == 1  # the walk's failed page was asked again
    assert "LEDGER_MISSING" in _alerts(engine) and report.reopened == len(lost)
    assert "LEDGER_DIFFERS" not in _alerts(engine)  # missing is not differing
    assert report.pushed == len(lost) and report.accepted == len(lost)  # sent again in the same session
    assert report.ledger_digest_ok  # and the second comparison agrees
    ledger = registry.ledger()
    assert set(ledger) == set(ids)
    for record_id in lost:
        entry = app.database.outbox.get(record_id)
        assert entry.state == "accepted" and entry.reg_no == ledger[record_id].reg_no
        assert entry.ledger_confirmed_at is not None
    check_oracle(app, registry)


def test_an_outcome_that_differs_at_the_registry_is_reported_and_never_confirmed(app, registry):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    approved = registry.approved()
    ids = [capture(app, s.national_id) for s in approved[:3]]
    session = engine.session_factory()
    engine._session = session
    try:
        session.ping()
        report = SyncReport()
        engine.push(report)
        assert report.accepted == 3
        changed = ids[1]
        ours = app.database.outbox.get(changed).reg_no
        with registry.registry.db.write() as db:  # the registry now says otherwise about one record
            db.execute(
                sa.update(RecordRow)
                .where(RecordRow.record_id == changed)
                .values(outcome="rejected", reg_no=None, serial=None, code="WITHDRAWN")
            )
        # The digest the last batch answer carried predates the change: the next batch's answer tells.
        ids.append(capture(app, approved[3].national_id))
        engine.push(report)
        assert report.accepted == 4
        assert engine.reconcile(report) == 0  # nothing to send again
    finally:
        session.close()
        engine._session = None
    assert not report.ledger_digest_ok and "LEDGER_DIFFERS" in _alerts(engine)
    entry = app.database.outbox.get(changed)
    assert (entry.state, entry.reg_no, entry.ledger_confirmed_at) == (
        "accepted",
        ours,
        None,
    )  # kept, unconfirmed
    assert all(app.database.outbox.get(r).ledger_confirmed_at for r in ids if r != changed)
    assert registry.ledger()[changed].outcome == "rejected"  # the station never writes to the registry
    assert app.database.outbox.counts()["pending"] == 0


def _post_foreign_record(engine, registry) -> str:
    """A record this station's certificate sent but its database never held (a lost local database),
    with real evidence (the card the student carries, a real photo), built as the registry tests do."""
    from tests.registry.helpers import make_record, photo_jpeg

    student = registry.approved()[-1]
    photo = photo_jpeg(77)
    now = datetime.now(UTC)  # the harness's registry judges captures on the real clock
    wire = make_record(student, photo, captured_at=now)
    batch = OpenBatch(uuid7(), (wire["record_id"],), len(photo), now.isoformat())
    body = batch_body.build(batch, STATION, SEASON, [Outgoing(wire["record_id"], wire, photo)])
    session = engine.session_factory()
    try:
        session.ping()
        answer = session.post_batch(
            f"/v1/stations/{STATION}/batches", body.body, body.content_type, batch.batch_id, BatchResponse
        )
    finally:
        session.close()
    assert answer.results[0].status == "accepted", answer.results[0]
    return wire["record_id"]


def test_records_only_the_registry_holds_are_reported_as_local_loss(app, registry):
    engine, ids = _synced(app, registry, 2)
    foreign = _post_foreign_record(engine, registry)
    report = engine.run_once(pull=False)
    assert "LOCAL_LOSS" in _alerts(engine) and not report.ledger_digest_ok
    assert report.reopened == 0 and report.pushed == 0  # nothing of ours is missing or sent
    assert app.database.outbox.get(foreign) is None  # the station invents nothing
    assert all(app.database.outbox.get(r).state == "accepted" for r in ids)
    assert set(registry.ledger()) == {*ids, foreign}
