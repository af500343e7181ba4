"""Fixtures of the sync tests: a private CA, a registry on 127.0.0.1, a fault proxy, enrolled stations."""

from __future__ import annotations

import pytest

from tests.sync.faultproxy import FaultProxy
from tests.sync.harness import STATION, make_pki, make_station, open_app, start_registry


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def registry(tmp_path, tls_dir):
    running = start_registry(tmp_path, tls_dir)
    yield running
    running.server.stop()
    running.registry.db.dispose()


@pytest.fixture
def proxy(registry):
    with FaultProxy(("127.0.0.1", registry.port)) as running:
        yield running


@pytest.fixture
def station_home(tmp_path, proxy, tls_dir, monkeypatch):
    home = tmp_path / "station"
    make_station(home, proxy.url, tls_dir, STATION)
    monkeypatch.setenv("STATION_HOME", str(home))
    return home


@pytest.fixture
def app(station_home):
    opened = open_app(station_home)
    yield opened
    opened.close()
