"""Registration numbers (考籍号): 11 digits = year (2) + league/city (2) + county (2) + serial (5).

Only the registry issues them (rule 1.5); both ends build, parse and check them here. The league and
county digits use the *current* division list (``codes.county``), unlike an ID number's place code.
The year digits are the entry year modulo 100 (2026 -> "26"); parsing reads them as 20YY.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.protocol import codes

SERIAL_MAX = 99_999


class InvalidRegistrationNumber(ValueError):
    """A registration number that is malformed or names no current county."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code  # "format" | "county" | "serial" | "year"
        self.reason = reason


@dataclass(frozen=True)
class RegistrationNumber:
    value: str
    year: int
    league_code: str
    county_code6: str
    serial: int
    league_name: str
    county_name: str


def build(year: int, county_code6: str, serial: int) -> str:
    """The number for ``serial`` in ``county_code6`` for entry ``year``; checks every part."""
    if not 2000 <= year <= 2099:
        raise InvalidRegistrationNumber("year", f"entry year {year} is outside 2000-2099")
    if codes.county(county_code6) is None:
        raise InvalidRegistrationNumber("county", f"{county_code6} is not a current registering county")
    if not 1 <= serial <= SERIAL_MAX:
        raise InvalidRegistrationNumber("serial", f"serial {serial} is outside 1-{SERIAL_MAX}")
    return f"{year % 100:02d}{county_code6[2:6]}{serial:05d}"


def parse(value: str) -> RegistrationNumber:
    """Split and check a registration number, raising InvalidRegistrationNumber with the reason."""
    number = value.strip()
    if len(number) != 11 or not number.isascii() or not number.isdigit():
        raise InvalidRegistrationNumber("format", f"a registration number is 11 digits, got {number!r}")
    league_code, county_code2, serial = number[2:4], number[4:6], int(number[6:11])
    county = codes.county("15" + league_code + county_code2)
    if county is None:
        raise InvalidRegistrationNumber(
            "county", f"league {league_code} county {county_code2} is not a current registering county"
        )
    if serial == 0:
        raise InvalidRegistrationNumber("serial", "serial 00000 is never issued")
    return RegistrationNumber(
        value=number,
        year=2000 + int(number[0:2]),
        league_code=league_code,
        county_code6=county.code6,
        serial=serial,
        league_name=county.league_name_zh,
        county_name=county.name_zh,
    )
