"""Benchmark of the reference registry over real mutual TLS on 127.0.0.1 (not a timed test).

Push: 8 stations (one per county, 8 client threads, one keep-alive mTLS connection each) push batches
of 10 records with 33 KB photos (real JPEGs of the moe-480 profile) until each has sent its share. Figure: records accepted per second, on
SQLite and on PostgreSQL. Baseline, measured in the same run: the same multipart bodies posted by the
same clients to a *bare endpoint* (same uvicorn + TLS stack in its own process) that only stores the
bytes (write + fsync) and answers a fixed JSON. Printed ratio = registry / bare.

Pull: one county with 100,000 students (``--scale`` shrinks it), pulled from cursor 0 in pages of 500
with and without gzip. Figures: records/s and bytes per record on the wire. Baseline: a direct
database scan of the same rows (SQLAlchemy, no HTTP). Ratio = HTTP pull / direct scan.

Run: ``.venv/bin/python -m tests.bench.bench_registry [--scale 0.1] [--db sqlite|postgresql|both]``.
The registry and the bare endpoint run as subprocesses so they do not share the clients' GIL.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response

from sync.protocol import codes
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database, Student
from sync.registry.pki import TlsPaths, init_pki, issue_station
from sync.registry.seed import seed_county
from tests.registry.helpers import (
    BEIJING,
    SEASON,
    make_batch,
    make_record,
    multipart_files,
    open_deadline_args,
    photo_copy,
    students,
)

STATIONS = 8
BATCH_RECORDS = 10
PHOTO_BYTES = len(photo_copy(0))
PULL_COUNTY = "150102"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(url: str, tls: TlsPaths, station_id: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    context.load_cert_chain(str(tls.station_cert(station_id)), str(tls.station_key(station_id)))
    return httpx.Client(base_url=url, verify=context, timeout=120)


def _wait_up(url: str, tls: TlsPaths, station_id: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    with _client(url, tls, station_id) as client:
        while True:
            try:
                client.get("/v1/ping")
                return
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- the bare endpoint (baseline)


def bare_server(port: int, tls_dir: str, store: str) -> None:
    from sync.registry.tls import serve

    app = FastAPI()
    counter = iter(range(10**9))

    @app.get("/v1/ping")
    def ping() -> Response:
        return Response(status_code=204)

    @app.post("/v1/stations/{station_id}/batches")
    async def store_bytes(station_id: str, request: Request) -> Response:
        body = await request.body()
        path = Path(store) / f"{station_id}-{next(counter)}"
        with open(path, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        return Response(b'{"stored":true}', media_type="application/json")

    serve(app, Path(tls_dir), "127.0.0.1", port)


# ---------------------------------------------------------------- push


def _prepare_push(db: Database, registry: Registry, counties: list[str], per_station: int) -> dict[str, list]:
    bodies: dict[str, list] = {}
    photo_cache: dict[int, bytes] = {}
    for index, county in enumerate(counties):
        seed_county(registry, county, int(per_station / 0.80) + 10, SEASON, seed=2)
        people = students(db, county)[:per_station]
        station = f"BENCH-{county}"
        batches = []
        for start in range(0, len(people), BATCH_RECORDS):
            chunk = people[start : start + BATCH_RECORDS]
            photos = []
            for offset, _ in enumerate(chunk):
                key = index * 100_000 + start + offset
                photos.append(photo_cache.setdefault(key, photo_copy(key)))
            records = [make_record(p, photo) for p, photo in zip(chunk, photos, strict=True)]
            batch = make_batch(station, records, client_time=datetime.now(BEIJING))
            batches.append((batch["batch_id"], multipart_files(batch, photos), len(records)))
        bodies[station] = batches
    return bodies


def _push_all(url: str, tls: TlsPaths, bodies: dict[str, list], *, count_accepted: bool) -> tuple[int, float]:
    accepted = [0] * len(bodies)
    barrier = threading.Barrier(len(bodies) + 1)
    errors: list[str] = []

    def run(slot: int, station: str, batches: list) -> None:
        with _client(url, tls, station) as client:
            client.get("/v1/ping")
            barrier.wait()
            for batch_id, files, _n in batches:
                response = client.post(
                    f"/v1/stations/{station}/batches", files=files, headers={"Idempotency-Key": batch_id}
                )
                if response.status_code != 200:
                    errors.append(f"{station}: HTTP {response.status_code}")
                    continue
                if count_accepted:
                    accepted[slot] += sum(r["status"] == "accepted" for r in response.json()["results"])
                else:
                    accepted[slot] += _n

    threads = [
        threading.Thread(target=run, args=(slot, station, batches))
        for slot, (station, batches) in enumerate(bodies.items())
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"    errors: {errors[:3]} ({len(errors)} total)")
    return sum(accepted), elapsed


# ---------------------------------------------------------------- pull


def _pull(url: str, tls: TlsPaths, station: str, gzip: bool) -> tuple[int, int, float, int]:
    items = wire = pages = 0
    cursor = None
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    with _client(url, tls, station) as client:
        started = time.perf_counter()
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            response = client.get(f"/v1/counties/{PULL_COUNTY}/approvals", params=params, headers=headers)
            wire += response.num_bytes_downloaded
            page = response.json()
            items += len(page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        return items, wire, time.perf_counter() - started, pages


def _scan(db: Database) -> tuple[int, float]:
    from sqlalchemy import select

    started = time.perf_counter()
    with db.read() as session:
        rows = session.execute(
            select(Student.__table__).where(Student.county == PULL_COUNTY).order_by(Student.seq)
        ).all()
    return len(rows), time.perf_counter() - started


# ---------------------------------------------------------------- driver


def run_backend(
    name: str, db_url: str, work: Path, tls: TlsPaths, scale: float, bare_rate: float, workers: int
) -> None:
    db = Database(db_url)
    initialise(db, SEASON)
    # Photos: files beside SQLite; in the database with PostgreSQL (what several nodes share).
    blob_args = ["--blob-dir", str(work / f"{name}-blobs")] if db.is_sqlite else []
    registry = Registry.open(
        Settings(db_url=db_url, blob_dir=work / f"{name}-blobs" if db.is_sqlite else None), db
    )
    counties = [c.code6 for c in codes.counties() if c.code6 != PULL_COUNTY][:STATIONS]
    per_station = max(BATCH_RECORDS, int(60 * scale) // BATCH_RECORDS * BATCH_RECORDS)
    bodies = _prepare_push(db, registry, counties, per_station)
    for county in counties:
        issue_station(tls.root, county, f"BENCH-{county}")

    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    server = _start(
        [
            "-m",
            "sync.registry.cli",
            "serve",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--tls-dir",
            str(tls.root),
            *blob_args,
            *open_deadline_args(),  # entry year 2026's records stay within the deadline on any date
            "--workers",
            str(workers),
        ]
    )
    try:
        _wait_up(url, tls, next(iter(bodies)), server)
        accepted, elapsed = _push_all(url, tls, bodies, count_accepted=True)
        rate = accepted / elapsed
        print(
            f"  push  {name:10s} {accepted:6d} records accepted in {elapsed:6.2f} s = {rate:8.1f} rec/s"
            f"   vs bare endpoint {bare_rate:8.1f} rec/s   ratio {rate / bare_rate:5.2f}"
        )

        count = int(100_000 * scale)
        seed_county(registry, PULL_COUNTY, count, SEASON, seed=3)
        station = "BENCH-PULL"
        if not tls.station_cert(station).exists():
            issue_station(tls.root, PULL_COUNTY, station)
        scanned, scan_s = _scan(db)
        for gzip in (True, False):
            items, wire, pull_s, pages = _pull(url, tls, station, gzip)
            print(
                f"  pull  {name:10s} gzip={'on ' if gzip else 'off'} {items:6d} records, {pages:4d} pages in "
                f"{pull_s:6.2f} s = {items / pull_s:8.0f} rec/s, {wire / items:6.1f} B/record"
                f"   vs direct DB scan {scanned / scan_s:8.0f} rec/s   ratio {(items / pull_s) / (scanned / scan_s):5.3f}"
            )
    finally:
        server.terminate()
        server.wait(10)
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100,000-student pull, 480 pushed records"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="registry server processes")
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tls-dir", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        bare_server(args.port, args.tls_dir, args.store)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        work = Path(tmp)
        tls = TlsPaths(work / "tls")
        init_pki(tls.root)
        print(
            f"registry benchmark: {STATIONS} stations x batches of {BATCH_RECORDS} x {PHOTO_BYTES // 1000} KB photos, "
            f"scale {args.scale}"
        )

        # Baseline: the same bodies against the bare store-the-bytes endpoint.
        base_db = Database(f"sqlite:///{work}/bare-source.db")
        initialise(base_db, SEASON)
        base_registry = Registry.open(Settings(db_url=base_db.url, blob_dir=work / "unused"), base_db)
        counties = [c.code6 for c in codes.counties() if c.code6 != PULL_COUNTY][:STATIONS]
        per_station = max(BATCH_RECORDS, int(60 * args.scale) // BATCH_RECORDS * BATCH_RECORDS)
        bodies = _prepare_push(base_db, base_registry, counties, per_station)
        for county in counties:
            issue_station(tls.root, county, f"BENCH-{county}")
        (work / "bare-store").mkdir()
        port = _free_port()
        bare = _start(
            [
                "-m",
                "tests.bench.bench_registry",
                "--bare-server",
                "--port",
                str(port),
                "--tls-dir",
                str(tls.root),
                "--store",
                str(work / "bare-store"),
            ]
        )
        try:
            _wait_up(f"https://127.0.0.1:{port}", tls, next(iter(bodies)), bare)
            sent, elapsed = _push_all(f"https://127.0.0.1:{port}", tls, bodies, count_accepted=False)
        finally:
            bare.terminate()
            bare.wait(10)
            base_db.dispose()
        bare_rate = sent / elapsed
        print(f"  bare endpoint (baseline): {sent} records stored in {elapsed:.2f} s = {bare_rate:.1f} rec/s")

        if args.db in ("sqlite", "both"):
            run_backend(
                "sqlite", f"sqlite:///{work}/registry.db", work, tls, args.scale, bare_rate, args.workers
            )
        if args.db in ("postgresql", "both"):
            from tests.registry.pgserver import PostgresServer, server_bin_dir

            if server_bin_dir() is None:
                print("  postgresql: skipped (no PostgreSQL server binaries)")
            else:
                pg = PostgresServer(durable=True).start()
                try:
                    run_backend(
                        "postgresql",
                        pg.create_database("bench"),
                        work,
                        tls,
                        args.scale,
                        bare_rate,
                        args.workers,
                    )
                finally:
                    pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
