"""The registry's private PKI: its CA, its server certificate and the station client certificates.

Layout of a TLS directory: ``ca.pem``/``ca.key`` (the CA), ``server.pem``/``server.key`` (for
``localhost`` and ``127.0.0.1``), one ``<station_id>.pem``/``<station_id>.key`` per station,
``issued.jsonl`` (every station certificate issued here or renewed by a node using this directory:
serial, station, county, expiry; a registry of several nodes keeps the shared index in its database,
``issuance.py``) and ``crl.pem`` (the revoked serials, signed by the CA; ``revocation.py``). A station
certificate names its station in a URI SAN ``urn:station:<county>:<station_id>`` (and in the CN),
carries the clientAuth usage, and is what the registry maps to the caller's station and county.
Station certificates are short-lived (``STATION_CERT_DAYS``) and renewed by the station before they
expire (``POST /v1/stations/{id}/renew``), so a lost station is shut out by revocation and by time.
Keys are EC P-256, written unencrypted with mode 0600 (``requests`` needs an unencrypted key).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sync.protocol import codes
from sync.protocol.wire import STATION_ID_RE

URN_PREFIX = "urn:station:"
STATION_CERT_DAYS = 90
_URN_RE = re.compile(r"^urn:station:(15[0-9]{4}):([A-Za-z0-9][A-Za-z0-9._-]{0,63})$")


class PkiError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class StationIdentity:
    station_id: str
    county: str
    serial: str = ""  # the presenting certificate's serial number, lower-case hex
    not_after: str = ""  # the presenting certificate's expiry (ISO 8601), for the issuance index


@dataclass(frozen=True)
class TlsPaths:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server.key"

    def station_cert(self, station_id: str) -> Path:
        return self.root / f"{check_station_id(station_id)}.pem"

    def station_key(self, station_id: str) -> Path:
        return self.root / f"{check_station_id(station_id)}.key"

    @property
    def crl(self) -> Path:
        return self.root / "crl.pem"

    @property
    def index(self) -> Path:
        return self.root / "issued.jsonl"


def serial_hex(serial: int) -> str:
    return format(serial, "x")


@dataclass(frozen=True)
class Issued:
    """One line of ``issued.jsonl``."""

    serial: str
    station_id: str
    county: str
    not_after: str
    issued_at: str


def record_issued(paths: TlsPaths, cert: x509.Certificate, identity: StationIdentity) -> None:
    """Append to the issuance index under an exclusive lock (the CLI and serving nodes share it)."""
    line = json.dumps(
        {
            "serial": serial_hex(cert.serial_number),
            "station_id": identity.station_id,
            "county": identity.county,
            "not_after": cert.not_valid_after_utc.isoformat(),
            "issued_at": _now().isoformat(),
        }
    )
    fd = os.open(paths.index, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")


def issued(paths: TlsPaths) -> list[Issued]:
    if not paths.index.exists():
        return []
    with paths.index.open(encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        return [Issued(**json.loads(line)) for line in handle if line.strip()]


def check_station_id(station_id: str) -> str:
    if not STATION_ID_RE.match(station_id) or station_id in {"ca", "server"}:
        raise PkiError("BAD_STATION_ID", f"station id {station_id!r} must match {STATION_ID_RE.pattern}")
    return station_id


def check_county(county: str) -> str:
    if codes.county(county) is None:
        raise PkiError("BAD_COUNTY", f"{county!r} is not a current registering county")
    return county


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def make_ca(common_name: str = "Capture Registry Private CA", days: int = 3650):
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    sans: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    public_key=None,  # type: ignore[no-untyped-def]
):
    """A leaf certificate signed by the CA, and its new key (None when ``public_key`` was given)."""
    key = _new_key() if public_key is None else None
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key if public_key is not None else key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def load_ca(paths: TlsPaths):
    if not paths.ca_cert.exists() or not paths.ca_key.exists():
        raise PkiError("NO_CA", f"no CA in {paths.root}; run `sync-registry pki init --dir {paths.root}`")
    cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    return cert, key


def init_pki(root: Path) -> list[Path]:
    """Create the CA and the server certificate if missing; returns the files written."""
    paths = TlsPaths(Path(root))
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    if not paths.ca_cert.exists():
        ca_cert, ca_key = make_ca()
        _write_key(paths.ca_key, ca_key)
        _write_cert(paths.ca_cert, ca_cert)
        written += [paths.ca_cert, paths.ca_key]
    if not paths.server_cert.exists():
        ca_cert, ca_key = load_ca(paths)
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert, key = issue(ca_cert, ca_key, "localhost", sans, ExtendedKeyUsageOID.SERVER_AUTH)
        _write_key(paths.server_key, key)
        _write_cert(paths.server_cert, cert)
        written += [paths.server_cert, paths.server_key]
    return written


def issue_station(
    root: Path,
    county: str,
    station_id: str,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = STATION_CERT_DAYS,
) -> tuple[Path, Path]:
    """Write ``<station_id>.pem``/``.key`` signed by the CA in ``root`` (valid ``days`` unless given)."""
    paths = TlsPaths(Path(root))
    check_county(county)
    check_station_id(station_id)
    ca_cert, ca_key = load_ca(paths)
    cert, key = issue(
        ca_cert,
        ca_key,
        station_id,
        [x509.UniformResourceIdentifier(f"{URN_PREFIX}{county}:{station_id}")],
        ExtendedKeyUsageOID.CLIENT_AUTH,
        not_before=not_before,
        not_after=not_after or _now() + dt.timedelta(days=days),
    )
    record_issued(paths, cert, StationIdentity(station_id, county))
    _write_key(paths.station_key(station_id), key)
    _write_cert(paths.station_cert(station_id), cert)
    return paths.station_cert(station_id), paths.station_key(station_id)


def issue_for_key(root: Path, identity: StationIdentity, public_key, days: int) -> x509.Certificate:  # type: ignore[no-untyped-def]
    """A renewal: a certificate naming ``identity`` for a key the station generated (from its CSR)."""
    paths = TlsPaths(Path(root))
    ca_cert, ca_key = load_ca(paths)
    cert, _ = issue(
        ca_cert,
        ca_key,
        identity.station_id,
        [x509.UniformResourceIdentifier(f"{URN_PREFIX}{identity.county}:{identity.station_id}")],
        ExtendedKeyUsageOID.CLIENT_AUTH,
        not_after=_now() + dt.timedelta(days=days),
        public_key=public_key,
    )
    record_issued(paths, cert, identity)
    return cert


@lru_cache(maxsize=1024)
def identity_from_pem(pem: str) -> StationIdentity | None:
    """The station a (TLS-verified) client certificate names, or None if it names none."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    for uri in sans.get_values_for_type(x509.UniformResourceIdentifier):
        match = _URN_RE.match(uri)
        if match:
            return StationIdentity(
                station_id=match.group(2),
                county=match.group(1),
                serial=serial_hex(cert.serial_number),
                not_after=cert.not_valid_after_utc.isoformat(),
            )
    return None


def certificate_not_after(pem: bytes) -> dt.datetime:
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc
