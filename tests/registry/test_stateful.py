"""A Hypothesis state machine over the registry's intake path: the oracle of docs/sync-protocol.md §11.3.

Random captures (some with chip data that differ from the pre-registration, some of a student
already captured), pushes of random subsets (photos sometimes left out), replays of earlier batches,
edited resends of frozen records, and transactions rolled back after their serial was allocated.
After every step: each record has one outcome; accepted records carry unique numbers whose serials
are exactly 1..N; no student holds two registrations; a replay returns the stored outcome; the
server's ledger digest equals the one computed from what the station was told.
"""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from sync.protocol import regno
from sync.protocol.canonical import ledger_term, payload_sha256, xor_hex
from sync.registry import intake, ledger
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database, RecordRow
from sync.registry.faults import Faults
from sync.registry.pki import StationIdentity
from sync.registry.seed import seed_county
from tests.registry.helpers import (
    COUNTY,
    SEASON,
    STATION,
    make_batch,
    make_record,
    photo_jpeg,
    registry_clock,
    students,
)

PHOTOS = [photo_jpeg(seed=100 + i) for i in range(3)]
IDENTITY = StationIdentity(STATION, COUNTY)


def test_intake_keeps_its_invariants(db_url, request, tmp_path):
    def new_registry() -> Registry:
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db"
        else:
            url = request.getfixturevalue("pg_server").create_database()
        db = Database(url)
        initialise(db, SEASON)
        blobs = tmp_path / "blobs" if url.startswith("sqlite") else None
        registry = Registry.open(Settings(db_url=url, blob_dir=blobs, clock=registry_clock()), db)
        seed_county(registry, COUNTY, 12, SEASON, seed=8)
        registry.ensure_station(IDENTITY)
        return registry

    class Intake(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.registry = new_registry()
            self.faults = Faults(abort_after_allocation=0.2, seed=5)
            self.people = students(self.registry.db)
            self.pending: dict[str, tuple[dict, bytes]] = {}
            self.outcomes: dict[str, dict] = {}  # record_id -> what the station was told
            self.records: dict[str, dict] = {}
            self.batches: list[tuple[dict, dict[str, bytes]]] = []

        def teardown(self) -> None:
            self.registry.db.dispose()

        def _send(self, batch: dict, photos: dict[str, bytes]) -> list:
            incoming = intake.parse_envelope(
                IDENTITY, STATION, batch["batch_id"], json.dumps(batch).encode(), SEASON
            )
            intake.claim(self.registry, incoming)
            mismatched = intake.store_photos(self.registry, photos)
            response = intake.process_batch(
                self.registry, IDENTITY, incoming, mismatched, self.faults
            ).response
            intake.finish(self.registry, batch["batch_id"], response)
            assert [r.record_id for r in response.results] == [r["record_id"] for r in batch["records"]]
            return response.results

        @rule(who=st.integers(0, 11), photo=st.integers(0, 2), mismatch=st.booleans())
        def capture(self, who, photo, mismatch):
            person = self.people[who % len(self.people)]
            overrides = {"name": "某某"} if mismatch else None
            record = make_record(person, PHOTOS[photo], chip_overrides=overrides)
            self.pending[record["record_id"]] = (record, PHOTOS[photo])
            self.records[record["record_id"]] = record

        @precondition(lambda self: self.pending)
        @rule(count=st.integers(1, 4), with_photos=st.sampled_from([True, True, True, False]))
        def push(self, count, with_photos):
            chosen = list(self.pending.values())[:count]
            batch = make_batch(STATION, [record for record, _ in chosen])
            photos = {r["photo"]["sha256"]: p for r, p in chosen} if with_photos else {}
            self.batches.append((batch, photos))
            for result in self._send(batch, photos):
                if result.status == "retry":
                    assert result.code in {"BUSY", "BLOB_MISSING"}
                    continue
                assert result.status in {"accepted", "rejected"}
                assert result.record_id not in self.outcomes
                self.outcomes[result.record_id] = result.model_dump(exclude_none=True)
                del self.pending[result.record_id]

        @precondition(lambda self: self.batches)
        @rule(which=st.integers(0, 50))
        def replay(self, which):
            batch, photos = self.batches[which % len(self.batches)]
            for result in self._send(batch, photos):
                known = self.outcomes.get(result.record_id)
                if known is None:
                    if result.status != "retry":  # a record that only now went through
                        self.outcomes[result.record_id] = result.model_dump(exclude_none=True)
                        self.pending.pop(result.record_id, None)
                elif known["status"] == "accepted":
                    assert (result.status, result.reg_no) == ("duplicate", known["reg_no"])
                else:
                    assert (result.status, result.code) == ("rejected", known["code"])

        @precondition(lambda self: self.outcomes)
        @rule(which=st.integers(0, 50))
        def edited_resend(self, which):
            record_id = sorted(self.outcomes)[which % len(self.outcomes)]
            edited = dict(self.records[record_id], operator_id="someone-else")
            edited["payload_sha256"] = payload_sha256(edited)
            (result,) = self._send(make_batch(STATION, [edited]), {})
            assert (result.status, result.code) == ("conflict", "PAYLOAD_MISMATCH")

        @invariant()
        def numbers_are_unique_and_gapless(self):
            accepted = [o for o in self.outcomes.values() if o["status"] == "accepted"]
            serials = sorted(regno.parse(o["reg_no"]).serial for o in accepted)
            assert serials == list(range(1, len(accepted) + 1))
            students_registered = [self.records[o["record_id"]]["student_id"] for o in accepted]
            assert len(set(students_registered)) == len(students_registered)
            with self.registry.db.read() as session:
                stored = session.scalars(select(RecordRow.serial).where(RecordRow.serial.is_not(None))).all()
            assert sorted(stored) == serials

        @invariant()
        def ledger_digest_matches_what_the_station_was_told(self):
            digest = ledger.ledger_digest(self.registry, STATION)
            expected = xor_hex(
                ledger_term(rid, o["status"], o.get("reg_no")) for rid, o in self.outcomes.items()
            )
            assert (digest.count, digest.xor_sha256) == (len(self.outcomes), expected)

    run_state_machine_as_test(
        Intake,
        settings=settings(
            max_examples=8,
            stateful_step_count=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
