"""The enrollment file a county station imports to reach the registry (``sync-registry enroll``).

One UTF-8 JSON object, written with mode 0600 because it holds the station's private key::

    {
      "format": "capture-station-enrollment",
      "version": 1,
      "registry_url": "https://127.0.0.1:8443",     # base URL; the API lives under /v1
      "county": "150102",                           # the county the certificate is bound to
      "station_id": "ST-150102-01",                 # as in the certificate's URI SAN
      "ca_pem": "-----BEGIN CERTIFICATE-----...",   # the registry's private CA: trust ONLY this
      "cert_pem": "-----BEGIN CERTIFICATE-----...", # the station's client certificate
      "key_pem": "-----BEGIN PRIVATE KEY-----...",  # its unencrypted PKCS#8 key
      "cert_not_after": "2027-12-31T00:00:00+00:00",
      "photo_profile": "moe-480",                   # the photo profile the registry expects
      "issued_at": "2026-11-28T12:00:00+00:00"
    }

``read_enrollment`` validates a file and returns an ``Enrollment``; the station stores the three PEMs
where its HTTP session can use them (``verify=ca``, ``cert=(cert, key)``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sync.registry.db import iso, utc_now
from sync.registry.pki import TlsPaths, certificate_not_after, identity_from_pem, issue_station

FORMAT = "capture-station-enrollment"
VERSION = 1
DEFAULT_PHOTO_PROFILE = "moe-480"


class EnrollmentError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Enrollment:
    registry_url: str
    county: str
    station_id: str
    ca_pem: str
    cert_pem: str
    key_pem: str
    cert_not_after: str
    photo_profile: str
    issued_at: str
    format: str = FORMAT
    version: int = VERSION


def enroll(
    tls_dir: Path,
    county: str,
    station_id: str,
    url: str,
    output: Path,
    photo_profile: str = DEFAULT_PHOTO_PROFILE,
) -> Enrollment:
    """Issue the station certificate if missing, then write the enrollment file."""
    paths = TlsPaths(Path(tls_dir))
    if not paths.station_cert(station_id).exists() or not paths.station_key(station_id).exists():
        issue_station(paths.root, county, station_id)
    cert_pem = paths.station_cert(station_id).read_text()
    identity = identity_from_pem(cert_pem)
    if identity is None or identity.county != county or identity.station_id != station_id:
        raise EnrollmentError("CERT_MISMATCH", f"{station_id}.pem exists but names another county or station")
    if not url.startswith("https://"):
        raise EnrollmentError("BAD_URL", "the registry URL must be https://")
    enrollment = Enrollment(
        registry_url=url.rstrip("/"),
        county=county,
        station_id=station_id,
        ca_pem=paths.ca_cert.read_text(),
        cert_pem=cert_pem,
        key_pem=paths.station_key(station_id).read_text(),
        cert_not_after=iso(certificate_not_after(cert_pem.encode())),
        photo_profile=photo_profile,
        issued_at=iso(utc_now()),
    )
    data = json.dumps(asdict(enrollment), ensure_ascii=False, indent=2).encode("utf-8")
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return enrollment


def read_enrollment(path: Path) -> Enrollment:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EnrollmentError("UNREADABLE", f"cannot read the enrollment file: {error}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise EnrollmentError("NOT_ENROLLMENT", "not a capture-station enrollment file (version 1)")
    try:
        enrollment = Enrollment(**raw)
    except TypeError:
        raise EnrollmentError("FIELDS", "the enrollment file has missing or unknown fields") from None
    identity = identity_from_pem(enrollment.cert_pem)
    if identity is None or (identity.county, identity.station_id) != (
        enrollment.county,
        enrollment.station_id,
    ):
        raise EnrollmentError("CERT_MISMATCH", "the certificate does not name this county and station")
    return enrollment
