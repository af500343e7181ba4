"""``station id check`` and ``station regno parse`` from the command line."""

from __future__ import annotations

from datetime import date

from sync.protocol import idnumber


def test_version(station):
    result = station("--version")
    assert result.code == 0 and result.out.startswith("station ")


def test_id_check_all_valid_exits_zero(station):
    numbers = [idnumber.make("150102", date(2010, 3, 4), n, "2") for n in (10, 20)]
    result = station("id", "check", *numbers)
    assert result.code == 0
    assert result.out.count("✔") == 2 and "2010-03-04" in result.out


def test_id_check_reports_each_reason_and_exits_one(station):
    good = idnumber.make("150102", date(2010, 3, 4), 10, "2")
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    result = station("id", "check", good, bad_check, "12345", "150102201002301234", "--json")
    assert result.code == 1
    rows = result.json()
    assert [r["valid"] for r in rows] == [True, False, False, False]
    assert [r.get("code") for r in rows[1:]] == ["check_digit", "length", "date"]
    assert "校验码" in rows[1]["reason"] and "check digit" in rows[1]["reason_en"]
    assert rows[0]["kind"] == "resident" and rows[0]["sex"] == "2"


def test_id_check_accepts_what_officers_paste(station):
    good = idnumber.make("150102", date(2010, 3, 4), 11, "1")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in good)
    assert station("id", "check", full_width).code == 0


def test_regno_parse_text_and_json(station):
    result = station("regno", "parse", "26012100042", "--json")
    assert result.code == 0
    (row,) = result.json()
    assert row == {
        "input": "26012100042",
        "valid": True,
        "year": 2026,
        "league_code": "01",
        "league_name": "呼和浩特市",
        "county_code": "21",
        "county_code6": "150121",
        "county_name": "土默特左旗",
        "serial": 42,
    }
    english = station("--lang", "en", "regno", "parse", "26012100042")
    assert english.code == 0 and "Tumed" not in english.out and "00042" in english.out


def test_regno_parse_errors_are_clear(station):
    result = station("regno", "parse", "2601210004", "26990100001")
    assert result.code == 1
    assert "11 位" in result.out and "旗县" in result.out


def test_no_subcommand_prints_help_and_exits_two(station):
    result = station()
    assert result.code == 2 and "usage" in result.out.lower()
