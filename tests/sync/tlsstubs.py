"""TLS stand-ins for the network's own mischief: a captive portal and a TLS-inspecting proxy.

``PortalServer`` answers every request with ``200 text/html`` (a Wi-Fi login or block page) over TLS
with the certificate it is given: one from the registry's CA stands for a portal inside the trust
boundary (the protocol check must catch it), one from another CA for an intercepting proxy (the TLS
check must catch it).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from sync.registry.pki import TlsPaths, issue, load_ca, make_ca

PAGE = b"<html><body>Please log in to the guest network</body></html>"


def write_pair(directory: Path, cert, key) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_pair(
    directory: Path, *, tls_dir: Path | None = None, host: str = "127.0.0.1", expired: bool = False
) -> tuple[Path, Path]:
    """A server certificate for ``host``: from the registry CA in ``tls_dir``, or from a foreign CA."""
    if tls_dir is not None:
        ca_cert, ca_key = load_ca(TlsPaths(tls_dir))
    else:
        ca_cert, ca_key = make_ca("Inspection Proxy CA")
    try:
        name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        name = x509.DNSName(host)
    window = {}
    if expired:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
        window = {"not_before": past - dt.timedelta(days=400), "not_after": past}
    cert, key = issue(ca_cert, ca_key, host, [name], ExtendedKeyUsageOID.SERVER_AUTH, **window)
    return write_pair(directory, cert, key)


def expired_station_pair(tls_dir: Path, county: str, station_id: str) -> tuple[str, str]:
    from sync.registry.pki import issue_station

    scratch = tls_dir.parent / f"expired-{station_id}"
    scratch.mkdir(exist_ok=True)
    for name in ("ca.pem", "ca.key"):
        (scratch / name).write_bytes((tls_dir / name).read_bytes())
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    cert, key = issue_station(
        scratch, county, station_id, not_before=past - dt.timedelta(days=60), not_after=past
    )
    return cert.read_text(), key.read_text()


class PortalServer:
    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2)
            with self.context.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests += 1
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                    + f"Content-Length: {len(PAGE)}\r\n\r\n".encode()
                    + PAGE
                )
        except (OSError, ssl.SSLError):
            pass

    def __enter__(self) -> PortalServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
