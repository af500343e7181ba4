"""The registry service object: settings, database, blob store, season and epoch, clock, who may call.

``Registry.open(settings)`` is what the HTTP app, the CLI and the tests share. The database must have
been initialised (``sync-registry init``), which fixes the season and the feed epoch, and be at the
schema head (else ``sync-registry migrate``). Everything a request needs that must agree across nodes
lives in the database: stations and their counties, revoked serials, the issuance index, counters and,
on PostgreSQL, the photos; a node keeps nothing else, so any number of them can serve one database.

``authorize`` runs on every request: the caller's certificate must not be revoked
(``revocation.Revocations``: the shared table, at most ``revocation_refresh_s`` old, and this node's
CRL file), and its station id is bound to one county in the database on first contact and for ever
after, so a certificate naming a known station under another county is refused however many requests
came before. A binding never changes, so a node remembers the ones it has read; the comparison with
the certificate's county is made on every request.

``now()`` is the registry's clock (``Settings.clock``): receipt times, the deadline and the
plausibility of capture times all read it, so tests pin it inside the season they exercise.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.protocol import codes
from sync.registry import migrate
from sync.registry.blobs import BlobStore, open_blob_store
from sync.registry.config import Settings
from sync.registry.db import Database, Meta, Station, get_meta, iso
from sync.registry.errors import AdminError, ApiError
from sync.registry.feed import ensure_county
from sync.registry.issuance import SeenCertificates
from sync.registry.pki import StationIdentity
from sync.registry.revocation import Revocations


def initialise(db: Database, season: int) -> str:
    """Create the schema at head and fix the season (idempotent for the same season); returns the epoch.

    An existing database must be at head already: an older one is upgraded by ``sync-registry migrate``.
    """
    if not 2000 <= season <= 2099:
        raise AdminError("BAD_YEAR", f"entry year {season} is outside 2000-2099")
    if migrate.current_revision(db) is None:
        with db.writer.begin() as conn:
            migrate.create_at_head(conn)
    else:
        migrate.require_head(db)
    with db.write() as session:
        current = get_meta(session, "season")
        if current is not None and int(current) != season:
            raise AdminError("SEASON_FIXED", f"this registry is for entry year {current}, not {season}")
        if current is None:
            session.add(Meta(key="season", value=str(season)))
        epoch = get_meta(session, "epoch")
        if epoch is None:
            epoch = uuid.uuid4().hex[:12]
            session.add(Meta(key="epoch", value=epoch))
    return epoch


def bump_epoch(db: Database) -> str:
    """Start a new feed epoch (after a restore): every client cursor then answers 410."""
    epoch = uuid.uuid4().hex[:12]
    with db.write() as session:
        row = session.get(Meta, "epoch")
        if row is None:
            session.add(Meta(key="epoch", value=epoch))
        else:
            row.value = epoch
    return epoch


@dataclass
class Registry:
    settings: Settings
    db: Database
    blobs: BlobStore
    season: int
    revocations: Revocations
    certificates: SeenCertificates
    _bindings: dict[str, str] = field(default_factory=dict, repr=False)  # station id -> bound county
    _bindings_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings, db: Database | None = None) -> Registry:
        db = db or Database(settings.db_url)
        migrate.require_head(db)
        with db.read() as session:
            season = get_meta(session, "season")
        if season is None:
            raise AdminError("NOT_INITIALISED", "run `sync-registry init --db URL --year YYYY` first")
        blobs = open_blob_store(db, settings.blob_dir)
        revocations = Revocations(db, settings.tls_dir, refresh_s=settings.revocation_refresh_s)
        return cls(settings, db, blobs, int(season), revocations, SeenCertificates(db))

    def now(self) -> datetime:
        return self.settings.clock()

    @property
    def epoch(self) -> str:
        with self.db.read() as session:
            return get_meta(session, "epoch") or ""

    def authorize(self, identity: StationIdentity) -> None:
        """Refuse a revoked certificate or a station id presented under another county (every request)."""
        if self.revocations.is_revoked(identity.serial):
            raise ApiError(403, "CERT_REVOKED", "this station certificate has been revoked")
        bound = self._bindings.get(identity.station_id)
        if bound is None:
            bound = self.station_county(identity.station_id)
            if bound is None:
                self.ensure_station(identity)
                bound = identity.county
            with self._bindings_lock:
                self._bindings[identity.station_id] = bound
        if bound != identity.county:
            raise ApiError(403, "STATION_REBOUND", "this station id is bound to another county")
        self.certificates.saw(identity)

    def ensure_station(self, identity: StationIdentity) -> None:
        """First contact of a station: bind it to its county; its ledger counter and county counters exist."""
        if codes.county(identity.county) is None:
            raise AdminError("BAD_COUNTY", f"{identity.county} is not a registering county")
        for attempt in range(3):
            try:
                self._create_station(identity)
                break
            except IntegrityError:  # a concurrent first contact created the rows
                if attempt == 2:
                    raise

    def _create_station(self, identity: StationIdentity) -> None:
        with self.db.write() as session:
            station = session.get(Station, identity.station_id)
            if station is None:
                session.add(
                    Station(
                        station_id=identity.station_id,
                        county=identity.county,
                        ledger_seq=0,
                        first_seen_at=iso(self.now()),
                    )
                )
            elif station.county != identity.county:
                raise ApiError(403, "STATION_REBOUND", "this station id is bound to another county")
            ensure_county(session, identity.county, self.season)

    def station_county(self, station_id: str) -> str | None:
        with self.db.read() as session:
            return session.scalar(select(Station.county).where(Station.station_id == station_id))
