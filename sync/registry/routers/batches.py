"""Push (docs/sync-protocol.md §7): ``POST /v1/stations/{station_id}/batches``, one multipart batch.

The body (bounded by ``X-Registry-Max-Batch-Bytes`` while it is read, ``middleware.RequestGuard``)
holds one JSON part named ``batch`` and one ``image/jpeg`` part per photo, named ``sha256:<hex>``.
Every photo part must be referenced by a record of the batch, or the whole batch is 400 and nothing is
stored. Then: the Idempotency-Key is claimed (409 while another attempt runs, 422 for another body),
the photos are stored under their hashes (in the claim's transaction when they live in the database),
and the records are decided (``intake``: one transaction for the batch, per record after a failure). The fault hooks are the injected ``faults`` (``NO_FAULTS`` in production).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from sync.protocol.wire import (
    BATCH_PART_NAME,
    LEDGER_DIGEST_HEADER,
    LEDGER_DIGEST_PREFERENCE,
    MAX_RECORDS_PER_BATCH,
    PHOTO_PART_PREFIX,
    BatchResponse,
    format_ledger_digest,
    wants_ledger_digest,
)
from sync.registry import intake, multipart
from sync.registry.dependencies import (
    FaultsDep,
    RegistryDep,
    StationCaller,
    StationId,
    StrictJsonRoute,
    error_responses,
    json_response,
)
from sync.registry.errors import ApiError

router = APIRouter(prefix="/v1/stations/{station_id}", route_class=StrictJsonRoute)

_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [BATCH_PART_NAME],
                    "properties": {
                        BATCH_PART_NAME: {"type": "string", "description": "BatchEnvelope as JSON"}
                    },
                    "additionalProperties": {
                        "type": "string",
                        "format": "binary",
                        "description": "one image/jpeg part per photo a record references, named sha256:<hex>",
                    },
                },
                "encoding": {BATCH_PART_NAME: {"contentType": "application/json"}},
            }
        },
    }
}


@router.post(
    "/batches",
    response_model=BatchResponse,
    responses={
        **error_responses(409, 415, 422, 429, 503),
        200: {
            "headers": {
                LEDGER_DIGEST_HEADER: {
                    "description": "with `Prefer: ledger-digest`: the station's ledger digest once the "
                    "batch was decided, head_seq=N;count=N;xor_sha256=<64 hex> (docs/sync-protocol.md §9.3)",
                    "schema": {"type": "string"},
                }
            }
        },
    },
    openapi_extra=_BATCH_BODY,
)
async def push_batch(
    request: Request,
    station_id: StationId,
    caller: StationCaller,
    registry: RegistryDep,
    faults: FaultsDep,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=200)],
    prefer: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    faults.before_intake()
    content_type = request.headers.get("content-type")
    multipart.boundary_of(content_type)  # 415 before reading a body of the wrong kind
    body = await request.body()
    _check_content_digest(request.headers.get("content-digest"), body)
    parts = multipart.parse(body, content_type, max_parts=MAX_RECORDS_PER_BATCH + 1)
    del body
    batch_parts = [p for p in parts if p.name == BATCH_PART_NAME]
    if len(batch_parts) != 1:
        raise ApiError(400, "MALFORMED_BATCH", "exactly one part named 'batch' is required")
    photos: dict[str, bytes] = {}
    for part in parts:
        if part.name.startswith(PHOTO_PART_PREFIX):
            name = part.name[len(PHOTO_PART_PREFIX) :].lower()
            if len(name) != 64 or name in photos:
                raise ApiError(
                    400, "MALFORMED_BATCH", "photo parts are named sha256:<64 hex digits>, once each"
                )
            photos[name] = bytes(part.data)
        elif part.name != BATCH_PART_NAME:
            raise ApiError(400, "MALFORMED_BATCH", "parts are 'batch' and 'sha256:<hex>' only")
    incoming = intake.parse_envelope(
        caller, station_id, idempotency_key, bytes(batch_parts[0].data), registry.season
    )
    referenced = {record.photo.sha256 for record in incoming.envelope.records}
    if not set(photos) <= referenced:
        raise ApiError(400, "UNREFERENCED_PART", "a photo part is not referenced by any record of the batch")
    claimed = await run_in_threadpool(intake.claim_and_store, registry, incoming, photos)
    try:
        await run_in_threadpool(faults.after_claim)
        want_digest = wants_ledger_digest(prefer)
        processed = await run_in_threadpool(
            _process, registry, caller, incoming, claimed, faults, photos, want_digest
        )
        faults.after_commit()
    except BaseException:
        await run_in_threadpool(intake.finish, registry, incoming.envelope.batch_id, None)
        raise
    faults.after_response_stored(request.scope)
    response = processed.response
    payload = response.model_dump_json(exclude_none=True).encode()
    answer = faults.respond(payload) or json_response(response)
    if processed.ledger is not None:
        answer.headers[LEDGER_DIGEST_HEADER] = format_ledger_digest(processed.ledger)
        answer.headers["Preference-Applied"] = LEDGER_DIGEST_PREFERENCE
    return answer


def _process(registry, caller, incoming, claimed, faults, photos, want_digest) -> intake.Processed:  # type: ignore[no-untyped-def]
    """The records decided, and the key marked finished in the same transaction."""
    return intake.process_batch(
        registry,
        caller,
        incoming,
        claimed.mismatched,
        faults,
        photos=photos,
        known=claimed.known,
        finish_key=True,
        want_ledger_digest=want_digest,
    )


def _check_content_digest(header: str | None, body: bytes) -> None:
    """RFC 9530 ``Content-Digest: sha-256=:<base64>:`` is optional; when sent it must match the body."""
    if not header:
        return
    for member in header.split(","):
        algorithm, _, value = member.strip().partition("=")
        if algorithm.strip().lower() == "sha-256":
            expected = value.strip().strip(":")
            actual = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if expected != actual:
                raise ApiError(400, "CONTENT_DIGEST_MISMATCH", "the body does not match its Content-Digest")
            return
