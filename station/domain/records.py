"""The capture record: one student's completed capture, immutable from the moment it is saved.

A record carries everything the registry needs and nothing the station may change later: the
conforming photo, the card's raw chip data (256-byte text, 1024-byte WLT photo, optional fingerprint
block, chip serial, SAM id), who captured it, where and when, the quality report and the comparison
with the pre-registration. Its identity is fixed at capture (DESIGN §5):

* ``record_id``: a UUIDv7 (RFC 9562), minted before the officer sees "saved" and never re-minted;
* ``payload_sha256``: SHA-256 of the payload's RFC 8785 canonical JSON (``sync.protocol.canonical``,
  shared with the registry), so "same id, other content" is detectable at both ends;
* a recapture is a new record naming the one it ``supersedes``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sync.protocol.canonical import payload_sha256, sha256_hex, uuid7


@dataclass(frozen=True)
class ChipEvidence:
    """The card as read: raw bytes travel to the registry; parsed fields are derived from them."""

    text: bytes  # 256-byte text block, UCS-2LE
    wlt: bytes  # 1024-byte compressed chip photo
    fingerprint: bytes | None = None
    chip_serial: str | None = None  # hex, from APDU 00 36 00 00 08 when the reader gives it
    sam_id: str | None = None
    card_type: str = "resident"


@dataclass(frozen=True)
class CaptureRecord:
    record_id: str
    student_id: str
    national_id: str
    station_id: str
    county_code6: str
    operator: str
    captured_at: datetime  # aware, UTC
    chip: ChipEvidence
    photo_jpeg: bytes
    photo_profile: str
    quality: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    comparison: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    supersedes: str | None = None
    officer_note: str | None = None  # the officer's reason when a warning was accepted

    @classmethod
    def new(cls, **values: Any) -> CaptureRecord:
        """A fresh record with a new UUIDv7 and the capture time now (UTC) unless given."""
        values.setdefault("record_id", uuid7())
        values.setdefault("captured_at", datetime.now(UTC))
        for name in ("quality", "comparison"):
            values[name] = MappingProxyType(dict(values.get(name) or {}))
        if values["captured_at"].tzinfo is None:
            raise ValueError("captured_at must be timezone-aware")
        return cls(**values)

    @property
    def photo_sha256(self) -> str:
        return sha256_hex(self.photo_jpeg)

    def payload(self) -> dict[str, Any]:
        """The record as it travels, photo by hash (the photo bytes travel as their own part)."""
        b64 = lambda data: base64.b64encode(data).decode() if data is not None else None  # noqa: E731
        return {
            "record_id": self.record_id,
            "student_id": self.student_id,
            "national_id": self.national_id,
            "station_id": self.station_id,
            "county": self.county_code6,
            "operator": self.operator,
            "captured_at": self.captured_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "chip": {
                "card_type": self.chip.card_type,
                "text_b64": b64(self.chip.text),
                "photo_b64": b64(self.chip.wlt),
                "fingerprint_b64": b64(self.chip.fingerprint),
                "card_uid": self.chip.chip_serial,
                "sam_id": self.chip.sam_id,
            },
            "photo": {
                "sha256": self.photo_sha256,
                "profile": self.photo_profile,
                "bytes": len(self.photo_jpeg),
            },
            "quality": dict(self.quality),
            "comparison": dict(self.comparison),
            "supersedes": self.supersedes,
            "officer_note": self.officer_note,
        }

    @property
    def payload_sha256(self) -> str:
        return payload_sha256(self.payload())

    @property
    def short_id(self) -> str:
        """Eight characters from the random part, printed on the provisional receipt."""
        return self.record_id.replace("-", "")[-8:].upper()
