"""The registry's HTTP API (FastAPI): the endpoints of docs/sync-protocol.md §5, put together.

``create_app(registry, faults=NO_FAULTS)`` is the composition: the routers of ``routers/`` (one per
area), the dependencies they share (``dependencies``: the registry, the fault hooks, the caller's
identity from the TLS client certificate), the error handlers and the ASGI layers (``middleware``:
protocol headers outermost, then the request guard bounding bodies, then gzip for GETs). The fault
hooks are an injected collaborator: production passes nothing and gets hooks that do nothing.

Errors are ``ErrorBody`` JSON with a machine code; validation failures are 400 (422 is reserved for a
reused Idempotency-Key). The OpenAPI document is served at /openapi.json and kept in the repository as
``sync/registry/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol.wire import PROTOCOL_VERSION
from sync.registry.core import Registry
from sync.registry.errors import AdminError, ApiError
from sync.registry.faults import NO_FAULTS, NoFaults
from sync.registry.middleware import GzipGets, ProtocolHeaders, RequestGuard
from sync.registry.routers import batches, blobs, feed, ledger, stations


def create_app(registry: Registry, *, faults: NoFaults = NO_FAULTS) -> FastAPI:
    app = FastAPI(
        title="Capture registry",
        version=str(PROTOCOL_VERSION),
        description="Station <-> registry sync protocol (docs/sync-protocol.md). Mutual TLS only.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.registry = registry
    app.state.faults = faults
    for area in (stations, feed, batches, ledger, blobs):
        app.include_router(area.router)
    _install_error_handlers(app)
    _install_openapi(app)
    settings = registry.settings
    app.add_middleware(GzipGets)
    app.add_middleware(
        RequestGuard,
        limit_for=lambda scope: body_limit(registry, scope),
        idle_timeout_s=lambda: settings.body_idle_timeout_s,
        min_rate_bps=lambda: settings.body_min_rate_bps,
    )
    app.add_middleware(ProtocolHeaders, clock=registry.now)
    return app


def body_limit(registry: Registry, scope: dict) -> tuple[int, str]:
    """Bytes a request body may have (and the 413 code): a batch up to ``max_batch_bytes``, other POSTs
    a small JSON document, GETs none."""
    if scope.get("method") != "POST":
        return 0, "BODY_TOO_LARGE"
    if scope.get("path", "").endswith("/batches"):
        return registry.settings.max_batch_bytes, "BATCH_TOO_LARGE"
    return registry.settings.max_json_bytes, "BODY_TOO_LARGE"


def _install_error_handlers(app: FastAPI) -> None:
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
