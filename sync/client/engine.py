"""The sync engine: pull the approvals queue, push the outbox, reconcile with the ledger, purge.

One ``run_once`` is one session (docs/sync-protocol.md §6-§9): ping first (auth, proxy, portal, clock
skew, the registry's byte limit), pull every page (each applied with its cursor in one store
transaction; 410 restarts from cursor 0 as a full resync; the digest is compared once caught up),
push (open batches from an earlier run first, byte-identical with the same key; then new batches sized
by bytes with AIMD), reconcile the outbox against the ledger digest (walking the ledger on a mismatch),
and purge records whose retention has passed. Transport failures are retried with full-jitter backoff;
after ``offline_after`` in a row the session ends ``offline`` and ``run_forever`` probes with pings.
Fatal answers (TLS trust, 401/403, 422) stop the session with their code: they do not heal by retrying.
A revoked certificate (``CERT_REVOKED``, from the registry's answer or the TLS layer's alert) stops the
engine for good: later sessions return that code without touching the network, and ``run_forever``
returns. A refusal the station only infers (``CERT_REFUSED``: connections closed right after the TLS
handshake) suspends it instead: sessions return that code without touching the network until
``Policy.refused_recheck_s`` has passed, then one session looks again, and a ping that gets through
resumes syncing -- a load balancer with no registry node behind it must not silence a station for good. After the ping, a certificate with less than ``Policy.renew_within_s`` left is renewed
(``renewal``) and the new one saved through the credentials port; a failed renewal is an alert, not a
failed session, while the current certificate is still valid.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from sync.client import batch as batch_body
from sync.client import renewal
from sync.client.errors import (
    BatchTooLarge,
    FatalSyncError,
    ResyncRequired,
    RetryLater,
    SyncError,
    TransportError,
)
from sync.client.faultpoints import NO_FAULTS, FaultPoints
from sync.client.http import RegistrySession
from sync.client.ports import BodyChanged, CheckedResult, CredentialsPort, LocalStore, OpenBatch
from sync.client.report import SyncReport
from sync.protocol.wire import (
    ApprovalsDigest,
    ApprovalsPage,
    BatchResponse,
    LedgerDigest,
    LedgerPage,
)


class Offline(Exception):
    """Too many transport failures in a row: the session ends, probing takes over."""


# Refusals that no later session can heal: the engine stops contacting the registry.
TERMINAL_CODES = frozenset({"CERT_REVOKED"})
# Refusals inferred, not stated: the engine contacts the registry only once per ``refused_recheck_s``.
SUSPENDING_CODES = frozenset({"CERT_REFUSED"})


@dataclass(frozen=True)
class Policy:
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 300.0
    retry_after_cap_s: float = 300.0
    offline_after: int = 5  # consecutive transport failures
    probe_interval_s: tuple[float, float] = (30.0, 90.0)
    max_batch_bytes: int = 1_000_000
    max_records: int = 25
    target_batch_s: float = 15.0  # a cut wastes at most about this much link time
    tail_allowance: float = 1.5  # what is left rides along when it fits this many byte budgets
    split_after_failures: int = 2
    page_limit: int = 500
    max_wait_s: float = 30.0  # wait this long in a session for records whose backoff ends soon
    max_busy_retries: int = 30  # 409/429/503 answers in a row before the session gives up
    renew_within_s: float = 30 * 86400.0  # renew the station certificate when less than this is left
    refused_recheck_s: float = 3600.0  # after CERT_REFUSED, look again this often (one handshake or two)


class SyncEngine:
    def __init__(
        self,
        store: LocalStore,
        session_factory: Callable[[], RegistrySession],
        *,
        station_id: str,
        county: str,
        season: int,
        policy: Policy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        faults: FaultPoints = NO_FAULTS,
        credentials: CredentialsPort | None = None,
    ) -> None:
        self.store = store
        self.credentials = credentials  # None: no renewal (the session factory holds fixed credentials)
        self.halted: SyncError | None = None  # a terminal refusal: no more sessions in this process
        self.suspended: SyncError | None = None  # an inferred refusal: no session before ``_recheck_at``
        self._recheck_at = 0.0
        self.session_factory = session_factory
        self.station_id = station_id
        self.county = county
        self.season = season
        self.policy = policy or Policy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.faults = faults
        self.feed = f"approvals:{county}"
        self._session: RegistrySession | None = None
        self._failures = 0
        self._ledger_after_push: LedgerDigest | None = None  # the last applied batch answer's digest

    # ------------------------------------------------------------------ sessions

    def run_once(self, *, pull: bool = True, push: bool = True) -> SyncReport:
        report = SyncReport()
        if self.halted is not None:
            report.error_code, report.error_detail = self.halted.code, self.halted.detail
            return report
        if self.suspended is not None and time.monotonic() < self._recheck_at:
            report.error_code, report.error_detail = self.suspended.code, self.suspended.detail
            return report
        started = time.monotonic()
        self._failures = 0
        try:
            session = self.session_factory()
        except SyncError as error:
            self._failed(report, error)
            return report
        self._session = session
        self._ledger_after_push = None
        try:
            self._retrying(report, session.ping)
            self.suspended = None  # the registry let this certificate in after all
            report.clock_offset_s = session.clock_offset_s
            self._renew_if_due(report)
            if pull:
                self.pull(report)
            if push:
                for _ in range(2):
                    self.push(report)
                    if not self.reconcile(report):
                        break
            report.purged = self.store.purge_due()
        except Offline:
            report.offline = True
        except SyncError as error:
            self._failed(report, error)
        finally:
            session.close()
            self._session = None
            report.seconds = round(time.monotonic() - started, 3)
        return report

    def _failed(self, report: SyncReport, error: SyncError) -> None:
        report.error_code, report.error_detail = error.code, error.detail
        self.store.alert(error.code, error.detail)
        if error.code in TERMINAL_CODES:
            self.halted = error
        elif error.code in SUSPENDING_CODES:
            self.suspended = error
            self._recheck_at = time.monotonic() + self.policy.refused_recheck_s

    def _renew_if_due(self, report: SyncReport) -> None:
        current = self.credentials.load() if self.credentials is not None else None
        if current is None or renewal.seconds_left(current) > self.policy.renew_within_s:
            return
        try:
            renewed = renewal.renew(self.session, self.station_id, current)
        except SyncError as error:
            if error.code in TERMINAL_CODES:
                raise
            self.store.alert("CERT_RENEWAL_FAILED", f"{error.code}: {error.detail}")
            return
        self.credentials.save(renewed)  # type: ignore[union-attr]
        report.certificate_renewed = True

    def run_forever(
        self, *, interval_s: float = 60.0, should_stop: Callable[[], bool] = lambda: False, **kinds: bool
    ) -> None:
        """Sessions until ``should_stop``; offline or failed sessions are followed by jittered probes."""
        while not should_stop():
            report = self.run_once(**kinds)
            if self.halted is not None:
                return
            if report.offline or report.error_code:
                low, high = self.policy.probe_interval_s
                self.sleep(self.rng.uniform(low, high))
            else:
                self.sleep(interval_s)

    @property
    def session(self) -> RegistrySession:
        assert self._session is not None
        return self._session

    def _backoff(self, failures: int) -> float:
        p = self.policy
        return self.rng.uniform(0, min(p.backoff_cap_s, p.backoff_base_s * 2 ** min(failures, 30)))

    def _transport_failed(self, report: SyncReport, error: TransportError) -> None:
        report.retries_by_cause[error.code] += 1
        self._failures += 1
        if self._failures >= self.policy.offline_after:
            raise Offline()
        self.sleep(self._backoff(self._failures))

    def _wait_busy(self, report: SyncReport, error: RetryLater, busy: int) -> None:
        report.retries_by_cause[f"HTTP_{error.status}"] += 1
        if busy > self.policy.max_busy_retries:
            raise error
        wait = error.retry_after_s if error.retry_after_s is not None else self._backoff(busy)
        self.sleep(min(wait, self.policy.retry_after_cap_s))

    def _retrying(self, report: SyncReport, call: Callable[[], object]) -> object:
        busy = 0
        while True:
            try:
                result = call()
                self._failures = 0
                return result
            except TransportError as error:
                self._transport_failed(report, error)
            except RetryLater as error:
                busy += 1
                self._wait_busy(report, error, busy)

    # ------------------------------------------------------------------ pull (§6)

    def pull(self, report: SyncReport) -> None:
        resynced = False
        for _ in range(4):
            resync = self.store.resync_started(self.feed) is not None
            head = self._pull_pages(report, resync)
            if resync:
                self.store.finish_resync(self.feed)
            digest: ApprovalsDigest = self._retrying(  # type: ignore[assignment]
                report,
                lambda: self.session.get_model(
                    f"/v1/counties/{self.county}/approvals/digest", ApprovalsDigest
                ),
            )
            if digest.head_seq != head:
                continue  # the feed moved while we pulled: catch up first
            local = self.store.queue_digest()
            report.queue_digest_ok = local == (digest.count, digest.xor_sha256)
            if report.queue_digest_ok:
                return
            if resynced:
                self.store.alert(
                    "QUEUE_DIGEST_MISMATCH", "the queue differs from the registry after a resync"
                )
                return
            self.store.alert("QUEUE_DIGEST_MISMATCH", "the queue differs from the registry: full resync")
            self.store.begin_resync(self.feed)
            report.resyncs += 1
            resynced = True

    def _pull_pages(self, report: SyncReport, resync: bool) -> int:
        while True:
            cursor = self.store.feed_cursor(self.feed)
            params = {"limit": self.policy.page_limit, **({"cursor": cursor} if cursor else {})}
            try:
                page: ApprovalsPage = self._retrying(  # type: ignore[assignment]
                    report,
                    lambda p=params: self.session.get_model(
                        f"/v1/counties/{self.county}/approvals", ApprovalsPage, p
                    ),
                )
            except ResyncRequired:
                self.store.begin_resync(self.feed)
                report.resyncs += 1
                resync = True
                continue
            upserted, revoked = self.store.apply_page(self.feed, page, resync=resync)
            report.pages += 1
            report.queue_upserted += upserted
            report.queue_revoked += revoked
            if not page.has_more or not page.items:  # an empty page cannot advance: never page forever
                return page.head_seq

    # ------------------------------------------------------------------ push (§7, §8)

    def push(self, report: SyncReport) -> None:
        p = self.policy
        max_records = 1  # the first batch of a session is a single record (a probe of the link)
        byte_cap = min(p.max_batch_bytes, self.session.max_batch_bytes or p.max_batch_bytes)
        byte_budget = byte_cap
        round_trip_s = getattr(self.session, "round_trip_s", None) or 0.0
        probing = True
        record_bytes: float | None = None  # mean size of the records sent so far
        busy = 0
        failed_sends: dict[str, int] = {}
        while True:
            batch = next(iter(self.store.open_batches()), None)
            if batch is None:
                batch = self.store.form_batch(
                    max_bytes=self._with_tail(byte_budget, byte_cap, record_bytes), max_records=max_records
                )
                if batch is not None:
                    self.faults.reached("after_batch_persist")
            if batch is None:
                wait = self.store.next_due_in()
                if wait is None or wait > p.max_wait_s:
                    return
                self.sleep(max(wait, 0.01))
                continue
            outgoing = self.store.outgoing(batch)
            if len(outgoing) != len(batch.record_ids):
                continue  # the store quarantined corrupt records and re-formed the batch
            body = batch_body.build(batch, self.station_id, self.season, outgoing)
            try:
                self.store.note_attempt(batch.batch_id, body_sha256=body.sha256)
            except BodyChanged:
                self.store.alert("BODY_CHANGED", "a resend differed from the first send; batch re-formed")
                self.store.abandon_batch(batch.batch_id, "BODY_CHANGED")
                continue
            report.attempts += 1
            self._ledger_after_push = None  # until this batch's answer is applied
            # Nothing else waits: reconciliation comes next, so ask for the ledger digest with this batch.
            last_batch = self.store.pending_count() == 0
            started = time.monotonic()
            try:
                response = self.session.post_batch(
                    f"/v1/stations/{self.station_id}/batches",
                    body.body,
                    body.content_type,
                    batch.batch_id,
                    BatchResponse,
                    want_ledger_digest=last_batch,
                )
                self.faults.reached("after_send")
                checked = _check_response(batch, response, outgoing)
            except TransportError as error:
                report.wasted_bytes += len(body.body)
                failed_sends[batch.batch_id] = failed_sends.get(batch.batch_id, 0) + 1
                max_records = max(1, max_records // 2)
                if failed_sends[batch.batch_id] >= p.split_after_failures and len(batch.record_ids) > 1:
                    self.store.abandon_batch(batch.batch_id, "SPLIT")
                    max_records = max(1, len(batch.record_ids) // 2)
                self._transport_failed(report, error)
                continue
            except RetryLater as error:
                report.wasted_bytes += len(body.body)
                busy += 1
                self._wait_busy(report, error, busy)
                continue
            except BatchTooLarge:
                report.wasted_bytes += len(body.body)
                report.retries_by_cause["HTTP_413"] += 1
                if len(batch.record_ids) == 1:
                    self.store.alert("TOO_LARGE", "a single record exceeds the body limit on the way")
                    self.store.quarantine(batch.batch_id, list(batch.record_ids), "TOO_LARGE")
                else:
                    self.store.abandon_batch(batch.batch_id, "TOO_LARGE")
                max_records = max(1, len(batch.record_ids) // 2)
                byte_cap = byte_budget = max(1, batch.size_bytes // 2)
                continue
            except FatalSyncError as error:
                report.wasted_bytes += len(body.body)
                if error.status != 400:
                    raise
                self.store.alert(error.code, f"the registry refused a batch as malformed: {error.detail}")
                if len(batch.record_ids) == 1:  # bisected down to the bad record
                    self.store.quarantine(batch.batch_id, list(batch.record_ids), f"BAD_RECORD_{error.code}")
                else:
                    self.store.abandon_batch(batch.batch_id, "BISECT")
                    max_records = max(1, len(batch.record_ids) // 2)
                continue
            self.faults.reached("after_response_before_apply")
            counts = self.store.apply_results(batch.batch_id, checked)
            self._ledger_after_push = getattr(self.session, "ledger_digest", None)
            elapsed = max(time.monotonic() - started, 1e-3)
            self._failures, busy = 0, 0
            report.batches += 1
            report.pushed += len(checked)
            report.accepted += counts.accepted
            report.rejected += counts.rejected
            report.conflicts += counts.conflict
            report.retried += counts.retried
            report.duplicates += sum(1 for c in checked if c.result.status == "duplicate")
            report.body_bytes += len(body.body)
            report.payload_bytes += body.payload_bytes
            report.batch_sizes.append(len(batch.record_ids))
            # Sized by time on the link, not by count: after a clean batch the record limit doubles
            # (the probe opens it fully at once) and the bytes follow the goodput measured on the
            # transfer itself -- the round trip and the registry's answer are not link time.
            max_records = p.max_records if probing else min(p.max_records, max_records * 2)
            probing = False
            record_bytes = batch.size_bytes / len(batch.record_ids)
            transfer_s = max(elapsed - round_trip_s, elapsed / 4)
            goodput = len(body.body) / transfer_s
            byte_budget = int(min(byte_cap, max(goodput * p.target_batch_s, 1)))

    def _with_tail(self, byte_budget: int, byte_cap: int, record_bytes: float | None) -> int:
        """The budget of the next batch, stretched to take what is left when that fits ``tail_allowance``
        budgets: a tail sent alone would cost a whole round trip for a few records (slow links)."""
        if record_bytes is None:
            return byte_budget  # the probe
        stretched = min(byte_cap, int(byte_budget * self.policy.tail_allowance))
        return stretched if self.store.pending_count() * record_bytes <= stretched else byte_budget

    # ------------------------------------------------------------------ reconciliation (§9)

    def reconcile(self, report: SyncReport) -> int:
        """Compare with the ledger; confirm what it holds, reopen what it lacks. Returns records reopened.

        The ledger digest is the one the last batch answer of this push carried, when the push ended
        with that answer applied (one round trip less on a slow link); else it is asked for.
        """
        path = f"/v1/stations/{self.station_id}/ledger"
        digest = self._ledger_after_push
        self._ledger_after_push = None
        if digest is None:
            digest = self._retrying(  # type: ignore[assignment]
                report, lambda: self.session.get_model(path + "/digest", LedgerDigest)
            )
        local_states = self.store.local_states()
        final = [s for s in local_states if s.state in ("accepted", "rejected")]
        report.ledger_digest_ok = self.store.outbox_digest() == (digest.count, digest.xor_sha256)
        if report.ledger_digest_ok:
            report.ledger_confirmed += self.store.confirm_ledger(
                s.record_id for s in final if not s.ledger_confirmed
            )
            return 0
        server: dict[str, tuple[str, str | None]] = {}
        cursor: str | None = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page: LedgerPage = self._retrying(  # type: ignore[assignment]
                report, lambda p=params: self.session.get_model(path, LedgerPage, p)
            )
            server.update({item.record_id: (item.status, item.reg_no) for item in page.items})
            cursor = page.next_cursor
            if not page.has_more or not page.items:  # an empty page cannot advance: never page forever
                break
        known = {s.record_id for s in local_states}
        confirm = [s.record_id for s in final if server.get(s.record_id) == (s.state, s.reg_no)]
        missing = [s.record_id for s in final if s.record_id not in server]
        differing = [s.record_id for s in final if s.record_id in server and s.record_id not in confirm]
        unconfirmed = {s.record_id for s in final if not s.ledger_confirmed}
        report.ledger_confirmed += self.store.confirm_ledger(r for r in confirm if r in unconfirmed)
        if missing:
            self.store.alert("LEDGER_MISSING", f"{len(missing)} records the registry lacks are sent again")
            report.reopened += self.store.reopen(missing, "LEDGER_MISSING")
        if differing:
            self.store.alert(
                "LEDGER_DIFFERS", f"{len(differing)} records have another outcome at the registry"
            )
        lost = [r for r in server if r not in known]
        if lost:
            self.store.alert("LOCAL_LOSS", f"the registry holds {len(lost)} records this station lacks")
        return len(missing)


def _check_response(batch: OpenBatch, response: BatchResponse, outgoing) -> list[CheckedResult]:  # type: ignore[no-untyped-def]
    """Every record exactly once and nothing else, else the whole answer is invalid (retry, §7.6)."""
    ids = [r.record_id for r in response.results]
    if response.batch_id != batch.batch_id or len(ids) != len(set(ids)) or set(ids) != set(batch.record_ids):
        raise TransportError("BAD_RESULTS", "the answer does not list every record of the batch exactly once")
    sent = {o.record_id: o for o in outgoing}
    checked = []
    for result in response.results:
        wire = sent[result.record_id].wire
        match = result.payload_sha256 in (None, wire["payload_sha256"]) and result.photo_sha256 in (
            None,
            wire["photo"]["sha256"],
        )
        checked.append(CheckedResult(result, match))
    return checked
