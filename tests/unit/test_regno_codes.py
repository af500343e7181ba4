"""Registration numbers and code tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.protocol import codes, regno

COUNTY_CODES = [d.code6 for d in codes.counties()]


def test_code_tables_have_their_provenance_and_sizes():
    assert len([d for d in codes.divisions() if d.county_code2 == "00"]) == 12
    assert len(codes.divisions()) == 115
    assert codes.ethnic_groups()["02"] == "蒙古族"
    assert len(codes.ethnic_groups()) == 58
    assert codes.sexes()["2"] == "女"
    assert codes.political_statuses()["03"] == "共青团员"
    assert codes.ethnic_code_for_name("蒙古") == "02" == codes.ethnic_code_for_name("蒙古族")
    assert codes.ethnic_code_for_name("火星族") is None


def test_league_seats_are_not_registering_counties():
    assert codes.county("150100") is None
    assert codes.county("150102").name_zh == "新城区"
    assert codes.league("01").name_zh == "呼和浩特市"
    assert all(d.county_code2 != "00" for d in codes.counties())


def test_registering_kinds_are_configurable():
    codes.set_registering_kinds(("旗",))
    try:
        assert codes.county("150102") is None  # 市辖区 excluded
        assert codes.county("150121") is not None
    finally:
        codes.set_registering_kinds(None)
    assert codes.county("150102") is not None


@settings(max_examples=200, deadline=None)
@given(year=st.integers(2000, 2099), county=st.sampled_from(COUNTY_CODES), serial=st.integers(1, 99_999))
def test_build_then_parse_round_trips(year, county, serial):
    value = regno.build(year, county, serial)
    assert len(value) == 11 and value.isdigit()
    parsed = regno.parse(value)
    assert (parsed.year, parsed.county_code6, parsed.serial) == (year, county, serial)
    assert parsed.league_code == county[2:4]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2601020004", "format"),
        ("260102000421", "format"),
        ("26O10200042", "format"),
        ("２６010200042", "format"),
        ("26990100042", "county"),
        ("26010000042", "county"),
        ("26010200000", "serial"),
    ],
)
def test_parse_refuses(value, code):
    with pytest.raises(regno.InvalidRegistrationNumber) as caught:
        regno.parse(value)
    assert caught.value.code == code


def test_build_refuses_bad_parts():
    with pytest.raises(regno.InvalidRegistrationNumber):
        regno.build(2026, "150100", 1)
    with pytest.raises(regno.InvalidRegistrationNumber):
        regno.build(2026, "150102", 100_000)
    with pytest.raises(regno.InvalidRegistrationNumber):
        regno.build(1999, "150102", 1)
