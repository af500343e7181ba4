"""The registry's deciding rules that need no database: what it derives from a record's raw chip block
(``sync.registry.evidence``) and whether the photo is a photo of an accepted profile (``photos``).

Each rule is pinned on both sides of its line with real evidence: text blocks encoded by the station's
emulator for synthetic people, real JPEGs (``helpers.photo_jpeg``), records as a station sends them.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from station.idcard.emulator import synthetic_chip
from sync.protocol import idnumber, synthetic
from sync.protocol.card import CARD_TYPES
from sync.protocol.chiptext import encode_text
from sync.protocol.wire import ChipEvidence, Record
from sync.registry import evidence, photos
from sync.registry.evidence import PreRegistered, Rejection
from sync.registry.photos import PhotoProfile
from tests.registry.helpers import COUNTY, make_record, photo_jpeg, rehash

PERSON = synthetic.people(1, COUNTY, seed=11)[0]


def _card(**changes):
    card = synthetic_chip(PERSON, valid_until=date(2034, 3, 1))
    if changes:
        card = dataclasses.replace(card, **changes)
        card = card.with_reader_data(raw_text=encode_text(card))
    return card


def _chip(card=None, *, text: bytes | None = None, wlt: bytes | None = None, **parsed) -> ChipEvidence:
    card = card or _card()
    fields = {
        "national_id": card.id_number,
        "name": card.name,
        "sex": card.sex,
        "nation": card.nation,
        "birth_date": card.birth_date.isoformat(),
    }
    fields.update(parsed)
    return ChipEvidence.model_validate(
        {
            "text_b64": base64.b64encode(card.raw_text if text is None else text).decode(),
            "photo_b64": base64.b64encode(card.raw_wlt if wlt is None else wlt).decode(),
            "parsed": {k: v for k, v in fields.items() if v is not ...},
        }
    )


def _student(**changes) -> PreRegistered:
    values = {
        "national_id": PERSON.id_number,
        "name": PERSON.name,
        "sex": PERSON.sex,
        "nation": PERSON.nation,
        "birth_date": PERSON.birth_date.isoformat(),
    }
    values.update(changes)
    return PreRegistered(**values)


def _record(photo: bytes | None = None, **meta) -> Record:
    stub = SimpleNamespace(
        student_id="150102-2026-1-000011",
        county=COUNTY,
        national_id=PERSON.id_number,
        name=PERSON.name,
        sex=PERSON.sex,
        nation=PERSON.nation,
        birth_date=PERSON.birth_date.isoformat(),
    )
    raw = make_record(stub, photo if photo is not None else photo_jpeg(0))
    raw["meta"].update(meta)
    raw["meta"] = {k: v for k, v in raw["meta"].items() if v is not None}
    return Record.model_validate(rehash(raw))


def _refusal(found) -> tuple[str, str, tuple[str, ...]]:
    assert isinstance(found, Rejection), found
    return found.code, found.detail, found.fields


# ----------------------------------------------------------------------------- the chip block


def test_a_sound_block_gives_the_card_it_describes():
    card = evidence.examine_chip(_chip(), "resident", CARD_TYPES)
    assert (card.card_type, card.id_number, card.name, card.sex, card.nation, card.birth_date) == (
        "resident", PERSON.id_number, PERSON.name, PERSON.sex, PERSON.nation, PERSON.birth_date,
    )  # fmt: skip
    assert evidence.examine_chip(_chip(), None, ("resident",)).id_number == PERSON.id_number


def test_a_block_that_is_no_card_names_the_parser_code_and_only_a_value_free_detail():
    card = _card()
    sex_at = 30  # the resident layout's sex field (two bytes of UTF-16LE)
    bad_sex = card.raw_text[:sex_at] + "X".encode("utf-16-le") + card.raw_text[sex_at + 2 :]
    assert _refusal(evidence.examine_chip(_chip(text=bad_sex), None, CARD_TYPES)) == (
        "CHIP_MALFORMED", "the chip text block is not a card: chip_sex (sex)", (),
    )  # fmt: skip
    # The size detail starts with a digit ("255 bytes", "9 bytes"): it is left out, the code says enough.
    assert _refusal(evidence.examine_chip(_chip(text=card.raw_text[:9]), None, CARD_TYPES)) == (
        "CHIP_MALFORMED", "the chip text block is not a card: chip_text_size", (),
    )  # fmt: skip
    assert _refusal(evidence.examine_chip(_chip(text=card.raw_text[:255]), None, CARD_TYPES)) == (
        "CHIP_MALFORMED", "the chip text block is not a card: chip_text_size", (),
    )  # fmt: skip


def test_the_chip_photo_must_be_1024_bytes_of_something_compressed():
    card = _card()
    for size in (1023, 1025):
        wlt = (card.raw_wlt * 2)[:size]
        assert _refusal(evidence.examine_chip(_chip(wlt=wlt), None, CARD_TYPES)) == (
            "CHIP_MALFORMED", f"the chip photo has {size} bytes, not 1024", (),
        )  # fmt: skip
    for byte in (b"\x00", b"\x5a"):
        assert _refusal(evidence.examine_chip(_chip(wlt=byte * 1024), None, CARD_TYPES)) == (
            "CHIP_MALFORMED", "the chip photo is one repeated byte, not a compressed photo", (),
        )  # fmt: skip
    almost = b"\x00" * 1023 + b"\x01"  # one byte differs: no longer a repeated byte
    assert not isinstance(evidence.examine_chip(_chip(wlt=almost), None, CARD_TYPES), Rejection)


def test_the_card_number_must_be_valid_and_of_the_card_types_kind():
    wrong_digit = PERSON.id_number[:17] + ("0" if PERSON.id_number[17] != "0" else "1")
    broken = _card(id_number=wrong_digit)
    code, detail, _ = _refusal(evidence.examine_chip(_chip(broken), None, CARD_TYPES))
    assert (code, detail) == ("CHIP_MALFORMED", "the card number is not valid (check_digit)")
    hmt_number = idnumber.make("810000", PERSON.birth_date, 12, PERSON.sex)
    resident_with_hmt = _card(id_number=hmt_number)
    assert _refusal(evidence.examine_chip(_chip(resident_with_hmt), None, CARD_TYPES)) == (
        "CHIP_MALFORMED", "the card number does not belong to this card type", (),
    )  # fmt: skip
    permit = _card(card_type="hmt_permit", id_number=hmt_number)
    found = evidence.examine_chip(_chip(permit, nation=...), "hmt_permit", CARD_TYPES)
    assert (found.card_type, found.id_number) == ("hmt_permit", hmt_number)


def test_card_types_the_registry_or_the_record_does_not_name_are_refused():
    assert _refusal(evidence.examine_chip(_chip(), None, ("hmt_permit", "foreign_2023"))) == (
        "CARD_TYPE_REFUSED", "card type resident is not accepted by this registry", (),
    )  # fmt: skip
    assert _refusal(evidence.examine_chip(_chip(), "hmt_permit", CARD_TYPES)) == (
        "CARD_TYPE_REFUSED", "the record declares another card type than the chip block", (),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("national_id", None),
        ("name", "张三丰"),
        ("sex", None),
        ("nation", None),
        ("birth_date", "2009-01-01"),
    ],
)
def test_each_parsed_field_that_differs_from_the_block_is_named(field, value):
    if field == "national_id":
        value = idnumber.make("150102", PERSON.birth_date, 500, PERSON.sex)
    if field == "sex":
        value = "1" if PERSON.sex == "2" else "2"
    if field == "nation":
        value = "57" if PERSON.nation != "57" else "56"
    found = evidence.examine_chip(_chip(**{field: value}), None, CARD_TYPES)
    assert _refusal(found) == (
        "CHIP_PARSED_MISMATCH",
        "the parsed fields differ from the chip block",
        (field,),
    )


def test_the_parsed_copy_is_compared_after_folding_and_only_where_present():
    chip = _chip(
        national_id=" " + PERSON.id_number[:6] + "-" + PERSON.id_number[6:].lower(),
        name="".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in PERSON.name),
        sex=None,
        nation=...,  # absent: not checked
        birth_date=None,
    )
    assert evidence.parsed_differences(chip, _card()) == []
    # A nation the station sent as null is a statement, and a wrong one.
    assert evidence.parsed_differences(_chip(nation=None), _card()) == ["nation"]
    all_wrong = _chip(national_id="X", name="X", sex="1" if PERSON.sex == "2" else "2", nation="99",
                      birth_date="2000-01-01")  # fmt: skip
    assert evidence.parsed_differences(all_wrong, _card()) == [
        "national_id",
        "name",
        "sex",
        "nation",
        "birth_date",
    ]


def test_a_name_in_compatibility_form_is_the_same_name():
    card = _card(name="王ＡＢ")  # full-width Latin letters on the chip
    assert evidence.parsed_differences(_chip(card, name="王AB"), card) == []


# ----------------------------------------------------------------------------- card and pre-registration


def test_identity_differences_name_each_field_and_fold_what_the_desk_folds():
    card = _card()
    assert evidence.identity_differences(card, _student()) == []
    assert evidence.identity_differences(card, _student(national_id=PERSON.id_number.lower() + " ")) == []
    other = idnumber.make("150102", PERSON.birth_date, 500, PERSON.sex)
    assert evidence.identity_differences(card, _student(national_id=other)) == ["national_id"]
    assert evidence.identity_differences(card, _student(name="某某某")) == ["name"]
    assert evidence.identity_differences(card, _student(sex="1" if PERSON.sex == "2" else "2")) == ["sex"]
    assert evidence.identity_differences(card, _student(nation="99")) == ["nation"]
    assert evidence.identity_differences(card, _student(birth_date="2000-01-01")) == ["birth_date"]
    wrong = _student(national_id=other, name="某某某", sex="1" if PERSON.sex == "2" else "2", nation="99",
                     birth_date="2000-01-01")  # fmt: skip
    assert evidence.identity_differences(card, wrong) == [
        "national_id",
        "name",
        "sex",
        "nation",
        "birth_date",
    ]


def test_a_card_without_a_nation_is_not_compared_on_nation():
    card = dataclasses.replace(_card(), nation=None)  # foreigners' cards carry no nation
    assert evidence.identity_differences(card, _student(nation="99")) == []


def test_rare_characters_the_queue_spells_differently_are_no_name_mismatch():
    card = _card(name="王\ue000")  # the chip stores a rare character in the private-use area
    assert evidence.identity_differences(card, _student(name="王䶮")) == []
    assert evidence.identity_differences(card, _student(name="李䶮")) == ["name"]
    assert evidence.identity_differences(card, _student(name="王䶮䶮")) == ["name"]  # not the same length


def test_the_card_must_be_valid_on_the_capture_day_both_ends_included():
    card = _card(valid_from=date(2024, 3, 1), valid_until=date(2034, 3, 1))
    refusal = ("CARD_NOT_VALID", "the card was not valid on the capture day", ())
    assert _refusal(evidence.check_validity(card, date(2024, 2, 29))) == refusal
    assert evidence.check_validity(card, date(2024, 3, 1)) is None
    assert evidence.check_validity(card, date(2034, 3, 1)) is None
    assert _refusal(evidence.check_validity(card, date(2034, 3, 2))) == refusal
    long_term = dataclasses.replace(card, valid_until=None)
    assert evidence.check_validity(long_term, date(2090, 1, 1)) is None
    assert _refusal(evidence.check_validity(long_term, date(2024, 3, 1) - timedelta(days=1))) == refusal


def test_examine_reads_the_records_declared_card_type_and_skips_records_without_a_chip():
    record = _record()
    assert evidence.examine(record).id_number == PERSON.id_number
    assert _refusal(evidence.examine(record, ("hmt_permit",)))[0] == "CARD_TYPE_REFUSED"
    declared_other = _record(card_type="foreign_2023")
    assert (
        _refusal(evidence.examine(declared_other))[1]
        == "the record declares another card type than the chip block"
    )
    assert (
        evidence.examine(_record(card_type=None)).card_type == "resident"
    )  # not declared: the block decides
    manual = record.model_copy(
        update={
            "chip": None,
            "evidence": "manual",
            "manual_approval": {"approved_by": "a", "approved_at": "x"},
        }
    )
    assert evidence.examine(manual) is None


# ----------------------------------------------------------------------------- the photo


def test_accepted_profiles_are_the_named_ones_in_order_or_all():
    known = photos.known_profiles()
    assert set(known) == {"moe-480", "ga461-358"}
    assert known["moe-480"] == PhotoProfile(
        "moe-480", 480, 640, known["moe-480"].min_bytes, known["moe-480"].max_bytes
    )
    assert known["moe-480"].min_bytes < known["moe-480"].max_bytes
    assert photos.accepted_profiles(None) == tuple(known.values())
    assert photos.accepted_profiles(("ga461-358", "moe-480")) == (known["ga461-358"], known["moe-480"])
    assert photos.accepted_profiles(()) == ()
    with pytest.raises(ValueError, match=r"unknown photo profiles: \['a', 'b'\]"):
        photos.accepted_profiles(("moe-480", "b", "a"))


def test_a_photo_fits_when_it_is_the_declared_jpeg_of_an_accepted_profile():
    photo = photo_jpeg(0)
    record = _record(photo)
    moe = photos.known_profiles()["moe-480"]
    assert photos.check_photo(record, photo, photos.accepted_profiles(None)) is None
    exact = PhotoProfile("moe-480", 480, 640, len(photo), len(photo))  # both ends of the byte window count
    assert photos.check_photo(record, photo, (exact,)) is None
    for window in ((len(photo) + 1, len(photo) + 9), (len(photo) - 9, len(photo) - 1)):
        tight = PhotoProfile("moe-480", 480, 640, *window)
        assert _refusal(photos.check_photo(record, photo, (tight,))) == (
            "PHOTO_PROFILE", f"a 480x640 photo of {len(photo)} bytes fits the declared photo profile", (),
        )  # fmt: skip
    other_size = PhotoProfile("moe-480", 480, 641, moe.min_bytes, moe.max_bytes)
    assert _refusal(photos.check_photo(record, photo, (other_size,)))[0] == "PHOTO_PROFILE"
    other_width = PhotoProfile("moe-480", 481, 640, moe.min_bytes, moe.max_bytes)
    assert _refusal(photos.check_photo(record, photo, (other_width,)))[0] == "PHOTO_PROFILE"


def test_the_declared_profile_must_be_accepted_and_without_one_any_accepted_fits():
    photo = photo_jpeg(0)
    moe = photos.known_profiles()["moe-480"]
    renamed = dataclasses.replace(moe, profile_id="other")
    assert _refusal(photos.check_photo(_record(photo), photo, (renamed,)))[1].endswith(
        "fits the declared photo profile"
    )
    undeclared = _record(photo, photo_profile=None)
    assert photos.check_photo(undeclared, photo, (renamed,)) is None
    assert _refusal(photos.check_photo(undeclared, photo, photos.accepted_profiles(("ga461-358",)))) == (
        "PHOTO_PROFILE", f"a 480x640 photo of {len(photo)} bytes fits any accepted photo profile", (),
    )  # fmt: skip


def test_a_grey_photo_fits_no_profile():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo_jpeg(0))).convert("L").save(buffer, "JPEG", quality=95)
    grey = buffer.getvalue()
    window = PhotoProfile("moe-480", 480, 640, 1, 10**6)
    assert _refusal(photos.check_photo(_record(grey), grey, (window,)))[0] == "PHOTO_PROFILE"


def test_a_photo_that_is_no_jpeg_or_not_as_declared_is_refused():
    photo = photo_jpeg(0)
    record = _record(photo)
    code, detail, _ = _refusal(
        photos.check_photo(record, b"\x89PNG" + photo[4:], photos.accepted_profiles(None))
    )
    assert code == "PHOTO_NOT_JPEG" and detail.startswith("the photo is not a JPEG: ")
    mismatch = ("PHOTO_MISMATCH", "the photo's real size differs from its declaration", ())
    longer = photo[:-2] + b"\x00" + photo[-2:]
    assert _refusal(photos.check_photo(record, longer, photos.accepted_profiles(None))) == mismatch
    for change in ({"w": 479}, {"h": 641}):
        declared = record.model_copy(update={"photo": record.photo.model_copy(update=change)})
        assert _refusal(photos.check_photo(declared, photo, photos.accepted_profiles(None))) == mismatch
