"""What the engine needs from the station's store (``sync`` never imports ``station``).

The station implements ``LocalStore`` over its encrypted database (``station.commands.sync``). The
engine hands it wire models and plain values; the store keeps its own invariants (a feed page and its
cursor in one transaction, per-record results in one transaction and only with matching hashes).
``CredentialsPort`` is where the station keeps its registry credentials (CA, certificate, key): the
engine reads them for each session and saves a renewed certificate there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sync.client.tlsmaterial import Credentials
from sync.protocol.wire import ApprovalsPage, RecordResult


class BodyChanged(Exception):
    """The store refused a resend whose body differs from the first send (docs/sync-protocol.md §8.1: a program error)."""


@dataclass(frozen=True)
class OpenBatch:
    batch_id: str
    record_ids: tuple[str, ...]
    size_bytes: int
    created_at: str  # the batch's client_time: fixed at formation, so every resend is byte-identical
    attempts: int = 0


@dataclass(frozen=True)
class Outgoing:
    """One frozen record as it travels: the wire object (with its ``payload_sha256``) and the photo."""

    record_id: str
    wire: dict[str, Any]
    photo: bytes


@dataclass(frozen=True)
class CheckedResult:
    """A registry result after the engine compared the echoed hashes with what it sent."""

    result: RecordResult
    hashes_match: bool


@dataclass(frozen=True)
class ApplyCounts:
    accepted: int = 0
    rejected: int = 0
    conflict: int = 0
    retried: int = 0


@dataclass(frozen=True)
class LocalRecordState:
    record_id: str
    state: str  # pending | inflight | accepted | rejected | conflict
    reg_no: str | None
    ledger_confirmed: bool


class CredentialsPort(Protocol):
    def load(self) -> Credentials | None: ...
    def save(self, credentials: Credentials) -> None: ...


class LocalStore(Protocol):
    # push
    def open_batches(self) -> list[OpenBatch]: ...
    def form_batch(self, *, max_bytes: int, max_records: int) -> OpenBatch | None: ...
    def outgoing(self, batch: OpenBatch) -> list[Outgoing]: ...
    def note_attempt(self, batch_id: str, *, body_sha256: str, error: str | None = None) -> None: ...
    def apply_results(self, batch_id: str, results: list[CheckedResult]) -> ApplyCounts: ...
    def abandon_batch(self, batch_id: str, reason: str) -> None: ...
    def quarantine(self, batch_id: str, record_ids: list[str], reason: str) -> None: ...
    def next_due_in(self) -> float | None: ...
    def pending_count(self) -> int: ...

    # pull
    def feed_cursor(self, feed: str) -> str | None: ...
    def apply_page(self, feed: str, page: ApprovalsPage, *, resync: bool) -> tuple[int, int]: ...
    def resync_started(self, feed: str) -> str | None: ...
    def begin_resync(self, feed: str) -> None: ...
    def finish_resync(self, feed: str) -> int: ...
    def queue_digest(self) -> tuple[int, str]: ...

    # reconciliation and retention
    def outbox_digest(self) -> tuple[int, str]: ...
    def local_states(self) -> list[LocalRecordState]: ...
    def confirm_ledger(self, record_ids: Iterable[str]) -> int: ...
    def reopen(self, record_ids: Iterable[str], reason: str) -> int: ...
    def purge_due(self) -> int: ...
    def alert(self, code: str, detail: str) -> None: ...
