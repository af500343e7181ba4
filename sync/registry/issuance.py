"""The certificate issuance index in the database: what ``pki revoke --station`` revokes on any host.

A TLS directory keeps ``issued.jsonl`` (``pki.record_issued``), but a registry served by several nodes
on several hosts has several directories, and a renewal lands in the directory of whichever node
answered it. The table ``issued_certificates`` is the index every node shares. A certificate enters
it when it is issued with ``pki station --db``, when any node renews it, and when any node first sees
it on a request (``SeenCertificates``, once per serial per process), so a station's certificates are
all found there even if they were issued on a host that never wrote to this database.
"""

from __future__ import annotations

import datetime as dt
import threading

from cryptography import x509
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from sync.registry.db import Database, IssuedCertificate, iso, utc_now
from sync.registry.pki import StationIdentity, serial_hex

_TABLE = IssuedCertificate.__table__


def record(
    db: Database, identity: StationIdentity, *, serial: str, not_after: dt.datetime | None, source: str
) -> None:
    """Add one certificate to the index (kept as it is if already there)."""
    row = {
        "serial": serial,
        "station_id": identity.station_id,
        "county": identity.county,
        "not_after": not_after.isoformat() if not_after is not None else None,
        "recorded_at": iso(utc_now()),
        "source": source,
    }
    try:
        with db.write() as session:
            if session.get(IssuedCertificate, serial) is None:
                session.execute(insert(_TABLE).values(**row))
    except IntegrityError:  # another node recorded it at the same moment
        pass


def record_certificate(db: Database, cert: x509.Certificate, identity: StationIdentity, source: str) -> None:
    record(
        db, identity, serial=serial_hex(cert.serial_number), not_after=cert.not_valid_after_utc, source=source
    )


def serials_of(db: Database, station_id: str) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(_TABLE.c.serial).where(_TABLE.c.station_id == station_id)))


class SeenCertificates:
    """Records each certificate a node is shown (once per serial per process) in the index."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def saw(self, identity: StationIdentity) -> None:
        if not identity.serial or identity.serial in self._known:
            return
        not_after = dt.datetime.fromisoformat(identity.not_after) if identity.not_after else None
        record(self.db, identity, serial=identity.serial, not_after=not_after, source="seen")
        with self._lock:
            self._known.add(identity.serial)
