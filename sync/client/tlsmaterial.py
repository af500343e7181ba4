"""TLS material for the registry session, kept off the disk in plaintext.

The station's client key lives in the encrypted station database; it is materialised only to build
an ``ssl.SSLContext``. Python's ``ssl`` loads a key only from a path, so on Linux the PEM is written to
an anonymous memory file (``memfd_create``: it has no name in any directory and vanishes with the
descriptor) and loaded through ``/proc/self/fd/N``; elsewhere a 0600 file in a private temporary
directory is used and deleted right after ``load_cert_chain``. The CA is loaded from memory
(``cadata``) and is the only trust anchor: no system store, no certifi (docs/sync-protocol.md §3.1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from sync.client.errors import FatalSyncError


@dataclass(frozen=True)
class Credentials:
    ca_pem: str
    cert_pem: str
    key_pem: str

    def __repr__(self) -> str:  # never print the key
        return "Credentials(<ca>, <cert>, <key>)"


@contextlib.contextmanager
def _pem_path(pem: str) -> Iterator[str]:
    data = pem.encode("ascii")
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("station-client-key", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    directory = tempfile.mkdtemp(prefix="station-tls-")  # 0700
    path = os.path.join(directory, "client.pem")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def check_client_certificate(credentials: Credentials, now: datetime | None = None) -> None:
    """Refuse, before any traffic, a client certificate that is expired or not from the registry's CA.

    Under TLS 1.3 the registry's refusal of a client certificate reaches the client only as a closed
    connection, indistinguishable from a network reset; checking locally keeps these cases out of the
    retry loop and names them for the operator.
    """
    try:
        cert = x509.load_pem_x509_certificate(credentials.cert_pem.encode())
        cas = x509.load_pem_x509_certificates(credentials.ca_pem.encode())
    except ValueError:
        raise FatalSyncError("BAD_CREDENTIALS", "the stored certificate or CA cannot be read") from None
    moment = now or datetime.now(UTC)
    if cert.not_valid_after_utc < moment:
        raise FatalSyncError(
            "TLS_CLIENT_CERT_EXPIRED", "this station's certificate has expired: enroll again"
        )
    if cert.not_valid_before_utc > moment:
        raise FatalSyncError(
            "TLS_CLIENT_CERT_NOT_YET_VALID", "this station's certificate is not valid yet (clock?)"
        )
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    raise FatalSyncError(
        "TLS_CLIENT_CERT_WRONG_CA", "this station's certificate is not from the registry's CA"
    )


def client_context(credentials: Credentials) -> ssl.SSLContext:
    """TLS >= 1.2 client context: verify the server against the private CA only; present our cert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_verify_locations(cadata=credentials.ca_pem)
        with _pem_path(credentials.cert_pem.rstrip() + "\n" + credentials.key_pem) as path:
            context.load_cert_chain(path)
    except (ssl.SSLError, ValueError, OSError) as error:
        raise FatalSyncError(
            "BAD_CREDENTIALS", f"the stored CA, certificate or key cannot be used ({type(error).__name__})"
        ) from None
    return context
