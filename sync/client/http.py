"""The registry HTTP session, configured as docs/sync-protocol.md §3.4 says.

One ``requests.Session`` per sync thread: ``trust_env=False`` (no ``REQUESTS_CA_BUNDLE``/``HTTPS_PROXY``
surprises), the private CA as the only trust anchor and the station certificate, both inside an
in-memory ``ssl.SSLContext`` (``tlsmaterial``), an explicit proxy from the station settings, a
``(connect, read)`` timeout on every call, and no urllib3 retries: every retry belongs to the engine,
which repeats the same key and the same bytes.

``requests`` has no total timeout, so each call has a wall-clock deadline: the upload body is a
file-like object whose ``read`` refuses once the deadline has passed, and the response is streamed with
``read1`` and a clock check after every chunk (a 1 byte/s trickle cannot keep a call alive). Every
answer must carry ``X-Registry-Protocol: 1``: a 2xx without it (a captive portal, a block page) or with
a body that does not match the schema is a transport failure, never a result.

A certificate the registry's TLS layer refuses reaches the client as a closed connection, not as the
TLS alert saying why: under TLS 1.3 the server checks the client certificate after the client sent its
request, and asyncio servers (uvicorn) drop the connection without flushing the alert. When the ping
fails that way, ``probe_client_certificate`` completes a handshake on a fresh connection and only
listens: the registry never speaks first and waits many seconds for a request, so a connection closed
at once -- twice in a row, with a certificate that passed the local checks (not expired, from the
registry's CA) -- means the registry most likely refuses this certificate: ``CERT_REFUSED``, not an
endless "offline". It is an inference, not the registry's word (a TLS-terminating load balancer with no
node behind it closes connections the same way), so the engine suspends rather than halts on it. An alert
that does arrive, or the app's 403, is the registry's word: ``CERT_REVOKED``.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from sync.client.errors import (
    BatchTooLarge,
    FatalSyncError,
    ResyncRequired,
    RetryLater,
    SyncError,
    TransportError,
)
from sync.client.tlsmaterial import Credentials, check_client_certificate, client_context
from sync.protocol.wire import (
    LEDGER_DIGEST_HEADER,
    LEDGER_DIGEST_PREFERENCE,
    MAX_BATCH_BYTES_HEADER,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    LedgerDigest,
    parse_ledger_digest,
)

Model = TypeVar("Model", bound=BaseModel)
USER_AGENT = "capture-station/1"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 20.0  # also bounds every stalled send() of an upload (§3.4): not 3 s on 64 kbit/s
    read_s: float = 60.0  # per socket read, not per request
    deadline_base_s: float = 60.0  # total per attempt: base + bytes / min_goodput
    min_goodput_bps: float = 4_000.0  # bytes/s: about 32 kbit/s, below the slowest link profile

    def deadline_for(self, upload_bytes: int) -> float:
        return self.deadline_base_s + upload_bytes / self.min_goodput_bps


@dataclass
class Answer:
    status: int
    headers: requests.structures.CaseInsensitiveDict
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _DeadlineBody(io.RawIOBase):
    """An upload body that stops being readable when the attempt's deadline has passed."""

    def __init__(self, data: bytes, deadline: float) -> None:
        self._data = memoryview(data)
        self._offset = 0
        self._deadline = deadline
        self.expired = False

    def readable(self) -> bool:
        return True

    def __len__(self) -> int:  # with tell(), lets requests send Content-Length, not chunked encoding
        return len(self._data)

    def tell(self) -> int:
        return self._offset

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self._deadline:
            self.expired = True
            raise TimeoutError("attempt deadline passed during the upload")
        end = len(self._data) if size is None or size < 0 else min(len(self._data), self._offset + size)
        chunk = bytes(self._data[self._offset : end])
        self._offset = end
        return chunk


class _PrivateCaAdapter(HTTPAdapter):
    """Every connection uses our SSL context; requests must not add certifi's public CAs to it."""

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        self._context = context
        super().__init__(pool_connections=1, pool_maxsize=2, max_retries=0)

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn, url, verify, cert) -> None:  # type: ignore[no-untyped-def]
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class RegistrySession:
    """Calls to one registry for one station; ``close()`` when done."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        proxy_url: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        if not base_url.startswith("https://"):
            raise FatalSyncError("BAD_URL", "the registry URL must start with https://")
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = True
        self.session.headers["User-Agent"] = USER_AGENT
        if proxy_url:
            self.session.proxies = {"https": proxy_url}
        check_client_certificate(credentials)
        self._context = client_context(credentials)
        self.proxy_url = proxy_url
        self.session.mount("https://", _PrivateCaAdapter(self._context))
        self.clock_offset_s: float | None = None  # station clock minus registry clock
        self.max_batch_bytes: int | None = None
        self.round_trip_s: float | None = None  # estimated at ping (see ``ping``)
        self.ledger_digest: LedgerDigest | None = None  # from the last batch answer (§9.3)
        self.bytes_up = 0  # request bodies handed to the socket (attempted)
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ calls

    def ping(self) -> None:
        """``GET /v1/ping``: proves reachability, auth, proxy and portal; reads limits and clock skew."""
        started = time.monotonic()
        try:
            answer = self.request("GET", "/v1/ping")
        except TransportError as error:
            if error.code in ("RESET", "TLS_HANDSHAKE", "TRUNCATED", "CONNECTION"):
                refusal = self.probe_client_certificate()
                if refusal is not None:
                    raise refusal from None
            raise
        if answer.status != 204:
            raise TransportError(
                "NOT_PROTOCOL", f"ping answered {answer.status}, not 204", status=answer.status
            )
        # The first call of a session opens the connection: TLS handshake and request, two round trips.
        self.round_trip_s = (time.monotonic() - started) / 2
        limit = answer.headers.get(MAX_BATCH_BYTES_HEADER, "")
        self.max_batch_bytes = int(limit) if limit.isdigit() else None
        date = answer.headers.get("Date")
        if date:
            try:
                self.clock_offset_s = round(
                    (datetime.now(UTC) - parsedate_to_datetime(date)).total_seconds(), 1
                )
            except (TypeError, ValueError):
                self.clock_offset_s = None

    def probe_client_certificate(self, rounds: int = 2) -> SyncError | None:
        """The registry's TLS verdict on this station's certificate, if it refuses it (None otherwise)."""
        if self.proxy_url:
            return None  # through a CONNECT proxy the diagnosis is not worth a second code path
        parts = urlsplit(self.base_url)
        host, port = parts.hostname or "", parts.port or 443
        for _ in range(rounds):
            try:
                with (
                    socket.create_connection((host, port), timeout=self.timeouts.connect_s) as raw,
                    self._context.wrap_socket(raw, server_hostname=host) as tls,
                ):
                    tls.settimeout(min(self.timeouts.read_s, 3.0))
                    if tls.recv(1):  # the registry never speaks first: this is not it
                        return None
            except ssl.SSLError as error:
                refusal = classify_exception(requests.exceptions.SSLError(error))
                return refusal if isinstance(refusal, FatalSyncError) else None
            except OSError:  # a timeout (the certificate was accepted), or the network itself
                return None
        return FatalSyncError(
            "CERT_REFUSED",
            "the registry closes this station's connections right after the TLS handshake "
            "(most likely a revoked certificate)",
        )

    def get_model(self, path: str, model: type[Model], params: dict[str, Any] | None = None) -> Model:
        answer = self.request("GET", path, params=params)
        return self._model(answer, model)

    def post_json(self, path: str, payload: dict[str, Any], model: type[Model]) -> Model:
        body = json.dumps(payload).encode()
        answer = self.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        return self._model(answer, model)

    def post_batch(
        self,
        path: str,
        body: bytes,
        content_type: str,
        key: str,
        model: type[Model],
        *,
        want_ledger_digest: bool = False,
    ) -> Model:
        """Send one batch; with ``want_ledger_digest`` it asks (``Prefer: ledger-digest``) for the station's
        ledger digest, which ``ledger_digest`` then holds if the answer carried it."""
        headers = {"Content-Type": content_type, "Idempotency-Key": f'"{key}"'}
        if want_ledger_digest:
            headers["Prefer"] = LEDGER_DIGEST_PREFERENCE
        self.ledger_digest = None
        answer = self.request("POST", path, body=body, headers=headers)
        result = self._model(answer, model)
        self.ledger_digest = parse_ledger_digest(answer.headers.get(LEDGER_DIGEST_HEADER))
        return result

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One attempt within its deadline; raises a typed ``SyncError`` for anything but a usable answer."""
        deadline = time.monotonic() + self.timeouts.deadline_for(len(body or b""))
        stream = _DeadlineBody(body, deadline) if body is not None else None
        send_headers = dict(headers or {})
        if body is not None:
            send_headers["Content-Length"] = str(len(body))
            self.bytes_up += len(body)
        self.requests += 1
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=stream,
                headers=send_headers,
                timeout=(self.timeouts.connect_s, self.timeouts.read_s),
                stream=True,
                allow_redirects=False,
            )
            try:
                content = _read_within(response, deadline)
            finally:
                response.close()
        except SyncError:
            raise
        except requests.exceptions.RequestException as error:
            if stream is not None and stream.expired:
                raise TransportError(
                    "DEADLINE", "the attempt's total deadline passed during the upload"
                ) from None
            raise classify_exception(error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:  # raised while streaming the answer
            raise _classify_stream_error(error) from None
        answer = Answer(response.status_code, response.headers, content)
        check_status(answer)
        return answer

    @staticmethod
    def _model(answer: Answer, model: type[Model]) -> Model:
        try:
            return model.model_validate_json(answer.body)
        except ValidationError:
            raise TransportError(
                "NOT_PROTOCOL", f"a {answer.status} answer whose body is not a {model.__name__}"
            ) from None


def _read_within(response: requests.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    raw = response.raw
    while True:
        if time.monotonic() > deadline:
            raise TransportError("DEADLINE", "the attempt's total deadline passed while reading the answer")
        chunk = raw.read1(_CHUNK, decode_content=True) if hasattr(raw, "read1") else raw.read(_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _classify_stream_error(error: Exception) -> SyncError:
    if "CERTIFICATE_REVOKED" in repr(error):
        return FatalSyncError("CERT_REVOKED", "the registry revoked this station's certificate")
    if isinstance(error, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return TransportError("TIMEOUT", "the registry stopped answering mid-response")
    if isinstance(error, urllib3.exceptions.ProtocolError | urllib3.exceptions.DecodeError):
        return TransportError("TRUNCATED", "the answer was cut off")
    return TransportError("RESET", f"the connection failed mid-response ({type(error).__name__})")


def check_status(answer: Answer) -> None:
    """Turn a non-success answer (or a non-protocol one) into the typed error of §5.3 / §8.3."""
    status = answer.status
    if answer.headers.get(PROTOCOL_HEADER) != str(PROTOCOL_VERSION):
        if status == 407:
            raise FatalSyncError(
                "PROXY_AUTH_REQUIRED", "the proxy requires authentication (407)", status=status
            )
        if status == 413:
            raise BatchTooLarge("BATCH_TOO_LARGE", "a proxy refused the body size (413)", status=status)
        raise TransportError(
            "NOT_PROTOCOL",
            f"a {status} answer without {PROTOCOL_HEADER} (captive portal or proxy page?)",
            status=status,
        )
    if status in (200, 204, 304):
        return
    code, detail, retry_after = _error_body(answer)
    if status in (409, 429, 503, 425):
        raise RetryLater(code, detail, status=status, retry_after_s=retry_after)
    if status == 413:
        raise BatchTooLarge(code, detail, status=status)
    if status == 410:
        raise ResyncRequired(code, detail, status=status)
    if status in (408, 500, 502, 504):
        raise TransportError(code, detail, status=status)
    raise FatalSyncError(code, detail, status=status)


def _error_body(answer: Answer) -> tuple[str, str, float | None]:
    retry_after: float | None = None
    header = answer.headers.get("Retry-After", "")
    if header.strip().isdigit():
        retry_after = float(header)
    try:
        body = answer.json()
        return str(body.get("code", f"HTTP_{answer.status}")), str(body.get("detail", "")), retry_after
    except (ValueError, AttributeError):
        return f"HTTP_{answer.status}", "", retry_after


_CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_UNKNOWN",
)


def classify_exception(error: requests.exceptions.RequestException) -> SyncError:
    """Map a requests/urllib3 failure to a typed error: TLS trust problems are never retried."""
    text = repr(error)
    if "CERTIFICATE_REVOKED" in text:  # the TLS layer's alert, on the handshake or the first read
        return FatalSyncError("CERT_REVOKED", "the registry revoked this station's certificate")
    if isinstance(error, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            if "Hostname mismatch" in text or "IP address mismatch" in text:
                return FatalSyncError("TLS_HOSTNAME_MISMATCH", "the registry certificate names another host")
            if "certificate has expired" in text:
                return FatalSyncError("TLS_SERVER_CERT_EXPIRED", "the registry certificate has expired")
            return FatalSyncError(
                "TLS_INTERCEPTED_OR_WRONG_CA",
                "the server's certificate is not from the registry's CA: a TLS-inspecting proxy or the wrong "
                "server; ask for a TLS-inspection bypass for the registry host",
            )
        if any(alert in text for alert in _CLIENT_CERT_ALERTS):
            return FatalSyncError(
                "TLS_CLIENT_CERT_REJECTED",
                "the registry refused this station's certificate (expired or revoked?)",
            )
        return TransportError("TLS_HANDSHAKE", "the TLS connection failed before completing")
    if isinstance(error, requests.exceptions.ProxyError):
        if "407" in text:
            return FatalSyncError("PROXY_AUTH_REQUIRED", "the proxy requires authentication (407)")
        return TransportError("PROXY", "the proxy could not be reached or refused the connection")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return TransportError("CONNECT_TIMEOUT", "the connection could not be made in time")
    if isinstance(error, requests.exceptions.Timeout):
        return TransportError("TIMEOUT", "the registry did not answer in time")
    if isinstance(error, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return TransportError("TRUNCATED", "the answer was cut off")
    if isinstance(error, requests.exceptions.ConnectionError):
        if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
            return TransportError("DNS", "the registry host name cannot be resolved (DNS)")
        if "Connection refused" in text or "ConnectionRefused" in text:
            return TransportError("REFUSED", "the registry refused the connection (down?)")
        if "RemoteDisconnected" in text or "reset" in text.lower() or "aborted" in text.lower():
            return TransportError("RESET", "the connection was closed before the answer arrived")
        if "IncompleteRead" in text or "ProtocolError" in text:
            return TransportError("TRUNCATED", "the answer was cut off")
        return TransportError("CONNECTION", "the connection failed")
    return TransportError("TRANSPORT", type(error).__name__)
