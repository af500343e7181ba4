"""What every route depends on: the registry, the fault hooks, and who is calling.

The caller's identity is the TLS client certificate, which the serving layer (``tls.py``) puts in the
ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``). ``Caller`` is the station
the certificate names, after ``Registry.authorize`` (not revoked; bound to this county) -- on every
request. ``CountyCaller`` and ``StationCaller`` add that the path names the caller's own county or
station (else 403). A request without a station certificate is 401.

Also here: the path and query parameter types, the documented error responses, one JSON response
helper, and ``StrictJsonRoute``, the route class whose JSON bodies go through ``strictjson`` (NaN,
Infinity, lone surrogates, repeated names and deep nesting are 400 ``JSON_REJECTED``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

from sync.protocol import strictjson
from sync.protocol.wire import COUNTY_PATTERN, STATION_ID_PATTERN, ErrorBody
from sync.registry.core import Registry
from sync.registry.errors import ApiError
from sync.registry.faults import NoFaults
from sync.registry.pki import StationIdentity, identity_from_pem

TLS_EXTENSION = "tls"


def registry_of(request: Request) -> Registry:
    return request.app.state.registry


def faults_of(request: Request) -> NoFaults:
    return request.app.state.faults


RegistryDep = Annotated[Registry, Depends(registry_of)]
FaultsDep = Annotated[NoFaults, Depends(faults_of)]

County = Annotated[str, Path(pattern=COUNTY_PATTERN, description="six-digit county code")]
StationId = Annotated[str, Path(pattern=STATION_ID_PATTERN)]
CursorQuery = Annotated[str | None, Query(max_length=256, description="opaque; absent or 0 = start")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]


def peer_certificate_pem(request: Request) -> str | None:
    chain = request.scope.get("extensions", {}).get(TLS_EXTENSION, {}).get("client_cert_chain") or []
    return chain[0] if chain else None


def authenticated(request: Request, registry: RegistryDep) -> StationIdentity:
    pem = peer_certificate_pem(request)
    identity = identity_from_pem(pem) if pem else None
    if identity is None:
        raise ApiError(401, "CLIENT_CERT_REQUIRED", "a station client certificate is required")
    registry.authorize(identity)
    return identity


Caller = Annotated[StationIdentity, Depends(authenticated)]


def own_county(county: County, caller: Caller) -> StationIdentity:
    if caller.county != county:
        raise ApiError(403, "WRONG_COUNTY", "a station reads only its own county")
    return caller


def own_station(station_id: StationId, caller: Caller) -> StationIdentity:
    if caller.station_id != station_id:
        raise ApiError(403, "WRONG_STATION", "the path names another station than the certificate")
    return caller


CountyCaller = Annotated[StationIdentity, Depends(own_county)]
StationCaller = Annotated[StationIdentity, Depends(own_station)]

_DESCRIBED = {
    400: "malformed request (schema, JSON, multipart)",
    401: "no client certificate naming a station",
    403: "another county or station; a revoked certificate (CERT_REVOKED); a station id of another county",
    408: "the request body arrived too slowly",
    409: "the same Idempotency-Key is still being processed",
    410: "cursor of an older epoch: resync from cursor=0",
    413: "body larger than this request's limit (X-Registry-Max-Batch-Bytes for batches)",
    415: "not multipart/form-data",
    422: "Idempotency-Key reused with a different body",
    429: "overloaded; see Retry-After",
    503: "maintenance; see Retry-After",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: the errors every route may give (400, 401, 403, 408, 413) plus ``codes``."""
    return {
        code: {"model": ErrorBody, "description": _DESCRIBED[code]}
        for code in (400, 401, 403, 408, 413, *codes)
    }


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(exclude_none=True),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strictjson.loads(await self.body())
            except strictjson.StrictJsonError as error:
                raise ApiError(400, "JSON_REJECTED", str(error)) from None
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
