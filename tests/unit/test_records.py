"""Capture records: identity, immutability, payload hash."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime

import pytest

from station.domain.records import CaptureRecord, ChipEvidence
from sync.protocol import wire
from sync.protocol.canonical import canonical_json, payload_sha256, uuid7


def _jpeg(width: int = 48, height: int = 64, shade: int = 128) -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), shade, np.uint8))
    assert ok
    return data.tobytes()


def _record(**overrides):
    values = dict(
        student_id="S1",
        national_id="150102201003041222",
        station_id="ST-01",
        county_code6="150102",
        operator="op1",
        chip=ChipEvidence(
            text=bytes(256),
            wlt=bytes(1024),
            chip_serial="0102030405060708",
            parsed={"name": "张三", "sex": "2", "birth_date": "2010-03-04", "nation": "01"},
        ),
        photo_jpeg=_jpeg(),
        photo_profile="moe-480",
        quality={"ok": True},
    )
    values.update(overrides)
    return CaptureRecord.new(**values)


def test_uuid7_layout_and_order():
    first, second = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    parsed = uuid.UUID(first)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == 1_700_000_000_000
    assert first < second
    assert len({uuid7() for _ in range(1000)}) == 1000


def test_record_is_immutable_and_gets_its_identity_at_creation():
    record = _record()
    assert uuid.UUID(record.record_id).version == 7
    assert record.captured_at.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.operator = "someone else"
    with pytest.raises(TypeError):
        record.quality["ok"] = False


def test_payload_hash_is_stable_and_content_sensitive():
    captured = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    one = _record(record_id="0190f3c2-0000-7000-8000-000000000001", captured_at=captured)
    again = _record(record_id="0190f3c2-0000-7000-8000-000000000001", captured_at=captured)
    assert one.payload_sha256 == again.payload_sha256
    other_photo = _record(record_id=one.record_id, captured_at=captured, photo_jpeg=_jpeg(shade=40))
    assert other_photo.payload_sha256 != one.payload_sha256
    assert one.payload()["captured_at"] == "2026-11-28T03:00:00+00:00"


def test_payload_is_the_wire_record_frozen_at_capture():
    record = _record()
    wire_record = wire.Record.model_validate({**record.payload(), "payload_sha256": record.payload_sha256})
    assert wire_record.photo.w == 48 and wire_record.photo.h == 64
    assert (
        wire_record.chip.parsed.national_id == record.national_id and wire_record.chip.parsed.name == "张三"
    )
    assert wire_record.meta["station_id"] == "ST-01" and wire_record.operator_id == "op1"
    assert payload_sha256({**record.payload(), "payload_sha256": "ignored"}) == record.payload_sha256


def test_payload_refuses_a_photo_that_is_not_a_jpeg():
    with pytest.raises(ValueError):
        _record(photo_jpeg=b"\xff\xd8\xff\xe0not-a-jpeg").payload()


def test_canonical_json_sorts_keys_and_refuses_nan():
    assert canonical_json({"b": 1, "a": "汉"}) == '{"a":"汉","b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    assert json.loads(canonical_json({"k": [1, 2]})) == {"k": [1, 2]}


def test_naive_capture_time_is_refused():
    with pytest.raises(ValueError):
        _record(captured_at=datetime(2026, 11, 28, 3, 0))


def test_the_officer_note_travels_in_the_payload_only_when_given():
    noted = _record(officer_note="眼镜无法摘下").payload()
    assert noted["meta"]["officer_note"] == "眼镜无法摘下"
    assert "officer_note" not in _record().payload()["meta"]
    captured = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    same = {"record_id": "0190f3c2-0000-7000-8000-000000000001", "captured_at": captured}
    assert (
        _record(officer_note="a", **same).payload_sha256 != _record(officer_note="b", **same).payload_sha256
    )
