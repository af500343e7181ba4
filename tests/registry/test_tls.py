"""The registry over real mutual TLS (uvicorn on 127.0.0.1): identity from the certificate, refusals,
the protocol headers, and the fault hooks that need a real connection (409 in flight, drop after commit).
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time

import httpx
import pytest

from sync.protocol import regno
from sync.registry.app import create_app
from sync.registry.db import BatchRow
from sync.registry.faults import Faults
from sync.registry.pki import TlsPaths, init_pki, issue_station
from sync.registry.tls import RegistryServer
from tests.registry.helpers import (
    COUNTY,
    OTHER_COUNTY,
    OTHER_STATION,
    STATION,
    make_batch,
    make_record,
    multipart_files,
    photo_jpeg,
    push,
    students,
)

PHOTO = photo_jpeg(5)


def _client(url: str, ca: TlsPaths, cert_dir: TlsPaths | None, station_id: str | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca.ca_cert))
    if cert_dir is not None and station_id is not None:
        context.load_cert_chain(str(cert_dir.station_cert(station_id)), str(cert_dir.station_key(station_id)))
    return httpx.Client(base_url=url, verify=context, timeout=10)


@pytest.fixture
def served(make_registry, tls_dir):
    def start(faults: Faults | None = None, **settings) -> RegistryServer:
        registry = make_registry(**settings)
        server = RegistryServer(create_app(registry, faults=faults or Faults()), tls_dir).start()
        started.append(server)
        return server

    started: list[RegistryServer] = []
    yield start
    for server in started:
        server.stop()


def test_station_certificate_is_the_identity(served, tls_dir):
    server = served()
    paths = TlsPaths(tls_dir)
    with _client(server.url, paths, paths, STATION) as client:
        ping = client.get("/v1/ping")
        assert ping.status_code == 204
        assert ping.headers["X-Registry-Protocol"] == "1"
        assert ping.headers["Cache-Control"] == "no-store"
        assert int(ping.headers["X-Registry-Max-Batch-Bytes"]) > 1_000_000
        assert "GMT" in ping.headers["Date"]
        page = client.get(f"/v1/counties/{COUNTY}/approvals", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
        assert len(page.json()["items"]) == 40
        other = client.get(f"/v1/counties/{OTHER_COUNTY}/approvals")
        assert other.status_code == 403 and other.json()["code"] == "WRONG_COUNTY"
        assert client.get(f"/v1/stations/{OTHER_STATION}/ledger").status_code == 403
        missing = client.get("/v1/nowhere")
        assert missing.status_code == 404 and missing.headers["X-Registry-Protocol"] == "1"
    with _client(server.url, paths, paths, OTHER_STATION) as client:
        assert client.get(f"/v1/counties/{COUNTY}/approvals").status_code == 403
        assert client.get(f"/v1/counties/{OTHER_COUNTY}/approvals").status_code == 200


def test_refused_without_a_valid_certificate_of_this_ca(served, tls_dir, tmp_path):
    server = served()
    paths = TlsPaths(tls_dir)
    now = dt.datetime.now(dt.UTC)
    issue_station(
        tls_dir,
        COUNTY,
        "ST-150102-EXPIRED",
        not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )
    foreign = TlsPaths(tmp_path / "foreign-ca")
    init_pki(foreign.root)
    issue_station(foreign.root, COUNTY, STATION)
    cases = {
        "no client certificate": (paths, None, None),
        "expired certificate": (paths, paths, "ST-150102-EXPIRED"),
        "certificate of another CA": (paths, foreign, STATION),
    }
    for what, (ca, cert_dir, station_id) in cases.items():
        with _client(server.url, ca, cert_dir, station_id) as client, pytest.raises(httpx.TransportError):
            client.get("/v1/ping")
            pytest.fail(f"{what}: the registry answered")
    # The station side trusts only the registry's CA: a server outside it fails closed.
    with _client(server.url, foreign, paths, STATION) as client, pytest.raises(httpx.ConnectError):
        client.get("/v1/ping")


def test_same_key_in_flight_is_409_then_completes(served, tls_dir):
    server = served(Faults(hold_batch_s=15))
    registry = server.server.config.app.state.registry
    paths = TlsPaths(tls_dir)
    first_result = {}
    with _client(server.url, paths, paths, STATION) as client:
        person = students(registry.db)[0]
        batch = make_batch(STATION, [make_record(person, PHOTO)])

        def first():
            with _client(server.url, paths, paths, STATION) as other:
                first_result["response"] = push(other, STATION, batch, [PHOTO])

        thread = threading.Thread(target=first)
        thread.start()
        try:
            for _ in range(500):  # wait until the first attempt holds the key
                with registry.db.read() as session:
                    if session.get(BatchRow, batch["batch_id"]) is not None:
                        break
                time.sleep(0.01)
            second = push(client, STATION, batch, [PHOTO])
            assert second.status_code == 409 and second.json()["code"] == "BATCH_IN_FLIGHT"
            assert second.headers["Retry-After"]
        finally:
            server.app.state.faults.release()
            thread.join(20)
        assert first_result["response"].json()["results"][0]["status"] == "accepted"
        assert push(client, STATION, batch, [PHOTO]).json()["results"][0]["status"] == "duplicate"


def test_an_expired_batch_lease_is_reclaimed_by_the_retry(served, tls_dir):
    """An attempt that holds the key past its lease (a stuck or dead worker) no longer blocks it: the
    retry reclaims the key and runs; the late first attempt finds the stored outcomes."""
    faults = Faults(hold_batch_s=30)
    server = served(faults, batch_lease_s=0.0)  # every lease has already expired
    registry = server.server.config.app.state.registry
    paths = TlsPaths(tls_dir)
    batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
    late = {}

    def first():
        with _client(server.url, paths, paths, STATION) as stuck:
            late["response"] = push(stuck, STATION, batch, [PHOTO])

    thread = threading.Thread(target=first)
    thread.start()
    try:
        for _ in range(1000):  # until the first attempt holds the claimed key
            if faults.fired("hold_batch_s") == 1:
                break
            time.sleep(0.01)
        assert faults.fired("hold_batch_s") == 1
        faults.hold_batch_s = 0  # the retry itself is not held
        with _client(server.url, paths, paths, STATION) as client:
            retry = push(client, STATION, batch, [PHOTO])
        assert retry.status_code == 200, retry.text  # reclaimed, not 409 BATCH_IN_FLIGHT
        accepted = retry.json()["results"][0]
        assert accepted["status"] == "accepted"
    finally:
        faults.release()
        thread.join(30)
    stale = late["response"].json()["results"][0]
    assert stale["status"] == "duplicate" and stale["reg_no"] == accepted["reg_no"]  # one registration
    assert regno.parse(accepted["reg_no"]).serial == 1


def test_response_lost_after_commit_then_retry_is_duplicate(served, tls_dir):
    server = served(Faults(drop_after_commit=1))
    registry = server.server.config.app.state.registry
    paths = TlsPaths(tls_dir)
    batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
    with _client(server.url, paths, paths, STATION) as client:
        with pytest.raises(httpx.TransportError):
            push(client, STATION, batch, [PHOTO])
        retry = push(client, STATION, batch, [PHOTO]).json()["results"][0]
    assert retry["status"] == "duplicate" and regno.parse(retry["reg_no"]).serial == 1


def test_slow_response_trickles_the_whole_body(served, tls_dir):
    server = served(Faults(slow_response_bps=4000))
    registry = server.server.config.app.state.registry
    paths = TlsPaths(tls_dir)
    batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
    with _client(server.url, paths, paths, STATION) as client:
        request = client.build_request(
            "POST",
            f"/v1/stations/{STATION}/batches",
            files=multipart_files(batch, [PHOTO]),
            headers={"Idempotency-Key": batch["batch_id"]},
        )
        response = client.send(request, stream=True)
        try:
            reads = list(response.iter_raw())
        finally:
            response.close()
    body = b"".join(reads)
    assert json.loads(body)["results"][0]["status"] == "accepted"  # the whole body, intact
    assert len(body) == int(response.headers["Content-Length"])
    # It trickled: the body came in many small pieces (one byte per TLS record), not in one read.
    assert len(reads) > len(body) // 4, (len(reads), len(body))
