"""Hypothesis stateful test: captures, syncs, faults and crashes interleaved (docs/sync-protocol.md §11.3).

After every step: a record the station holds as accepted has its number and the registry's ledger
agrees; no conflicts; no number twice. When the schedule ends the link heals, the outbox drains and the
full oracle holds: captured set = ledger set, one outcome each, duplicates >= lost responses.
A "crash" persists a batch, sends it and drops the answer (the process died after the send), then
reopens the station from disk. The budget is fixed: a few examples of a few steps.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sync.client import batch as batch_body
from sync.client.errors import SyncError
from sync.protocol.wire import BatchResponse
from tests.sync.faultproxy import FaultProxy, Plan
from tests.sync.harness import (
    FAST,
    STATION,
    Tally,
    capture,
    check_oracle,
    drain,
    engine_for,
    make_pki,
    make_station,
    open_app,
    start_registry,
)

POLICY = replace(FAST, offline_after=2, max_wait_s=0.5)


@cache
def _tls_dir() -> Path:
    return make_pki(Path(tempfile.mkdtemp(prefix="sync-stateful-tls-")))


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="sync-stateful-"))
        self.registry = start_registry(self.tmp, _tls_dir(), students=30)
        self.proxy = FaultProxy(("127.0.0.1", self.registry.port)).start()
        self.home = make_station(self.tmp / "station", self.proxy.url, _tls_dir())
        self.app = open_app(self.home)
        self.engine = engine_for(self.app, policy=POLICY)
        assert self.engine.run_once(push=False).ok
        self.students = [s.national_id for s in self.registry.approved()]
        self.tally = Tally()
        self.lost = 0

    def _hooks_fired(self) -> None:
        faults = self.registry.faults
        for name in ("drop_after_commit", "fail_after_commit"):
            if getattr(self, f"armed_{name}", False) and getattr(faults, name) == 0:
                self.lost += 1
                setattr(self, f"armed_{name}", False)

    @precondition(lambda self: self.students)
    @rule()
    def capture_one(self) -> None:
        capture(self.app, self.students.pop(0))

    @rule()
    def sync(self) -> None:
        self.tally.add(self.engine.run_once())
        self._hooks_fired()

    @rule(
        kind=st.sampled_from(["up_cut", "down_cut", "blackhole", "drop_after_commit", "fail_after_commit"]),
        at=st.integers(0, 60_000),
    )
    def fault(self, kind: str, at: int) -> None:
        if kind == "up_cut":
            self.proxy.arm(Plan(up_cut_after=at))
        elif kind == "down_cut":
            self.proxy.arm(Plan(down_cut_after=at))
        elif kind == "blackhole":
            self.proxy.arm(Plan(blackhole=True))
        else:
            setattr(self.registry.faults, kind, 1)
            setattr(self, f"armed_{kind}", True)

    @rule()
    def crash_after_send(self) -> None:
        store = self.engine.store
        batch = next(iter(store.open_batches()), None) or store.form_batch(max_bytes=10**7, max_records=3)
        if batch is not None:
            outgoing = store.outgoing(batch)
            body = batch_body.build(batch, STATION, self.app.config.entry_year, outgoing)
            store.note_attempt(batch.batch_id, body_sha256=body.sha256)
            try:
                session = self.engine.session_factory()
                try:
                    session.ping()
                    answer = session.post_batch(
                        f"/v1/stations/{STATION}/batches",
                        body.body,
                        body.content_type,
                        batch.batch_id,
                        BatchResponse,
                    )
                    if any(r.status in ("accepted", "duplicate") for r in answer.results):
                        self.lost += 1  # the answer dies with the process
                finally:
                    session.close()
            except SyncError:
                pass
            self._hooks_fired()
        self.restart()

    @rule()
    def restart(self) -> None:
        self.app.close()
        self.app = open_app(self.home)
        self.engine = engine_for(self.app, policy=POLICY)

    @invariant()
    def acked_records_agree_with_the_ledger(self) -> None:
        entries = self.app.database.outbox.list(limit=10**6)
        ledger = self.registry.ledger()
        numbers = [e.reg_no for e in entries if e.reg_no]
        assert len(numbers) == len(set(numbers))
        for entry in entries:
            assert entry.state != "conflict"
            if entry.state == "accepted":
                assert entry.reg_no and ledger[entry.record_id].reg_no == entry.reg_no

    def teardown(self) -> None:
        try:
            self.proxy.disarm()
            self.registry.faults.drop_after_commit = self.registry.faults.fail_after_commit = 0
            self.engine = engine_for(self.app)
            drain(self.engine, self.tally)
            check_oracle(self.app, self.registry, self.tally, lost_responses=self.lost)
        finally:
            self.app.close()
            self.proxy.stop()
            self.registry.server.stop()
            self.registry.registry.db.dispose()
            shutil.rmtree(self.tmp, ignore_errors=True)


SyncMachine.TestCase.settings = settings(
    max_examples=4,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
TestSyncStateMachine = SyncMachine.TestCase
