"""Revocation: the revoked-serial table every node shares, and the CRL file each TLS directory keeps.

``sync-registry pki revoke --dir DIR (--station ID | --serial HEX) [--db URL]`` adds serials to
``<DIR>/crl.pem`` (signed by the CA, replaced atomically; needs the CA key) and, with ``--db``, to the
database table ``revoked_certificates``. ``--station`` revokes every certificate the station was ever
given: those ``issued.jsonl`` lists and, with ``--db``, those the shared index lists
(``issuance.py``: issued, renewed through any node, or seen on a request).

Who honours what, without a restart:

- the app (``Revocations``, asked on every request) refuses a certificate whose serial is in the table
  (re-read at most every ``refresh_s``, one second by default: a revocation made through any node or
  host is honoured by every node within that) or in this node's CRL file (re-read when it changes;
  its new serials are copied into the table, so the other nodes see a revocation made with the file
  alone). This also refuses a keep-alive connection opened before the revocation;
- the TLS layer (``tls.CrlReloadingContext``) reloads ``crl.pem`` into the server's SSL context when
  the file changes, so a revoked certificate's next handshake fails. A node whose directory holds the
  CA key re-signs its ``crl.pem`` when the table lists serials the file lacks, so a revocation made on
  another host reaches this node's TLS layer too (a node without the CA key refuses in the app only).

A newer CRL must carry a strictly later ``lastUpdate`` for OpenSSL to prefer it over one it already
holds, and one dated in the future is passed over; ``write_crl`` therefore backdates ``lastUpdate`` by
five minutes and keeps it strictly increasing, so even two revocations within a second take effect.
Writers of one directory (the CLI, the nodes' processes) take ``crl.lock`` in turn.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def crl_lock(paths: TlsPaths) -> Iterator[None]:
    """One writer of ``crl.pem`` at a time (the CLI and every process of the nodes using the directory)."""
    fd = os.open(paths.root / "crl.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def add_to_crl(paths: TlsPaths, serials: dict[str, dt.datetime]) -> bool:
    """Re-sign ``crl.pem`` with ``serials`` (hex -> revocation time) added; False if all were listed."""
    with crl_lock(paths):
        current = read_crl(paths)
        revoked = {serial_hex(e.serial_number): e.revocation_date_utc for e in current} if current else {}
        if set(serials) <= set(revoked):
            return False
        for serial, when in serials.items():
            revoked.setdefault(serial, when)
        write_crl(paths, revoked)
        return True


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


def revoke(
    paths: TlsPaths, *, station_id: str | None = None, serial: str | None = None, db: Database | None = None
) -> list[str]:
    """Revoke a station's certificates (all it was ever given) or one serial; returns the serials.

    The CRL of ``paths`` is re-signed when the directory holds the CA key; with ``db`` the serials go
    into the shared table too (then a directory without the CA key is enough).
    """
    from sync.registry import issuance

    if (station_id is None) == (serial is None):
        raise PkiError("USAGE", "name a station or a serial")
    can_sign = paths.ca_key.exists()
    if not can_sign and db is None:
        load_ca(paths)  # raises NO_CA with the command that makes one
    if station_id is not None:
        wanted = {entry.serial for entry in issued(paths) if entry.station_id == station_id}
        if db is not None:
            wanted |= issuance.serials_of(db, station_id)
        if not wanted:
            raise PkiError("UNKNOWN_STATION", f"no certificate of {station_id} is known here")
    else:
        wanted = {parse_serial(serial or "")}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if can_sign:
        add_to_crl(paths, dict.fromkeys(wanted, now))
    if db is not None:
        record_revoked(db, wanted, station_id)
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
    """This node's view of the revoked serials: the shared table and its own CRL file (module docstring)."""

    def __init__(self, db: Database, tls_dir: Path | None, *, refresh_s: float = 1.0) -> None:
        self.db = db
        self.paths = TlsPaths(Path(tls_dir)) if tls_dir is not None else None
        self.refresh_s = refresh_s
        self._file_serials: frozenset[str] = frozenset()
        self._table_serials: frozenset[str] = frozenset()
        self._stamp: tuple[int, int] | None = None
        self._table_read_at: float | None = None
        self._lock = threading.Lock()

    def is_revoked(self, serial: str) -> bool:
        with self._lock:
            self._refresh_file()
            if self._table_read_at is None or time.monotonic() - self._table_read_at >= self.refresh_s:
                self._refresh_table()
            return serial in self._file_serials or serial in self._table_serials

    def _refresh_file(self) -> None:
        """Re-read ``crl.pem`` if it changed (a stat per request); copy new serials into the table."""
        if self.paths is None:
            return
        try:
            stat = self.paths.crl.stat()
        except FileNotFoundError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        crl = read_crl(self.paths)
        if crl is None:
            log.error("crl.pem is unreadable or not signed by the CA: keeping the revocations known so far")
            return
        serials = crl_serials(crl)
        new = serials - self._file_serials - self._table_serials
        self._file_serials, self._stamp = frozenset(serials), stamp
        if new:
            log.warning("the CRL revokes %d more certificate(s)", len(new))
            record_revoked(self.db, new)
            self._table_read_at = None  # read the table again now

    def _refresh_table(self) -> None:
        with self.db.read() as session:
            rows = session.execute(select(RevokedCertificate.serial, RevokedCertificate.revoked_at)).all()
        self._table_read_at = time.monotonic()
        serials = frozenset(serial for serial, _ in rows)
        if serials != self._table_serials:
            log.warning("the registry revokes %d certificate(s)", len(serials))
        self._table_serials = serials
        missing = {serial: at for serial, at in rows if serial not in self._file_serials}
        if missing and self.paths is not None and self.paths.ca_key.exists():
            # Revoked on another host: re-sign this directory's CRL so the TLS layer refuses them too.
            when = {s: dt.datetime.fromisoformat(at).replace(microsecond=0) for s, at in missing.items()}
            if add_to_crl(self.paths, when):
                log.warning("added %d certificate(s) revoked elsewhere to crl.pem", len(when))
            self._stamp = None
            self._refresh_file()
