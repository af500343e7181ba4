"""The registry service object: settings, database, blob store, season and epoch, station rows.

``Registry.open(settings)`` is what the HTTP app, the CLI and the tests share. The database must have
been initialised (``sync-registry init``), which fixes the season and the feed epoch.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.protocol import codes
from sync.registry.blobs import BlobStore
from sync.registry.config import Settings
from sync.registry.db import Database, Meta, Station, get_meta, iso, utc_now
from sync.registry.errors import AdminError
from sync.registry.faults import Faults
from sync.registry.feed import ensure_county
from sync.registry.pki import StationIdentity


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
    faults: Faults
    _known_stations: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, db: Database | None = None) -> Registry:
        db = db or Database(settings.db_url)
        with db.read() as session:
            season = get_meta(session, "season")
        if season is None:
            raise AdminError("NOT_INITIALISED", "run `sync-registry init --db URL --year YYYY` first")
        return cls(settings, db, BlobStore(settings.blob_dir), int(season), settings.faults)

    @property
    def epoch(self) -> str:
        with self.db.read() as session:
            return get_meta(session, "epoch") or ""

    def ensure_station(self, identity: StationIdentity) -> None:
        """First contact of a station: its ledger counter and its county's counters exist."""
        if identity.station_id in self._known_stations:
            return
        if codes.county(identity.county) is None:
            raise AdminError("BAD_COUNTY", f"{identity.county} is not a registering county")
        for attempt in range(3):
            try:
                self._create_station(identity)
                break
            except IntegrityError:  # a concurrent first contact created the rows
                if attempt == 2:
                    raise
        with self._lock:
            self._known_stations.add(identity.station_id)

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
                raise AdminError("STATION_MOVED", "a station id is bound to one county")
            ensure_county(session, identity.county, self.season)

    def station_county(self, station_id: str) -> str | None:
        with self.db.read() as session:
            return session.scalar(select(Station.county).where(Station.station_id == station_id))
