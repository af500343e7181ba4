"""Certificate renewal, station side: a new key and a CSR before the current certificate runs out.

Station certificates are short-lived (90 days by default); the engine calls ``renew`` in a session
whose certificate has less than ``Policy.renew_within_s`` left. The new key is made here and never
leaves the station; the registry answers a certificate for it (``POST /v1/stations/{id}/renew`` over
mutual TLS with the current certificate). The answer is checked before it is kept -- issued by the
registry's CA, for this key, naming the same station and county, valid longer than the current one
-- and then saved through the station's credentials port. The current certificate stays valid until
it expires, so a lost answer costs nothing: the next session renews again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.client.errors import SyncError
from sync.client.tlsmaterial import Credentials
from sync.protocol.wire import RenewResponse


class RenewalRefused(SyncError):
    """The registry's answer cannot be used as this station's new certificate."""


def seconds_left(credentials: Credentials, now: datetime | None = None) -> float:
    cert = x509.load_pem_x509_certificate(credentials.cert_pem.encode())
    return (cert.not_valid_after_utc - (now or datetime.now(UTC))).total_seconds()


def renew(session, station_id: str, credentials: Credentials) -> Credentials:  # type: ignore[no-untyped-def]
    """Ask the registry for a certificate for a new key; the checked new credentials."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, station_id)]))
        .sign(key, hashes.SHA256())
    )
    answer = session.post_json(
        f"/v1/stations/{station_id}/renew",
        {"csr_pem": csr.public_bytes(serialization.Encoding.PEM).decode("ascii")},
        RenewResponse,
    )
    current = x509.load_pem_x509_certificate(credentials.cert_pem.encode())
    try:
        renewed = x509.load_pem_x509_certificate(answer.cert_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise RenewalRefused("RENEWAL_BAD_ANSWER", "the registry's answer is not a certificate") from None
    if renewed.public_key() != key.public_key():
        raise RenewalRefused("RENEWAL_BAD_ANSWER", "the new certificate is not for the new key")
    if _station_names(renewed) != _station_names(current):
        raise RenewalRefused("RENEWAL_BAD_ANSWER", "the new certificate names another station")
    if renewed.not_valid_after_utc <= current.not_valid_after_utc:
        raise RenewalRefused("RENEWAL_BAD_ANSWER", "the new certificate does not last longer")
    if not any(
        _issued_by(renewed, ca) for ca in x509.load_pem_x509_certificates(credentials.ca_pem.encode())
    ):
        raise RenewalRefused("RENEWAL_BAD_ANSWER", "the new certificate is not from the registry's CA")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return Credentials(credentials.ca_pem, answer.cert_pem, key_pem)


def _station_names(cert: x509.Certificate) -> list[str]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted(sans.get_values_for_type(x509.UniformResourceIdentifier))


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False
