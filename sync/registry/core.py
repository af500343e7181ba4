"""The registry service object: settings, database, blob store, season and epoch, who may call.

``Registry.open(settings)`` is what the HTTP app, the CLI and the tests share. The database must have
been initialised (``sync-registry init``), which fixes the season and the feed epoch.

``authorize`` runs on every request, with no cache in front of it: the caller's certificate must not
be revoked (``revocation.Revocations``), and its station id is bound to one county in the database on
first contact and for ever after, so a certificate naming a known station under another county is
refused however many requests came before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.protocol import codes
from sync.registry.blobs import BlobStore
from sync.registry.config import Settings
from sync.registry.db import Database, Meta, Station, get_meta, iso, utc_now
from sync.registry.errors import AdminError, ApiError
from sync.registry.feed import ensure_county
from sync.registry.pki import StationIdentity
from sync.registry.revocation import Revocations


def initialise(db: Database, season: int) -> str:
    """Create the schema and fix the season (idempotent for the same season); returns the epoch."""
    if not 2000 <= season <= 2099:
        raise AdminError("BAD_YEAR", f"entry year {season} is outside 2000-2099")
    db.create_schema()
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

    @classmethod
    def open(cls, settings: Settings, db: Database | None = None) -> Registry:
        db = db or Database(settings.db_url)
        with db.read() as session:
            season = get_meta(session, "season")
        if season is None:
            raise AdminError("NOT_INITIALISED", "run `sync-registry init --db URL --year YYYY` first")
        blobs = BlobStore(settings.blob_dir)
        return cls(settings, db, blobs, int(season), Revocations(db, settings.tls_dir))

    @property
    def epoch(self) -> str:
        with self.db.read() as session:
            return get_meta(session, "epoch") or ""

    def authorize(self, identity: StationIdentity) -> None:
        """Refuse a revoked certificate or a station id presented under another county (every request)."""
        if self.revocations.is_revoked(identity.serial):
            raise ApiError(403, "CERT_REVOKED", "this station certificate has been revoked")
        with self.db.read() as session:
            bound = session.scalar(select(Station.county).where(Station.station_id == identity.station_id))
        if bound is None:
            self.ensure_station(identity)
        elif bound != identity.county:
            raise ApiError(403, "STATION_REBOUND", "this station id is bound to another county")

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
                        first_seen_at=iso(utc_now()),
                    )
                )
            elif station.county != identity.county:
                raise ApiError(403, "STATION_REBOUND", "this station id is bound to another county")
            ensure_county(session, identity.county, self.season)

    def station_county(self, station_id: str) -> str | None:
        with self.db.read() as session:
            return session.scalar(select(Station.county).where(Station.station_id == station_id))
