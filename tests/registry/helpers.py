"""Building records and batches the way a station does, for the registry tests and the benchmark."""

from __future__ import annotations

import base64
import json
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from sync.protocol.canonical import payload_sha256, sha256_hex, uuid7
from sync.registry.db import Database, Student

COUNTY = "150102"
OTHER_COUNTY = "150103"
SEASON = 2026
STATION = "ST-150102-01"
STATION_2 = "ST-150102-02"
OTHER_STATION = "ST-150103-01"
BEIJING = timezone(timedelta(hours=8))
CAPTURED_AT = datetime(SEASON, 10, 15, 9, 30, tzinfo=BEIJING)


def fake_jpeg(size: int = 40_000, seed: int = 0) -> bytes:
    """Bytes shaped like a JPEG (SOI ... EOI); the registry stores photos, it does not decode them."""
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 6) + b"\xff\xd9"


def students(db: Database, county: str = COUNTY, status: str = "approved") -> list[Student]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Student)
                .where(Student.county == county, Student.status == status)
                .order_by(Student.seq)
            )
        )


def make_record(
    student: Student,
    photo: bytes,
    *,
    captured_at: datetime = CAPTURED_AT,
    record_id: str | None = None,
    chip_overrides: dict | None = None,
    county: str | None = None,
) -> dict:
    parsed = {
        "national_id": student.national_id,
        "name": student.name,
        "sex": student.sex,
        "nation": student.nation,
        "birth_date": student.birth_date,
    }
    parsed.update(chip_overrides or {})
    record = {
        "record_id": record_id or uuid7(),
        "student_id": student.student_id,
        "county": county or student.county,
        "captured_at": captured_at.isoformat(),
        "operator_id": "op-01",
        "photo": {
            "sha256": sha256_hex(photo),
            "bytes": len(photo),
            "content_type": "image/jpeg",
            "w": 480,
            "h": 640,
        },
        "chip": {
            "text_b64": base64.b64encode(bytes(256)).decode(),
            "photo_b64": base64.b64encode(bytes(1024)).decode(),
            "card_uid": "04A1B2C3D4E5F6",
            "parsed": parsed,
        },
        "meta": {"app": "test"},
    }
    record["payload_sha256"] = payload_sha256(record)
    return record


def make_batch(
    station_id: str, records: list[dict], *, batch_id: str | None = None, season: int = SEASON
) -> dict:
    return {
        "batch_id": batch_id or uuid7(),
        "station_id": station_id,
        "season": season,
        "client_time": datetime.now(BEIJING).isoformat(),
        "clock_offset_s": -1.5,
        "records": records,
    }


def multipart_files(batch: dict, photos: list[bytes]) -> list[tuple]:
    files: list[tuple] = [
        ("batch", (None, json.dumps(batch, ensure_ascii=False).encode(), "application/json"))
    ]
    seen = set()
    for photo in photos:
        digest = sha256_hex(photo)
        if digest not in seen:
            seen.add(digest)
            files.append((f"sha256:{digest}", (f"{digest}.jpg", photo, "image/jpeg")))
    return files


def push(client, station_id: str, batch: dict, photos: list[bytes], *, key: str | None = None):
    return client.post(
        f"/v1/stations/{station_id}/batches",
        files=multipart_files(batch, photos),
        headers={"Idempotency-Key": f'"{key or batch["batch_id"]}"'},
    )
