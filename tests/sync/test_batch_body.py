"""The push body byte for byte (sync-protocol.md §2.4): a pure function of the batch and its frozen
records, so a resend is identical (the registry reading it back is what every sync test does)."""

from __future__ import annotations

import hashlib

from sync.client import batch as batch_body
from sync.client.ports import OpenBatch, Outgoing
from sync.protocol.canonical import canonical_json, sha256_hex

BATCH = OpenBatch(
    "0190f3c2-0000-7000-8000-0000000000b1", ("r1", "r2", "r3"), 999, "2026-11-28T03:00:00.000000Z"
)
PHOTO_A, PHOTO_B = (
    b"\xff\xd8\xff\xe0" + b"a" * 40 + b"\xff\xd9",
    b"\xff\xd8\xff\xe0" + b"b" * 50 + b"\xff\xd9",
)


def _records() -> list[Outgoing]:
    return [
        Outgoing("r1", {"record_id": "r1", "n": 1}, PHOTO_A),
        Outgoing("r2", {"record_id": "r2", "n": "乌云"}, PHOTO_B),
        Outgoing("r3", {"record_id": "r3", "n": 3}, PHOTO_A),  # the same photo as r1: sent once
    ]


def test_the_body_byte_for_byte():
    built = batch_body.build(BATCH, "ST-01", 2026, _records())
    boundary = "station-" + hashlib.sha256(BATCH.batch_id.encode()).hexdigest()[:32]
    envelope = {
        "batch_id": BATCH.batch_id,
        "station_id": "ST-01",
        "season": 2026,
        "client_time": "2026-11-28T03:00:00.000000+00:00",
        "records": [o.wire for o in _records()],
    }
    assert batch_body.envelope(BATCH, "ST-01", 2026, _records()) == envelope
    head = f"--{boundary}\r\n".encode()

    def photo_part(photo: bytes) -> bytes:
        digest = sha256_hex(photo)
        return (head + f'Content-Disposition: form-data; name="sha256:{digest}"; filename="{digest}.jpg"\r\n'.encode()
                + b"Content-Type: image/jpeg\r\n\r\n" + photo + b"\r\n")  # fmt: skip

    expected = (
        head + b'Content-Disposition: form-data; name="batch"\r\n' + b"Content-Type: application/json\r\n\r\n"
        + canonical_json(envelope) + b"\r\n" + photo_part(PHOTO_A) + photo_part(PHOTO_B) + f"--{boundary}--\r\n".encode()
    )  # fmt: skip
    assert built.body == expected
    assert built.content_type == f"multipart/form-data; boundary={boundary}"
    assert built.sha256 == sha256_hex(expected)
    assert built.payload_bytes == sum(len(canonical_json(o.wire)) + len(o.photo) for o in _records())
    assert batch_body.build(BATCH, "ST-01", 2026, _records()) == built  # a resend is identical


def test_a_repeated_photo_is_skipped_and_the_records_after_it_still_bring_theirs():
    records = [
        Outgoing("r1", {"record_id": "r1", "n": 1}, PHOTO_A),
        Outgoing("r2", {"record_id": "r2", "n": 2}, PHOTO_A),  # the same photo: no second part
        Outgoing("r3", {"record_id": "r3", "n": 3}, PHOTO_B),  # after the repeat: its photo is still sent
    ]
    built = batch_body.build(BATCH, "ST-01", 2026, records)
    for photo in (PHOTO_A, PHOTO_B):
        assert built.body.count(f'name="sha256:{sha256_hex(photo)}"'.encode()) == 1
        assert built.body.count(photo) == 1
    assert built.payload_bytes == sum(len(canonical_json(o.wire)) + len(o.photo) for o in records)
