"""ID and registration numbers at their edges: each refusal names its reason (the code the desk words
and the detail ``station id check`` prints), the bounds of every range, what ``make`` builds."""

from __future__ import annotations

from datetime import date

import pytest

from station.domain import identity
from sync.protocol import idnumber, regno
from sync.protocol.idnumber import InvalidIdNumber
from sync.protocol.regno import InvalidRegistrationNumber

GOOD = idnumber.make("150102", date(2010, 3, 4), 122, "2")  # 150102 20100304 122 + check


def _refusal(number: str, **kwargs) -> tuple[str, str]:
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(number, **kwargs)
    assert str(caught.value) == caught.value.reason  # the exception reads as its reason
    return caught.value.code, caught.value.reason


def test_each_id_refusal_names_its_reason():
    assert _refusal(GOOD[:17]) == ("length", "an ID number has 18 characters, this one has 17")
    assert _refusal(GOOD[:10] + "X" + GOOD[11:]) == (
        "characters", "only digits are allowed, and X only as the last character",
    )  # fmt: skip
    assert _refusal("150102" + "20100230" + "1220") == ("date", "2010-02-30 is not a calendar date")
    assert _refusal(idnumber.make("150102", date(1899, 12, 31), 1, "1")) == (
        "date", "birth date 1899-12-31 is out of range",
    )  # fmt: skip
    future = idnumber.make("150102", date(2030, 1, 2), 1, "1")
    assert _refusal(future, today=date(2030, 1, 1)) == ("date", "birth date 2030-01-02 is out of range")
    wrong = "1" if GOOD[17] != "1" else "2"
    assert _refusal(GOOD[:17] + wrong) == (
        "check_digit", f"the check character should be {GOOD[17]}, not {wrong}",
    )  # fmt: skip
    unknown_place = idnumber.make("159999", date(2010, 3, 4), 1, "1")
    assert _refusal(unknown_place) == (
        "place", "159999 is not a place code in the historical division list",
    )  # fmt: skip
    foreign = idnumber.make("999999", date(2010, 3, 4), 1, "1")  # 9 + province 99: no such province
    assert _refusal(foreign) == ("place", "99 is not a province code")


def test_birth_date_bounds_are_inclusive():
    first = idnumber.make("150102", date(1900, 1, 1), 1, "1")
    assert idnumber.parse(first).birth_date == date(1900, 1, 1)
    today = idnumber.make("150102", date(2030, 1, 1), 1, "1")
    assert idnumber.parse(today, today=date(2030, 1, 1)).birth_date == date(2030, 1, 1)


def test_parse_reads_every_part():
    parsed = idnumber.parse(GOOD)
    assert (parsed.number, parsed.kind, parsed.place_code, parsed.birth_date, parsed.sex) == (
        GOOD, "resident", "150102", date(2010, 3, 4), "2",
    )  # fmt: skip
    assert parsed.masked == "150102********" + GOOD[14:]


def test_check_digit_refuses_anything_but_17_digits():
    for bad in ("1" * 16, "1" * 18, "1" * 16 + "X"):
        with pytest.raises(InvalidIdNumber) as caught:
            idnumber.check_digit(bad)
        assert (caught.value.code, caught.value.reason) == (
            "characters", "the first 17 characters must be digits",
        )  # fmt: skip
    assert idnumber.check_digit("11010519491231002") == "X"  # the standard's worked example


@pytest.mark.parametrize(("sequence", "sex", "order"), [(0, "1", "001"), (0, "2", "000"), (998, "1", "999"),
                                                        (999, "2", "998"), (999, "1", "999"), (121, "2", "120")])  # fmt: skip
def test_make_sets_the_sex_digit_within_the_sequence(sequence, sex, order):
    number = idnumber.make("150102", date(2010, 3, 4), sequence, sex)
    assert number[14:17] == order and idnumber.parse(number).sex == sex


@pytest.mark.parametrize("sequence", [-1, 1000])
def test_make_refuses_a_sequence_out_of_range(sequence):
    with pytest.raises(ValueError, match=r"^sequence must be 0\.\.999$"):
        idnumber.make("150102", date(2010, 3, 4), sequence, "1")


def _regno_refusal(call) -> tuple[str, str]:
    with pytest.raises(InvalidRegistrationNumber) as caught:
        call()
    assert str(caught.value) == caught.value.reason
    return caught.value.code, caught.value.reason


def test_registration_number_build_bounds_and_reasons():
    assert regno.build(2000, "150102", 1) == "00010200001"
    assert regno.build(2099, "150102", regno.SERIAL_MAX) == "99010299999"
    assert _regno_refusal(lambda: regno.build(1999, "150102", 1)) == (
        "year",
        "entry year 1999 is outside 2000-2099",
    )
    assert _regno_refusal(lambda: regno.build(2100, "150102", 1)) == (
        "year",
        "entry year 2100 is outside 2000-2099",
    )
    assert _regno_refusal(lambda: regno.build(2026, "159999", 1)) == (
        "county", "159999 is not a current registering county",
    )  # fmt: skip
    assert _regno_refusal(lambda: regno.build(2026, "150102", 0)) == ("serial", "serial 0 is outside 1-99999")
    assert _regno_refusal(lambda: regno.build(2026, "150102", 100_000)) == (
        "serial", "serial 100000 is outside 1-99999",
    )  # fmt: skip


def test_registration_number_parse_reads_every_part():
    parsed = regno.parse(" 26010299999 ")
    assert parsed == regno.RegistrationNumber(
        value="26010299999", year=2026, league_code="01", county_code6="150102", serial=99_999,
        league_name=parsed.league_name, county_name=parsed.county_name,
    )  # fmt: skip
    assert parsed.league_name == "呼和浩特市" and parsed.county_name == "新城区"
    assert _regno_refusal(lambda: regno.parse("2601020000")) == (
        "format", "a registration number is 11 digits, got '2601020000'",
    )  # fmt: skip
    assert _regno_refusal(lambda: regno.parse("26999900001")) == (
        "county", "league 99 county 99 is not a current registering county",
    )  # fmt: skip
    assert _regno_refusal(lambda: regno.parse("26010200000")) == ("serial", "serial 00000 is never issued")


def test_officer_wording_of_numbers_carries_the_reason():
    parsed = idnumber.parse(GOOD)
    described = identity.describe_id(parsed)
    assert "2010-03-04" in described.zh and "女" in described.zh and "150102" in described.zh
    assert described.en == "valid resident ID number: born 2010-03-04, female, place code 150102"
    male = idnumber.parse(idnumber.make("150102", date(2010, 3, 4), 1, "1"))
    assert "male" in identity.describe_id(male).en and "男" in identity.describe_id(male).zh
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(GOOD[:17])
    explained = identity.explain_invalid_id(caught.value)
    assert explained.en.endswith("(an ID number has 18 characters, this one has 17)")
    assert "18" in explained.zh
    with pytest.raises(InvalidRegistrationNumber) as bad:
        regno.parse("26010200000")
    assert identity.explain_invalid_regno(bad.value).en.endswith("(serial 00000 is never issued)")
