"""The chip-text parser at its edges: each refusal with its code and the field it names, padding with
spaces or NULs, fields a card type does not carry, the newest appended address, saved files."""

from __future__ import annotations

from dataclasses import replace

import pytest

from station.idcard.errors import ChipDataError
from station.idcard.saved import parse_saved
from sync.protocol import chiptext
from sync.protocol.chiptext import ChipTextError, encode_text, parse_new_address, parse_text
from tests.idcard import cards


def _refusal(block: bytes) -> tuple[str, str]:
    with pytest.raises(ChipTextError) as caught:
        parse_text(block)
    assert caught.value.reason
    return caught.value.code, caught.value.detail


def _with_field(block: bytes, name: str, value: str, card_type: str = "resident") -> bytes:
    offset, size = chiptext.LAYOUTS[card_type][name]
    raw = value.encode("utf-16-le").ljust(size, b"\x00")
    return block[:offset] + raw[:size] + block[offset + size :]


def test_each_refusal_names_its_code_and_field():
    block = cards.resident().raw_text
    assert _refusal(block[:255]) == ("chip_text_size", "255 bytes")
    assert _refusal(_with_field(block, "sex", "3")) == ("chip_sex", "sex")  # the field, never its value
    assert _refusal(_with_field(block, "birth_date", "2010013")) == ("chip_date", "birth_date")
    assert _refusal(_with_field(block, "birth_date", "2010013x")) == ("chip_date", "birth_date")
    assert _refusal(_with_field(block, "birth_date", "２０１００１０１")) == (
        "chip_date",
        "birth_date",
    )  # not ASCII
    assert _refusal(_with_field(block, "valid_from", "20100230")) == ("chip_date", "valid_from")
    assert _refusal(_with_field(block, "valid_until", "20301301")) == ("chip_date", "valid_until")
    assert _refusal(_with_field(block, "nation", "1")) == ("chip_nation", "nation")
    assert _refusal(_with_field(block, "id_number", "")) == ("chip_id_number", "id_number")
    assert _refusal(_with_field(block, "name", "a\x01b")) == ("chip_encoding", "name")
    lone_surrogate = block[:0] + b"\x00\xd8" + block[2:]
    assert _refusal(lone_surrogate) == ("chip_encoding", "name")


def test_fields_padded_with_spaces_or_nuls_read_the_same():
    chip = cards.resident()
    nul_padded = _with_field(chip.raw_text, "name", chip.name)
    nul_padded = _with_field(nul_padded, "address", chip.address)
    parsed = parse_text(nul_padded)
    assert (parsed.name, parsed.address) == (chip.name, chip.address)


def test_blank_optional_fields_read_as_none_and_card_types_keep_their_own_fields():
    resident = cards.resident()
    bare = replace(resident, nation=None, issuer=None, address=None)
    parsed = parse_text(encode_text(bare))
    assert (parsed.nation, parsed.issuer, parsed.address, parsed.name_en) == (None, None, "", None)
    assert parsed.extra == {}
    foreign = cards.foreign_2023()
    read = parse_text(foreign.raw_text)
    assert read.card_type == "foreign_2023" and read.address is None  # a foreigner's card has no address
    assert read.name_en == foreign.name_en and not read.name_en.endswith(" ")
    assert set(read.extra) <= {"nationality", "renewal_count", "previous_number_link"} and read.extra
    assert chiptext.card_type_of(foreign.raw_text) == "foreign_2023"
    assert (
        chiptext.card_type_of(resident.raw_text[:248] + b"\x00\xd8" + resident.raw_text[250:]) == "resident"
    )


def test_the_newest_appended_address_is_the_last_one_written():
    def entry(text: str) -> bytes:
        return text.encode("utf-16-le").ljust(70, b"\x00")

    first, second = "内蒙古呼和浩特市新城区一号", "内蒙古呼和浩特市新城区二号"
    assert parse_new_address(entry(first) + entry(second) + bytes(140)) == second
    assert parse_new_address(entry(first) + b"\x00") == first  # an odd trailing byte is ignored
    assert parse_new_address(bytes(280)) is None
    assert parse_new_address(b"") is None


def test_saved_files_and_their_refusals():
    chip = cards.resident()
    assert parse_saved(chip.raw_text).id_number == chip.id_number  # a bare text block
    with pytest.raises(ChipDataError) as caught:
        parse_saved(b"\xaa\xaa\xaa\x96\x69\x00")
    assert (caught.value.code, caught.value.detail) == ("not_card_data", "frame_truncated")
    frame_sized = b"\xaa\xaa\xaa\x96\x69" + bytes(251)  # 256 bytes that start like a frame: a frame
    with pytest.raises(ChipDataError) as framed:
        parse_saved(frame_sized)
    assert framed.value.code == "not_card_data"


def test_the_encoder_refuses_a_value_longer_than_its_field():
    with pytest.raises(ValueError, match=r"^value too long for a 30-byte field$"):
        encode_text(replace(cards.resident(), name="名" * 16))
    block = encode_text(replace(cards.resident(), name="名"))
    assert block[:30] == "名".encode("utf-16-le") + " ".encode("utf-16-le") * 14  # padded with spaces


def test_wording_of_a_refusal_and_fields_ending_in_x():
    with pytest.raises(ChipTextError) as caught:
        parse_text(bytes(10))
    assert (caught.value.reason, str(caught.value)) == ("wrong_size", "chip_text_size: wrong_size (10 bytes)")
    chip = cards.resident()
    with_x = replace(chip, id_number=chip.id_number[:17] + "X")
    assert parse_text(encode_text(with_x)).id_number.endswith("X")  # padding is stripped, an X is not


def test_a_foreign_card_with_a_short_english_name_and_no_extras():
    card = replace(cards.foreign_2023(), name_en="ZHANG SANX", extra={})
    read = parse_text(encode_text(card))
    assert read.name_en == "ZHANG SANX" and read.extra == {}
    nameless = parse_text(encode_text(replace(card, name_en=None)))
    assert nameless.name_en is None


def test_the_appended_address_block_names_itself_when_bad():
    good = "内蒙古呼和浩特市".encode("utf-16-le").ljust(70, b"\x00")
    with pytest.raises(ChipTextError) as caught:
        parse_new_address(good + "地址\x01".encode("utf-16-le").ljust(70, b"\x00"))
    assert caught.value.detail == "new_address"
    assert parse_new_address(good + good + b"\x00") == "内蒙古呼和浩特市"  # 141 bytes: the odd byte ignored


def test_a_foreign_english_name_padded_with_nuls():
    block = bytearray(encode_text(replace(cards.foreign_2023(), name_en="ZHANG SANX", extra={})))
    block[72:122] = bytes(50)  # the rest of the first English-name field ...
    block[220:242] = bytes(22)  # ... and the whole second one, padded with NULs as some cards are
    assert parse_text(bytes(block)).name_en == "ZHANG SANX"


@pytest.mark.parametrize("make", [cards.resident, cards.hmt_permit], ids=["resident", "hmt_permit"])
def test_the_encoder_writes_the_address_where_the_card_carries_one(make):
    chip = make()
    moved = replace(chip, address="内蒙古自治区呼和浩特市新城区某街道1号")
    offset, size = chiptext.LAYOUTS[chip.card_type]["address"]
    block = encode_text(moved)
    assert block[offset : offset + size].decode("utf-16-le").rstrip(" ") == moved.address
    assert parse_text(block).address == moved.address


def test_a_refusal_without_detail_says_only_its_code_and_reason():
    error = ChipTextError("chip_sex", "unknown_code")
    assert (str(error), error.detail) == ("chip_sex: unknown_code", "")
    assert str(ChipTextError("chip_sex", "unknown_code", "sex")) == "chip_sex: unknown_code (sex)"
