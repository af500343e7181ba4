"""The ASGI layers around the API: protocol headers, bounded request bodies, gzip for feed pages.

``ProtocolHeaders`` (outermost): every response -- errors and 500s included -- carries
``X-Registry-Protocol: 1``, ``Cache-Control: no-store`` and ``Date``; an unhandled error becomes a
clean JSON 500 and one log line (method and path template only: paths carry station ids and county
codes, never personal data).

``RequestGuard``: every request body is bounded while it is read. A declared ``Content-Length`` over
the route's limit is answered 413 before a byte of the body is read; a body that grows past the limit
is refused at that point (a chunked upload cannot lie its way in); a body that stalls for
``body_idle_timeout_s``, or takes longer than 60 s plus its size at ``body_min_rate_bps``, is
answered 408. Whenever a response starts before the body was read to its end, it says
``Connection: close``, so the rest of the upload is never read. The refusals are ``ApiError``s raised
from ``receive``, so they reach the app's handlers with their own status and code.

``GzipGets``: GET responses (feed pages) are gzip'ed for clients that accept it; batch responses stay
byte-exact (the trickle fault hook counts bytes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import formatdate

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

from sync.protocol.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.registry.errors import ApiError

log = logging.getLogger("sync.registry.api")
BODY_DEADLINE_BASE_S = 60.0


class ProtocolHeaders:
    def __init__(self, app, clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.clock = clock  # the registry's clock, for the Date header (None: the system clock)

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
                    moment = self.clock().timestamp() if self.clock is not None else None
                    headers.append((b"date", formatdate(moment, usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except (
            ClientDisconnect
        ):  # the station's link dropped mid-request: nothing to answer, nothing wrong here
            log.info("the client disconnected during %s", scope.get("method"))
        except Exception:
            route = scope.get("route")
            where = getattr(route, "path", None) or "an unknown path"
            log.exception("unhandled error in %s %s", scope.get("method"), where)
            if not started:
                response = JSONResponse({"code": "INTERNAL", "detail": "internal error"}, status_code=500)
                await response(scope, receive, send_with_headers)


class RequestGuard:
    """Body size and time limits per request; ``limit_for(scope)`` names the route's byte limit and the
    code of its 413."""

    def __init__(
        self,
        app,
        limit_for: Callable[[dict], tuple[int, str]],
        *,
        idle_timeout_s: Callable[[], float],
        min_rate_bps: Callable[[], float],
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.idle_timeout_s = idle_timeout_s
        self.min_rate_bps = min_rate_bps

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, too_large = self.limit_for(scope)
        declared = _content_length(scope)
        chunked = any(name == b"transfer-encoding" for name, _ in scope.get("headers", []))
        state = {"received": 0, "complete": not declared and not chunked}  # no body announced: none comes

        async def send_closing(message) -> None:
            if message["type"] == "http.response.start" and not state["complete"]:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        if declared is not None and declared > limit:
            refusal = ApiError(413, too_large, f"at most {limit} bytes for this request")
            await JSONResponse(refusal.body(), status_code=413)(scope, receive, send_closing)
            return
        idle = self.idle_timeout_s()
        deadline = time.monotonic() + BODY_DEADLINE_BASE_S + (declared or limit) / self.min_rate_bps()

        async def guarded_receive():
            if state["complete"]:
                return await receive()
            wait = min(idle, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
            except TimeoutError:
                raise ApiError(408, "REQUEST_TIMEOUT", "the request body arrived too slowly") from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    raise ApiError(413, too_large, f"at most {limit} bytes for this request")
                if not message.get("more_body", False):
                    state["complete"] = True
            return message

        await self.app(scope, guarded_receive, send_closing)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class GzipGets:
    def __init__(self, app) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
