"""``POST /v1/blobs/missing``: which of these photos must the next batch carry? (docs/sync-protocol.md §7.7)"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from sync.protocol.wire import MissingBlobsRequest, MissingBlobsResponse
from sync.registry.dependencies import Caller, RegistryDep, StrictJsonRoute, error_responses, json_response

router = APIRouter(prefix="/v1/blobs", route_class=StrictJsonRoute)


@router.post("/missing", response_model=MissingBlobsResponse, responses=error_responses())
def missing_blobs(body: MissingBlobsRequest, caller: Caller, registry: RegistryDep) -> Response:
    return json_response(MissingBlobsResponse(missing=registry.blobs.missing(body.hashes)))
