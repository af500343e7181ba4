"""The parsed card (``ChipData``): what a reader hands over and what the registry re-derives from the chip.

Shared by both ends of the wire: the station's readers return it, and the registry parses the raw text
block of every record into it (``sync.protocol.chiptext``) to check the station's copy. The raw
256-byte text block and the raw 1024-byte WLT photo travel to the registry unchanged, so the parsed
fields are a view on them, never a replacement.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date

CARD_TYPES = ("resident", "foreign_2017", "foreign_2023", "hmt_permit")
LONG_TERM = "长期"
WLT_SIZE = 1024  # the compressed chip photo has a fixed length (docs/card-formats.md §7)


@dataclass(frozen=True)
class ChipData:
    """One card as read from the chip. ``valid_until`` None means long-term validity (长期)."""

    card_type: str
    name: str
    name_en: str | None
    sex: str
    nation: str | None
    birth_date: date
    address: str | None
    id_number: str
    issuer: str | None
    valid_from: date
    valid_until: date | None
    raw_text: bytes
    raw_wlt: bytes = b""
    fingerprint: bytes | None = None
    chip_serial: str | None = None
    sam_id: str | None = None
    new_address: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The decoded photo when the reader's own SDK decodes it (termb); the raw WLT is then unavailable.
    photo_bmp: bytes | None = None

    @property
    def photo_wlt_sha256(self) -> str | None:
        return hashlib.sha256(self.raw_wlt).hexdigest() if self.raw_wlt else None

    @property
    def long_term(self) -> bool:
        return self.valid_until is None

    def with_reader_data(self, **changes: object) -> ChipData:
        """A copy with what the reader adds (photo, fingerprint, chip serial, SAM ID)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self, include_raw: bool = False) -> dict[str, object]:
        """The JSON view: dates as YYYY-MM-DD, long-term validity as "长期"."""
        out: dict[str, object] = {
            "card_type": self.card_type,
            "name": self.name,
            "name_en": self.name_en,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else LONG_TERM,
            "chip_serial": self.chip_serial,
            "sam_id": self.sam_id,
            "photo_wlt_sha256": self.photo_wlt_sha256,
            "has_fingerprint": bool(self.fingerprint),
        }
        if self.new_address:
            out["new_address"] = self.new_address
        out.update({key: value for key, value in self.extra.items() if key not in out})
        if include_raw:
            out["raw_text_base64"] = base64.b64encode(self.raw_text).decode("ascii")
            out["photo_wlt_base64"] = base64.b64encode(self.raw_wlt).decode("ascii")
            if self.fingerprint:
                out["fingerprint_base64"] = base64.b64encode(self.fingerprint).decode("ascii")
        return out

    def __repr__(self) -> str:
        # Never print personal data by accident (logs, tracebacks).
        return f"ChipData(card_type={self.card_type!r}, photo_wlt_sha256={self.photo_wlt_sha256!r})"
