"""The push engine's answers to what the registry or the way there says (sync-protocol.md §2.4, §2.7):
a 400 bisects the batch down to the one bad record and parks it, a record too large for any batch is
parked, an answer that omits or repeats a record is refused whole, an accepted answer without a number
never finalises, busy answers are given up after the limit, a ledger page that cannot advance ends the
walk. The registry is the real one over mutual TLS; where the registry cannot be made to misbehave, the
station's real session is wrapped and its parsed answer changed on the way in."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sqlalchemy as sa

from sync.protocol.canonical import canonical_json, payload_sha256, sha256_hex
from sync.protocol.wire import BatchResponse, LedgerDigest, LedgerPage
from tests.sync.harness import FAST, Tally, capture, check_oracle, drain, engine_for

QUARANTINED_FOR_YEARS = 365 * 86400


def _loaded(app, registry, count: int, policy=FAST):
    engine = engine_for(app, policy=policy)
    assert engine.run_once(push=False).ok
    ids = [capture(app, s.national_id) for s in registry.approved()[:count]]
    return engine, ids


def _rewrite_record(app, record_id: str, *, payload=None, photo: bytes | None = None) -> None:
    """Change a frozen record consistently (payload, photo and their hashes), as a program bug or an
    edit with the key would: the station's own hash checks still pass, only the registry can object."""
    with app.database.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS records_immutable")
        row = conn.execute(
            sa.text("SELECT payload, photo_jpeg FROM records WHERE record_id = :r"), {"r": record_id}
        ).one()
        wire = json.loads(row.payload)
        new_photo = photo if photo is not None else row.photo_jpeg
        if photo is not None:
            wire["photo"] = {**wire["photo"], "sha256": sha256_hex(photo), "bytes": len(photo)}
        if payload is not None:
            wire = payload(wire)
        conn.execute(
            sa.text(
                "UPDATE records SET payload = :p, payload_sha256 = :h, photo_jpeg = :j, photo_sha256 = :s "
                "WHERE record_id = :r"
            ),
            {"p": canonical_json(wire), "h": payload_sha256(wire), "j": new_photo, "s": sha256_hex(new_photo),
             "r": record_id},
        )  # fmt: skip


def _wrap_sessions(engine, *, post=None, get=None) -> None:
    """Every session the engine opens passes its parsed answers through ``post`` / ``get``."""
    factory = engine.session_factory

    def make():
        session = factory()
        post_batch, get_model = session.post_batch, session.get_model
        if post is not None:
            session.post_batch = lambda *a, **k: post(post_batch(*a, **k))
        if get is not None:
            session.get_model = lambda path, model, *a, **k: get(model, get_model(path, model, *a, **k))
        return session

    engine.session_factory = make


def _batches(app) -> list[tuple[str, str | None]]:
    with app.database.read() as conn:
        return [
            (r.state, r.last_error) for r in conn.execute(sa.text("SELECT state, last_error FROM batches"))
        ]


def test_a_400_bisects_the_batch_down_to_the_bad_record_and_parks_it(app, registry):
    engine, ids = _loaded(app, registry, 4)
    bad = ids[2]
    _rewrite_record(app, bad, payload=lambda wire: {**wire, "captured_at": "yesterday"})  # not a timestamp
    batch = engine.store.form_batch(max_bytes=10**8, max_records=4)  # one open batch holding all four
    assert len(batch.record_ids) == 4
    report = engine.run_once(pull=False)
    assert report.accepted == 3 and report.rejected == 0
    assert [e for e in _batches(app) if e == ("abandoned", "BISECT")], _batches(app)
    parked = app.database.outbox.get(bad)
    assert parked.state == "pending" and parked.last_error == "BAD_RECORD_SCHEMA"
    assert parked.next_attempt_at > "2030"  # parked for an administrator, not retried by the timer
    assert "SCHEMA" in {code for code, _ in engine.store.alerts}
    assert bad not in registry.ledger() and set(registry.ledger()) == set(ids) - {bad}
    again = engine.run_once(pull=False)  # the parked record is not sent again
    assert again.attempts == 0 and app.database.outbox.get(bad).last_error == "BAD_RECORD_SCHEMA"


def test_a_record_larger_than_any_batch_is_parked_and_the_rest_go(app, registry):
    engine, ids = _loaded(app, registry, 3)
    big = ids[0]
    photo = app.database.records.get(big, viewed_by="test").photo_jpeg
    _rewrite_record(app, big, photo=photo[:-2] + bytes(200_000) + b"\xff\xd9")  # ~240 KB
    registry.registry.settings.max_batch_bytes = 120_000  # every ordinary record fits, this one never
    tally = Tally()
    drain(engine, tally, rounds=4)
    assert sum(r.retries_by_cause["HTTP_413"] for r in tally.reports) >= 1
    parked = app.database.outbox.get(big)
    assert parked.state == "pending" and parked.last_error == "TOO_LARGE"
    assert "TOO_LARGE" in {code for code, _ in engine.store.alerts}
    assert all(app.database.outbox.get(r).state == "accepted" for r in ids[1:])
    assert set(registry.ledger()) == set(ids[1:])


def test_an_answer_that_omits_or_repeats_a_record_is_refused_whole(app, registry):
    for change in ("omit", "repeat"):
        engine, _ = _loaded(app, registry, 0)
        ids = (
            [capture(app, s.national_id) for s in registry.approved()[:2]]
            if change == "omit"
            else [capture(app, s.national_id) for s in registry.approved()[2:4]]
        )
        tampered = []

        def tamper(answer: BatchResponse, change=change, tampered=tampered) -> BatchResponse:
            if tampered:
                return answer
            tampered.append(answer)
            results = answer.results[:-1] if change == "omit" else [*answer.results, answer.results[0]]
            return answer.model_copy(update={"results": results})

        _wrap_sessions(engine, post=tamper)
        report = engine.run_once(pull=False)
        assert tampered and report.retries_by_cause["BAD_RESULTS"] == 1  # refused, then resent
        assert report.duplicates >= 1  # the resend found what the refused answer had carried
        assert all(app.database.outbox.get(r).state == "accepted" for r in ids)
    check_oracle(app, registry)


def test_accepted_or_duplicate_without_a_number_never_finalises(app, registry):
    engine, _ = _loaded(app, registry, 2)
    stripped: list[str] = []

    def strip_numbers(answer: BatchResponse) -> BatchResponse:
        if stripped:
            return answer
        stripped.extend(r.record_id for r in answer.results)
        return answer.model_copy(
            update={"results": [r.model_copy(update={"reg_no": None}) for r in answer.results]}
        )

    _wrap_sessions(engine, post=strip_numbers)
    app.database.outbox._backoff = lambda attempts: 3600.0  # a record sent back waits: it stays visible
    report = engine.run_once(pull=False)
    assert stripped and report.retried == len(stripped)
    for record_id in stripped:  # "accepted" without a number left the record unfinished, unnumbered
        entry = app.database.outbox.get(record_id)
        assert (entry.state, entry.reg_no, entry.last_error) == ("pending", None, "accepted")
    with app.database.engine.begin() as conn:  # make them due again
        conn.execute(sa.text("UPDATE outbox SET next_attempt_at = NULL WHERE state = 'pending'"))
    tally = Tally()
    drain(engine_for(app), tally)  # the numbers come with the duplicates of the next session
    assert tally.duplicates >= len(stripped)
    check_oracle(app, registry)


def test_busy_answers_are_given_up_after_the_limit(app, registry):
    policy = replace(FAST, max_busy_retries=3)
    engine, ids = _loaded(app, registry, 1, policy=policy)
    registry.faults.retry_after_s, registry.faults.retry_after_count = 0, -1  # every batch: 503
    slept: list[float] = []
    engine.sleep = slept.append
    report = engine.run_once(pull=False)
    busy = report.retries_by_cause["HTTP_503"]
    assert report.error_code and not report.ok and busy == policy.max_busy_retries + 1
    assert registry.faults.fired("retry_after_s") == busy  # each of them was a real 503
    assert (
        slept == [0] * policy.max_busy_retries
    )  # waited what Retry-After said (0 s) between them, then stopped
    assert app.database.outbox.get(ids[0]).state in ("pending", "inflight")
    registry.faults.retry_after_s = None
    drain(engine)
    check_oracle(app, registry)


@pytest.mark.timeout(60)
def test_a_ledger_walk_that_cannot_advance_ends(app, registry):
    engine, ids = _loaded(app, registry, 2)
    assert drain(engine).ledger_digest_ok
    pages = []

    def broken(model, answer):
        if model is LedgerDigest:  # the digest disagrees, so the station walks the ledger ...
            return answer.model_copy(update={"count": answer.count + 1})
        if model is LedgerPage:  # ... and the registry says "more" on every page, even past the end
            pages.append(len(answer.items))
            return answer.model_copy(update={"has_more": True})
        return answer

    _wrap_sessions(engine, get=broken)
    report = engine.run_once(pull=False)
    assert report.ok and pages[-1] == 0  # the empty page ended the walk
    assert report.reopened == 0 and report.pushed == 0  # every record was found: nothing resent
    assert all(app.database.outbox.get(r).state == "accepted" for r in ids)


def test_run_forever_probes_after_a_failed_session_and_waits_the_interval_after_a_good_one(
    app, registry, proxy
):
    from tests.sync.faultproxy import Plan

    engine, _ = _loaded(app, registry, 0)
    slept: list[float] = []
    engine.sleep = slept.append
    marks: list[int] = []

    def should_stop() -> bool:  # called before each session: the link is down for the first one only
        marks.append(len(slept))
        proxy.set_default(Plan(refuse=True) if len(marks) == 1 else Plan())
        return len(marks) > 2

    engine.run_forever(should_stop=should_stop, push=False)
    low, high = FAST.probe_interval_s
    after_offline, after_good = slept[marks[1] - 1], slept[marks[2] - 1]
    assert low <= after_offline <= high and after_good == 60.0  # the default interval between good sessions
    assert proxy.refused >= 1


def test_a_session_that_cannot_start_reports_and_alerts(app, registry):
    from sync.client.errors import FatalSyncError

    engine, _ = _loaded(app, registry, 0)

    def no_session():
        raise FatalSyncError("NO_CREDENTIALS", "the station is not enrolled")

    engine.session_factory = no_session
    report = engine.run_once()
    assert (report.error_code, report.error_detail) == ("NO_CREDENTIALS", "the station is not enrolled")
    assert engine.store.alerts[-1] == ("NO_CREDENTIALS", "the station is not enrolled")
    assert not report.ok and report.pages == 0


def test_a_clean_session_reports_what_it_did(app, registry):
    engine, _ = _loaded(app, registry, 3)
    report = engine.run_once()
    assert report.ok and report.clock_offset_s is not None and abs(report.clock_offset_s) < 60
    assert (report.pushed, report.accepted, report.batches, report.duplicates) == (
        3,
        3,
        len(report.batch_sizes),
        0,
    )
    assert sum(report.batch_sizes) == 3 and report.batch_sizes[0] == 1  # the first batch is a single record
    assert report.body_bytes > report.payload_bytes > 0 and report.wasted_bytes == 0
    assert report.ledger_digest_ok and report.ledger_confirmed == 3 and report.purged == 0
    assert report.queue_digest_ok and report.pages >= 1


def test_a_session_goes_offline_after_the_limit_with_capped_backoffs(app, registry, proxy):
    from tests.sync.faultproxy import Plan

    engine, _ = _loaded(app, registry, 0)
    slept: list[float] = []
    engine.sleep = slept.append
    proxy.set_default(Plan(refuse=True))
    report = engine.run_once()
    assert report.offline and sum(report.retries_by_cause.values()) == FAST.offline_after
    assert proxy.refused >= FAST.offline_after  # every attempt met the fault
    assert len(slept) == FAST.offline_after - 1  # a backoff between attempts, none after the last
    for failures, seconds in enumerate(slept, start=1):
        assert 0 <= seconds <= min(FAST.backoff_cap_s, FAST.backoff_base_s * 2**failures)


def test_after_the_one_record_probe_the_byte_budget_decides_not_a_count(app, registry):
    engine, _ = _loaded(app, registry, 8)
    report = engine.run_once(pull=False)
    assert report.batch_sizes == [1, 7]  # a fast link: the budget is the 1 MB cap, 7 records fit


def test_the_limit_the_registry_advertises_caps_every_batch(app, registry):
    engine, _ = _loaded(app, registry, 5)
    registry.registry.settings.max_batch_bytes = 60_000  # one record fits, two never do
    report = engine.run_once(pull=False)
    assert report.accepted == 5 and report.batch_sizes == [1, 1, 1, 1, 1]
    assert report.retries_by_cause["HTTP_413"] == 0 and report.wasted_bytes == 0  # never sent over it


def test_backoff_draws_full_jitter_below_the_capped_exponential(app, registry):
    import random

    from sync.client.errors import RetryLater
    from sync.client.report import SyncReport

    engine, _ = _loaded(app, registry, 0)
    slept: list[float] = []
    engine.sleep = slept.append
    engine.rng = random.Random(7)
    expected = random.Random(7)
    draws = [engine._backoff(n) for n in (0, 1, 2, 3, 40)]
    assert draws == [
        expected.uniform(0, min(FAST.backoff_cap_s, FAST.backoff_base_s * 2**n)) for n in (0, 1, 2, 3, 30)
    ]
    engine._wait_busy(
        SyncReport(), RetryLater("BUSY", "", status=429, retry_after_s=None), 2
    )  # no Retry-After
    assert slept == [expected.uniform(0, min(FAST.backoff_cap_s, FAST.backoff_base_s * 2**2))]
    engine.policy = replace(FAST, backoff_base_s=1e-9, backoff_cap_s=1e9)  # the cap out of the way
    assert engine._backoff(31) == expected.uniform(0, 1e-9 * 2**30)  # the exponent stops growing at 30


class Crashed(Exception):
    """Stands in for the process dying at a crash point (the subprocess tests use os._exit)."""


def _crash() -> None:
    raise Crashed()


@pytest.mark.parametrize(
    ("point", "sent"),
    [("after_batch_persist", False), ("after_send", True), ("after_response_before_apply", True)],
)
def test_each_crash_point_stops_the_push_where_it_is_named(app, registry, point, sent):
    from sync.client.faultpoints import FaultPoints

    engine, ids = _loaded(app, registry, 1)
    engine.faults = FaultPoints(point, crash=_crash)
    with pytest.raises(Crashed):
        engine.run_once(pull=False)
    assert engine.faults.seen == 1
    assert [b.record_ids for b in app.database.outbox.open_batches()] == [
        (ids[0],)
    ]  # persisted, never applied
    assert (ids[0] in registry.ledger()) is sent
    report = engine_for(app).run_once(pull=False)  # the restart resends the open batch byte for byte
    assert report.duplicates == int(sent) and app.database.outbox.get(ids[0]).state == "accepted"


def test_a_record_due_soon_is_waited_for_within_the_session(app, registry):
    import time

    engine, ids = _loaded(app, registry, 1)
    slept: list[float] = []
    engine.sleep = lambda seconds: (slept.append(seconds), time.sleep(seconds))
    stripped: list[str] = []

    def strip_once(answer: BatchResponse) -> BatchResponse:
        if stripped:
            return answer
        stripped.append(answer.batch_id)
        return answer.model_copy(
            update={"results": [r.model_copy(update={"reg_no": None}) for r in answer.results]}
        )

    _wrap_sessions(engine, post=strip_once)
    app.database.outbox._backoff = lambda attempts: 1.0  # due again in 1 s: within max_wait_s (3 s)
    report = engine.run_once(pull=False)
    assert report.accepted == 1 and report.duplicates == 1  # sent again in the same session
    waits = [s for s in slept if s > 0.1]
    assert waits and all(s <= 1.0 for s in waits)  # it waited for the record's own backoff, no longer
    assert app.database.outbox.get(ids[0]).state == "accepted"


def test_the_tail_rides_along_when_it_fits_one_and_a_half_budgets(app, registry):
    """After the probe, a batch's byte budget stretches to ``tail_allowance`` (1.5) budgets, within the
    cap, when everything still pending fits: a tail sent alone would cost a round trip of its own."""
    engine, _ = _loaded(app, registry, 3)
    assert engine.store.pending_count() == 3  # 3 records of 100 bytes each: 300 bytes pending
    assert engine._with_tail(200, 1000, None) == 200  # the probe: no stretching
    assert engine._with_tail(200, 1000, 100.0) == 300  # 1.5 x 200 = 300 holds the 300 bytes exactly
    assert engine._with_tail(199, 1000, 100.0) == 199  # 298 would not: the budget stays
    assert engine._with_tail(400, 350, 100.0) == 350  # stretched, but never past the cap
    assert engine._with_tail(200, 250, 100.0) == 200  # the cap leaves no room for the tail
    assert engine._with_tail(200, 1000, 101.0) == 200  # 303 bytes pending do not fit 300


def test_reconcile_uses_the_digest_the_last_batch_answer_carried_then_asks_again(app, registry):
    """The batch that empties the outbox asks for the ledger digest; reconciling right after it needs no
    request of its own and confirms every final outcome, rejections too; a later reconciliation (no batch
    since) asks, and a transport failure on that request is retried and counted."""
    from sync.client.errors import TransportError
    from sync.client.report import SyncReport
    from sync.registry.db import Student

    engine, _ = _loaded(app, registry, 0)
    approved = registry.approved()
    ids = [capture(app, s.national_id) for s in approved[:2]]
    with registry.registry.db.write() as db:  # the second student left school: the registry refuses
        db.execute(
            sa.update(Student).where(Student.student_id == approved[1].student_id).values(status="withdrawn")
        )
    asked: list[str] = []

    def get(model, answer):
        if model is LedgerDigest:
            asked.append("digest")
            if len(asked) == 1:  # the first request fails on the way back once
                raise TransportError("CONNECTION_RESET", "reset by the test")
        return answer

    _wrap_sessions(engine, get=get)
    session = engine.session_factory()
    engine._session = session
    try:
        session.ping()
        report = SyncReport()
        engine.push(report)
        assert (report.accepted, report.rejected) == (1, 1) and asked == []
        assert engine.reconcile(report) == 0 and asked == []  # the digest came with the last answer
        assert report.ledger_digest_ok and report.ledger_confirmed == 2
        ids.append(capture(app, approved[2].national_id))
        engine.push(report)
        assert engine.reconcile(report) == 0 and asked == []
        assert report.ledger_confirmed == 3  # counted over the session
        again = SyncReport()
        assert engine.reconcile(again) == 0
    finally:
        session.close()
        engine._session = None
    assert asked == ["digest", "digest"]  # asked this time, and once more after the failure
    assert again.ledger_digest_ok and again.retries_by_cause == {"CONNECTION_RESET": 1}
    assert [app.database.outbox.get(r).state for r in ids] == ["accepted", "rejected", "accepted"]
    assert all(app.database.outbox.get(r).ledger_confirmed_at for r in ids)
