"""Plain values the repositories take and return (no SQLAlchemy objects leak out of the store).

The domain's own types (``station.domain.students.Student``, ``station.domain.records.CaptureRecord``)
convert to and from these: ``QueuedStudent.feed_data()`` is the feed's pre-registration dict, and
``RecordRow.from_capture`` takes a domain capture record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PRE_REGISTRATION_FIELDS = (
    "student_id",
    "national_id",
    "name",
    "sex",
    "nation",
    "birth_date",
    "political_status",
    "school_code",
    "school_name",
    "class_no",
    "teaching_language",
    "student_category",
    "county_code6",
    "status",
    "version",
    "reg_no",
)


@dataclass(frozen=True)
class QueuedStudent:
    """One student in the local queue: the pre-registration fields plus local bookkeeping."""

    student_id: str
    national_id: str
    name: str
    sex: str
    nation: str | None
    birth_date: str  # YYYY-MM-DD
    political_status: str | None
    school_code: str
    school_name: str
    class_no: str
    teaching_language: str
    student_category: str
    county_code6: str
    status: str
    version: int
    reg_no: str | None = None
    seq: int | None = None
    revoked: bool = False
    received_at: str | None = None

    def feed_data(self) -> dict[str, Any]:
        """The pre-registration fields as the feed carries them (``Student.from_feed`` reads this)."""
        return {name: getattr(self, name) for name in PRE_REGISTRATION_FIELDS}

    @classmethod
    def from_feed(cls, data: dict[str, Any], *, seq: int | None = None) -> QueuedStudent:
        values = {name: data.get(name) for name in PRE_REGISTRATION_FIELDS}
        values["student_id"] = str(values["student_id"])
        values["version"] = int(values["version"] or 1)
        values["status"] = values["status"] or "approved"
        values["teaching_language"] = values["teaching_language"] or "汉语"
        values["student_category"] = values["student_category"] or "普通"
        return cls(**values, seq=seq)


@dataclass(frozen=True)
class FeedItem:
    """One item of the approvals feed page (docs/sync-protocol.md §6)."""

    student_id: str
    seq: int
    version: int
    op: str  # "upsert" | "revoke"
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecordRow:
    """A capture record as stored: immutable once saved."""

    record_id: str
    student_id: str
    national_id: str | None
    station_id: str
    county_code6: str
    operator: str
    captured_at: str  # UTC ISO
    chip_text: bytes | None
    chip_wlt: bytes | None
    photo_jpeg: bytes | None
    photo_sha256: str
    payload: bytes | None  # canonical JSON bytes
    payload_sha256: str
    photo_profile: str = "moe-exam"
    card_type: str = "resident"
    chip_fingerprint: bytes | None = None
    chip_serial: str | None = None
    sam_id: str | None = None
    quality_report: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    officer_note: str | None = None
    supersedes: str | None = None
    saved_at: str | None = None
    purged_at: str | None = None

    @classmethod
    def from_capture(cls, capture: Any) -> RecordRow:
        """From a ``station.domain.records.CaptureRecord``: the payload is its canonical JSON."""
        from station.store.clock import iso
        from sync.protocol.canonical import canonical_json

        captured_at = capture.captured_at if isinstance(capture.captured_at, datetime) else None
        chip = capture.chip  # None for a record signed off without a readable chip (manual evidence)
        return cls(
            record_id=capture.record_id,
            student_id=capture.student_id,
            national_id=capture.national_id,
            station_id=capture.station_id,
            county_code6=capture.county_code6,
            operator=capture.operator,
            captured_at=iso(captured_at) if captured_at else str(capture.captured_at),
            chip_text=chip.text if chip else None,
            chip_wlt=chip.wlt if chip else None,
            chip_fingerprint=chip.fingerprint if chip else None,
            chip_serial=chip.chip_serial if chip else None,
            sam_id=chip.sam_id if chip else None,
            card_type=capture.card_type,
            photo_jpeg=capture.photo_jpeg,
            photo_sha256=capture.photo_sha256,
            photo_profile=capture.photo_profile,
            payload=canonical_json(capture.payload()),
            payload_sha256=capture.payload_sha256,
            quality_report=dict(capture.quality),
            comparison=dict(capture.comparison),
            officer_note=capture.officer_note,
            supersedes=capture.supersedes,
        )


@dataclass(frozen=True)
class FrozenPayload:
    """A record as it is sent: the canonical payload frozen at capture, the photo, their hashes.

    ``payload`` and ``photo_jpeg`` are None once the retention purge removed them.
    """

    record_id: str
    payload: bytes | None
    payload_sha256: str
    photo_jpeg: bytes | None
    photo_sha256: str


@dataclass(frozen=True)
class RecordSummary:
    """What a list of records shows: ids, times, outbox state; no personal data."""

    record_id: str
    student_id: str
    captured_at: str
    operator: str
    state: str
    reg_no: str | None
    purged: bool


@dataclass(frozen=True)
class OutboxEntry:
    record_id: str
    state: str
    created_at: str
    size_bytes: int
    attempts: int
    batch_id: str | None = None
    next_attempt_at: str | None = None
    last_error: str | None = None
    reg_no: str | None = None
    result: dict[str, Any] | None = None
    acked_at: str | None = None
    ledger_confirmed_at: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> OutboxEntry:
        return cls(
            record_id=row["record_id"],
            state=row["state"],
            created_at=row["created_at"],
            size_bytes=row["size_bytes"],
            attempts=row["attempts"],
            batch_id=row["batch_id"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
            reg_no=row["reg_no"],
            result=json.loads(row["result_json"]) if row["result_json"] else None,
            acked_at=row["acked_at"],
            ledger_confirmed_at=row["ledger_confirmed_at"],
        )


@dataclass(frozen=True)
class Batch:
    batch_id: str
    record_ids: tuple[str, ...]
    size_bytes: int
    created_at: str
    attempts: int = 0


@dataclass(frozen=True)
class ItemResult:
    """One per-record result of a push response (docs/sync-protocol.md §7.6)."""

    record_id: str
    status: str  # accepted | duplicate | rejected | conflict | retry
    reg_no: str | None = None
    code: str | None = None
    payload_sha256: str | None = None
    photo_sha256: str | None = None
    retry_after_s: float | None = None
    detail: str | None = None
    # Kept as structured fields, not only in ``detail``: the desk shows them to the officer.
    fields: tuple[str, ...] | None = None  # ID_MISMATCH: the fields that differ
    holder_school_code: str | None = None  # ALREADY_REGISTERED: the school holding the registration
    holder_school_name: str | None = None

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> ItemResult:
        values = {name: item.get(name) for name in cls.__dataclass_fields__}
        if values["fields"] is not None:
            values["fields"] = tuple(str(name) for name in values["fields"])
        return cls(**values)


@dataclass(frozen=True)
class SyncState:
    feed: str
    cursor: str | None
    epoch: str | None
    head_seq: int | None
    updated_at: str


@dataclass(frozen=True)
class Operator:
    username: str
    display_name: str
    role: str  # operator | county_admin
    failed_attempts: int = 0
    locked_until: str | None = None
    disabled: bool = False
    last_login_at: str | None = None
