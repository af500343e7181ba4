"""Chip text parser: every card type of the reference, long-term validity, fingerprint variants."""

from __future__ import annotations

import json
from datetime import date

import pytest

from station.idcard import commands as cmd
from station.idcard.errors import ChipDataError, SamStatusError, chip_text_error
from station.idcard.frames import build_response
from station.idcard.saved import parse_saved
from sync.protocol.chiptext import ChipTextError, encode_text, parse_new_address, parse_text
from tests.idcard import cards

JSON_KEYS = {
    "card_type", "name", "name_en", "sex", "nation", "birth_date", "address", "id_number", "issuer",
    "valid_from", "valid_until", "chip_serial", "sam_id", "photo_wlt_sha256",
}  # fmt: skip


def _without_photo(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "photo_wlt_sha256"}


@pytest.mark.parametrize("chip", cards.all_types(), ids=lambda c: c.card_type)
def test_every_card_type_round_trips(chip):
    parsed = parse_text(chip.raw_text)
    assert _without_photo(parsed.to_dict()) == _without_photo(chip.to_dict())
    assert parsed.raw_text == chip.raw_text
    assert set(parsed.to_dict()) >= JSON_KEYS
    json.dumps(parsed.to_dict(), ensure_ascii=False)


def test_resident_fields_at_their_offsets():
    chip = cards.resident()
    block = chip.raw_text
    assert block[30:32] == chip.sex.encode("utf-16-le")
    assert block[32:36] == chip.nation.encode("utf-16-le")
    assert block[36:52] == chip.birth_date.strftime("%Y%m%d").encode("utf-16-le")
    assert block[122:158] == chip.id_number.encode("utf-16-le")
    assert block[248:250] == b" \x00"
    parsed = parse_text(block)
    assert parsed.card_type == "resident" and parsed.sex in ("1", "2") and len(parsed.nation) == 2
    assert isinstance(parsed.birth_date, date) and parsed.valid_until is not None


def test_long_term_validity_bytes():
    chip = cards.resident(1, long_term=True)
    assert chip.raw_text[204:220] == bytes.fromhex("7F951F67") + b" \x00" * 6
    parsed = parse_text(chip.raw_text)
    assert parsed.valid_until is None and parsed.long_term
    assert parsed.to_dict()["valid_until"] == "长期"


@pytest.mark.parametrize(
    ("chip", "marker", "card_type"),
    [(cards.foreign_2017(), "I", "foreign_2017"), (cards.foreign_2023(), "Y", "foreign_2023"),
     (cards.hmt_permit(), "J", "hmt_permit")],
)  # fmt: skip
def test_type_markers(chip, marker, card_type):
    assert chip.raw_text[248:250] == marker.encode("utf-16-le")
    parsed = parse_text(chip.raw_text)
    assert parsed.card_type == card_type and parsed.nation is None


def test_foreign_2017_layout():
    parsed = parse_text(cards.foreign_2017().raw_text)
    assert parsed.raw_text[152:158] == "USA".encode("utf-16-le")
    assert parsed.extra == {"nationality": "USA", "card_version": "02"}
    assert parsed.name_en.endswith("TEST PERSON") and parsed.issuer == "1500" and len(parsed.id_number) == 15


def test_foreign_2023_english_name_spans_two_fields():
    chip = cards.foreign_2023()
    parsed = parse_text(chip.raw_text)
    assert parsed.name_en == chip.name_en and len(parsed.name_en) == 46
    assert parsed.raw_text[52:122].decode("utf-16-le") == chip.name_en[:35]
    assert parsed.id_number.startswith("9") and len(parsed.id_number) == 18
    assert parsed.extra["nationality"] == "CAN" and parsed.address is None


def test_hmt_permit_fields():
    parsed = parse_text(cards.hmt_permit().raw_text)
    assert parsed.id_number.startswith("810000") and parsed.extra == {
        "pass_number": "H12345678",
        "issue_count": "01",
    }


@pytest.mark.parametrize(("fp_len", "total"), [(None, 1295), (1024, 2321), (512, 1809), (0, 1297)])
def test_saved_frames_with_and_without_fingerprint(fp_len, total):
    chip = cards.resident()
    fingerprint = None if fp_len is None else bytes([0x43]) * fp_len
    frame = build_response(0x90, cmd.build_base_message(chip.raw_text, chip.raw_wlt, fingerprint))
    assert len(frame) == total
    text_offset = 14 if fp_len is None else 16
    assert frame[text_offset : text_offset + 256] == chip.raw_text
    parsed = parse_saved(frame)
    assert parsed.id_number == chip.id_number and parsed.raw_wlt == chip.raw_wlt
    assert parsed.fingerprint == (fingerprint or None)
    assert parsed.to_dict()["photo_wlt_sha256"] == chip.photo_wlt_sha256


def test_saved_bare_text_block():
    chip = cards.hmt_permit()
    assert parse_saved(chip.raw_text).card_type == "hmt_permit"


def test_saved_file_that_is_neither():
    with pytest.raises(ChipDataError) as caught:
        parse_saved(b"hello, this is not a card" * 3)
    assert caught.value.code == "not_card_data" and caught.value.exit_code == 2


def test_saved_failed_read_frame_gives_the_status_error():
    with pytest.raises(SamStatusError) as caught:
        parse_saved(build_response(0x41))
    assert caught.value.code == "read_failed"


def test_inconsistent_lengths_in_a_frame():
    chip = cards.resident()
    data = bytearray(cmd.build_base_message(chip.raw_text, chip.raw_wlt))
    data[2:4] = (1000).to_bytes(2, "big")
    with pytest.raises(ChipDataError) as caught:
        parse_saved(build_response(0x90, bytes(data)))
    assert caught.value.code == "chip_layout"


def _mutate(offset: int, raw: bytes) -> bytes:
    block = bytearray(cards.resident().raw_text)
    block[offset : offset + len(raw)] = raw
    return bytes(block)


@pytest.mark.parametrize(
    ("block", "code"),
    [
        (_mutate(0, b"\x00\xd8"), "chip_encoding"),  # lone surrogate: not UCS-2
        (_mutate(0, b"\x07\x00"), "chip_encoding"),  # control character
        (_mutate(36, "20100230".encode("utf-16-le")), "chip_date"),  # 30 February
        (_mutate(36, "2010AB01".encode("utf-16-le")), "chip_date"),
        (_mutate(30, "M".encode("utf-16-le")), "chip_sex"),
        (_mutate(32, "0X".encode("utf-16-le")), "chip_nation"),
        (_mutate(122, b" \x00" * 18), "chip_id_number"),
        (b"\x20\x00" * 127, "chip_text_size"),
    ],
)
def test_bad_text_blocks_give_typed_errors(block, code):
    with pytest.raises(ChipTextError) as caught:
        parse_text(block)
    assert caught.value.code == code
    assert cards.resident().name not in str(caught.value)  # no personal data in the error text
    officer = chip_text_error(caught.value)  # what the station shows
    assert officer.code == code and officer.message.zh and officer.message.en
    assert officer.message != ChipDataError.message  # a specific message, not the generic one


def test_new_address_block():
    data = "内蒙古自治区呼和浩特市新城区演示街1号".ljust(35).encode("utf-16-le")
    later = "内蒙古自治区呼和浩特市新城区演示街2号".ljust(35).encode("utf-16-le")
    assert parse_new_address(data + later).endswith("2号")
    assert parse_new_address(b"") is None


def test_repr_has_no_personal_data():
    chip = cards.resident()
    assert chip.name not in repr(chip) and chip.id_number not in repr(chip)


def test_encoder_refuses_overlong_fields():
    chip = cards.resident().with_reader_data(name="长" * 16)
    with pytest.raises(ValueError):
        encode_text(chip)
