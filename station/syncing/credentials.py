"""The registry credentials (the registry's CA, this station's certificate and private key).

They are imported from the enrollment file and kept among the store's secrets (sealed under the
database key, ``station.store.secrets``); they are read only to build the in-memory TLS context of a
session (``sync.client.tlsmaterial``). The engine renews the certificate before it expires and saves
the new one (with its new key) through ``StoredCredentials``.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509

from sync.client.tlsmaterial import Credentials

SECRET_NAMES = {
    "ca_pem": "registry.ca_pem",
    "cert_pem": "registry.cert_pem",
    "key_pem": "registry.key_pem",
}


def save_credentials(database, credentials: Credentials) -> None:  # type: ignore[no-untyped-def]
    database.secrets.put(
        {secret: getattr(credentials, field).encode() for field, secret in SECRET_NAMES.items()}
    )


def load_credentials(database) -> Credentials | None:  # type: ignore[no-untyped-def]
    values = {field: database.secrets.get(secret) for field, secret in SECRET_NAMES.items()}
    if any(not value for value in values.values()):
        return None
    return Credentials(**{field: value.decode() for field, value in values.items()})  # type: ignore[union-attr]


def certificate_expiry(database) -> datetime | None:  # type: ignore[no-untyped-def]
    """When this station's client certificate expires (UTC); None when not enrolled or unreadable."""
    credentials = load_credentials(database)
    if credentials is None:
        return None
    try:
        return x509.load_pem_x509_certificate(credentials.cert_pem.encode()).not_valid_after_utc
    except ValueError:
        return None


class StoredCredentials:
    """The sync engine's credentials port (``sync.client.ports.CredentialsPort``) over the store's secrets:
    each session reads the current credentials, and a renewed certificate is saved here."""

    def __init__(self, database) -> None:  # type: ignore[no-untyped-def]
        self.database = database

    def load(self) -> Credentials | None:
        return load_credentials(self.database)

    def save(self, credentials: Credentials) -> None:
        save_credentials(self.database, credentials)
