"""Wire models of the station <-> registry protocol (docs/sync-protocol.md §6, §7, §9), shared by both ends.

Pydantic models for what travels: the approvals feed (``FeedItem``, ``ApprovalsPage``,
``ApprovalsDigest``), the push batch (``BatchEnvelope`` with ``Record`` items; the JSON part of the
multipart body), the per-record results (``RecordResult`` inside ``BatchResponse``), reconciliation
(``RecordsStatusRequest/Response``, ``LedgerPage``, ``LedgerDigest``) and error bodies (``ErrorBody``).

Conventions: times are ISO 8601 with an offset; hashes are lower-case hex SHA-256; ids are UUID text.
A record's ``payload_sha256`` is computed over the record *as sent* (``canonical.payload_sha256`` of the
JSON object), so a receiver hashes the raw object, not a re-serialised model.

Evidence: a record proves who was captured with the card's raw chip data (``chip``), which the registry
parses itself; or, on the desk's unreadable-card path, with ``"evidence": "manual"`` and the county
administrator's sign-off in ``manual_approval`` (``chip`` may then be absent). Records without
``evidence`` are chip records, so earlier stations need no change.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from sync.protocol.canonical import is_sha256_hex

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Registry-Protocol"
MAX_BATCH_BYTES_HEADER = "X-Registry-Max-Batch-Bytes"
# A batch request with ``Prefer: ledger-digest`` (RFC 7240) is answered with the station's ledger digest
# once the batch was decided, in this header (docs/sync-protocol.md §9.3).
LEDGER_DIGEST_PREFERENCE = "ledger-digest"
LEDGER_DIGEST_HEADER = "X-Registry-Ledger-Digest"
PHOTO_PART_PREFIX = "sha256:"
BATCH_PART_NAME = "batch"
MAX_RECORDS_PER_BATCH = 100
STATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
COUNTY_PATTERN = r"^15[0-9]{4}$"

StudentStatus = Literal[
    "approved",
    "pending",
    "captured_at_zhongkao",
    "captured",
    "registered",
    "withdrawn",
    "transferred",
    "suspended",
]
# Statuses that leave a county's queue: the feed carries them as tombstones (op "revoke").
REVOKED_STATUSES = frozenset({"withdrawn", "transferred", "suspended"})
ResultStatus = Literal["accepted", "duplicate", "rejected", "conflict", "retry"]

# Rejection / conflict / retry codes carried in RecordResult.code.
REJECT_CODES = (
    "NOT_APPROVED",  # unknown student, pending approval, or not in the station's county
    "WITHDRAWN",  # withdrawn, transferred out or suspended
    "CAPTURED_AT_ZHONGKAO",  # registered at 中考 without a capture (rule 1.4(3))
    "ID_MISMATCH",  # the chip block and the pre-registration differ; ``fields`` names them
    "ALREADY_REGISTERED",  # this ID number holds a registration this season; names the school
    "DEADLINE_PASSED",  # captured after the deadline or arrived after the grace period
    "SERIALS_EXHAUSTED",  # the county's 99,999 serials for the year are used up
    "CHIP_MALFORMED",  # the raw text block / WLT photo is not a card's (size, encoding, check digit)
    "CHIP_PARSED_MISMATCH",  # the station's parsed fields differ from its own chip block; ``fields``
    "CARD_TYPE_REFUSED",  # a card type the registry does not accept, or not the declared one
    "CARD_NOT_VALID",  # the card was expired (or not yet valid) on the capture day
    "PHOTO_NOT_JPEG",  # the photo bytes are not a JPEG (header-only check)
    "PHOTO_MISMATCH",  # real dimensions differ from the declared ``w``/``h``
    "PHOTO_PROFILE",  # dimensions or byte size fit no accepted photo profile
    "PHOTO_REUSED",  # this photo already stands for another student's registration
    "CAPTURE_TIME_IMPLAUSIBLE",  # captured before the season opened or later than the registry's clock
    "MANUAL_REFUSED",  # the league office refused a capture without chip evidence (review mode)
)
CONFLICT_CODES = ("PAYLOAD_MISMATCH", "RECORD_OF_OTHER_STATION")
RETRY_CODES = ("BLOB_MISSING", "BLOB_HASH_MISMATCH", "BUSY", "REVIEW_PENDING")
EvidenceKind = Literal["chip", "manual"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_uuid(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError):
        raise ValueError("not a UUID") from None
    if str(parsed) != value:
        raise ValueError("a UUID in canonical lower-case form is required")
    return value


def _check_sha(value: str) -> str:
    if not is_sha256_hex(value):
        raise ValueError("64 lower-case hex digits expected")
    return value


# ---------------------------------------------------------------- pull: the approvals feed (§6)


class PreRegistration(_Wire):
    """A student's pre-registration as the class teacher approved it (the station's queue row)."""

    national_id: str = Field(max_length=32)
    name: str = Field(max_length=64)
    sex: Literal["1", "2"]
    nation: str = Field(pattern=r"^[0-9]{2}$")
    birth_date: date
    political_status: str = Field(pattern=r"^[0-9]{2}$")
    school_code: str = Field(max_length=32)
    school_name: str = Field(max_length=128)
    class_no: str = Field(max_length=16)
    teaching_language: Literal["汉语", "蒙古语"]
    student_category: Literal["普通", "借读"]
    county_code6: str = Field(pattern=COUNTY_PATTERN)
    status: StudentStatus


class FeedItem(_Wire):
    student_id: str
    seq: int = Field(ge=1)
    version: int = Field(ge=1)
    op: Literal["upsert", "revoke"]
    data: PreRegistration | None = None  # present for "upsert", absent for "revoke"


class ApprovalsPage(_Wire):
    items: list[FeedItem]
    next_cursor: str
    has_more: bool
    head_seq: int = Field(ge=0)
    server_time: AwareDatetime


class ApprovalsDigest(_Wire):
    head_seq: int = Field(ge=0)
    count: int = Field(ge=0)
    xor_sha256: str  # XOR of sha256("student_id|version") over live (upsert) rows


# ---------------------------------------------------------------- push: records and batches (§7)


class PhotoRef(_Wire):
    sha256: str
    bytes: int = Field(ge=1, le=2_000_000)
    content_type: Literal["image/jpeg"]
    w: int = Field(ge=1, le=10_000)
    h: int = Field(ge=1, le=10_000)

    _sha = field_validator("sha256")(_check_sha)


class ChipParsed(BaseModel):
    """Fields the station parsed from the chip; the registry checks those present against the block."""

    model_config = ConfigDict(extra="allow")

    national_id: str = Field(max_length=32)
    name: str = Field(max_length=64)
    sex: Literal["1", "2"] | None = None
    nation: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    birth_date: date | None = None


class ChipEvidence(_Wire):
    """The card's raw chip data: the registry parses ``text_b64`` itself and checks ``parsed`` against it."""

    text_b64: str = Field(max_length=4096)  # the raw 256-byte text block
    photo_b64: str = Field(max_length=4096)  # the raw 1024-byte WLT photo
    card_uid: str | None = Field(default=None, max_length=64)
    parsed: ChipParsed

    @field_validator("text_b64", "photo_b64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("standard base64 expected") from None
        return value


class ManualApproval(_Wire):
    """The county administrator's sign-off on a capture without chip evidence (unreadable card)."""

    approved_by: str = Field(min_length=1, max_length=64)  # the administrator's operator id
    approved_at: AwareDatetime
    lookup: Literal["id_last6"] = "id_last6"  # how the officer found the student: last six ID digits
    reason: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]+$")  # e.g. card_unreadable


class Record(BaseModel):
    """One capture, frozen at capture time. Extra members (quality report...) are allowed and hashed."""

    model_config = ConfigDict(extra="allow")

    record_id: str
    payload_sha256: str
    student_id: str = Field(min_length=1, max_length=64)
    county: str = Field(pattern=COUNTY_PATTERN)
    captured_at: AwareDatetime
    operator_id: str = Field(min_length=1, max_length=64)
    supersedes: str | None = None
    photo: PhotoRef
    evidence: EvidenceKind = "chip"  # absent: chip evidence (every record before manual evidence existed)
    chip: ChipEvidence | None = None  # required for chip evidence; optional (but checked) for manual
    manual_approval: ManualApproval | None = None  # required for manual evidence, refused otherwise
    meta: dict[str, Any] = Field(default_factory=dict)

    _ids = field_validator("record_id")(_check_uuid)
    _sha = field_validator("payload_sha256")(_check_sha)

    @model_validator(mode="after")
    def _evidence_is_complete(self) -> Record:
        if self.evidence == "chip" and self.chip is None:
            raise ValueError("a chip record carries its chip data")
        if (self.evidence == "manual") != (self.manual_approval is not None):
            raise ValueError("manual_approval comes with evidence 'manual', and only with it")
        return self


class BatchEnvelope(_Wire):
    """The JSON part named ``batch`` of a push; photos follow as parts named ``sha256:<hex>``."""

    batch_id: str
    station_id: str = Field(pattern=STATION_ID_PATTERN)
    season: int = Field(ge=2000, le=2099)
    client_time: AwareDatetime
    clock_offset_s: float | None = None  # station clock minus registry clock, measured from Date
    records: list[Record] = Field(min_length=1, max_length=MAX_RECORDS_PER_BATCH)

    _ids = field_validator("batch_id")(_check_uuid)


class RecordResult(_Wire):
    record_id: str
    status: ResultStatus
    reg_no: str | None = None
    payload_sha256: str | None = None
    photo_sha256: str | None = None
    accepted_at: AwareDatetime | None = None
    code: str | None = None
    final: bool | None = None
    detail: str | None = None
    fields: list[str] | None = None  # ID_MISMATCH, CHIP_PARSED_MISMATCH: the differing fields
    holder_school_code: str | None = None  # ALREADY_REGISTERED: the school holding the registration
    holder_school_name: str | None = None
    retry_after_s: int | None = None
    evidence: Literal["manual"] | None = None  # set on results of records without chip evidence


class BatchResponse(_Wire):
    batch_id: str
    protocol: Literal[1] = 1
    server_time: AwareDatetime
    results: list[RecordResult]


# ---------------------------------------------------------------- reconciliation (§9)


class RecordsStatusRequest(_Wire):
    record_ids: list[str] = Field(min_length=1, max_length=500)

    @field_validator("record_ids")
    @classmethod
    def _ids(cls, values: list[str]) -> list[str]:
        return [_check_uuid(v) for v in values]


class RecordStatus(_Wire):
    record_id: str
    status: Literal["accepted", "rejected", "unknown"]
    reg_no: str | None = None
    code: str | None = None
    payload_sha256: str | None = None
    accepted_at: AwareDatetime | None = None


class RecordsStatusResponse(_Wire):
    results: list[RecordStatus]


class LedgerItem(_Wire):
    seq: int = Field(ge=1)
    record_id: str
    status: Literal["accepted", "rejected"]
    reg_no: str | None = None
    code: str | None = None
    payload_sha256: str
    decided_at: AwareDatetime


class LedgerPage(_Wire):
    items: list[LedgerItem]
    next_cursor: str
    has_more: bool
    head_seq: int = Field(ge=0)
    server_time: AwareDatetime


class LedgerDigest(_Wire):
    head_seq: int = Field(ge=0)
    count: int = Field(ge=0)
    xor_sha256: str  # XOR of sha256("record_id|status|reg_no") over the ledger


def wants_ledger_digest(prefer: str | None) -> bool:
    """True if a ``Prefer`` header value (RFC 7240: comma-separated preferences) asks for the digest."""
    if not prefer:
        return False
    return any(item.split(";")[0].strip().lower() == LEDGER_DIGEST_PREFERENCE for item in prefer.split(","))


def format_ledger_digest(digest: LedgerDigest) -> str:
    """The ``X-Registry-Ledger-Digest`` header value: ``head_seq=N;count=N;xor_sha256=<64 hex>``."""
    return f"head_seq={digest.head_seq};count={digest.count};xor_sha256={digest.xor_sha256}"


def parse_ledger_digest(value: str | None) -> LedgerDigest | None:
    """The digest a header value carries, or None if there is none or it is malformed (never trusted
    beyond a comparison: a wrong one only makes the station walk the ledger)."""
    if not value:
        return None
    try:
        members = dict(part.strip().split("=", 1) for part in value.split(";"))
        xor = members["xor_sha256"].strip().lower()
        if len(xor) != 64 or any(c not in "0123456789abcdef" for c in xor):
            return None
        return LedgerDigest(head_seq=int(members["head_seq"]), count=int(members["count"]), xor_sha256=xor)
    except (ValueError, KeyError):  # a ValidationError is a ValueError
        return None


class MissingBlobsRequest(_Wire):
    """``POST /v1/blobs/missing``: which of these photos must the next batch carry? (docs/sync-protocol.md §7.7)"""

    hashes: list[str] = Field(min_length=1, max_length=500)

    @field_validator("hashes")
    @classmethod
    def _hashes(cls, values: list[str]) -> list[str]:
        return [_check_sha(v) for v in values]


class MissingBlobsResponse(_Wire):
    missing: list[str]


# ---------------------------------------------------------------- certificate renewal


class RenewRequest(_Wire):
    """``POST /v1/stations/{id}/renew`` over mutual TLS with the current certificate: a CSR for a new key."""

    csr_pem: str = Field(min_length=1, max_length=8192)


class RenewResponse(_Wire):
    cert_pem: str  # the new certificate, for the CSR's key; the current one stays valid until it expires
    not_after: AwareDatetime


class ErrorBody(_Wire):
    code: str
    detail: str
    retry_after_s: int | None = None


STATION_ID_RE = re.compile(STATION_ID_PATTERN)
COUNTY_RE = re.compile(COUNTY_PATTERN)
