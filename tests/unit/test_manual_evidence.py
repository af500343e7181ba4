"""Records without chip evidence (the unreadable-card path) and the optional members of every payload.

A record carries exactly one kind of evidence: the card's chip, or a county administrator's sign-off
(``ManualEvidence``). What travels for each is pinned here member by member, because the registry
hashes and checks these bytes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from station.domain.records import UNREADABLE_CARD, CaptureRecord, ChipEvidence, ManualEvidence
from sync.protocol import wire
from sync.protocol.canonical import payload_sha256

CST = timezone(timedelta(hours=8))
SIGNED = datetime(2026, 11, 28, 10, 30, tzinfo=CST)  # 02:30 UTC
CAPTURED = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
RECORD_ID = "0190f3c2-0000-7000-8000-000000000001"


def _jpeg(width: int = 48, height: int = 64) -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


PHOTO = _jpeg()


def _chip(**overrides) -> ChipEvidence:
    values = dict(text=bytes(256), wlt=bytes(1024), parsed={"name": "张三", "sex": "2"})
    values.update(overrides)
    return ChipEvidence(**values)


def _record(**overrides) -> CaptureRecord:
    values = dict(
        record_id=RECORD_ID,
        student_id="S1",
        national_id="150102201003041222",
        station_id="ST-01",
        county_code6="150102",
        operator="op1",
        captured_at=CAPTURED,
        chip=None,
        manual=ManualEvidence("admin-1", SIGNED),
        photo_jpeg=PHOTO,
        photo_profile="moe-480",
    )
    values.update(overrides)
    return CaptureRecord.new(**values)


def test_a_sign_off_travels_as_manual_evidence_in_utc_without_a_chip_block():
    payload = _record().payload()
    assert payload["evidence"] == "manual"
    assert payload["manual_approval"] == {
        "approved_by": "admin-1",
        "approved_at": "2026-11-28T02:30:00+00:00",
        "lookup": "id_last6",
        "reason": "card_unreadable",
    }
    assert "chip" not in payload
    assert payload["meta"]["card_type"] == UNREADABLE_CARD == "unreadable"
    assert not {"sam_id", "fingerprint_b64"} & payload["meta"].keys()


def test_a_manual_record_is_a_valid_wire_record_and_its_sign_off_is_hashed():
    record = _record()
    on_wire = wire.Record.model_validate({**record.payload(), "payload_sha256": record.payload_sha256})
    assert on_wire.evidence == "manual" and on_wire.chip is None
    assert on_wire.manual_approval.approved_by == "admin-1"
    assert on_wire.manual_approval.approved_at == SIGNED
    other_admin = _record(manual=ManualEvidence("admin-2", SIGNED))
    assert other_admin.payload_sha256 != record.payload_sha256
    other_reason = _record(manual=ManualEvidence("admin-1", SIGNED, reason="chip_damaged"))
    assert other_reason.payload()["manual_approval"]["reason"] == "chip_damaged"
    assert other_reason.payload_sha256 != record.payload_sha256


def test_a_chip_record_carries_no_manual_members_and_keeps_its_card_type():
    record = _record(chip=_chip(card_type="foreign_2023"), manual=None)
    payload = record.payload()
    assert record.card_type == "foreign_2023" and payload["meta"]["card_type"] == "foreign_2023"
    assert "evidence" not in payload and "manual_approval" not in payload
    assert payload["chip"]["parsed"] == {"national_id": "150102201003041222", "name": "张三", "sex": "2"}


@pytest.mark.parametrize("manual", [None, ManualEvidence("admin-1", SIGNED)])
def test_a_record_carries_exactly_one_kind_of_evidence(manual):
    chip = _chip() if manual is not None else None  # both, or neither
    with pytest.raises(
        ValueError, match=r"^a record carries either chip evidence or a manual sign-off, exactly one$"
    ):
        _record(chip=chip, manual=manual)


def test_a_sign_off_names_the_administrator_and_an_aware_time():
    with pytest.raises(ValueError, match=r"^approved_at must be timezone-aware$"):
        ManualEvidence("admin-1", datetime(2026, 11, 28, 10, 30))
    with pytest.raises(ValueError, match=r"^a manual sign-off names the administrator$"):
        ManualEvidence("", SIGNED)
    signed = ManualEvidence("admin-1", SIGNED)
    assert (signed.reason, signed.lookup) == ("card_unreadable", "id_last6")


def test_chip_extras_travel_only_when_the_card_gave_them():
    bare = _record(chip=_chip(), manual=None).payload()
    assert "card_uid" not in bare["chip"]
    assert not {"sam_id", "fingerprint_b64"} & bare["meta"].keys()
    full = _record(
        chip=_chip(
            chip_serial="0102030405060708", sam_id="05.01-20101010-0000000001", fingerprint=b"\x01\x02"
        ),
        manual=None,
    ).payload()
    assert full["chip"]["card_uid"] == "0102030405060708"
    assert full["meta"]["sam_id"] == "05.01-20101010-0000000001"
    assert full["meta"]["fingerprint_b64"] == "AQI="
    assert full["chip"]["text_b64"] == "A" * 340 + "AA==" and len(full["chip"]["photo_b64"]) == 1368


def test_the_photo_reference_describes_the_jpeg():
    photo = _record().payload()["photo"]
    assert photo["bytes"] == len(PHOTO) and photo["content_type"] == "image/jpeg"
    assert (photo["w"], photo["h"]) == (48, 64)
    assert photo["sha256"] == _record().photo_sha256 and len(photo["sha256"]) == 64


def test_a_recapture_names_the_record_it_supersedes_and_why():
    first = _record().payload()
    assert "supersedes" not in first and "recapture_reason" not in first["meta"]
    again = _record(supersedes="0190f3c2-0000-7000-8000-0000000000aa", recapture_reason="photo_blurred")
    payload = again.payload()
    assert payload["supersedes"] == "0190f3c2-0000-7000-8000-0000000000aa"
    assert payload["meta"]["recapture_reason"] == "photo_blurred"
    assert payload_sha256(payload) != payload_sha256(first)


def test_the_payload_names_the_station_county_and_officer():
    payload = _record(quality={"ok": True}, comparison={"score": 0.9}).payload()
    assert payload["record_id"] == RECORD_ID and payload["student_id"] == "S1"
    assert payload["county"] == "150102" and payload["operator_id"] == "op1"
    assert payload["meta"]["station_id"] == "ST-01" and payload["meta"]["photo_profile"] == "moe-480"
    assert payload["meta"]["quality"] == {"ok": True} and payload["meta"]["comparison"] == {"score": 0.9}


def test_new_freezes_what_the_caller_still_holds():
    quality, parsed = {"ok": True}, {"name": "张三"}
    record = _record(chip=_chip(parsed=parsed), manual=None, quality=quality, comparison=None)
    quality["ok"], parsed["name"] = False, "李四"
    assert record.quality == {"ok": True} and record.chip.parsed == {"name": "张三"}
    assert isinstance(record.chip.parsed, MappingProxyType) and record.comparison == {}
    frozen = MappingProxyType({"name": "王五"})
    assert _record(chip=_chip(parsed=frozen), manual=None).chip.parsed is frozen


def test_the_short_id_is_the_last_eight_characters_upper_case():
    record = _record(record_id="0190f3c2-0000-7000-8000-00000000abcd")
    assert record.short_id == "0000ABCD"


def test_a_fresh_record_gets_a_new_id_and_the_time_now():
    before = datetime.now(UTC)
    values = dict(
        student_id="S1", national_id="150102201003041222", station_id="ST-01", county_code6="150102",
        operator="op1", chip=None, manual=ManualEvidence("admin-1", SIGNED), photo_jpeg=PHOTO,
        photo_profile="moe-480",
    )  # fmt: skip
    one, two = CaptureRecord.new(**values), CaptureRecord.new(**values)
    assert one.record_id != two.record_id
    assert before <= one.captured_at <= datetime.now(UTC) and one.captured_at.tzinfo is not None


@pytest.fixture
def china_local_time(monkeypatch):
    """The machine's local zone set to China Standard Time, as on a county station."""
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_travel_in_utc_whatever_the_machine_s_zone(china_local_time):
    assert time.localtime(0).tm_hour == 8  # the zone took effect
    payload = _record().payload()
    assert payload["manual_approval"]["approved_at"] == "2026-11-28T02:30:00+00:00"
    assert payload["captured_at"] == "2026-11-28T03:00:00+00:00"
