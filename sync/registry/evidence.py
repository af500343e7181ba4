"""The chip is the evidence: what the registry derives from a record's raw chip data, never its parsed copy.

``examine_chip`` decodes the raw 256-byte text block itself (``sync.protocol.chiptext``, the parser the
station uses), checks the card type, that the station's parsed fields say what the block says and that
the WLT photo has its fixed 1024 bytes; it returns the card as the block tells it (``ChipData``).
``identity_differences`` then compares *that* card with the pre-registration, field by field, with the
desk's normalisation (``sync.protocol.names``, ``idnumber.normalize``). ``check_validity`` applies the
desk's rule that the card was valid on the capture day.

Records without chip evidence (the desk's unreadable-card path: looked up by the last six digits of
the ID number, signed off by a county administrator) carry ``evidence: "manual"`` and
``manual_approval``; a chip block they still carry must pass the same checks.

Every refusal is a ``Rejection``: a stable code, an English detail that names fields, never values.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass
from datetime import date

from sync.protocol import chiptext, idnumber
from sync.protocol.card import CARD_TYPES, WLT_SIZE, ChipData
from sync.protocol.names import differ_only_in_rare_characters, normalize_name
from sync.protocol.wire import ChipEvidence, Record

# Card types whose number carries the GB 11643 check digit, and the number kind each must have.
_NUMBER_KIND = {"resident": "resident", "hmt_permit": "hmt_permit", "foreign_2023": "foreign_2023"}


@dataclass(frozen=True)
class Rejection:
    code: str
    detail: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreRegistered:
    """The pre-registration fields a card is compared with (the registry's ``students`` row)."""

    national_id: str
    name: str
    sex: str
    nation: str
    birth_date: str  # ISO date


def examine_chip(chip: ChipEvidence, declared_card_type: object, accepted_types: tuple[str, ...]):
    """The card the raw block describes, or the ``Rejection`` of a block that cannot be that evidence."""
    text = base64.b64decode(chip.text_b64)
    wlt = base64.b64decode(chip.photo_b64)
    try:
        card = chiptext.parse_text(text)
    except chiptext.ChipTextError as error:
        where = f" ({error.detail})" if error.detail and not error.detail[0].isdigit() else ""
        return Rejection("CHIP_MALFORMED", f"the chip text block is not a card: {error.code}{where}")
    if len(wlt) != WLT_SIZE:
        return Rejection("CHIP_MALFORMED", f"the chip photo has {len(wlt)} bytes, not {WLT_SIZE}")
    if wlt.count(wlt[:1]) == WLT_SIZE:
        return Rejection("CHIP_MALFORMED", "the chip photo is one repeated byte, not a compressed photo")
    kind = _NUMBER_KIND.get(card.card_type)
    if kind is not None:
        try:
            parsed_number = idnumber.parse(card.id_number)
        except idnumber.InvalidIdNumber as error:
            return Rejection("CHIP_MALFORMED", f"the card number is not valid ({error.code})")
        if parsed_number.kind != kind:
            return Rejection("CHIP_MALFORMED", "the card number does not belong to this card type")
    if card.card_type not in accepted_types:
        return Rejection("CARD_TYPE_REFUSED", f"card type {card.card_type} is not accepted by this registry")
    if declared_card_type is not None and declared_card_type != card.card_type:
        return Rejection("CARD_TYPE_REFUSED", "the record declares another card type than the chip block")
    differing = parsed_differences(chip, card)
    if differing:
        return Rejection(
            "CHIP_PARSED_MISMATCH", "the parsed fields differ from the chip block", tuple(differing)
        )
    return card


def parsed_differences(chip: ChipEvidence, card: ChipData) -> list[str]:
    """Fields of the station's parsed copy that do not say what the block says."""
    parsed = chip.parsed
    differing = []
    if idnumber.normalize(parsed.national_id) != idnumber.normalize(card.id_number):
        differing.append("national_id")
    if unicodedata.normalize("NFKC", parsed.name) != unicodedata.normalize("NFKC", card.name):
        differing.append("name")
    if parsed.sex is not None and parsed.sex != card.sex:
        differing.append("sex")
    if "nation" in parsed.model_fields_set and parsed.nation != card.nation:
        differing.append("nation")
    if parsed.birth_date is not None and parsed.birth_date != card.birth_date:
        differing.append("birth_date")
    return differing


def identity_differences(card: ChipData, student: PreRegistered) -> list[str]:
    """Fields where the card (as the block says) and the pre-registration disagree (``ID_MISMATCH``)."""
    differing = []
    if idnumber.normalize(card.id_number) != idnumber.normalize(student.national_id):
        differing.append("national_id")
    chip_name, queue_name = normalize_name(card.name), normalize_name(student.name)
    if chip_name != queue_name and not differ_only_in_rare_characters(chip_name, queue_name):
        differing.append("name")
    if card.sex != student.sex:
        differing.append("sex")
    if card.nation is not None and card.nation != student.nation:
        differing.append("nation")
    if card.birth_date.isoformat() != student.birth_date:
        differing.append("birth_date")
    return differing


def check_validity(card: ChipData, capture_day: date) -> Rejection | None:
    """The desk's rule: the card was valid on the capture day (``valid_until`` None: long-term)."""
    if capture_day < card.valid_from or (card.valid_until is not None and capture_day > card.valid_until):
        return Rejection("CARD_NOT_VALID", "the card was not valid on the capture day")
    return None


def examine(record: Record, accepted_types: tuple[str, ...] = CARD_TYPES) -> ChipData | Rejection | None:
    """The chip card of a record (None for manual evidence without a chip), or the reason to refuse it."""
    if record.chip is None:
        return None  # manual evidence without a block: the model required manual_approval
    return examine_chip(record.chip, record.meta.get("card_type"), accepted_types)
