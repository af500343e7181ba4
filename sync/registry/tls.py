"""Serving the registry over mutual TLS with uvicorn, and handing the peer certificate to the app.

uvicorn verifies the client certificate (``ssl_cert_reqs=CERT_REQUIRED`` against ``ca.pem`` only:
the registry trusts its own CA and nothing else) but does not pass it to the ASGI app. ``PeerCertH11``
is uvicorn's h11 protocol with one addition: when a connection is made (after the TLS handshake), it
reads ``ssl_object.getpeercert(binary_form=True)`` and wraps the app so every request on that
connection carries the ASGI TLS extension ``scope["extensions"]["tls"]["client_cert_chain"]`` (PEM),
plus the transport (for the ``drop_after_commit`` fault hook).

``RegistryServer`` runs uvicorn in a thread on an already-bound socket (tests); ``serve`` runs it in
the foreground (the CLI); ``serve_workers`` runs several processes (PostgreSQL deployments).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sync.registry.app import TLS_EXTENSION, TRANSPORT_EXTENSION
from sync.registry.pki import TlsPaths


class PeerCertH11(H11Protocol):
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


def uvicorn_options(tls_dir: Path, host: str = "127.0.0.1", port: int = 0) -> dict:
    paths = TlsPaths(Path(tls_dir))
    for needed in (paths.ca_cert, paths.server_cert, paths.server_key):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} is missing; run `sync-registry pki init --dir {tls_dir}`")
    return {
        "host": host,
        "port": port,
        "http": PeerCertH11,
        "ws": "none",
        "lifespan": "off",
        "ssl_certfile": str(paths.server_cert),
        "ssl_keyfile": str(paths.server_key),
        "ssl_ca_certs": str(paths.ca_cert),  # the registry's own CA and nothing else
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "date_header": False,
        "server_header": False,
        "log_level": "warning",
        "access_log": False,  # URLs carry no personal data, but nothing needs the noise
        "timeout_keep_alive": 30,
    }


def uvicorn_config(app, tls_dir: Path, host: str = "127.0.0.1", port: int = 0) -> uvicorn.Config:
    return uvicorn.Config(app, **uvicorn_options(tls_dir, host, port))


def serve(app, tls_dir: Path, host: str, port: int) -> None:
    uvicorn.Server(uvicorn_config(app, tls_dir, host, port)).run()


def serve_workers(factory: str, tls_dir: Path, host: str, port: int, workers: int) -> None:
    """``workers`` processes sharing one listening socket; each builds its app with ``factory``."""
    uvicorn.run(factory, factory=True, workers=workers, **uvicorn_options(tls_dir, host, port))


class RegistryServer:
    """uvicorn in a background thread on 127.0.0.1 and a free port; ``url`` once started."""

    def __init__(self, app, tls_dir: Path, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"https://{host}:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(app, tls_dir, host, self.port))
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

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
