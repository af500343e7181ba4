"""What a sync session did: the figures ``station sync`` prints and the benchmark reads (docs/sync-protocol.md §11.4)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class SyncReport:
    pushed: int = 0  # records sent in batches that were answered
    accepted: int = 0
    duplicates: int = 0  # "duplicate" results: replays of records the registry already had
    rejected: int = 0
    conflicts: int = 0
    retried: int = 0  # results sending a record back to pending (retry, hash mismatch, missing)
    batches: int = 0
    attempts: int = 0
    body_bytes: int = 0  # request body bytes of answered batches
    payload_bytes: int = 0  # JPEG + canonical record JSON of answered batches
    wasted_bytes: int = 0  # body bytes of attempts whose answer was never applied
    retries_by_cause: Counter = field(default_factory=Counter)
    batch_sizes: list[int] = field(default_factory=list)  # the AIMD trace
    queue_upserted: int = 0
    queue_revoked: int = 0
    pages: int = 0
    resyncs: int = 0
    queue_digest_ok: bool | None = None
    ledger_digest_ok: bool | None = None
    ledger_confirmed: int = 0
    reopened: int = 0
    purged: int = 0
    alerts: list[str] = field(default_factory=list)
    offline: bool = False
    error_code: str | None = None
    error_detail: str | None = None
    clock_offset_s: float | None = None
    certificate_renewed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_code is None and not self.offline

    def as_dict(self) -> dict:
        data = asdict(self)
        data["retries_by_cause"] = dict(self.retries_by_cause)
        data["ok"] = self.ok
        return data
