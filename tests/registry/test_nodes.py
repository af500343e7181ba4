"""Two registry nodes on one PostgreSQL: two ``sync-registry serve`` processes over mutual TLS, each with
its own TLS directory, as on two hosts behind a load balancer.

Several stations of two counties push at once, each batch to one node or the other. Then: every record
has one outcome, serials are unique and gapless per county, and each node answers for what the other
received -- its photos (``/v1/blobs/missing``; a record sent to one node using a photo uploaded to the
other), its ledger entries and replays (``duplicate`` with the same number). A certificate renewed
through one node and revoked on the other host (``pki revoke --station --db``) is refused by both:
the issuance index and the revoked serials live in the database, not in either TLS directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.protocol import regno
from sync.registry.cli import main as registry_cli
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database
from sync.registry.pki import TlsPaths
from sync.registry.seed import seed_county
from tests.registry.helpers import (
    BEIJING,
    COUNTY,
    OTHER_COUNTY,
    SEASON,
    make_batch,
    make_record,
    mtls_client,
    open_deadline_args,
    photo_copy,
    push,
    students,
)
from tests.support.polling import until

STATIONS = {
    "ST-150102-N1": COUNTY,
    "ST-150102-N2": COUNTY,
    "ST-150103-N1": OTHER_COUNTY,
    "ST-150103-N2": OTHER_COUNTY,
}
BATCHES, PER_BATCH = 3, 5


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _host(root, ca_dir) -> TlsPaths:
    """A second host's TLS directory: the same CA and server identity, its own CRL and issuance file."""
    paths = TlsPaths(root)
    root.mkdir(mode=0o700)
    for name in ("ca.pem", "ca.key", "server.pem", "server.key", "crl.pem"):
        shutil.copy(ca_dir / name, root / name)
    return paths


def _serve(db_url: str, tls: TlsPaths, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.registry.cli",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--tls-dir",
            str(tls.root),
            *open_deadline_args(),  # the real clock: entry year 2026's records stay within the deadline
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tls.root,  # a host of its own: nothing on disk is shared with the other node
    )


def _wait_up(url: str, tls: TlsPaths, station: str, process: subprocess.Popen) -> None:
    with mtls_client(url, tls.root, station) as client:
        for _ in range(400):
            try:
                if client.get("/v1/ping").status_code == 204:
                    return
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.05)
    raise AssertionError("the node did not start")




def _refused(url: str, tls: TlsPaths, station: str, cert_dir) -> bool:  # type: ignore[no-untyped-def]
    with mtls_client(url, tls.root, station, cert_dir=cert_dir) as client:
        try:
            answer = client.get("/v1/ping")
        except httpx.TransportError:
            return True  # the TLS layer refused the handshake
        return answer.status_code == 403 and answer.json()["code"] == "CERT_REVOKED"


def test_two_nodes_on_one_postgresql_serve_one_registry(pg_server, tmp_path):
    db_url = pg_server.create_database()
    host_a = TlsPaths(tmp_path / "host-a")
    assert registry_cli(["pki", "init", "--dir", str(host_a.root)]) == 0
    host_b = _host(tmp_path / "host-b", host_a.root)
    db = Database(db_url)
    initialise(db, SEASON)
    registry = Registry.open(Settings(db_url=db_url), db)
    for county in (COUNTY, OTHER_COUNTY):
        seed_county(registry, county, 60, SEASON, seed=4)
    for station, county in STATIONS.items():
        assert (
            registry_cli(
                [
                    "pki",
                    "station",
                    "--dir",
                    str(host_a.root),
                    "--county",
                    county,
                    "--station",
                    station,
                    "--db",
                    db_url,
                ]
            )
            == 0
        )
    ports = [_free_port(), _free_port()]
    urls = [f"https://127.0.0.1:{port}" for port in ports]
    nodes = [_serve(db_url, host_a, ports[0]), _serve(db_url, host_b, ports[1])]
    try:
        for url, process in zip(urls, nodes, strict=True):
            _wait_up(url, host_a, next(iter(STATIONS)), process)

        # Several stations of two counties push at once, alternating between the nodes.
        work: dict[str, list[list[dict]]] = {}
        photos: dict[str, bytes] = {}
        approved = {county: students(db, county) for county in (COUNTY, OTHER_COUNTY)}
        for index, (station, county) in enumerate(STATIONS.items()):
            share = approved[county][(index % 2) * 15 : (index % 2) * 15 + BATCHES * PER_BATCH]
            records = []
            for offset, person in enumerate(share):
                photo = photo_copy(1000 + index * 100 + offset)
                record = make_record(person, photo)
                photos[record["record_id"]] = photo
                records.append(record)
            work[station] = [records[i : i + PER_BATCH] for i in range(0, len(records), PER_BATCH)]
        outcomes: dict[str, dict] = {}
        lock = threading.Lock()
        start = threading.Barrier(len(STATIONS))

        def run(slot: int, station: str) -> None:
            clients = [mtls_client(url, host_a.root, station) for url in urls]
            try:
                start.wait(timeout=30)
                for number, records in enumerate(work[station]):
                    for _round in range(10):
                        client = clients[(slot + number + _round) % 2]
                        batch = make_batch(station, records, client_time=datetime.now(BEIJING))
                        answer = push(client, station, batch, [photos[r["record_id"]] for r in records])
                        assert answer.status_code == 200, answer.text
                        results = answer.json()["results"]
                        with lock:
                            outcomes.update({r["record_id"]: r for r in results if r["status"] != "retry"})
                        records = [r for r in records if r["record_id"] not in outcomes]
                        if not records:
                            break
                    assert not records, "records still answered retry"
            finally:
                for client in clients:
                    client.close()

        with ThreadPoolExecutor(len(STATIONS)) as pool:
            list(pool.map(run, range(len(STATIONS)), STATIONS))
        sent = {r["record_id"] for batches in work.values() for records in batches for r in records}
        assert set(outcomes) == sent and {r["status"] for r in outcomes.values()} == {"accepted"}
        for county in (COUNTY, OTHER_COUNTY):
            numbers = [
                r["reg_no"] for r in outcomes.values() if regno.parse(r["reg_no"]).county_code6 == county
            ]
            assert sorted(regno.parse(n).serial for n in numbers) == list(
                range(1, 2 * BATCHES * PER_BATCH + 1)
            )

        # Each node sees what the other received: photos, ledgers, replays.
        station, county = next(iter(STATIONS.items()))
        photo_hashes = sorted({record["photo"]["sha256"] for records in work[station] for record in records})
        for url in urls:
            with mtls_client(url, host_a.root, station) as client:
                missing = client.post("/v1/blobs/missing", json={"hashes": [*photo_hashes, "0" * 64]}).json()
                assert missing["missing"] == ["0" * 64]
                ledger = client.get(f"/v1/stations/{station}/ledger").json()
                assert {item["record_id"] for item in ledger["items"]} == {
                    r["record_id"] for records in work[station] for r in records
                }
                replay = push(
                    client,
                    station,
                    make_batch(station, work[station][0], client_time=datetime.now(BEIJING)),
                    [],
                )
                assert [r["status"] for r in replay.json()["results"]] == ["duplicate"] * PER_BATCH
        # A photo uploaded to node A with a refused record backs a new record sent to node B without it.
        pending = students(db, county, status="pending")[0]
        spare = approved[county][-1]
        photo = photo_copy(5000)
        with mtls_client(urls[0], host_a.root, station) as client:
            first = push(
                client,
                station,
                make_batch(station, [make_record(pending, photo)], client_time=datetime.now(BEIJING)),
                [photo],
            )
            assert first.json()["results"][0]["code"] == "NOT_APPROVED"
        with mtls_client(urls[1], host_a.root, station) as client:
            second = push(
                client,
                station,
                make_batch(station, [make_record(spare, photo)], client_time=datetime.now(BEIJING)),
                [],
            )
            assert second.json()["results"][0]["status"] == "accepted"

        # A certificate renewed through node B, then the station revoked on host A: both nodes refuse both.
        renewing = "ST-150103-N2"
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, renewing)]))
            .sign(key, hashes.SHA256())
        )
        with mtls_client(urls[1], host_a.root, renewing) as client:
            renewed = client.post(
                f"/v1/stations/{renewing}/renew",
                json={"csr_pem": csr.public_bytes(serialization.Encoding.PEM).decode()},
            ).json()
        new_dir = tmp_path / "renewed"
        new_dir.mkdir()
        (new_dir / f"{renewing}.pem").write_text(renewed["cert_pem"])
        (new_dir / f"{renewing}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        assert not _refused(urls[0], host_a, renewing, new_dir)  # the renewed certificate works on node A
        assert (
            registry_cli(["pki", "revoke", "--dir", str(host_a.root), "--station", renewing, "--db", db_url])
            == 0
        )
        for url in urls:
            for cert_dir in (host_a.root, new_dir):
                until(lambda url=url, cert_dir=cert_dir: _refused(url, host_a, renewing, cert_dir))
        # Host B's own CRL now lists both (its TLS layer refuses them at the handshake too).
        revoked = {format(e.serial_number, "x") for e in x509.load_pem_x509_crl(host_b.crl.read_bytes())}
        renewed_serial = format(
            x509.load_pem_x509_certificate(renewed["cert_pem"].encode()).serial_number, "x"
        )
        assert renewed_serial in revoked and len(revoked) == 2
        assert not _refused(urls[1], host_a, station, None)  # the other stations are unaffected
    finally:
        for process in nodes:
            process.terminate()
        for process in nodes:
            process.wait(10)
        db.dispose()
