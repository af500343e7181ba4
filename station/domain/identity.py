"""Officer-facing wording for ID-number and registration-number checks.

The rules themselves live in ``sync.protocol`` (both ends of the wire share them); this module turns
their machine reasons into the plain Chinese/English an officer reads at the desk.
"""

from __future__ import annotations

from station.i18n import Text
from sync.protocol.idnumber import IdNumber, InvalidIdNumber
from sync.protocol.regno import InvalidRegistrationNumber

_ID_REASONS = {
    "length": Text("位数不对：身份证号应为 18 位。", "Wrong length: an ID number has 18 characters."),
    "characters": Text(
        "含非法字符：前 17 位须为数字，最后一位为数字或 X。", "Bad characters: 17 digits, then a digit or X."
    ),
    "date": Text(
        "出生日期不存在或不合理。", "The birth date inside the number is not a real or plausible date."
    ),
    "place": Text(
        "地址码不在历史行政区划代码表中。", "The place code is not in the historical division list."
    ),
    "check_digit": Text("校验码错误，请核对每一位。", "The check digit is wrong: check every digit."),
}

_KIND_NAMES = {
    "resident": Text("居民身份证号码", "resident ID number"),
    "foreign_2023": Text(
        "外国人永久居留身份证号码（2023 版）", "foreigner's permanent residence ID number (2023)"
    ),
    "hmt_permit": Text("港澳台居民居住证号码", "Hong Kong/Macao/Taiwan residence permit number"),
}

_REGNO_REASONS = {
    "format": Text("考籍号应为 11 位数字。", "A registration number is 11 digits."),
    "county": Text(
        "考籍号中的盟市/旗县代码不在现行旗县名单中。", "The league/county digits name no current county."
    ),
    "serial": Text("流水号不能为 00000。", "The serial cannot be 00000."),
    "year": Text("年度不在有效范围内。", "The year is out of range."),
}


def mask_id_number(number: str) -> str:
    """An ID number as printed for others to see: only its last four characters (rule 2.2)."""
    return "*" * max(0, len(number) - 4) + number[-4:]


def explain_invalid_id(error: InvalidIdNumber) -> Text:
    base = _ID_REASONS.get(error.code, Text("号码无效。", "Invalid number."))
    return Text(f"{base.zh}（{error.reason}）", f"{base.en} ({error.reason})")


def describe_id(number: IdNumber) -> Text:
    kind = _KIND_NAMES[number.kind]
    sex = Text("男", "male") if number.sex == "1" else Text("女", "female")
    return Text(
        f"有效的{kind.zh}：出生日期 {number.birth_date.isoformat()}，性别 {sex.zh}，地址码 {number.place_code}",
        f"valid {kind.en}: born {number.birth_date.isoformat()}, {sex.en}, place code {number.place_code}",
    )


def explain_invalid_regno(error: InvalidRegistrationNumber) -> Text:
    base = _REGNO_REASONS.get(error.code, Text("考籍号无效。", "Invalid registration number."))
    return Text(f"{base.zh}（{error.reason}）", f"{base.en} ({error.reason})")
