"""Certificate renewal (``POST /v1/stations/{id}/renew``): a new certificate for a key the station made.

The request arrives over mutual TLS with the station's current certificate, which is what
authenticates it (and ``Registry.authorize`` has refused it if that certificate is revoked or the
station is bound to another county). The body is a CSR: it proves the station holds the new private
key (its signature), and only its key is used -- the new certificate names the caller's station and
county as the current certificate does, whatever the CSR's subject says. A renewal is recorded in the
node's ``issued.jsonl`` and in the database's issuance index (``issuance``), so ``pki revoke --station``
shuts out renewed certificates too, whichever node renewed them. The current
certificate is not revoked: if the answer is lost, the station still holds a valid one and renews
again.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from sync.protocol.wire import RenewResponse
from sync.registry import issuance
from sync.registry.core import Registry
from sync.registry.errors import ApiError
from sync.registry.pki import StationIdentity, issue_for_key


def renew(registry: Registry, identity: StationIdentity, current_pem: str, csr_pem: str) -> RenewResponse:
    tls_dir = registry.settings.tls_dir
    if tls_dir is None or not (tls_dir / "ca.key").exists():
        raise ApiError(503, "RENEWAL_UNAVAILABLE", "this registry node cannot sign certificates")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
        signed = csr.is_signature_valid
    except (ValueError, UnicodeEncodeError):
        raise ApiError(400, "CSR_INVALID", "the body does not hold a PEM certificate request") from None
    if not signed:
        raise ApiError(400, "CSR_INVALID", "the request's signature does not verify")
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ApiError(400, "CSR_KEY_REFUSED", "station keys are EC P-256")
    current = x509.load_pem_x509_certificate(current_pem.encode("ascii"))
    if current.public_key() == key:
        raise ApiError(400, "CSR_SAME_KEY", "a renewal needs a new key")
    cert = issue_for_key(tls_dir, identity, key, registry.settings.cert_days)
    issuance.record_certificate(registry.db, cert, identity, "renewed")
    return RenewResponse(
        cert_pem=cert.public_bytes(Encoding.PEM).decode("ascii"), not_after=cert.not_valid_after_utc
    )
