"""Station certificates end to end: revocation (refused, reported, no more retries) and renewal.

Real parts: the registry served by uvicorn over mutual TLS on 127.0.0.1, ``sync-registry pki revoke``
as an administrator runs it, the station's engine and its encrypted store, ``station sync`` as a
subprocess. A revocation must reach a registry that keeps running (no restart): the tests poll its
effect, never a clock.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
from dataclasses import replace

from cryptography import x509

from station.syncing.credentials import load_credentials
from sync.client.engine import SUSPENDING_CODES, TERMINAL_CODES
from sync.registry.cli import main as registry_cli
from sync.registry.pki import TlsPaths, init_pki, issue_station, issued
from tests.support.polling import until
from tests.sync.faultproxy import FaultProxy, Plan
from tests.sync.harness import (
    COUNTY,
    FAST,
    STATION,
    capture,
    credentials,
    engine_for,
    make_station,
    open_app,
    start_registry,
    station_cli,
)

REFUSALS = TERMINAL_CODES | SUSPENDING_CODES  # {"CERT_REVOKED", "CERT_REFUSED"}




def test_revoked_station_is_refused_reports_it_and_stops_retrying(tmp_path, tls_dir):
    tls = tmp_path / "tls"  # a PKI of its own: revoking must not touch the session's stations
    init_pki(tls)
    station_id = "ST-150102-77"
    issue_station(tls, COUNTY, station_id)
    running = start_registry(tmp_path / "registry", tls)
    try:
        home = make_station(tmp_path / "station", running.server.url, tls, station_id)
        app = open_app(home)
        try:
            engine = engine_for(app)
            assert engine.run_once(push=False).ok

            assert registry_cli(["pki", "revoke", "--dir", str(tls), "--station", station_id]) == 0

            def refused():
                report = engine.run_once()
                return report if report.error_code else None

            report = until(refused)
            # The app's 403 says CERT_REVOKED; a handshake the TLS layer refuses reaches the station as a
            # closed connection, which it can only read as CERT_REFUSED. Either way the engine stops.
            assert report.error_code in REFUSALS, report.error_code
            assert (engine.halted or engine.suspended) is not None
            capture(app, running.approved()[0].national_id)  # the desk keeps capturing
            again = engine.run_once()  # no retry: the engine does not contact the registry now
            assert again.error_code == report.error_code and again.seconds == 0.0 and again.attempts == 0
            assert app.database.outbox.counts()["pending"] == 1  # the capture is kept, not lost
            assert running.ledger(station_id) == {}
        finally:
            app.close()

        # The station command shows it in plain language and exits 1.
        done = station_cli(home, "sync", "--once", "--json", env={"STATION_LANG": "zh"})
        assert done.returncode == 1, done.stderr
        out = json.loads(done.stdout)
        assert out["error_code"] in REFUSALS
        assert "吊销" in out["message"]["zh"] and "盟市招生考试机构" in out["message"]["zh"]
        assert "revoked" in out["message"]["en"]
    finally:
        running.server.stop()
        running.registry.db.dispose()


def test_connections_closed_after_the_handshake_pause_sync_until_the_registry_lets_the_station_in(
    tmp_path, tls_dir
):
    """A TLS-terminating load balancer with no registry node behind it closes every connection right
    after the handshake -- exactly what a revoked certificate looks like from the station. The station
    pauses (CERT_REFUSED, no traffic before the recheck) but is not silenced for good: once the
    registry is back, the next recheck syncs what was captured meanwhile."""
    running = start_registry(tmp_path / "registry", tls_dir)
    paths = TlsPaths(tls_dir)
    balancer = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    balancer.load_cert_chain(str(paths.server_cert), str(paths.server_key))
    balancer.load_verify_locations(str(paths.ca_cert))
    balancer.verify_mode = ssl.CERT_REQUIRED
    try:
        with FaultProxy(("127.0.0.1", running.server.port), tls_context=balancer) as proxy:
            home = make_station(tmp_path / "station", proxy.url, tls_dir, STATION)
            app = open_app(home)
            try:
                engine = engine_for(app, policy=replace(FAST, refused_recheck_s=2.0))
                assert engine.run_once(push=False).ok  # through the balancer, a node behind it
                capture(app, running.approved()[0].national_id)

                proxy.set_default(Plan(handshake_then_close=True))  # every node gone
                report = engine.run_once()
                assert report.error_code == "CERT_REFUSED" and proxy.handshake_closed >= 2
                assert engine.suspended is not None and engine.halted is None
                seen = proxy.connections
                again = engine.run_once()  # before the recheck: the registry is not contacted
                assert again.error_code == "CERT_REFUSED" and again.attempts == 0
                assert proxy.connections == seen
                assert app.database.outbox.counts()["pending"] == 1

                proxy.set_default(Plan())  # the nodes are back
                healed = until(lambda: (r := engine.run_once()).ok and r)
                assert healed.accepted == 1 and engine.suspended is None
                assert len(running.ledger(STATION)) == 1
            finally:
                app.close()
    finally:
        running.server.stop()
        running.registry.db.dispose()


def test_keep_alive_connection_is_refused_by_the_app_after_revocation(tmp_path):
    import ssl

    import httpx

    tls = tmp_path / "tls"
    init_pki(tls)
    issue_station(tls, COUNTY, STATION)
    running = start_registry(tmp_path / "registry", tls)
    paths = TlsPaths(tls)
    context = ssl.create_default_context(cafile=str(paths.ca_cert))
    context.load_cert_chain(str(paths.station_cert(STATION)), str(paths.station_key(STATION)))
    try:
        with httpx.Client(base_url=running.server.url, verify=context, timeout=10) as client:
            assert client.get("/v1/ping").status_code == 204  # the connection is open and kept alive
            assert registry_cli(["pki", "revoke", "--dir", str(tls), "--serial", _serial(paths)]) == 0
            refused = until(lambda: (r := client.get("/v1/ping")).status_code == 403 and r)
            assert refused.json()["code"] == "CERT_REVOKED"
    finally:
        running.server.stop()
        running.registry.db.dispose()


def _serial(paths: TlsPaths) -> str:
    cert = x509.load_pem_x509_certificate(paths.station_cert(STATION).read_bytes())
    return format(cert.serial_number, "x")


def test_certificate_is_renewed_before_it_expires(tmp_path):
    tls = tmp_path / "tls"
    init_pki(tls)
    now = dt.datetime.now(dt.UTC)
    issue_station(tls, COUNTY, STATION, not_after=now + dt.timedelta(days=10))  # inside the window
    running = start_registry(tmp_path / "registry", tls)
    try:
        home = make_station(tmp_path / "station", running.server.url, tls, STATION)
        app = open_app(home)
        try:
            before = load_credentials(app.database)
            engine = engine_for(app)
            report = engine.run_once(push=False)
            assert report.ok and report.certificate_renewed
            after = load_credentials(app.database)
            assert after.cert_pem != before.cert_pem and after.key_pem != before.key_pem
            renewed = x509.load_pem_x509_certificate(after.cert_pem.encode())
            assert renewed.not_valid_after_utc > now + dt.timedelta(days=80)
            # The next session uses the new certificate and does not renew again.
            capture(app, running.approved()[0].national_id)
            again = engine.run_once()
            assert again.ok and not again.certificate_renewed and again.accepted == 1
            # Revoking the station shuts out the renewed certificate too (the index lists it).
            assert {e.serial for e in issued(TlsPaths(tls)) if e.station_id == STATION} >= {
                format(renewed.serial_number, "x")
            }
            assert registry_cli(["pki", "revoke", "--dir", str(tls), "--station", STATION]) == 0
            assert until(lambda: engine.run_once().error_code) in REFUSALS
        finally:
            app.close()
    finally:
        running.server.stop()
        running.registry.db.dispose()


def test_renewal_refuses_the_same_key_and_a_foreign_request(tmp_path, tls_dir):
    import ssl

    import httpx
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    running = start_registry(tmp_path / "registry", tls_dir)
    creds = credentials(tls_dir)
    paths = TlsPaths(tls_dir)
    context = ssl.create_default_context(cafile=str(paths.ca_cert))
    context.load_cert_chain(str(paths.station_cert(STATION)), str(paths.station_key(STATION)))
    key = serialization.load_pem_private_key(creds.key_pem.encode(), password=None)
    same_key_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, STATION)]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    try:
        with httpx.Client(base_url=running.server.url, verify=context, timeout=10) as client:
            url = f"/v1/stations/{STATION}/renew"
            assert client.post(url, json={"csr_pem": same_key_csr}).json()["code"] == "CSR_SAME_KEY"
            assert client.post(url, json={"csr_pem": "garbage"}).json()["code"] == "CSR_INVALID"
            other = client.post("/v1/stations/ST-150102-02/renew", json={"csr_pem": same_key_csr})
            assert other.status_code == 403 and other.json()["code"] == "WRONG_STATION"
    finally:
        running.server.stop()
        running.registry.db.dispose()
