"""Synthetic cards of every type for the tests (people from ``sync.protocol.synthetic``)."""

from __future__ import annotations

from datetime import date

from station.idcard.emulator import synthetic_chips, synthetic_wlt
from sync.protocol import idnumber, synthetic
from sync.protocol.card import ChipData
from sync.protocol.chiptext import encode_text


def _finish(chip: ChipData) -> ChipData:
    return chip.with_reader_data(raw_text=encode_text(chip), raw_wlt=synthetic_wlt(chip.id_number))


def resident(index: int = 0, long_term: bool = False) -> ChipData:
    chip = synthetic_chips(index + 1)[index]
    if long_term:
        chip = chip.with_reader_data(valid_until=None)
    return _finish(chip)


def _person(index: int = 0) -> synthetic.SyntheticPerson:
    return synthetic.people(index + 1, "150102", seed=11)[index]


def foreign_2017(index: int = 0) -> ChipData:
    person = _person(index)
    return _finish(
        ChipData(
            card_type="foreign_2017", name=person.name, name_en=f"{person.name_pinyin}, TEST PERSON", sex=person.sex,
            nation=None, birth_date=person.birth_date, address=None, id_number="USA150110000017", issuer="1500",
            valid_from=date(2020, 5, 1), valid_until=date(2030, 5, 1), raw_text=b"",
            extra={"nationality": "USA", "card_version": "02"},
        )
    )  # fmt: skip


def foreign_2023(index: int = 0) -> ChipData:
    person = _person(index)
    first17 = "93315010" + person.birth_date.strftime("%y%m%d") + "001"  # 9 + codes + birth + sequence
    number = first17 + idnumber.check_digit(first17)
    long_name = "ALEXANDRA MARGARETHE KONSTANTINOPOULOU-SCHMIDT"  # 46 characters: spans both name fields
    assert len(long_name) == 46
    return _finish(
        ChipData(
            card_type="foreign_2023", name=person.name, name_en=long_name, sex=person.sex, nation=None,
            birth_date=person.birth_date, address=None, id_number=number, issuer=None,
            valid_from=date(2023, 12, 1), valid_until=date(2033, 12, 1), raw_text=b"",
            extra={"nationality": "CAN", "renewal_count": "00", "previous_number_link": "CAN"},
        )
    )  # fmt: skip


def hmt_permit(index: int = 0) -> ChipData:
    person = _person(index)
    number = idnumber.make("810000", person.birth_date, 17, person.sex)
    return _finish(
        ChipData(
            card_type="hmt_permit", name=person.name, name_en=None, sex=person.sex, nation=None,
            birth_date=person.birth_date, address=person.address, id_number=number, issuer=person.issuer,
            valid_from=date(2022, 1, 10), valid_until=date(2027, 1, 10), raw_text=b"",
            extra={"pass_number": "H12345678", "issue_count": "01"},
        )
    )  # fmt: skip


def all_types() -> list[ChipData]:
    return [resident(0), resident(1, long_term=True), foreign_2017(), foreign_2023(), hmt_permit()]
