"""The desk's rules: chip data against the pre-registration, the card's validity, the deadline.

Comparison (rule 1.4(3): "a mismatch blocks the capture and tells the officer what differs"):

====================  ===========  ==============================================================
field                 on mismatch  how the two sides are normalised before comparing
====================  ===========  ==============================================================
ID number             block        ``idnumber.normalize`` (spaces, full width, x -> X)
name                  block        NFKC, whitespace removed, every middle-dot variant -> "·"
                      warn         when the names differ only where the chip has a private-use
                                   character (a rare character the chip encodes outside GB 18030's
                                   common set): the officer compares by eye and confirms
birth date            block        calendar dates
sex                   block        GB/T 2261.1 codes
ethnic group          block        GB/T 3304 codes; skipped for cards that carry none (foreigners)
card validity         block        expired before the capture day, or not yet valid
====================  ===========  ==============================================================

Address, issuer and the English name are shown but never compared: the hukou address on the card is
not the mailing address of the pre-registration.

Deadline (rule 7.1): registration must be complete by 30 November of the entry year. Registration
completes at capture (rule 1.4(3)), so *capture time* counts, in China Standard Time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Protocol

from station.domain.students import Student
from station.i18n import Text
from sync.protocol import codes, idnumber
from sync.protocol.names import differ_only_in_rare_characters, normalize_name
from sync.protocol.season import deadline

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


class ChipIdentity(Protocol):
    """What the comparison reads from a parsed card (station.idcard's card data has these attributes)."""

    card_type: str
    name: str
    sex: str
    nation: str | None
    birth_date: date
    id_number: str
    valid_from: date | None
    valid_until: date | None  # None: long-term validity (长期)


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Difference:
    field: str
    severity: Severity
    chip_value: str
    queue_value: str
    message: Text


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def blocks_capture(self) -> bool:
        return any(d.severity is Severity.BLOCK for d in self.differences)

    @property
    def differing_fields(self) -> list[str]:
        return [d.field for d in self.differences]

    def as_dict(self) -> dict:
        """The comparison as stored with the record (values masked: the record holds the data itself)."""
        return {
            "blocks_capture": self.blocks_capture,
            "differences": [
                {"field": d.field, "severity": str(d.severity), "message": d.message.as_dict()}
                for d in self.differences
            ],
        }


_FIELD_LABELS = {
    "id_number": Text("身份证号", "ID number"),
    "name": Text("姓名", "name"),
    "birth_date": Text("出生日期", "birth date"),
    "sex": Text("性别", "sex"),
    "nation": Text("民族", "ethnic group"),
}


def _difference(
    name: str, chip_value: str, queue_value: str, severity: Severity = Severity.BLOCK
) -> Difference:
    label = _FIELD_LABELS[name]
    message = Text(
        "{label}不一致：身份证为“{chip}”，预注册为“{queue}”。请学生通过班主任更正预注册信息后再来采集。",
        "{label} differs: the card says “{chip}”, the pre-registration “{queue}”. "
        "The student must have the pre-registration corrected first.",
    )
    if severity is Severity.WARN:
        message = Text(
            "{label}含生僻字，身份证为“{chip}”，预注册为“{queue}”。请核对证件后确认。",
            "{label} has a rare character: card “{chip}”, pre-registration “{queue}”. Compare and confirm.",
        )
    rendered = Text(
        message.zh.format(label=label.zh, chip=chip_value, queue=queue_value),
        message.en.format(label=label.en, chip=chip_value, queue=queue_value),
    )
    return Difference(name, severity, chip_value, queue_value, rendered)


def compare(chip: ChipIdentity, student: Student) -> Comparison:
    """Compare the card's chip data with the approved pre-registration."""
    found: list[Difference] = []
    chip_id, queue_id = idnumber.normalize(chip.id_number), idnumber.normalize(student.national_id)
    if chip_id != queue_id:
        found.append(_difference("id_number", chip_id, queue_id))
    chip_name, queue_name = normalize_name(chip.name), normalize_name(student.name)
    if chip_name != queue_name:
        rare = differ_only_in_rare_characters(chip_name, queue_name)
        found.append(_difference("name", chip_name, queue_name, Severity.WARN if rare else Severity.BLOCK))
    if chip.birth_date != student.birth_date:
        found.append(_difference("birth_date", chip.birth_date.isoformat(), student.birth_date.isoformat()))
    if chip.sex != student.sex:
        sexes = codes.sexes()
        found.append(_difference("sex", sexes.get(chip.sex, chip.sex), sexes.get(student.sex, student.sex)))
    if chip.nation is not None and student.nation is not None and chip.nation != student.nation:
        groups = codes.ethnic_groups()
        found.append(
            _difference(
                "nation", groups.get(chip.nation, chip.nation), groups.get(student.nation, student.nation)
            )
        )
    return Comparison(tuple(found))


@dataclass(frozen=True)
class CardValidity:
    ok: bool
    code: str
    message: Text


def card_validity(chip: ChipIdentity, on: date) -> CardValidity:
    """Whether the card is valid on the capture day ``on`` (long-term cards never expire)."""
    if chip.valid_from is not None and chip.valid_from > on:
        return CardValidity(
            False,
            "CARD_NOT_YET_VALID",
            Text("身份证有效期自 {d} 起，尚未生效。", "The card is valid only from {d}.").format(
                d=chip.valid_from
            ),
        )
    if chip.valid_until is not None and chip.valid_until < on:
        return CardValidity(
            False,
            "CARD_EXPIRED",
            Text(
                "身份证已于 {d} 过期，请学生换领新证或持临时身份证再来。",
                "The card expired on {d}; the student needs a renewed or temporary card.",
            ).format(d=chip.valid_until),
        )
    return CardValidity(True, "OK", Text("证件在有效期内。", "The card is valid."))


def capture_day(captured_at: datetime) -> date:
    """The calendar day of a capture in China Standard Time (an aware datetime is required)."""
    if captured_at.tzinfo is None:
        raise ValueError("capture times must be timezone-aware")
    return captured_at.astimezone(CHINA_STANDARD_TIME).date()


def captured_in_time(captured_at: datetime, entry_year: int) -> bool:
    """Capture time counts: a capture on 30 November 23:59 CST is in time even if it syncs later."""
    return capture_day(captured_at) <= deadline(entry_year)


def today_in_china() -> date:
    """Today's date in China Standard Time, whatever the machine's time zone."""
    return datetime.now(UTC).astimezone(CHINA_STANDARD_TIME).date()


def days_left(today: date, entry_year: int) -> int:
    """Days left including today: 1 on 30 November itself, 0 or less once the deadline has passed."""
    return (deadline(entry_year) - today).days + 1


def deadline_notice(today: date, entry_year: int) -> Text:
    left = days_left(today, entry_year)
    if left <= 0:
        return Text(
            "{y} 年考籍注册已于 11 月 30 日截止。", "Registration for {y} closed on 30 November."
        ).format(y=entry_year)
    if left == 1:
        return Text("今天是注册截止日（11 月 30 日）。", "Today is the registration deadline (30 November).")
    return Text(
        "距注册截止（11 月 30 日）还有 {n} 天。", "{n} days left until the deadline (30 November)."
    ).format(n=left)
