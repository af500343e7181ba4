"""Revocation: the CRL file and the revoked-serial table, honoured by the TLS layer and by the app.

``sync-registry pki revoke --dir DIR (--station ID | --serial HEX) [--db URL]`` adds serials to
``<DIR>/crl.pem`` (signed by the CA, replaced atomically) and, with ``--db``, to the database table
``revoked_certificates``. ``--station`` revokes every certificate the index ``issued.jsonl`` lists for
the station, renewals included.

Who honours what, without a restart:

- the TLS layer (``tls.CrlReloadingContext``) reloads ``crl.pem`` into the server's SSL context when
  the file changes, so a revoked certificate's next handshake fails;
- the app (``Revocations``, asked on every request) refuses a certificate whose serial is in the CRL
  file or in the table. A keep-alive connection opened before the revocation is refused this way, and
  so is a certificate revoked on another node sharing the database: the file's serials are copied into
  the table when the file changes.

A newer CRL must carry a strictly later ``lastUpdate`` for OpenSSL to prefer it over one it already
holds, and one dated in the future is passed over; ``write_crl`` therefore backdates ``lastUpdate`` by
five minutes and keeps it strictly increasing, so even two revocations within a second take effect.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.registry.db import Database, RevokedCertificate, iso, utc_now
from sync.registry.pki import PkiError, TlsPaths, issued, load_ca, serial_hex

log = logging.getLogger("sync.registry.revocation")
CRL_DAYS = 3650  # the CRL is read only by this registry; it is re-signed on every change


def read_crl(
    paths: TlsPaths, ca_cert: x509.Certificate | None = None
) -> x509.CertificateRevocationList | None:
    """The CRL in ``paths`` if it exists and the CA signed it; None otherwise."""
    try:
        crl = x509.load_pem_x509_crl(paths.crl.read_bytes())
        ca = ca_cert or x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    return crl if crl.is_signature_valid(ca.public_key()) else None


def crl_serials(crl: x509.CertificateRevocationList | None) -> set[str]:
    return {serial_hex(entry.serial_number) for entry in crl} if crl is not None else set()


def write_crl(paths: TlsPaths, revoked: dict[str, dt.datetime]) -> None:
    """Sign a CRL listing ``revoked`` (hex serial -> revocation time) and replace ``crl.pem`` atomically."""
    ca_cert, ca_key = load_ca(paths)
    previous = read_crl(paths, ca_cert)
    # Backdated a little, so a CRL written right after another is already valid when OpenSSL compares them.
    last_update = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    if previous is not None and previous.last_update_utc >= last_update:
        last_update = previous.last_update_utc + dt.timedelta(seconds=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(last_update)
        .next_update(last_update + dt.timedelta(days=CRL_DAYS))
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(serial, 16)).revocation_date(when).build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())
    tmp = paths.crl.with_name(f".crl.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(crl.public_bytes(serialization.Encoding.PEM))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, paths.crl)


def ensure_crl(paths: TlsPaths) -> bool:
    """Write an empty CRL if there is none (the TLS layer needs one to check against); True if written."""
    if paths.crl.exists() or not paths.ca_key.exists():
        return False
    write_crl(paths, {})
    return True


def parse_serial(text: str) -> str:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return serial_hex(int(cleaned, 16))
    except ValueError:
        raise PkiError("BAD_SERIAL", "a serial number is hexadecimal") from None


def revoke(paths: TlsPaths, *, station_id: str | None = None, serial: str | None = None) -> list[str]:
    """Add a station's certificates (all it was ever issued) or one serial to the CRL; returns the serials."""
    if (station_id is None) == (serial is None):
        raise PkiError("USAGE", "name a station or a serial")
    if station_id is not None:
        wanted = {entry.serial for entry in issued(paths) if entry.station_id == station_id}
        if not wanted:
            raise PkiError("UNKNOWN_STATION", f"no certificate was issued to {station_id} from {paths.root}")
    else:
        wanted = {parse_serial(serial or "")}
    current = read_crl(paths)
    revoked = {serial_hex(e.serial_number): e.revocation_date_utc for e in current} if current else {}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for item in wanted:
        revoked.setdefault(item, now)
    write_crl(paths, revoked)
    return sorted(wanted)


def record_revoked(db: Database, serials: set[str], station_id: str | None = None) -> int:
    """Add serials to the table (already present ones are kept); returns how many were new."""
    added = 0
    for serial in sorted(serials):
        try:
            with db.write() as session:
                if session.get(RevokedCertificate, serial) is None:
                    session.add(
                        RevokedCertificate(serial=serial, station_id=station_id, revoked_at=iso(utc_now()))
                    )
                    added += 1
        except IntegrityError:  # another node recorded it at the same moment
            continue
    return added


class Revocations:
    """The app's view: revoked serials from the CRL file (re-read when it changes) and from the table."""

    def __init__(self, db: Database, tls_dir: Path | None, *, check_interval_s: float = 0.0) -> None:
        self.db = db
        self.paths = TlsPaths(Path(tls_dir)) if tls_dir is not None else None
        self.check_interval_s = check_interval_s
        self._file_serials: frozenset[str] = frozenset()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def is_revoked(self, serial: str) -> bool:
        self._refresh()
        if serial in self._file_serials:
            return True
        with self.db.read() as session:
            return (
                session.scalar(select(RevokedCertificate.serial).where(RevokedCertificate.serial == serial))
                is not None
            )

    def _refresh(self) -> None:
        if self.paths is None or time.monotonic() - self._checked < self.check_interval_s:
            return
        with self._lock:
            self._checked = time.monotonic()
            try:
                stat = self.paths.crl.stat()
            except FileNotFoundError:
                return
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp:
                return
            crl = read_crl(self.paths)
            if crl is None:
                log.error(
                    "crl.pem is unreadable or not signed by the CA: keeping the revocations known so far"
                )
                return
            serials = crl_serials(crl)
            new = serials - self._file_serials
            self._file_serials, self._stamp = frozenset(serials), stamp
        if new:
            log.warning("the CRL revokes %d more certificate(s)", len(new))
            record_revoked(self.db, new)
