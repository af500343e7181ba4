"""A station's session and certificate: ``GET /v1/ping`` (preflight, docs/sync-protocol.md §3.3) and certificate renewal."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sync.protocol.wire import MAX_BATCH_BYTES_HEADER, RenewRequest, RenewResponse
from sync.registry import renewal
from sync.registry.dependencies import (
    Caller,
    RegistryDep,
    StationCaller,
    StationId,
    StrictJsonRoute,
    error_responses,
    json_response,
    peer_certificate_pem,
)

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute)


@router.get("/ping", status_code=204, responses={**error_responses(), 204: {"description": "reachable"}})
def ping(caller: Caller, registry: RegistryDep) -> Response:
    limit = registry.settings.max_batch_bytes
    return Response(status_code=204, headers={MAX_BATCH_BYTES_HEADER: str(limit)})


@router.post("/stations/{station_id}/renew", response_model=RenewResponse, responses=error_responses(503))
def renew(
    station_id: StationId, body: RenewRequest, request: Request, caller: StationCaller, registry: RegistryDep
) -> Response:
    renewed = renewal.renew(registry, caller, peer_certificate_pem(request), body.csr_pem)
    return json_response(renewed)
