"""The demo's own registry: the reference registry (``sync.registry``) embedded in ``station demo``.

It lives under the demo home (``demo-registry/``): a SQLite registry for one season seeded with the
demo county's synthetic students, and its own throwaway PKI (private CA, server certificate for
127.0.0.1, the demo station's client certificate). ``start`` serves it over mutual TLS on 127.0.0.1
and a free port, in a thread of the demo's process; nothing listens beyond 127.0.0.1 and nothing
is downloaded. The people are synthetic (``sync.protocol.synthetic``), the same ones the simulated
card reader serves, so their cards match their pre-registrations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sync.client.tlsmaterial import Credentials
from sync.registry.app import create_app
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database
from sync.registry.pki import TlsPaths, init_pki, issue_station
from sync.registry.seed import seed_county
from sync.registry.tls import RegistryServer

log = logging.getLogger("station.demo")

DIRECTORY = "demo-registry"


@dataclass
class DemoRegistry:
    root: Path
    season: int
    county: str
    station_id: str
    registry: Registry | None = None
    server: RegistryServer | None = None

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'registry.db'}"

    @classmethod
    def prepare(
        cls, home: Path, *, season: int, county: str, station_id: str, students: int, seed: int
    ) -> DemoRegistry:
        """The demo registry under ``home`` (created, seeded and given its PKI on first use)."""
        root = Path(home) / DIRECTORY
        demo = cls(root, season, county, station_id)
        fresh = not (root / "registry.db").exists()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        init_pki(demo.tls_dir)
        if not TlsPaths(demo.tls_dir).station_cert(station_id).exists():
            issue_station(demo.tls_dir, county, station_id)
        db = Database(demo.db_url)
        initialise(db, season)
        # Training runs all year: the demo's season opens the day after the previous one's deadline.
        opens = date(season - 1, 12, 1)
        demo.registry = Registry.open(
            Settings(db_url=demo.db_url, blob_dir=root / "blobs", season_opens=opens), db
        )
        if fresh:
            seed_county(demo.registry, county, students, season, seed=seed)
            log.info("demo registry created and seeded (%d students)", students)
        return demo

    def credentials(self) -> Credentials:
        paths = TlsPaths(self.tls_dir)
        return Credentials(
            paths.ca_cert.read_text(),
            paths.station_cert(self.station_id).read_text(),
            paths.station_key(self.station_id).read_text(),
        )

    def start(self) -> str:
        """Serve on 127.0.0.1 and a free port; returns the URL."""
        assert self.registry is not None
        self.server = RegistryServer(create_app(self.registry), self.tls_dir).start()
        return self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
