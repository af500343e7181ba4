"""Typed sync errors: each carries a machine ``code``, an English ``detail`` and whether a retry can help.

``sync`` may not import ``station``, so messages here are English; the station's commands translate the
codes into officer-facing Chinese/English text. ``retryable`` follows docs/sync-protocol.md §8.3: transport
failures and ambiguous answers are retried with the same key and bytes; configuration, certificate and
client-bug answers are not (they do not heal by retrying).
"""

from __future__ import annotations


class SyncError(Exception):
    retryable = False

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


class TransportError(SyncError):
    """Outcome unknown (connect/read failure, reset, truncated body, 5xx, non-protocol 2xx): retry."""

    retryable = True


class RetryLater(SyncError):
    """The registry asked to wait (429/503/409) for ``retry_after_s`` seconds."""

    retryable = True

    def __init__(self, code: str, detail: str, *, status: int, retry_after_s: float | None) -> None:
        super().__init__(code, detail, status=status)
        self.retry_after_s = retry_after_s


class BatchTooLarge(SyncError):
    """413 (from the registry or a proxy body limit): split the batch."""


class ResyncRequired(SyncError):
    """410 Gone on a feed: start again from cursor 0."""


class FatalSyncError(SyncError):
    """Stop and alert: bad certificate or CA (TLS), 401/403, 400/422 client bug, proxy 407."""


class CredentialsMissing(FatalSyncError):
    def __init__(self) -> None:
        super().__init__("NOT_ENROLLED", "the station has no registry credentials; run `station enroll FILE`")
