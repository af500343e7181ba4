"""Serving the registry over mutual TLS with uvicorn: the peer certificate, the CRL, slow clients.

TLS context (``CrlReloadingContext``, given to uvicorn's supported ``ssl_context_factory`` hook): TLS
>= 1.2, the client certificate required and verified against ``ca.pem`` only (the registry trusts its
own CA and nothing else), and checked against ``crl.pem`` (``VERIFY_CRL_CHECK_LEAF``). A watcher thread
re-loads the CRL into the live context when the file changes, so a certificate revoked with
``sync-registry pki revoke`` fails its next handshake without a restart (OpenSSL prefers the CRL with
the latest ``lastUpdate``; see ``revocation.write_crl``).

Peer certificate (``PeerCertH11``): uvicorn verifies the client certificate but does not pass it to the
ASGI app, and it offers no supported hook for that (the ASGI TLS extension is an open pull request,
Kludex/uvicorn#3132 and #3133), so this is the one subclass of a uvicorn internal: uvicorn's h11
protocol with ``connection_made`` extended to read ``ssl_object.getpeercert(binary_form=True)`` and put
it in every request's ``scope["extensions"]["tls"]["client_cert_chain"]`` (PEM), with the transport
(for the ``drop_after_commit`` fault hook). When uvicorn ships the extension, the app reads the same key.

Slow clients: uvicorn times out idle keep-alive connections (``timeout_keep_alive``) but not a client
that trickles its request headers, so the same protocol class closes a connection whose request
headers are not complete ``HEADER_TIMEOUT_S`` after it opened or after the previous response (a
deadline, not an idle timer: trickling bytes does not extend it). Request bodies are bounded in time
and size by the app's ``middleware.RequestGuard``.

``RegistryServer`` runs uvicorn in a thread on an already-bound socket (tests); ``serve_workers`` runs
one or more processes (the CLI).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sync.registry.dependencies import TLS_EXTENSION
from sync.registry.faults import TRANSPORT_EXTENSION
from sync.registry.pki import TlsPaths
from sync.registry.revocation import ensure_crl

log = logging.getLogger("sync.registry.tls")
HEADER_TIMEOUT_S = 20.0
KEEP_ALIVE_S = 30


class PeerCertH11(H11Protocol):
    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        extensions = {
            TLS_EXTENSION: {"client_cert_chain": chain, "client_cert_name": None, "client_cert_error": None},
            TRANSPORT_EXTENSION: transport,
        }
        inner = self.app

        async def app_with_peer(scope, receive, send):
            scope["extensions"] = {**scope.get("extensions", {}), **extensions}
            await inner(scope, receive, send)

        self.app = app_with_peer
        self._arm_header_deadline(self.header_timeout_s)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline(self.timeout_keep_alive + self.header_timeout_s)

    def _arm_header_deadline(self, seconds: float) -> None:
        handle = getattr(self, "_header_deadline", None)
        if handle is not None:
            handle.cancel()
        self._header_deadline = self.loop.call_later(seconds, self._header_deadline_passed)

    def _header_deadline_passed(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete  # no request is being served
        if waiting and not self.transport.is_closing():
            log.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()

    def connection_lost(self, exc) -> None:  # type: ignore[no-untyped-def]
        handle = getattr(self, "_header_deadline", None)
        if handle is not None:
            handle.cancel()
        super().connection_lost(exc)


class CrlReloadingContext:
    """uvicorn ``ssl_context_factory``: the mutual-TLS server context, with the CRL kept current.

    Picklable (uvicorn builds the context in each worker process); the watcher thread starts in the
    process that builds the context and stops with ``stop()`` (or with the process).
    """

    def __init__(self, tls_dir: Path, poll_s: float = 0.25) -> None:
        self.paths = TlsPaths(Path(tls_dir))
        self.poll_s = poll_s
        self._stop: threading.Event | None = None

    def __getstate__(self) -> dict:
        return {"paths": self.paths, "poll_s": self.poll_s, "_stop": None}

    def __call__(self, config: uvicorn.Config, default_factory) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
        context = default_factory()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        ensure_crl(self.paths)  # a PKI directory made before revocation existed gets an empty CRL
        crl = self.paths.crl
        if not crl.exists():
            log.warning("no %s: certificates cannot be revoked at the TLS layer", crl)
            return context
        context.load_verify_locations(cafile=str(crl))
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        self._stop = threading.Event()
        threading.Thread(
            target=self._watch, args=(context, self._stop), name="crl-watcher", daemon=True
        ).start()
        return context

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def _watch(self, context: ssl.SSLContext, stop: threading.Event) -> None:
        stamp = _stamp(self.paths.crl)
        while not stop.wait(self.poll_s):
            current = _stamp(self.paths.crl)
            if current == stamp or current is None:
                continue
            try:
                context.load_verify_locations(cafile=str(self.paths.crl))
                stamp = current
                log.warning("reloaded the CRL into the TLS layer")
            except ssl.SSLError:  # caught mid-replace or damaged: keep the CRLs already loaded
                log.error("crl.pem could not be loaded; keeping the revocations known so far")
                time.sleep(self.poll_s)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def uvicorn_options(
    tls_dir: Path, host: str = "127.0.0.1", port: int = 0, *, header_timeout_s: float = HEADER_TIMEOUT_S
) -> dict:
    paths = TlsPaths(Path(tls_dir))
    protocol = PeerCertH11
    if header_timeout_s != PeerCertH11.header_timeout_s:
        protocol = type("PeerCertH11", (PeerCertH11,), {"header_timeout_s": header_timeout_s})
    for needed in (paths.ca_cert, paths.server_cert, paths.server_key):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} is missing; run `sync-registry pki init --dir {tls_dir}`")
    return {
        "host": host,
        "port": port,
        "http": protocol,
        "ws": "none",
        "lifespan": "off",
        "ssl_certfile": str(paths.server_cert),
        "ssl_keyfile": str(paths.server_key),
        "ssl_ca_certs": str(paths.ca_cert),  # the registry's own CA and nothing else
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_context_factory": CrlReloadingContext(paths.root),
        "date_header": False,
        "server_header": False,
        "log_config": None,  # the registry configures logging itself (logs.py)
        "access_log": False,  # URLs carry no personal data, but nothing needs the noise
        "timeout_keep_alive": KEEP_ALIVE_S,
    }


def uvicorn_config(app, tls_dir: Path, host: str = "127.0.0.1", port: int = 0, **options) -> uvicorn.Config:
    return uvicorn.Config(app, **uvicorn_options(tls_dir, host, port, **options))


def serve(app, tls_dir: Path, host: str, port: int) -> None:
    uvicorn.Server(uvicorn_config(app, tls_dir, host, port)).run()


def serve_workers(factory: str, tls_dir: Path, host: str, port: int, workers: int) -> None:
    """``workers`` processes sharing one listening socket; each builds its app with ``factory``."""
    uvicorn.run(factory, factory=True, workers=workers, **uvicorn_options(tls_dir, host, port))


class RegistryServer:
    """uvicorn in a background thread on 127.0.0.1 and a free port; ``url`` once started."""

    def __init__(self, app, tls_dir: Path, host: str = "127.0.0.1", **options) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"https://{host}:{self.port}"
        self.config = uvicorn_config(app, tls_dir, host, self.port, **options)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, timeout: float = 20.0) -> RegistryServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("registry server did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()
        self.config.ssl_context_factory.stop()  # type: ignore[union-attr]

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
