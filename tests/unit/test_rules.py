"""Desk rules: chip data against the pre-registration, card validity, the deadline, queue statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from station.domain import rules
from station.domain.students import Student, StudentStatus, desk_decision
from station.idcard.emulator import synthetic_chip
from sync.protocol import season, synthetic


@pytest.fixture
def person():
    return synthetic.people(1, "150121", seed=7)[0]


@pytest.fixture
def student(person):
    return Student.from_feed(
        {
            "student_id": "S1",
            "national_id": person.id_number,
            "name": person.name,
            "sex": person.sex,
            "nation": person.nation,
            "birth_date": person.birth_date.isoformat(),
            "political_status": "03",
            "school_code": "1501210001",
            "school_name": "土默特左旗第一中学",
            "class_no": "01",
            "teaching_language": "蒙古语",
            "student_category": "普通",
            "county_code6": "150121",
            "status": "approved",
            "version": 3,
        }
    )


@pytest.fixture
def card(person):
    """The card the simulated reader would read for this synthetic person (valid 2024-03-01 to 2029-03-01)."""
    return synthetic_chip(person)


def test_identical_data_has_no_difference(card, student):
    comparison = rules.compare(card, student)
    assert not comparison.differences and not comparison.blocks_capture


def test_name_normalisation_ignores_spaces_width_and_dot_variants(card, student):
    student = replace(student, name="巴特尔·敖其尔")
    for written in ("巴特尔•敖其尔", "巴特尔 ・ 敖其尔", "巴特尔．敖其尔", "巴特尔.敖其尔"):
        assert not rules.compare(replace(card, name=written), student).differences


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "王小明"), ("birth_date", date(2009, 1, 1)), ("sex", "9"), ("nation", "03")],
)
def test_each_blocking_difference_is_named(card, student, field, value):
    comparison = rules.compare(replace(card, **{field: value}), student)
    assert comparison.blocks_capture
    assert comparison.differing_fields == [field]
    message = comparison.differences[0].message
    assert "不一致" in message.zh and "differs" in message.en


def test_id_number_difference_blocks(card, student, person):
    other = synthetic.people(2, "150121", seed=8)[1].id_number
    comparison = rules.compare(replace(card, id_number=other), student)
    assert comparison.differing_fields == ["id_number"] and comparison.blocks_capture
    assert not rules.compare(replace(card, id_number=person.id_number.lower() + " "), student).differences


def test_rare_character_in_the_chip_only_warns(card, student):
    chip_name = student.name[:-1] + "\ue123"
    comparison = rules.compare(replace(card, name=chip_name), student)
    assert comparison.differing_fields == ["name"] and not comparison.blocks_capture
    assert "生僻字" in comparison.differences[0].message.zh


def test_foreign_cards_without_ethnic_group_skip_that_field(card, student):
    assert not rules.compare(replace(card, nation=None, card_type="foreign_2023"), student).differences


def test_card_validity(card):
    assert rules.card_validity(card, date(2026, 11, 28)).ok
    expired = rules.card_validity(replace(card, valid_until=date(2026, 11, 27)), date(2026, 11, 28))
    assert not expired.ok and expired.code == "CARD_EXPIRED" and "2026-11-27" in expired.message.zh
    assert rules.card_validity(replace(card, valid_until=date(2026, 11, 28)), date(2026, 11, 28)).ok
    assert rules.card_validity(replace(card, valid_until=None), date(2090, 1, 1)).ok  # 长期
    assert (
        rules.card_validity(replace(card, valid_from=date(2027, 1, 1)), date(2026, 11, 28)).code
        == "CARD_NOT_YET_VALID"
    )


def test_deadline_counts_capture_time_in_china_standard_time():
    last_minute = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 CST
    too_late = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 00:00 CST on 1 December
    assert rules.captured_in_time(last_minute, 2026)
    assert not rules.captured_in_time(too_late, 2026)
    with pytest.raises(ValueError):
        rules.captured_in_time(datetime(2026, 11, 30, 12, 0), 2026)


def test_the_open_entry_year_turns_over_the_day_after_the_deadline():
    assert season.open_entry_year(date(2026, 1, 1)) == 2026
    assert season.open_entry_year(date(2026, 11, 30)) == 2026  # the deadline day is still this season
    assert season.open_entry_year(date(2026, 12, 1)) == 2027
    assert season.open_entry_year(date(2026, 12, 31)) == 2027
    assert rules.deadline(2027) == date(2027, 11, 30)


def test_days_left():
    assert rules.days_left(date(2026, 11, 28), 2026) == 3
    assert rules.days_left(date(2026, 11, 30), 2026) == 1
    assert rules.days_left(date(2026, 12, 1), 2026) == 0
    assert "3" in rules.deadline_notice(date(2026, 11, 28), 2026).zh
    assert "截止日" in rules.deadline_notice(date(2026, 11, 30), 2026).zh
    assert "closed" in rules.deadline_notice(date(2026, 12, 2), 2026).en


@pytest.mark.parametrize(
    ("status", "may", "code"),
    [
        (StudentStatus.APPROVED, True, "OK"),
        (StudentStatus.CAPTURED, True, "RECAPTURE"),
        (StudentStatus.PENDING, False, "NOT_APPROVED"),
        (StudentStatus.CAPTURED_AT_ZHONGKAO, False, "CAPTURED_AT_ZHONGKAO"),
        (StudentStatus.REGISTERED, False, "ALREADY_REGISTERED"),
        (StudentStatus.WITHDRAWN, False, "WITHDRAWN"),
        (StudentStatus.TRANSFERRED, False, "TRANSFERRED"),
        (StudentStatus.SUSPENDED, False, "SUSPENDED"),
    ],
)
def test_desk_decision_per_status(student, status, may, code):
    decision = desk_decision(replace(student, status=status, reg_no="26012100042"), "150121")
    assert (decision.may_capture, decision.code) == (may, code)
    assert decision.message.zh and decision.message.en


def test_desk_decision_outside_the_queue_or_county(student):
    assert desk_decision(None, "150121").code == "NOT_IN_QUEUE"
    assert desk_decision(student, "150102").code == "OTHER_COUNTY"


def test_feed_round_trip(student):
    assert Student.from_feed(student.to_feed()) == student
