"""Building records and batches the way a station does, for the registry tests and the benchmark.

Records carry real evidence: the chip text block a synthetic person's card holds (encoded by the
station's emulator with the shared encoder) and a real JPEG of the ``moe-480`` profile, one distinct
photo per ``seed`` (the registry refuses one photo for two students).

Dates: the tests work in entry year 2026 whatever today's date is. An in-process registry gets a clock
pinned inside that season (``registry_clock``: ``REGISTRY_NOW`` moving forward at the real pace), so
capture times, the deadline and the grace period are judged as on that day; batches are formed on that
clock too. A ``sync-registry serve`` process keeps the real clock and is given a deadline after today
(``open_deadline_args``), so records captured in 2026 stay within the deadline and grace period.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import cache

from sqlalchemy import select

from station.idcard.emulator import synthetic_chip
from sync.protocol.canonical import payload_sha256, sha256_hex, uuid7
from sync.protocol.card import ChipData
from sync.protocol.chiptext import encode_text
from sync.protocol.synthetic import SyntheticPerson
from sync.registry.db import Database, Student

COUNTY = "150102"
OTHER_COUNTY = "150103"
SEASON = 2026
STATION = "ST-150102-01"
STATION_2 = "ST-150102-02"
OTHER_STATION = "ST-150103-01"
BEIJING = timezone(timedelta(hours=8))
CAPTURED_AT = datetime(SEASON, 10, 15, 9, 30, tzinfo=BEIJING)
REGISTRY_NOW = datetime(SEASON, 10, 20, 12, 0, tzinfo=BEIJING)  # inside the season, before the deadline


def registry_clock(start: datetime = REGISTRY_NOW) -> Callable[[], datetime]:
    """A clock that reads ``start`` now and runs forward at the real pace (``Settings.clock``)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def open_deadline_args(days: int = 30) -> list[str]:
    """``serve`` options for a registry on the real clock: a deadline ``days`` after today."""
    return ["--deadline", (date.today() + timedelta(days=days)).isoformat()]


def fake_jpeg(size: int = 40_000, seed: int = 0) -> bytes:
    """Bytes shaped like a JPEG (SOI ... EOI) but not one: what an attacker sends as a "photo"."""
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 6) + b"\xff\xd9"


@cache
def photo_jpeg(
    seed: int = 0, width: int = 480, height: int = 640, low: int = 26_000, high: int = 37_000
) -> bytes:
    """A real JPEG of ``width`` x ``height`` whose size lands in [low, high] (moe-480: 24-38 KB), one per seed."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (24, 18, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.BILINEAR)).astype(np.int16)
    image = Image.fromarray(np.clip(base + rng.integers(-6, 7, base.shape), 0, 255).astype(np.uint8))
    lowest, highest = 20, 95
    while lowest <= highest:
        quality = (lowest + highest) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() < low:
            lowest = quality + 1
        elif buffer.tell() > high:
            highest = quality - 1
        else:
            return buffer.getvalue()
    raise ValueError("no JPEG quality lands in the byte window")


def photo_copy(seed: int) -> bytes:
    """``photo_jpeg(0)`` made distinct by a JPEG comment segment: thousands of distinct photos, cheaply."""
    tag = f"copy {seed}".encode()
    base = photo_jpeg(0)
    return base[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + base[2:]


def card_of(student: Student, **changes) -> ChipData:
    """The resident card the student's synthetic person carries (``changes`` alter what the chip says)."""
    person = SyntheticPerson(
        name=student.name,
        name_pinyin="",
        sex=student.sex,
        nation=student.nation,
        birth_date=date.fromisoformat(student.birth_date),
        id_number=student.national_id,
        address="内蒙古自治区呼和浩特市新城区示例路1号",
        issuer="呼和浩特市公安局新城区分局",
        county_code6=student.county,
    )
    chip = synthetic_chip(person, valid_until=date(2034, 3, 1))
    if changes:
        dates = {
            k: date.fromisoformat(v)
            for k, v in changes.items()
            if k.endswith(("_date", "_from")) and isinstance(v, str)
        }
        chip = dataclasses.replace(chip, **{**changes, **dates})
        chip = chip.with_reader_data(raw_text=encode_text(chip))
    return chip


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
    parsed_overrides: dict | None = None,
    county: str | None = None,
    text: bytes | None = None,
    wlt: bytes | None = None,
) -> dict:
    """A record as a station sends it. ``chip_overrides`` change what the card says (block and parsed
    copy alike: an ID mismatch); ``parsed_overrides`` change only the parsed copy (a forgery);
    ``text``/``wlt`` replace the raw block or photo."""
    card = card_of(student, **(chip_overrides or {}))
    parsed = {
        "national_id": card.id_number,
        "name": card.name,
        "sex": card.sex,
        "nation": card.nation,
        "birth_date": card.birth_date.isoformat(),
    }
    parsed.update(parsed_overrides or {})
    width, height = _jpeg_size(photo)
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
            "w": width,
            "h": height,
        },
        "chip": {
            "text_b64": base64.b64encode(card.raw_text if text is None else text).decode(),
            "photo_b64": base64.b64encode(card.raw_wlt if wlt is None else wlt).decode(),
            "card_uid": "04A1B2C3D4E5F6",
            "parsed": parsed,
        },
        "meta": {"app": "test", "card_type": "resident", "photo_profile": "moe-480"},
    }
    record["payload_sha256"] = payload_sha256(record)
    return record


def rehash(record: dict) -> dict:
    """The record with its payload hash recomputed after a test edited it."""
    record = {k: v for k, v in record.items() if k != "payload_sha256"}
    record["payload_sha256"] = payload_sha256(record)
    return record


def _jpeg_size(photo: bytes) -> tuple[int, int]:
    from sync.protocol.jpeg import NotJpeg, jpeg_dimensions

    try:
        return jpeg_dimensions(photo)
    except NotJpeg:
        return 480, 640  # not a JPEG: declare what a real one would have


def make_batch(
    station_id: str,
    records: list[dict],
    *,
    batch_id: str | None = None,
    season: int = SEASON,
    client_time: datetime = REGISTRY_NOW,
) -> dict:
    """A batch formed at ``client_time`` on the station's clock (default: the pinned registry day)."""
    return {
        "batch_id": batch_id or uuid7(),
        "station_id": station_id,
        "season": season,
        "client_time": client_time.isoformat(),
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


def push(
    client,
    station_id: str,
    batch: dict,
    photos: list[bytes],
    *,
    key: str | None = None,
    prefer: str | None = None,
):
    headers = {"Idempotency-Key": f'"{key or batch["batch_id"]}"'}
    if prefer:
        headers["Prefer"] = prefer
    return client.post(
        f"/v1/stations/{station_id}/batches", files=multipart_files(batch, photos), headers=headers
    )


def mtls_client(url: str, tls_dir, station_id: str, *, cert_dir=None):  # type: ignore[no-untyped-def]
    """An httpx client over mutual TLS: the registry's CA, the station's certificate (from ``cert_dir``)."""
    import ssl
    from pathlib import Path

    import httpx

    from sync.registry.pki import TlsPaths

    paths = TlsPaths(Path(tls_dir))
    certs = TlsPaths(Path(cert_dir)) if cert_dir is not None else paths
    context = ssl.create_default_context(cafile=str(paths.ca_cert))
    context.load_cert_chain(str(certs.station_cert(station_id)), str(certs.station_key(station_id)))
    return httpx.Client(base_url=url, verify=context, timeout=30)
