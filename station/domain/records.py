"""The capture record: one student's completed capture, immutable from the moment it is saved.

A record carries everything the registry needs and nothing the station may change later: the
conforming photo, the card's raw chip data (256-byte text, 1024-byte WLT photo, optional fingerprint
block, chip serial, SAM id), who captured it, where and when, the quality report and the comparison
with the pre-registration. Its identity is fixed at capture (docs/sync-protocol.md §2.1):

* ``record_id``: a UUIDv7 (RFC 9562), minted before the officer sees "saved" and never re-minted;
* ``payload_sha256``: SHA-256 of the payload's RFC 8785 canonical JSON (``sync.protocol.canonical``,
  shared with the registry), so "same id, other content" is detectable at both ends;
* a recapture is a new record naming the one it ``supersedes``, with the officer's reason.

The card's chip is the evidence of identity. When a card cannot be read, the desk's unreadable-card
path (look-up by the last six digits of the ID number, a county administrator's sign-off) saves a
record without chip evidence that carries ``ManualEvidence`` instead; how that travels on the wire is
decided in ``ManualEvidence.wire`` alone.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sync.protocol.canonical import payload_sha256, sha256_hex, uuid7
from sync.protocol.jpeg import jpeg_dimensions

# The card type of a record saved without chip evidence (the unreadable-card path).
UNREADABLE_CARD = "unreadable"


@dataclass(frozen=True)
class ChipEvidence:
    """The card as read: raw bytes travel to the registry beside the fields the station parsed."""

    text: bytes  # 256-byte text block, UCS-2LE
    wlt: bytes  # 1024-byte compressed chip photo
    fingerprint: bytes | None = None
    chip_serial: str | None = None  # hex, from APDU 00 36 00 00 08 when the reader gives it
    sam_id: str | None = None
    card_type: str = "resident"
    # What the station parsed from ``text`` (name, sex, nation, birth_date): the registry compares these.
    parsed: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ManualEvidence:
    """Identity confirmed by people, not by the chip: the unreadable-card path.

    The officer found the student by the last six digits of the ID number printed on the card and a
    county administrator signed off with their password (the sign-off is also in the station's audit).
    """

    approved_by: str  # the county administrator's operator id
    approved_at: datetime  # aware
    reason: str = "card_unreadable"  # why the chip could not serve as evidence ([a-z0-9_])
    lookup: str = "id_last6"  # how the student was found: the last six digits of the ID number

    def __post_init__(self) -> None:
        if self.approved_at.tzinfo is None:
            raise ValueError("approved_at must be timezone-aware")
        if not self.approved_by:
            raise ValueError("a manual sign-off names the administrator")

    def wire(self) -> dict[str, Any]:
        """The record's members that mark it (``sync.protocol.wire.Record``, docs/sync-protocol.md §13.2):
        ``"evidence": "manual"`` and ``manual_approval``; no ``chip`` member at all -- a record without
        chip evidence never carries a made-up chip block."""
        return {
            "evidence": "manual",
            "manual_approval": {
                "approved_by": self.approved_by,
                "approved_at": self.approved_at.astimezone(UTC).isoformat(),
                "lookup": self.lookup,
                "reason": self.reason,
            },
        }


@dataclass(frozen=True)
class CaptureRecord:
    record_id: str
    student_id: str
    national_id: str
    station_id: str
    county_code6: str
    operator: str
    captured_at: datetime  # aware, UTC
    chip: ChipEvidence | None  # None only with ``manual`` evidence (the chip could not be read)
    photo_jpeg: bytes
    photo_profile: str
    quality: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    comparison: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    supersedes: str | None = None
    officer_note: str | None = None  # the officer's reason when a warning was accepted
    recapture_reason: str | None = None  # why a student captured before is captured again
    manual: ManualEvidence | None = None  # identity signed off by an administrator instead of the chip

    def __post_init__(self) -> None:
        if (self.chip is None) == (self.manual is None):
            raise ValueError("a record carries either chip evidence or a manual sign-off, exactly one")

    @property
    def card_type(self) -> str:
        return self.chip.card_type if self.chip is not None else UNREADABLE_CARD

    @classmethod
    def new(cls, **values: Any) -> CaptureRecord:
        """A fresh record with a new UUIDv7 and the capture time now (UTC) unless given."""
        values.setdefault("record_id", uuid7())
        values.setdefault("captured_at", datetime.now(UTC))
        for name in ("quality", "comparison"):
            values[name] = MappingProxyType(dict(values.get(name) or {}))
        chip = values.get("chip")
        if chip is not None and not isinstance(chip.parsed, MappingProxyType):
            values["chip"] = replace(chip, parsed=MappingProxyType(dict(chip.parsed)))
        if values["captured_at"].tzinfo is None:
            raise ValueError("captured_at must be timezone-aware")
        return cls(**values)

    @property
    def photo_sha256(self) -> str:
        return sha256_hex(self.photo_jpeg)

    def payload(self) -> dict[str, Any]:
        """The record exactly as it travels (``sync.protocol.wire.Record`` without its hash).

        Frozen at capture: the outbox sends these canonical bytes unchanged on every attempt, so the
        hash the registry echoes is this record's own ``payload_sha256``. The photo travels as its own
        multipart part, named by its hash.
        """
        b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
        width, height = jpeg_dimensions(self.photo_jpeg)
        meta: dict[str, Any] = {
            "station_id": self.station_id,
            "photo_profile": self.photo_profile,
            "card_type": self.card_type,
            "quality": dict(self.quality),
            "comparison": dict(self.comparison),
        }
        chip: dict[str, Any] | None = None
        if self.chip is not None:
            parsed = {"national_id": self.national_id, **dict(self.chip.parsed)}
            chip = {"text_b64": b64(self.chip.text), "photo_b64": b64(self.chip.wlt), "parsed": parsed}
            if self.chip.chip_serial:
                chip["card_uid"] = self.chip.chip_serial
        optional = {
            "sam_id": self.chip.sam_id if self.chip else None,
            "fingerprint_b64": b64(self.chip.fingerprint) if self.chip and self.chip.fingerprint else None,
            "officer_note": self.officer_note,
            "recapture_reason": self.recapture_reason,
        }
        meta.update({key: value for key, value in optional.items() if value is not None})
        record: dict[str, Any] = {
            "record_id": self.record_id,
            "student_id": self.student_id,
            "county": self.county_code6,
            "captured_at": self.captured_at.astimezone(UTC).isoformat(),
            "operator_id": self.operator,
            "photo": {
                "sha256": self.photo_sha256,
                "bytes": len(self.photo_jpeg),
                "content_type": "image/jpeg",
                "w": width,
                "h": height,
            },
            "meta": meta,
        }
        if chip is not None:
            record["chip"] = chip
        if self.manual is not None:
            record.update(self.manual.wire())
        if self.supersedes:
            record["supersedes"] = self.supersedes
        return record

    @property
    def payload_sha256(self) -> str:
        return payload_sha256(self.payload())

    @property
    def short_id(self) -> str:
        """Eight characters from the random part, printed on the provisional receipt."""
        return self.record_id.replace("-", "")[-8:].upper()
