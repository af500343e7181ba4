"""The registry's HTTP API (FastAPI): the endpoints of docs/sync-protocol.md §5.

The caller's identity is the TLS client certificate, which the serving layer (``tls.py``) puts in the
ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``); a request without one is
401, a path naming another county or station is 403. Every response -- errors and 500s included --
carries ``X-Registry-Protocol: 1``, ``Cache-Control: no-store`` and ``Date`` (``ProtocolHeaders``).
Validation failures are 400 with an ``ErrorBody`` (422 is reserved for a reused Idempotency-Key). GET
responses are gzip'ed when the client accepts it. The OpenAPI document is served at /openapi.json and
kept in the repository as ``sync/registry/openapi.json``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from email.utils import formatdate
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from sync.protocol.wire import (
    BATCH_PART_NAME,
    COUNTY_PATTERN,
    MAX_BATCH_BYTES_HEADER,
    PHOTO_PART_PREFIX,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    STATION_ID_PATTERN,
    ApprovalsDigest,
    ApprovalsPage,
    BatchResponse,
    ErrorBody,
    LedgerDigest,
    LedgerPage,
    MissingBlobsRequest,
    MissingBlobsResponse,
    RecordsStatusRequest,
    RecordsStatusResponse,
)
from sync.registry import feed, intake, ledger, multipart
from sync.registry.core import Registry
from sync.registry.errors import AdminError, ApiError
from sync.registry.pki import StationIdentity, identity_from_pem

log = logging.getLogger("sync.registry.app")
TLS_EXTENSION = "tls"
TRANSPORT_EXTENSION = "registry.transport"

County = Annotated[str, Path(pattern=COUNTY_PATTERN, description="six-digit county code")]
StationId = Annotated[str, Path(pattern=STATION_ID_PATTERN)]
CursorQuery = Annotated[str | None, Query(max_length=256, description="opaque; absent or 0 = start")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "malformed request",
        401: "no client certificate naming a station",
        403: "another county or station",
        409: "the same Idempotency-Key is still being processed",
        410: "cursor of an older epoch: resync from cursor=0",
        413: "body larger than X-Registry-Max-Batch-Bytes",
        415: "not multipart/form-data",
        422: "Idempotency-Key reused with a different body",
        429: "overloaded; see Retry-After",
        503: "maintenance; see Retry-After",
    }
    return {code: {"model": ErrorBody, "description": described[code]} for code in (400, 401, 403, *codes)}


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
                        "description": "one image/jpeg part per photo, named sha256:<hex>",
                    },
                },
                "encoding": {BATCH_PART_NAME: {"contentType": "application/json"}},
            }
        },
    }
}


class ProtocolHeaders:
    """Outer ASGI layer: protocol headers on every response; an unhandled error becomes a clean 500."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers += [
                    (PROTOCOL_HEADER.lower().encode(), str(PROTOCOL_VERSION).encode()),
                    (b"cache-control", b"no-store"),
                ]
                if not any(k.lower() == b"date" for k, _ in headers):
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = JSONResponse({"code": "INTERNAL", "detail": "internal error"}, status_code=500)
                await response(scope, receive, send_with_headers)


class GzipGets:
    """gzip GET responses (feed pages) only; batch responses stay byte-exact for the trickle hook."""

    def __init__(self, app) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def peer_identity(request: Request) -> StationIdentity:
    chain = request.scope.get("extensions", {}).get(TLS_EXTENSION, {}).get("client_cert_chain") or []
    identity = identity_from_pem(chain[0]) if chain else None
    if identity is None:
        raise ApiError(401, "CLIENT_CERT_REQUIRED", "a station client certificate is required")
    return identity


def _json(model, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(exclude_none=True),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "BATCH_TOO_LARGE", f"at most {limit} bytes per batch")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "BATCH_TOO_LARGE", f"at most {limit} bytes per batch")
    return bytes(body)


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


async def _trickle(body: bytes, bytes_per_s: float):
    for index in range(len(body)):
        yield body[index : index + 1]
        await asyncio.sleep(1.0 / bytes_per_s)


def create_app(registry: Registry) -> FastAPI:
    app = FastAPI(
        title="Capture registry",
        version=str(PROTOCOL_VERSION),
        description="Station <-> registry sync protocol (docs/sync-protocol.md). Mutual TLS only.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.registry = registry
    settings = registry.settings
    faults = registry.faults

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> Response:
        headers = {"Retry-After": str(error.retry_after_s)} if error.retry_after_s is not None else None
        return JSONResponse(error.body(), status_code=error.status, headers=headers)

    @app.exception_handler(AdminError)
    async def _admin_error(_request: Request, error: AdminError) -> Response:
        return JSONResponse({"code": error.code, "detail": error.detail}, status_code=403)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"code": "SCHEMA", "detail": f"{where}: {first.get('msg', '')}"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "HTTP_ERROR")
        return JSONResponse({"code": code, "detail": str(error.detail)}, status_code=error.status_code)

    def for_county(request: Request, county: str) -> StationIdentity:
        identity = peer_identity(request)
        if identity.county != county:
            raise ApiError(403, "WRONG_COUNTY", "a station reads only its own county")
        registry.ensure_station(identity)
        return identity

    def for_station(request: Request, station_id: str) -> StationIdentity:
        identity = peer_identity(request)
        if identity.station_id != station_id:
            raise ApiError(403, "WRONG_STATION", "the path names another station than the certificate")
        registry.ensure_station(identity)
        return identity

    @app.get("/v1/ping", status_code=204, responses={**_errors(), 204: {"description": "reachable"}})
    def ping(request: Request) -> Response:
        registry.ensure_station(peer_identity(request))
        return Response(status_code=204, headers={MAX_BATCH_BYTES_HEADER: str(settings.max_batch_bytes)})

    @app.get(
        "/v1/counties/{county}/approvals",
        response_model=ApprovalsPage,
        responses={**_errors(410), 304: {"description": "head unchanged since If-None-Match"}},
    )
    def approvals(
        request: Request,
        county: County,
        cursor: CursorQuery = None,
        limit: LimitQuery = 500,
        if_none_match: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        for_county(request, county)
        epoch = registry.epoch
        page = feed.approvals_page(registry.db, county, cursor, limit, epoch=epoch, season=registry.season)
        etag = f'"{epoch}-{page.head_seq}"'
        if if_none_match == etag and not page.items:
            return Response(status_code=304, headers={"ETag": etag})
        return _json(page, headers={"ETag": etag})

    @app.get("/v1/counties/{county}/approvals/digest", response_model=ApprovalsDigest, responses=_errors())
    def approvals_digest(request: Request, county: County) -> Response:
        for_county(request, county)
        return _json(feed.approvals_digest(registry.db, county))

    @app.post(
        "/v1/stations/{station_id}/batches",
        response_model=BatchResponse,
        responses=_errors(409, 413, 415, 422, 429, 503),
        openapi_extra=_BATCH_BODY,
    )
    async def push_batch(
        request: Request,
        station_id: StationId,
        idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=200)],
    ) -> Response:
        identity = await run_in_threadpool(for_station, request, station_id)
        retry_after = faults.take_retry_after()
        if retry_after is not None:
            status = faults.retry_after_status
            raise ApiError(status, "RETRY_LATER", "the registry asks to wait", retry_after_s=retry_after)
        body = await _read_body(request, settings.max_batch_bytes)
        _check_content_digest(request.headers.get("content-digest"), body)
        parts = multipart.parse(body, request.headers.get("content-type"))
        batch_parts = [p for p in parts if p.name == BATCH_PART_NAME]
        if len(batch_parts) != 1:
            raise ApiError(400, "MALFORMED_BATCH", "exactly one part named 'batch' is required")
        photos: dict[str, bytes] = {}
        for part in parts:
            if part.name.startswith(PHOTO_PART_PREFIX):
                photos[part.name[len(PHOTO_PART_PREFIX) :].lower()] = bytes(part.data)
            elif part.name != BATCH_PART_NAME:
                raise ApiError(400, "MALFORMED_BATCH", "parts are 'batch' and 'sha256:<hex>' only")
        if any(len(name) != 64 for name in photos):
            raise ApiError(400, "MALFORMED_BATCH", "photo parts are named sha256:<64 hex digits>")
        incoming = intake.parse_envelope(
            identity, station_id, idempotency_key, bytes(batch_parts[0].data), registry.season
        )
        await run_in_threadpool(intake.claim, registry, incoming)
        try:
            mismatched = await run_in_threadpool(intake.store_photos, registry, photos)
            await run_in_threadpool(faults.hold)
            response = await run_in_threadpool(intake.process, registry, identity, incoming, mismatched)
        except BaseException:
            await run_in_threadpool(intake.finish, registry, incoming.envelope.batch_id, None)
            raise
        if faults.take("fail_after_commit"):
            await run_in_threadpool(intake.finish, registry, incoming.envelope.batch_id, None)
            raise ApiError(500, "INJECTED_FAULT", "fault hook fail_after_commit")
        await run_in_threadpool(intake.finish, registry, incoming.envelope.batch_id, response)
        if faults.take("drop_after_commit"):
            transport = request.scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
            if transport is not None:
                transport.abort()
            raise ApiError(500, "INJECTED_FAULT", "fault hook drop_after_commit")
        if faults.slow_response_bps > 0:
            payload = response.model_dump_json(exclude_none=True).encode()
            return StreamingResponse(
                _trickle(payload, faults.slow_response_bps),
                media_type="application/json",
                headers={"Content-Length": str(len(payload))},
            )
        return _json(response)

    @app.post("/v1/blobs/missing", response_model=MissingBlobsResponse, responses=_errors())
    def missing_blobs(request: Request, body: MissingBlobsRequest) -> Response:
        registry.ensure_station(peer_identity(request))
        missing = [sha for sha in dict.fromkeys(body.hashes) if not registry.blobs.exists(sha)]
        return _json(MissingBlobsResponse(missing=missing))

    @app.post(
        "/v1/stations/{station_id}/records/status", response_model=RecordsStatusResponse, responses=_errors()
    )
    def records_status(request: Request, station_id: StationId, body: RecordsStatusRequest) -> Response:
        for_station(request, station_id)
        return _json(ledger.records_status(registry, station_id, body.record_ids))

    @app.get("/v1/stations/{station_id}/ledger", response_model=LedgerPage, responses=_errors(410))
    def station_ledger(
        request: Request, station_id: StationId, cursor: CursorQuery = None, limit: LimitQuery = 500
    ) -> Response:
        for_station(request, station_id)
        return _json(ledger.ledger_page(registry, station_id, cursor, limit))

    @app.get("/v1/stations/{station_id}/ledger/digest", response_model=LedgerDigest, responses=_errors())
    def station_ledger_digest(request: Request, station_id: StationId) -> Response:
        for_station(request, station_id)
        return _json(ledger.ledger_digest(registry, station_id))

    _install_openapi(app)
    app.add_middleware(GzipGets)
    app.add_middleware(ProtocolHeaders)
    return app


def _install_openapi(app: FastAPI) -> None:
    """Drop FastAPI's automatic 422 validation responses: this API answers 400 for those."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if not path.endswith("/batches"):
                        responses.pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
