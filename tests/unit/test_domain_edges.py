"""The desk's domain rules at their edges: what a difference carries and shows, card validity on its
first and last day, the deadline notice on each side of the day, the feed's own field names and
defaults, desk decisions in full, and the capture record's wire form field by field."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from station.domain import rules
from station.domain.records import CaptureRecord, ChipEvidence, jpeg_dimensions
from station.domain.students import Student, StudentStatus, desk_decision
from station.idcard.emulator import synthetic_chip
from sync.protocol import synthetic

FEED = {
    "student_id": "S1",
    "national_id": "150102201003041222",
    "name": "乌云",
    "sex": "2",
    "nation": "02",
    "birth_date": "2010-03-04",
    "political_status": "03",
    "school_code": "1501020001",
    "school_name": "呼和浩特市第一中学",
    "class_no": "05",
    "teaching_language": "蒙古语",
    "student_category": "借读",
    "county_code6": "150102",
    "status": "captured",
    "version": 7,
    "reg_no": "26010200042",
}


def test_feed_fields_map_one_to_one():
    student = Student.from_feed(FEED)
    assert student.to_feed() == FEED  # every field under its own wire name, nothing renamed or lost
    assert (student.status, student.version, student.birth_date) == (
        StudentStatus.CAPTURED,
        7,
        date(2010, 3, 4),
    )


def test_feed_defaults_for_fields_the_feed_may_leave_out():
    required = {k: FEED[k] for k in ("student_id", "national_id", "name", "sex", "birth_date", "school_code",
                                      "school_name", "class_no", "county_code6")}  # fmt: skip
    student = Student.from_feed({**required, "student_id": 42})
    assert student.student_id == "42"
    assert (student.nation, student.political_status, str(student.teaching_language)) == (None, "13", "汉语")
    assert (str(student.student_category), student.status, student.version, student.reg_no) == (
        "普通", StudentStatus.APPROVED, 1, None,
    )  # fmt: skip
    assert student.nation_name == "—" and student.sex_name == "女"


def test_desk_decisions_in_full():
    student = Student.from_feed({**FEED, "status": "approved", "reg_no": None})
    ok = desk_decision(student, "150102")
    assert (ok.may_capture, ok.code, ok.is_recapture) == (True, "OK", False)
    again = desk_decision(replace(student, status=StudentStatus.CAPTURED), "150102")
    assert (again.may_capture, again.code, again.is_recapture) == (True, "RECAPTURE", True)
    other = desk_decision(student, "150103")
    assert (other.may_capture, other.is_recapture) == (False, False) and "150102" in other.message.zh
    assert "150102" in other.message.en
    missing = desk_decision(None, "150102")
    assert (missing.may_capture, missing.code, missing.is_recapture) == (False, "NOT_IN_QUEUE", False)
    done = desk_decision(replace(student, status=StudentStatus.REGISTERED, reg_no="26010200042"), "150102")
    assert done.may_capture is False and "26010200042" in done.message.zh and "26010200042" in done.message.en
    unnumbered = desk_decision(replace(student, status=StudentStatus.REGISTERED), "150102")
    assert "—" in unnumbered.message.zh and "None" not in unnumbered.message.en


@pytest.fixture
def pair():
    person = synthetic.people(1, "150121", seed=7)[0]
    student = Student.from_feed(
        {**FEED, "national_id": person.id_number, "name": person.name, "sex": person.sex, "nation": person.nation,
         "birth_date": person.birth_date.isoformat(), "county_code6": "150121", "status": "approved"}
    )  # fmt: skip
    return synthetic_chip(person), student


def test_a_difference_carries_both_values_and_shows_them(pair):
    card, student = pair
    other_sex = "1" if student.sex == "2" else "2"
    comparison = rules.compare(replace(card, sex=other_sex, birth_date=date(2009, 1, 1)), student)
    birth, sex = comparison.differences
    assert (birth.field, birth.severity, birth.chip_value, birth.queue_value) == (
        "birth_date", rules.Severity.BLOCK, "2009-01-01", student.birth_date.isoformat(),
    )  # fmt: skip
    names = {"1": "男", "2": "女"}
    assert (sex.chip_value, sex.queue_value) == (names[other_sex], names[student.sex])
    for difference in (birth, sex):
        for text in (difference.message.zh, difference.message.en):
            assert difference.chip_value in text and difference.queue_value in text
    assert "出生日期" in birth.message.zh and "birth date" in birth.message.en
    assert comparison.as_dict() == {
        "blocks_capture": True,
        "differences": [
            {"field": "birth_date", "severity": "block", "message": birth.message.as_dict()},
            {"field": "sex", "severity": "block", "message": sex.message.as_dict()},
        ],
    }


def test_name_and_id_differences_carry_normalised_values(pair):
    card, student = pair
    comparison = rules.compare(
        replace(card, name="王 小明", id_number=student.national_id[:-1] + "x"), student
    )
    by_field = {d.field: d for d in comparison.differences}
    assert by_field["name"].chip_value == "王小明" and by_field["name"].queue_value == student.name
    if student.national_id[-1] != "X":
        assert by_field["id_number"].chip_value == student.national_id[:-1] + "X"
    nation = rules.compare(replace(card, nation="03"), student).differences[0]
    assert nation.chip_value == "回族" and nation.queue_value != nation.chip_value
    assert rules.compare(replace(card, nation="03"), replace(student, nation=None)).differences == ()


def test_names_differing_in_length_or_in_ordinary_characters_block(pair):
    card, student = pair
    longer = rules.compare(replace(card, name=student.name + "\ue123"), student)
    assert longer.blocks_capture  # a rare character never explains a different length
    mixed = rules.compare(replace(card, name="\ue123" + "某" + student.name[2:]), student)
    assert mixed.blocks_capture  # one ordinary character differs as well
    assert rules.normalize_name(" 巴特尔 ・敖其尔 ") == "巴特尔·敖其尔"
    assert rules.normalize_name("ＡＢ") == "AB"


def test_card_validity_on_its_first_and_last_day(pair):
    card, _ = pair
    first = replace(card, valid_from=date(2026, 11, 28))
    assert rules.card_validity(first, date(2026, 11, 28)).ok is True
    early = rules.card_validity(first, date(2026, 11, 27))
    assert (early.ok, early.code) == (False, "CARD_NOT_YET_VALID") and "2026-11-28" in early.message.en
    expired = rules.card_validity(replace(card, valid_until=date(2026, 11, 27)), date(2026, 11, 28))
    assert (expired.ok, expired.code) == (False, "CARD_EXPIRED")
    assert rules.card_validity(replace(card, valid_from=None), date(2026, 11, 28)).code == "OK"


def test_the_deadline_day_in_china_standard_time():
    assert rules.deadline(2026) == date(2026, 11, 30)
    assert rules.capture_day(datetime(2026, 11, 30, 15, 59, 59, 999_999, tzinfo=UTC)) == date(2026, 11, 30)
    assert rules.capture_day(datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == date(2026, 12, 1)
    assert rules.captured_in_time(datetime(2026, 11, 30, 15, 59, 59, 999_999, tzinfo=UTC), 2026)
    assert not rules.captured_in_time(datetime(2026, 12, 1, 0, 0, tzinfo=timezone(timedelta(hours=8))), 2026)
    with pytest.raises(ValueError, match=r"^capture times must be timezone-aware$"):
        rules.capture_day(datetime(2026, 11, 30, 12, 0))
    today = rules.today_in_china()
    assert today == datetime.now(timezone(timedelta(hours=8))).date() or today == date.today()


CLOSED = ("2026 年考籍注册已于 11 月 30 日截止。", "Registration for 2026 closed on 30 November.")


@pytest.mark.parametrize(
    ("today", "left", "notice"),
    [
        (
            date(2026, 11, 29),
            2,
            ("距注册截止（11 月 30 日）还有 2 天。", "2 days left until the deadline (30 November)."),
        ),
        (
            date(2026, 11, 30),
            1,
            ("今天是注册截止日（11 月 30 日）。", "Today is the registration deadline (30 November)."),
        ),
        (date(2026, 12, 1), 0, CLOSED),
        (date(2026, 12, 2), -1, CLOSED),
    ],
)
def test_deadline_notice_on_each_side_of_the_day(today, left, notice):
    assert rules.days_left(today, 2026) == left
    shown = rules.deadline_notice(today, 2026)
    assert (shown.zh, shown.en) == notice


def _jpeg(width: int = 48, height: int = 64, *, progressive: bool = False) -> bytes:
    import cv2
    import numpy as np

    flags = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else []
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 99, np.uint8), flags)
    assert ok
    return data.tobytes()


def test_jpeg_dimensions_of_real_encoder_output():
    assert jpeg_dimensions(_jpeg(48, 64)) == (48, 64)
    assert jpeg_dimensions(_jpeg(40000, 8)) == (40000, 8)  # above 32767: read unsigned
    assert jpeg_dimensions(_jpeg(33, 17, progressive=True)) == (33, 17)


def _record(**overrides):
    values = dict(
        record_id="0190f3c2-0000-7000-8000-0000000000aa",
        student_id="S1",
        national_id="150102201003041222",
        station_id="ST-01",
        county_code6="150102",
        operator="op1",
        captured_at=datetime(2026, 11, 28, 11, 0, tzinfo=timezone(timedelta(hours=8))),
        chip=ChipEvidence(text=bytes(256), wlt=b"\x01" * 1024, parsed={"name": "乌云"}),
        photo_jpeg=_jpeg(),
        photo_profile="moe-480",
        quality={"ok": True},
        comparison={"blocks_capture": False},
    )
    values.update(overrides)
    return CaptureRecord.new(**values)


def test_the_wire_record_field_by_field():
    photo = _jpeg()
    full = _record(
        chip=ChipEvidence(text=bytes(256), wlt=b"\x01" * 1024, fingerprint=b"\x02" * 4, chip_serial="0A0B",
                          sam_id="05.01-1", card_type="hmt_permit", parsed={"name": "乌云"}),
        supersedes="0190f3c2-0000-7000-8000-0000000000a9",
        officer_note="眼镜",
    )  # fmt: skip
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    assert full.payload() == {
        "record_id": "0190f3c2-0000-7000-8000-0000000000aa",
        "student_id": "S1",
        "county": "150102",
        "captured_at": "2026-11-28T03:00:00+00:00",
        "operator_id": "op1",
        "photo": {"sha256": full.photo_sha256, "bytes": len(photo), "content_type": "image/jpeg", "w": 48, "h": 64},
        "chip": {"text_b64": b64(bytes(256)), "photo_b64": b64(b"\x01" * 1024), "card_uid": "0A0B",
                 "parsed": {"national_id": "150102201003041222", "name": "乌云"}},
        "meta": {"station_id": "ST-01", "photo_profile": "moe-480", "card_type": "hmt_permit",
                 "quality": {"ok": True}, "comparison": {"blocks_capture": False}, "sam_id": "05.01-1",
                 "fingerprint_b64": b64(b"\x02" * 4), "officer_note": "眼镜"},
        "supersedes": "0190f3c2-0000-7000-8000-0000000000a9",
    }  # fmt: skip
    bare = _record().payload()
    assert "card_uid" not in bare["chip"] and "supersedes" not in bare
    assert set(bare["meta"]) == {"station_id", "photo_profile", "card_type", "quality", "comparison"}
    assert bare["meta"]["card_type"] == "resident"
    assert full.short_id == "000000AA"


def test_a_new_record_freezes_what_it_was_given():
    parsed = {"name": "乌云"}
    quality = {"ok": True}
    record = _record(chip=ChipEvidence(text=bytes(256), wlt=bytes(1024), parsed=parsed), quality=quality)
    parsed["name"], quality["ok"] = "别人", False  # the caller's dicts change later
    assert record.chip.parsed["name"] == "乌云" and record.quality["ok"] is True
    with pytest.raises(TypeError):
        record.chip.parsed["name"] = "x"
    assert dict(_record(quality=None).quality) == {} and dict(_record(comparison=None).comparison) == {}
    with pytest.raises(ValueError, match=r"^captured_at must be timezone-aware$"):
        _record(captured_at=datetime(2026, 11, 28, 3, 0))
    fresh = CaptureRecord.new(
        **{k: v for k, v in _record().__dict__.items() if k not in ("record_id", "captured_at")}
    )
    assert fresh.record_id != _record().record_id and fresh.captured_at.tzinfo is not None


def test_the_wire_capture_time_is_utc_whatever_the_machine_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert _record().payload()["captured_at"] == "2026-11-28T03:00:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_today_in_china_whatever_the_machine_zone(monkeypatch):
    import time

    for zone in ("Etc/GMT+12", "Etc/GMT-14"):  # 20 h behind and 6 h ahead of Beijing
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            expected = datetime.now(timezone(timedelta(hours=8))).date()
            assert rules.today_in_china() == expected, zone
        finally:
            monkeypatch.undo()
            time.tzset()


def test_differences_show_unknown_codes_as_they_are_and_read_in_full(pair):
    card, student = pair
    odd = rules.compare(replace(card, sex="7", nation="99"), replace(student, sex="8", nation="96"))
    sex, nation = odd.differences
    assert (sex.chip_value, sex.queue_value, nation.chip_value, nation.queue_value) == ("7", "8", "99", "96")
    known = rules.compare(
        replace(card, sex="1", nation="03"), replace(student, sex="2", nation="02")
    ).differences
    assert [(d.chip_value, d.queue_value) for d in known] == [("男", "女"), ("回族", "蒙古族")]
    assert known[0].message.en == (
        "sex differs: the card says “男”, the pre-registration “女”. "
        "The student must have the pre-registration corrected first."
    )
    other = rules.compare(replace(card, id_number="150121200901010011"), student).differences[0]
    assert (other.chip_value, other.queue_value) == ("150121200901010011", student.national_id)
    rare = rules.compare(replace(card, name=student.name[:-1] + "\ue123"), student).differences[0]
    assert rare.message.en == (
        f"name has a rare character: card “{student.name[:-1]}\ue123”, pre-registration “{student.name}”. "
        "Compare and confirm."
    )


def test_refusal_wording_that_carries_values():
    student = Student.from_feed({**FEED, "status": "registered", "reg_no": None})
    assert "（考籍号 —）" in desk_decision(student, "150102").message.zh
    missing = desk_decision(None, "150102")
    assert missing.message.en == (
        "This ID number is not in the county's queue. Check the pre-registration and approval, or sync the queue."
    )
