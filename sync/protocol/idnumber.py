"""ID numbers under GB 11643 and ISO 7064 MOD 11-2, for every document a student may present.

Three kinds of 18-character number share the check digit:

* ``resident``: the resident ID number: place code (6) + birth date (8) + sequence (3) + check;
* ``hmt_permit``: Hong Kong / Macao / Taiwan residence permits, the same layout with the place code
  810000 / 820000 / 830000;
* ``foreign_2023``: the foreigner's permanent residence ID number of 2023: ``9`` + province of approval
  (2) + nationality (3) + birth date (8) + sequence (3) + check.

The sex is the parity of the 17th character for all three (odd: male "1", even: female "2").

Input is normalised first (spaces and dashes dropped, full-width characters folded, a trailing ``x``
upper-cased), so an officer can paste what a form printed. Errors are typed with a machine ``code``
(length, characters, date, place, check_digit) and an English ``reason``; officer-facing wording lives
with the station.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from sync.protocol.codes import PROVINCE_CODES, historical_place_code_known

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
_HMT_PREFIXES = ("810000", "820000", "830000")
_EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdNumber(ValueError):
    """An ID number that cannot be right, with the first reason found."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class IdNumber:
    number: str
    kind: str  # "resident" | "foreign_2023" | "hmt_permit"
    place_code: str  # six digits; for foreign_2023: the province of approval + "0000"
    birth_date: date
    sex: str  # "1" male, "2" female (GB/T 2261.1)

    @property
    def masked(self) -> str:
        """The number with the personal middle hidden, for logs and lists: ``150102********123X``."""
        return self.number[:6] + "*" * 8 + self.number[14:]


def normalize(raw: str) -> str:
    """Fold full-width characters, drop spaces and dashes, upper-case a trailing x."""
    folded = unicodedata.normalize("NFKC", raw)
    compact = "".join(ch for ch in folded if not ch.isspace() and ch != "-")
    return compact.upper()


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise InvalidIdNumber("characters", "the first 17 characters must be digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate ``raw`` and return its parts, or raise InvalidIdNumber with the first reason."""
    number = normalize(raw)
    if len(number) != 18:
        raise InvalidIdNumber("length", f"an ID number has 18 characters, this one has {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber("characters", "only digits are allowed, and X only as the last character")

    kind = _kind_of(number)
    # All three kinds keep the birth date at characters 7-14.
    birth = _birth_date(number[6:14], today=today)
    place = _place_code(number, kind)

    expected = check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber("check_digit", f"the check character should be {expected}, not {number[17]}")
    sex = "1" if int(number[16]) % 2 else "2"
    return IdNumber(number=number, kind=kind, place_code=place, birth_date=birth, sex=sex)


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except InvalidIdNumber:
        return False
    return True


def make(place_code: str, birth_date: date, sequence: int, sex: str) -> str:
    """Build a valid number (for synthetic people): the sequence's last digit is set to match ``sex``."""
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0..999")
    order = sequence - sequence % 2 + (1 if sex == "1" else 0)
    if order > 999:
        order -= 2
    first17 = f"{place_code}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


def _kind_of(number: str) -> str:
    if number.startswith("9"):
        return "foreign_2023"
    if number.startswith(_HMT_PREFIXES):
        return "hmt_permit"
    return "resident"


def _birth_date(digits: str, *, today: date | None) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber(
            "date", f"{digits[0:4]}-{digits[4:6]}-{digits[6:8]} is not a calendar date"
        ) from None
    if born < _EARLIEST_BIRTH or born > (today or date.today()):
        raise InvalidIdNumber("date", f"birth date {born.isoformat()} is out of range")
    return born


def _place_code(number: str, kind: str) -> str:
    if kind == "foreign_2023":
        province = number[1:3]
        if province not in PROVINCE_CODES:
            raise InvalidIdNumber("place", f"{province} is not a province code")
        return province + "0000"
    code = number[:6]
    if not historical_place_code_known(code):
        raise InvalidIdNumber("place", f"{code} is not a place code in the historical division list")
    return code
