"""Batch push (docs/sync-protocol.md §7): envelope checks, the Idempotency-Key claim, the records' decisions.

Per record, in this order: a stored outcome for the ``record_id`` answers ``duplicate`` (or the stored
rejection), a different hash ``conflict``; the photo must be in this request's parts or the blob store
and verify (else ``retry``). Then the evidence is examined before any transaction: the chip block as
the registry parses it (``evidence``), the photo's real JPEG header against its declaration and the
profiles (``photos``), and the capture time's plausibility. Then the rules that need the database
(``decisions``): the student is approved in the station's county, the card (as the block says) agrees
with the pre-registration, the capture beat the deadline, the photo stands for no other student, the ID
number holds no registration this season -- each failure is a stored rejection -- and only then the
student's feed row changes and, last, the county's serial counter row is advanced and the registration
number written.

All records of a batch are decided in ONE write transaction (one commit, a handful of statements
whatever the batch size); if it fails -- a lost race with another node or station on an ID number or
record id, a deadlock, the serials exhausted -- the records are decided again one transaction each,
where a failure concerns only its record (``retry BUSY``, ``SERIALS_EXHAUSTED``). Either way each
record gets the outcome sequential per-record processing would give it, and serials stay gapless (a
rollback returns the serials it took). The fault hook that rolls a transaction back after its serials
were taken answers the batch's records ``retry BUSY``.

Records with manual evidence are registered flagged (``records.evidence = 'manual'``, the approving
administrator kept) or, under ``manual_evidence = review``, held without a number or ledger position
and answered ``retry REVIEW_PENDING`` until the league office decides (``review``).

A replay of a finished batch is answered by running the records again (each resolves to its stored
outcome: ``duplicate`` for accepted ones), not by replaying a cached body, so lost responses show up as
``duplicate`` as the test oracle of §11.3 expects. A batch that had ``retry`` items, or failed, releases
its key so the retry can run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sync.protocol import strictjson
from sync.protocol.canonical import CanonicalJsonError, canonical_json, canonical_record, sha256_hex
from sync.protocol.card import ChipData
from sync.protocol.wire import BatchEnvelope, BatchResponse, LedgerDigest, Record, RecordResult
from sync.registry import evidence, ledger, photos
from sync.registry.config import BEIJING
from sync.registry.core import Registry
from sync.registry.db import BatchRow, RecordRow, iso
from sync.registry.decisions import Batch, Decision, Pending, decide_in_transaction
from sync.registry.errors import ApiError
from sync.registry.evidence import Rejection
from sync.registry.faults import NO_FAULTS, InjectedFault, NoFaults
from sync.registry.pki import StationIdentity

log = logging.getLogger("sync.registry.intake")
_RECORDS = RecordRow.__table__
_BATCHES = BatchRow.__table__
REVIEW_RETRY_S = 3600


@dataclass
class IncomingBatch:
    envelope: BatchEnvelope
    raw_records: list[dict]
    body_sha256: str
    canonical_records: list[str] | None = None  # each record's canonical JSON, as received


def parse_envelope(
    identity: StationIdentity, path_station: str, key_header: str | None, batch_json: bytes, season: int
) -> IncomingBatch:
    """Validate the JSON part against the path, the certificate, the key and the season."""
    try:
        raw = strictjson.loads(batch_json)
    except strictjson.StrictJsonError as error:
        raise ApiError(400, "MALFORMED_BATCH", f"the batch part: {error}") from None
    try:
        envelope = BatchEnvelope.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(400, "SCHEMA", f"{where}: {first['msg']}") from None
    key = (key_header or "").strip().strip('"')
    if not key:
        raise ApiError(400, "IDEMPOTENCY_KEY_MISSING", "the Idempotency-Key header is required")
    if key != envelope.batch_id:
        raise ApiError(400, "IDEMPOTENCY_KEY_MISMATCH", "Idempotency-Key must equal body.batch_id")
    if envelope.station_id != path_station or path_station != identity.station_id:
        raise ApiError(403, "WRONG_STATION", "the batch names another station than the certificate")
    if envelope.season != season:
        raise ApiError(403, "WRONG_SEASON", f"this registry takes entry year {season}")
    seen: set[str] = set()
    canonical: list[str] = []
    try:
        for record, raw_record in zip(envelope.records, raw["records"], strict=True):
            if record.county != identity.county:
                raise ApiError(403, "WRONG_COUNTY", "a record names a county other than the station's")
            if record.record_id in seen:
                raise ApiError(400, "DUPLICATE_RECORD_IN_BATCH", f"record {record.record_id} appears twice")
            seen.add(record.record_id)
            expected, text = canonical_record(raw_record)  # each record serialised once, used thrice
            if expected != record.payload_sha256:
                raise ApiError(
                    400, "PAYLOAD_HASH_INVALID", f"record {record.record_id}: payload_sha256 differs"
                )
            canonical.append(text)
        body_sha256 = sha256_hex(canonical_json({**raw, "records": canonical}))
    except CanonicalJsonError as error:  # a number canonical JSON cannot represent exactly
        raise ApiError(400, "MALFORMED_BATCH", f"the batch part: {error}") from None
    return IncomingBatch(envelope, list(raw["records"]), body_sha256, canonical)


# ---------------------------------------------------------------- Idempotency-Key claim


def claim(registry: Registry, incoming: IncomingBatch, also: Callable[[Session], None] | None = None) -> None:
    """Claim the batch key: 422 if reused with another body, 409 while another attempt runs.

    ``also`` runs in the claiming transaction once the claim holds (the photos, when they live in the
    database: one commit for both)."""
    envelope = incoming.envelope
    now = time.time()
    fresh = {
        "batch_id": envelope.batch_id,
        "station_id": envelope.station_id,
        "body_sha256": incoming.body_sha256,
        "state": "in_progress",
        "lease_until": now + registry.settings.batch_lease_s,
        "created_at": iso(registry.now()),
    }
    with registry.db.write() as session:
        conn = session.connection()
        new = conn.execute(
            _upsert(registry, _BATCHES)
            .values(**fresh)
            .on_conflict_do_nothing(index_elements=["batch_id"])
            .returning(_BATCHES.c.batch_id)
        ).first()
        if new is None:  # the key was seen before (or a concurrent first claim just won the insert)
            row = conn.execute(select(_BATCHES).where(_BATCHES.c.batch_id == envelope.batch_id)).first()
            if row is not None and (
                row.body_sha256 != incoming.body_sha256 or row.station_id != envelope.station_id
            ):
                raise ApiError(
                    422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used for another body"
                )
            if row is None or (row.state == "in_progress" and row.lease_until > now):
                raise ApiError(409, "BATCH_IN_FLIGHT", "this batch is still being processed", retry_after_s=2)
            conn.execute(
                update(_BATCHES)
                .where(_BATCHES.c.batch_id == envelope.batch_id)
                .values(state="in_progress", lease_until=fresh["lease_until"])
            )
        if also is not None:
            also(session)


def _upsert(registry: Registry, table):  # type: ignore[no-untyped-def]
    """``INSERT`` with the dialect's ``ON CONFLICT`` clauses (PostgreSQL and SQLite both have them)."""
    if registry.db.backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def finish(registry: Registry, batch_id: str, response: BatchResponse | None) -> None:
    """Mark the key done (response stored for audit) or failed (a retry may run it again)."""
    with registry.db.write() as session:
        _mark_finished(session, batch_id, response)


def _mark_finished(session: Session, batch_id: str, response: BatchResponse | None) -> None:
    has_retry = response is None or any(r.status == "retry" for r in response.results)
    values: dict = {"state": "failed" if has_retry else "done", "lease_until": 0.0}
    if response is not None:
        values["response_json"] = response.model_dump_json()
    session.execute(update(_BATCHES).where(_BATCHES.c.batch_id == batch_id).values(**values))


# ---------------------------------------------------------------- the records


@dataclass
class Claimed:
    """What claiming the key found: photo parts that did not hash to their names, stored outcomes."""

    mismatched: set[str]
    known: dict[str, object]  # record id -> its stored row, for the batch's records known already


def store_photos(registry: Registry, parts: dict[str, bytes]) -> set[str]:
    """Store every photo part whose bytes match its name; returns the names that did not match."""
    return registry.blobs.put_many(parts)


def claim_and_store(registry: Registry, incoming: IncomingBatch, parts: dict[str, bytes]) -> Claimed:
    """Claim the key, store the photo parts and look up the known records: one transaction (photo files
    are written after it)."""
    claimed = Claimed(set(), {})
    in_database = registry.blobs.in_database

    def also(session: Session) -> None:
        if in_database and parts:
            claimed.mismatched.update(registry.blobs.put_many(parts, session=session))
        claimed.known.update(_known_rows(session, [r.record_id for r in incoming.envelope.records]))

    claim(registry, incoming, also=also)
    if not in_database and parts:
        try:
            claimed.mismatched.update(store_photos(registry, parts))
        except BaseException:
            finish(registry, incoming.envelope.batch_id, None)  # release the key for the retry
            raise
    return claimed


def _known_rows(session: Session, record_ids: list[str]) -> dict[str, object]:
    rows = session.execute(select(_RECORDS).where(_RECORDS.c.record_id.in_(record_ids)))
    return {row.record_id: row for row in rows}


@dataclass(frozen=True)
class Processed:
    response: BatchResponse
    ledger: LedgerDigest | None  # the station's ledger digest once the batch was decided, when asked for


def process_batch(
    registry: Registry,
    identity: StationIdentity,
    incoming: IncomingBatch,
    mismatched: set[str],
    faults: NoFaults = NO_FAULTS,
    *,
    photos: dict[str, bytes] | None = None,
    known: dict[str, object] | None = None,
    finish_key: bool = False,
    want_ledger_digest: bool = False,
) -> Processed:
    """Decide every record of the batch.

    ``photos`` are this request's parts (hashed and stored already), ``known`` the stored rows found
    when the key was claimed; with ``finish_key`` the key is marked finished in the deciding
    transaction (one commit for both), else the caller runs ``finish``. With ``want_ledger_digest`` the
    station's ledger digest is computed once the batch is decided (``ledger.ledger_digest``, as the
    digest endpoint computes it), for the answer to carry.
    """
    envelope = incoming.envelope
    received_at = registry.now()
    texts = incoming.canonical_records or [None] * len(envelope.records)
    records = list(zip(envelope.records, incoming.raw_records, texts, strict=True))
    if known is None:
        with registry.db.read() as session:
            known = _known_rows(session, [record.record_id for record, _, _ in records])
    results: list[RecordResult | None] = []
    pending: list[tuple[int, Pending]] = []
    parts = {sha: data for sha, data in (photos or {}).items() if sha not in mismatched}
    wanted = {
        record.photo.sha256: record.photo.bytes
        for record, _, _ in records
        if record.record_id not in known and record.photo.sha256 not in parts
    }
    stored = registry.blobs.read_many(wanted)
    for record, raw, text in records:
        row = known.get(record.record_id)
        if row is not None:
            results.append(_known(row, record, identity.station_id))
            continue
        photo = parts.get(record.photo.sha256, stored.get(record.photo.sha256))
        if photo is None or len(photo) != record.photo.bytes:
            if record.photo.sha256 in mismatched:
                detail = "the photo part did not hash to its name; resend it"
                results.append(_retry(record, "BLOB_HASH_MISMATCH", detail))
            else:
                results.append(
                    _retry(record, "BLOB_MISSING", "the photo is not on the registry; send its part")
                )
            continue
        card, early = examine(registry, envelope, record, photo, received_at)
        pending.append((len(results), Pending(record, raw, card, early, text)))
        results.append(None)

    def respond(decided: list[RecordResult]) -> BatchResponse:
        for (index, _item), result in zip(pending, decided, strict=True):
            results[index] = result
        return BatchResponse(batch_id=envelope.batch_id, server_time=registry.now(), results=results)

    response, finished = None, False
    if pending:
        batch = _batch(registry, identity, envelope, received_at)
        items = [item for _index, item in pending]
        try:
            with registry.db.write() as session:  # the whole batch in one transaction
                decisions = decide_in_transaction(session, batch, items, faults, check_known=False)
                response = respond(
                    [_result(d, item, batch.station_id) for d, item in zip(decisions, items, strict=True)]
                )
                if finish_key:
                    _mark_finished(session, envelope.batch_id, response)
                faults.before_commit()
            finished = finish_key
        except InjectedFault:  # the batch's transaction rolled back after taking serials: retry its records
            response = respond([_retry(item.record, "BUSY", "try again") for item in items])
        except (IntegrityError, OperationalError) as error:
            log.info("deciding a batch of %d record(s) one by one after %s", len(items), type(error).__name__)
            response = respond([_decide_one(registry, batch, item, faults) for item in items])
    else:
        response = respond([])
    if finish_key and not finished:
        finish(registry, envelope.batch_id, response)
    digest = ledger.ledger_digest(registry, identity.station_id) if want_ledger_digest else None
    tally = Counter(r.code or r.status for r in response.results)
    log.info(
        "batch from %s: %s", identity.station_id, ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    )
    return Processed(response, digest)


def _batch(
    registry: Registry, identity: StationIdentity, envelope: BatchEnvelope, received_at: datetime
) -> Batch:
    settings = registry.settings
    return Batch(
        station_id=identity.station_id,
        county=identity.county,
        season=registry.season,
        envelope=envelope,
        received_at=received_at,
        deadline_end=settings.deadline_end(registry.season),
        grace=timedelta(days=settings.grace_days),
        review_manual=settings.manual_evidence == "review",
    )


def _decide_one(registry: Registry, batch: Batch, item: Pending, faults: NoFaults) -> RecordResult:
    record = item.record
    for _attempt in range(4):
        try:
            with registry.db.write() as session:
                (decision,) = decide_in_transaction(session, batch, [item], faults)
                faults.before_commit()
            return _result(decision, item, batch.station_id)
        except IntegrityError as error:
            if "serial_range" in str(error.orig):
                return RecordResult(
                    record_id=record.record_id,
                    status="rejected",
                    code="SERIALS_EXHAUSTED",
                    final=True,
                    detail="the county has used all 99,999 serials of the year",
                )
            continue  # lost a race on the ID number or the record id: look again
        except InjectedFault:
            return _retry(record, "BUSY", "try again")
        except OperationalError:
            log.warning("database busy while deciding a record", exc_info=True)
            return _retry(record, "BUSY", "the registry is busy; try again")
    return _retry(record, "BUSY", "the registry is busy; try again")


def _result(decision: Decision, item: Pending, station_id: str) -> RecordResult:
    if decision.row is None:
        return _known(decision.known, item.record, station_id)
    return stored_result(SimpleNamespace(**decision.row), replay=False)


def stored_result(row, *, replay: bool) -> RecordResult:  # type: ignore[no-untyped-def]
    manual = "manual" if row.evidence == "manual" else None
    if row.outcome == "registered":
        return RecordResult(
            record_id=row.record_id,
            status="duplicate" if replay else "accepted",
            reg_no=row.reg_no,
            payload_sha256=row.payload_sha256,
            photo_sha256=row.photo_sha256,
            accepted_at=datetime.fromisoformat(row.received_at),
            evidence=manual,
        )
    if row.outcome == "held":
        return RecordResult(
            record_id=row.record_id,
            status="retry",
            code="REVIEW_PENDING",
            detail="received; the league office reviews records without chip evidence before numbering",
            retry_after_s=REVIEW_RETRY_S,
            payload_sha256=row.payload_sha256,
            evidence=manual,
        )
    return RecordResult(
        record_id=row.record_id,
        status="rejected",
        code=row.code,
        final=True,
        detail=row.detail,
        payload_sha256=row.payload_sha256,
        fields=row.fields.split(",") if row.fields else None,
        holder_school_code=row.holder_school_code,
        holder_school_name=row.holder_school_name,
        evidence=manual,
    )


def _known(row, record: Record, station_id: str) -> RecordResult:  # type: ignore[no-untyped-def]
    if row.station_id != station_id:
        return RecordResult(
            record_id=record.record_id,
            status="conflict",
            code="RECORD_OF_OTHER_STATION",
            final=True,
            detail="another station sent a record with this id",
        )
    if row.payload_sha256 != record.payload_sha256:
        return RecordResult(
            record_id=record.record_id,
            status="conflict",
            code="PAYLOAD_MISMATCH",
            final=True,
            payload_sha256=row.payload_sha256,
            detail="this record id was received with other content",
        )
    return stored_result(row, replay=True)


def _retry(record: Record, code: str, detail: str) -> RecordResult:
    return RecordResult(record_id=record.record_id, status="retry", code=code, detail=detail, retry_after_s=0)


def examine(
    registry: Registry, envelope: BatchEnvelope, record: Record, photo: bytes, received_at: datetime
) -> tuple[ChipData | None, Rejection | None]:
    """The checks that need no database: chip evidence, the photo, the capture time's plausibility."""
    settings = registry.settings
    card = evidence.examine(record, settings.card_types)
    if isinstance(card, Rejection):
        return None, card
    rejection = photos.check_photo(record, photo, photos.accepted_profiles(settings.photo_profiles))
    if rejection is None:
        rejection = implausible_time(registry, envelope, record, received_at)
    if rejection is None and card is not None:  # the card's validity, on a capture day that is plausible
        rejection = evidence.check_validity(card, record.captured_at.astimezone(BEIJING).date())
    return card, rejection


def implausible_time(
    registry: Registry, envelope: BatchEnvelope, record: Record, received_at: datetime
) -> Rejection | None:
    """Refuse a capture dated before the season opened or later than the registry's clock allows.

    The station's clock may be wrong; its error shows as ``client_time`` (batch formation, on the
    station's clock) minus the receipt time. Up to ``max_clock_offset_s`` of it is taken off the
    capture time first, so an honest station with a wrong clock always passes.
    """
    settings = registry.settings
    limit = settings.max_clock_offset_s
    offset = (envelope.client_time - received_at).total_seconds()
    corrected = record.captured_at - timedelta(seconds=max(-limit, min(limit, offset)))
    if corrected < settings.season_start(registry.season):
        return Rejection("CAPTURE_TIME_IMPLAUSIBLE", "captured before the registration season opened")
    if corrected > received_at + timedelta(seconds=settings.capture_skew_s):
        return Rejection(
            "CAPTURE_TIME_IMPLAUSIBLE",
            f"captured later than the registry's clock plus {settings.capture_skew_s:.0f} s",
        )
    return None
