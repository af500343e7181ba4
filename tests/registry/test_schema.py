"""The served OpenAPI document: equal to the copy in the repository, and honoured by every response.

schemathesis generates requests for every operation (a small fixed budget) and checks: no 5xx, the
status code is documented, the content type and the body match the documented schema.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync.registry.app import create_app
from sync.registry.openapi import DOCUMENT, render
from tests.registry.conftest import AsStation
from tests.registry.helpers import COUNTY, STATION


def test_repository_copy_equals_the_served_document(registry):
    served = create_app(registry).openapi()
    assert json.loads(DOCUMENT.read_text(encoding="utf-8")) == json.loads(render(served)), (
        "run `python -m sync.registry.openapi` to refresh sync/registry/openapi.json"
    )


def _own_paths(case):
    if case.path_parameters:
        case.path_parameters = {
            name: {"county": COUNTY, "station_id": STATION}.get(name, value)
            for name, value in case.path_parameters.items()
        }
    return case


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_response_matches_the_document(registry, cert_pem, mode):
    # Operations are walked by hand: schemathesis' lazy pytest loader does not support this pytest.
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", AsStation(create_app(registry), cert_pem(STATION))
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)
        if mode is GenerationMode.POSITIVE:  # valid requests address the caller's own county / station
            strategy = strategy.map(_own_paths)

        @given(case=strategy)
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            # An operation with nothing to break (GET /v1/ping has no inputs) has no negative cases.
            assert mode is GenerationMode.NEGATIVE and not operation.path_parameters


def test_every_endpoint_over_mutual_tls_gives_no_server_error(tls_dir, tmp_path):
    """The same generated requests, sent to uvicorn over mutual TLS with the station's certificate.

    On SQLite only: the backend changes nothing at this layer (the ASGI run above covers PostgreSQL).
    """
    import requests

    from sync.registry.config import Settings
    from sync.registry.core import Registry, initialise
    from sync.registry.db import Database
    from sync.registry.pki import TlsPaths
    from sync.registry.seed import seed_county
    from sync.registry.tls import RegistryServer
    from tests.registry.helpers import SEASON, registry_clock

    db = Database(f"sqlite:///{tmp_path}/registry.db")
    initialise(db, SEASON)
    registry = Registry.open(
        Settings(db_url=db.url, blob_dir=tmp_path / "blobs", tls_dir=tls_dir, clock=registry_clock()), db
    )
    seed_county(registry, COUNTY, 20, SEASON, seed=3)
    app = create_app(registry)
    paths = TlsPaths(tls_dir)
    session = requests.Session()
    session.verify = str(paths.ca_cert)
    session.cert = (str(paths.station_cert(STATION)), str(paths.station_key(STATION)))
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    with RegistryServer(app, tls_dir) as server:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for operation in operations:
                strategy = operation.as_strategy(generation_mode=mode)
                if mode is GenerationMode.POSITIVE:
                    strategy = strategy.map(_own_paths)

                @given(case=strategy)
                @settings(
                    max_examples=8,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=True,
                    database=None,
                )
                def check(case):
                    case.call_and_validate(
                        base_url=server.url,
                        session=session,
                        checks=CHECKS,
                        verify=session.verify,
                        cert=session.cert,
                    )

                try:
                    check()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE and not operation.path_parameters
    session.close()
    db.dispose()
