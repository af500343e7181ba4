"""Registry test fixtures: a private CA, a real PostgreSQL server, registries on SQLite and PostgreSQL.

``db_url`` is parametrised over ``sqlite`` and ``postgresql``; every test that takes ``registry`` or
``client`` therefore runs on both (photos in files beside SQLite, in the database with PostgreSQL).
Registries run on a clock pinned inside the 2026 season (``helpers.registry_clock``). The PostgreSQL server is started once per session from Debian's
binaries (``pgserver.PostgresServer``) and each test gets its own database.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # starlette's test client prefers the httpx2 fork; httpx is what the lock file carries.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from sync.registry.app import create_app
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database
from sync.registry.pki import TlsPaths, init_pki, issue_station
from sync.registry.seed import seed_county
from tests.registry.helpers import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_STATION,
    SEASON,
    STATION,
    STATION_2,
    registry_clock,
)
from tests.registry.pgserver import PostgresServer, server_bin_dir
from tests.support.system import require


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    init_pki(root)
    issue_station(root, COUNTY, STATION)
    issue_station(root, COUNTY, STATION_2)
    issue_station(root, OTHER_COUNTY, OTHER_STATION)
    return root


@pytest.fixture(scope="session")
def cert_pem(tls_dir):
    def pem(station_id: str) -> str:
        return TlsPaths(tls_dir).station_cert(station_id).read_text()

    return pem


@pytest.fixture(scope="session")
def pg_server():
    require(server_bin_dir() is not None, "PostgreSQL server binaries (Debian package postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    return request.getfixturevalue("pg_server").create_database()


@pytest.fixture
def make_registry(db_url, tmp_path, request):
    opened: list[Registry] = []

    def make(*, students: int = 40, **settings) -> Registry:
        db = Database(db_url)
        initialise(db, SEASON)
        settings.setdefault("tls_dir", request.getfixturevalue("tls_dir"))
        settings.setdefault("clock", registry_clock())
        if db_url.startswith("sqlite"):  # PostgreSQL keeps the photos in the database (every node sees them)
            settings.setdefault("blob_dir", tmp_path / "blobs")
        registry = Registry.open(Settings(db_url=db_url, **settings), db)
        if students and not opened:
            seed_county(registry, COUNTY, students, SEASON, seed=1)
            seed_county(registry, OTHER_COUNTY, 10, SEASON, seed=1)
        opened.append(registry)
        return registry

    yield make
    for registry in opened:
        registry.db.dispose()


@pytest.fixture
def registry(make_registry):
    return make_registry()


class AsStation:
    """ASGI wrapper standing in for the TLS layer: the request arrives with this client certificate."""

    def __init__(self, app, pem: str | None) -> None:
        self.app = app
        self.pem = pem

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            chain = [self.pem] if self.pem else []
            scope = {
                **scope,
                "extensions": {**scope.get("extensions", {}), "tls": {"client_cert_chain": chain}},
            }
        await self.app(scope, receive, send)


@pytest.fixture
def client_for(registry, cert_pem):
    app = create_app(registry)
    clients: list[TestClient] = []

    def make(station_id: str | None = STATION) -> TestClient:
        client = TestClient(
            AsStation(app, cert_pem(station_id) if station_id else None), base_url="https://testserver"
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(client_for):
    return client_for(STATION)
