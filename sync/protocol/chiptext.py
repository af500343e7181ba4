"""Parser (and, for emulators, encoder) of the 256-byte chip text block for every card type.

One implementation for both ends of the wire: the station's readers parse what the SAM returns, and
the registry parses the raw block of every record itself, so the station's parsed copy is never taken
on trust (docs/card-formats.md §6).

UCS-2 little-endian, fixed-width fields right-padded with U+0020; the card type is the character at
byte offset 248 ('I' foreigner 2017, 'Y' foreigner 2023, 'J' HK/Macao/Taiwan permit, else resident).
Field tables are data (offset, size) so parser and encoder cannot drift apart. A block that is not a
card raises ``ChipTextError``: a stable ``code`` and ``reason`` (the station turns them into officer
messages), and a ``detail`` that names a field, never its value.
"""

from __future__ import annotations

import re
from datetime import date

from sync.protocol.card import LONG_TERM, ChipData

TEXT_SIZE = 256
MARKER_OFFSET = 248
MARKERS = {"I": "foreign_2017", "Y": "foreign_2023", "J": "hmt_permit"}
MARKER_FOR = {card_type: marker for marker, card_type in MARKERS.items()}

# field -> (offset, size in bytes)
LAYOUTS: dict[str, dict[str, tuple[int, int]]] = {
    "resident": {
        "name": (0, 30),
        "sex": (30, 2),
        "nation": (32, 4),
        "birth_date": (36, 16),
        "address": (52, 70),
        "id_number": (122, 36),
        "issuer": (158, 30),
        "valid_from": (188, 16),
        "valid_until": (204, 16),
    },
    "foreign_2017": {
        "name_en": (0, 120),
        "sex": (120, 2),
        "id_number": (122, 30),
        "nationality": (152, 6),
        "name": (158, 30),
        "valid_from": (188, 16),
        "valid_until": (204, 16),
        "birth_date": (220, 16),
        "card_version": (236, 4),
        "issuer": (240, 8),
    },
    "foreign_2023": {
        "name": (0, 30),
        "sex": (30, 2),
        "renewal_count": (32, 4),
        "birth_date": (36, 16),
        "name_en_1": (52, 70),
        "id_number": (122, 36),
        "valid_from": (188, 16),
        "valid_until": (204, 16),
        "name_en_2": (220, 22),
        "nationality": (242, 6),
        "previous_number_link": (250, 6),
    },
    "hmt_permit": {
        "name": (0, 30),
        "sex": (30, 2),
        "birth_date": (36, 16),
        "address": (52, 70),
        "id_number": (122, 36),
        "issuer": (158, 30),
        "valid_from": (188, 16),
        "valid_until": (204, 16),
        "pass_number": (220, 18),
        "issue_count": (238, 4),
    },
}
_EXTRA = {
    "foreign_2017": ("nationality", "card_version"),
    "foreign_2023": ("nationality", "renewal_count", "previous_number_link"),
    "hmt_permit": ("pass_number", "issue_count"),
}
SEX_CODES = ("0", "1", "2", "9")
_CONTROL = re.compile(r"[\x00-\x1f]")


class ChipTextError(ValueError):
    """A text block that is not a card: ``code`` (``chip_*``), ``reason`` and a value-free ``detail``."""

    def __init__(self, code: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{code}: {reason}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.reason = reason
        self.detail = detail


def _bad(code: str, reason: str, detail: str = "") -> ChipTextError:
    return ChipTextError(code, reason, detail)


def card_type_of(block: bytes) -> str:
    marker = block[MARKER_OFFSET : MARKER_OFFSET + 2].decode("utf-16-le", errors="replace")
    return MARKERS.get(marker, "resident")


def _field(block: bytes, offset: int, size: int, name: str) -> str:
    raw = block[offset : offset + size]
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        raise _bad("chip_encoding", "not_ucs2", name) from None
    value = value.rstrip(" \x00")
    if _CONTROL.search(value):
        raise _bad("chip_encoding", "control_character", name)
    return value


def _date(value: str, name: str) -> date:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise _bad("chip_date", "malformed", name)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise _bad("chip_date", "not_a_date", name) from None


def parse_text(block: bytes) -> ChipData:
    """Parse one 256-byte text block into ChipData (without photo); ChipTextError on bad input."""
    if len(block) != TEXT_SIZE:
        raise _bad("chip_text_size", "wrong_size", f"{len(block)} bytes")
    card_type = card_type_of(block)
    values = {name: _field(block, off, size, name) for name, (off, size) in LAYOUTS[card_type].items()}
    if card_type == "foreign_2023":
        # Both halves decoded above; joined raw, so a space at the cut survives.
        values["name_en"] = (block[52:122] + block[220:242]).decode("utf-16-le").rstrip(" \x00")
    sex = values["sex"]
    if sex not in SEX_CODES:
        raise _bad("chip_sex", "unknown_code", "sex")
    nation = values.get("nation") or None
    if nation is not None and not (len(nation) == 2 and nation.isascii() and nation.isdigit()):
        raise _bad("chip_nation", "unknown_code", "nation")
    if not values["id_number"]:
        raise _bad("chip_id_number", "empty", "id_number")
    until = values["valid_until"]
    return ChipData(
        card_type=card_type,
        name=values.get("name", ""),
        name_en=values.get("name_en") or None,
        sex=sex,
        nation=nation,
        birth_date=_date(values["birth_date"], "birth_date"),
        address=values.get("address") if card_type in ("resident", "hmt_permit") else None,
        id_number=values["id_number"],
        issuer=values.get("issuer") or None,
        valid_from=_date(values["valid_from"], "valid_from"),
        valid_until=None if until == LONG_TERM else _date(until, "valid_until"),
        raw_text=bytes(block),
        extra={key: values[key] for key in _EXTRA.get(card_type, ()) if values.get(key)},
    )


def parse_new_address(data: bytes) -> str | None:
    """The 追加住址 block (``30 03``): up to 4 × 70 bytes; the last non-empty entry is the newest."""
    entries = [_field(data, off, 70, "new_address") for off in range(0, len(data) - len(data) % 2, 70)]
    entries = [entry for entry in entries if entry]
    return entries[-1] if entries else None


# --- encoder (simulator, emulators, tests) ------------------------------------------------------


def _put(block: bytearray, offset: int, size: int, value: str) -> None:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"value too long for a {size}-byte field")
    block[offset : offset + size] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode_text(chip: ChipData) -> bytes:
    """The 256-byte block for ``chip`` (inverse of ``parse_text``)."""
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    layout = LAYOUTS[chip.card_type]
    values: dict[str, str] = dict(chip.extra)
    values.update(
        name=chip.name,
        sex=chip.sex,
        nation=chip.nation or "",
        birth_date=chip.birth_date.strftime("%Y%m%d"),
        address=chip.address or "",
        id_number=chip.id_number,
        issuer=chip.issuer or "",
        valid_from=chip.valid_from.strftime("%Y%m%d"),
        valid_until=chip.valid_until.strftime("%Y%m%d") if chip.valid_until else LONG_TERM,
        name_en=chip.name_en or "",
    )
    if chip.card_type == "foreign_2023":
        name_en = values["name_en"].ljust(46)
        values["name_en_1"], values["name_en_2"] = name_en[:35], name_en[35:]
    for name, (offset, size) in layout.items():
        _put(block, offset, size, values.get(name, ""))
    if chip.card_type in MARKER_FOR:
        _put(block, MARKER_OFFSET, 2, MARKER_FOR[chip.card_type])
    return bytes(block)
