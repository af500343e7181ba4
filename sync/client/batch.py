"""The push body (docs/sync-protocol.md §7.1): one multipart/form-data request per batch.

The body is a pure function of the batch (id, formation time) and its frozen records, so a resend after
a timeout or a restart is byte-identical: the boundary derives from the batch id, the JSON part is
canonical, photo parts follow in record order, each photo once. ``clock_offset_s`` is left out because
it changes between attempts; the registry measures receipt time itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sync.client.ports import OpenBatch, Outgoing
from sync.protocol.canonical import canonical_json, sha256_hex
from sync.protocol.wire import BATCH_PART_NAME, PHOTO_PART_PREFIX


@dataclass(frozen=True)
class BatchBody:
    body: bytes
    content_type: str
    sha256: str
    payload_bytes: int  # JPEG bytes + canonical record JSON bytes (the §11.4 "payload")


def envelope(batch: OpenBatch, station_id: str, season: int, records: list[Outgoing]) -> dict:
    return {
        "batch_id": batch.batch_id,
        "station_id": station_id,
        "season": season,
        "client_time": batch.created_at.replace("Z", "+00:00"),
        "records": [r.wire for r in records],
    }


def build(batch: OpenBatch, station_id: str, season: int, records: list[Outgoing]) -> BatchBody:
    boundary = "station-" + hashlib.sha256(batch.batch_id.encode()).hexdigest()[:32]
    head = f"--{boundary}\r\n".encode()
    parts = [
        head,
        f'Content-Disposition: form-data; name="{BATCH_PART_NAME}"\r\n'.encode(),
        b"Content-Type: application/json\r\n\r\n",
        canonical_json(envelope(batch, station_id, season, records)),
        b"\r\n",
    ]
    seen: set[str] = set()
    payload = 0
    for record in records:
        payload += len(canonical_json(record.wire)) + len(record.photo)
        digest = sha256_hex(record.photo)
        if digest in seen:
            continue
        seen.add(digest)
        parts += [
            head,
            f'Content-Disposition: form-data; name="{PHOTO_PART_PREFIX}{digest}"; filename="{digest}.jpg"\r\n'.encode(),
            b"Content-Type: image/jpeg\r\n\r\n",
            record.photo,
            b"\r\n",
        ]
    parts.append(f"--{boundary}--\r\n".encode())
    body = b"".join(parts)
    return BatchBody(body, f"multipart/form-data; boundary={boundary}", sha256_hex(body), payload)
