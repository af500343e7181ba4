"""Sync benchmark: push, pull and link profiles against the reference registry over mutual TLS (loopback).

Measured, each beside a baseline taken in the same run:

* **push throughput**: 2,000 captures (scale with ``--scale``) pushed by the engine (AIMD batches, store
  transactions, hash checks, ledger reconciliation), against the *ceiling* of posting the very same
  request bodies raw, back to back, on one keep-alive mTLS session (the registry answers them as
  replays). Aim: ratio >= 0.8.
* **wire / payload**: bytes the station sent, counted at a TCP proxy (TLS records and headers included),
  over the payload (JPEG + canonical record JSON of the acked records). Aim <= 1.05.
* **flapping link**: a batch of captures drained through a proxy that drops, stalls and recovers every
  second or so; wasted bytes (bodies of attempts never applied) against the bytes that were applied.
* **link profiles L1-L3** (docs/sync-protocol.md §11.4, throttled and delayed by the proxy): time to drain a small
  outbox, against the ideal time of the same bytes at the profile's rate.
* **pull**: 100,000 students (scaled) pulled by ``station sync --once --pull-only`` in a subprocess (time,
  peak RSS), against fetching the same pages raw without applying them.

Photos: real portraits (scikit-image's astronaut on plain backdrops, a few framings); each capture's
JPEG is made unique with a COM segment carrying its index, so no two records share a photo. People are
synthetic. Run: ``.venv/bin/python -m tests.bench.bench_sync [--scale 0.1]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from sync.client.engine import Policy
from sync.client.http import RegistrySession, Timeouts
from sync.protocol.wire import ApprovalsPage, BatchResponse
from tests.support.stations import login_arguments, station_process
from tests.sync.faultproxy import FaultProxy, Plan
from tests.sync.harness import (
    STATION_2,
    chip_for,
    credentials,
    engine_for,
    make_pki,
    make_station,
    open_app,
    photo_variants,
    start_registry,
)

BENCH_POLICY = Policy(
    backoff_base_s=0.05, backoff_cap_s=1.0, retry_after_cap_s=1.0, offline_after=50, max_wait_s=5
)
TIMEOUTS = Timeouts(connect_s=5, read_s=10, deadline_base_s=20, min_goodput_bps=4_000)
RATE = 1_000_000  # bytes/s of the flapping link when up
PROFILES = {
    "L1 1 Mbit/s RTT 100 ms": Plan(rate_bps=125_000, latency_s=0.05),
    "L2 256 kbit/s RTT 600 ms": Plan(rate_bps=32_000, latency_s=0.3),
    "L3 64 kbit/s RTT 1.2 s": Plan(rate_bps=8_000, latency_s=0.6),
}


def unique_jpeg(data: bytes, index: int) -> bytes:
    comment = f"capture {index:08d}".encode()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def fill_outbox(app, students, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    variants = photo_variants(6)
    for offset, student in enumerate(students):
        index = start + offset
        base = variants[index % len(variants)]
        photo = replace(base, jpeg_bytes=unique_jpeg(base.jpeg_bytes, index))
        desk = app.desk()
        desk.card_read(chip_for(student.national_id))
        desk.photo_taken(photo)
        desk.accept("op-bench")


def line(name: str, value: float, unit: str, baseline_name: str, baseline: float, ratio: float) -> None:
    print(f"{name:<44} {value:>12.2f} {unit:<8} | {baseline_name:<34} {baseline:>12.2f} | ratio {ratio:.3f}")


def bench_push(tmp: Path, tls: Path, count: int) -> None:
    registry = start_registry(tmp / "push", tls, students=int(count * 1.25) + 50)
    proxy = FaultProxy(("127.0.0.1", registry.port)).start()
    home = make_station(tmp / "push-station", proxy.url, tls)
    app = open_app(home)
    try:
        engine = engine_for(app, policy=BENCH_POLICY, timeouts=TIMEOUTS)
        engine.run_once(push=False)
        started = time.perf_counter()
        fill_outbox(app, registry.approved()[:count])
        capture_s = time.perf_counter() - started
        sent: list[tuple[str, bytes, str, str]] = []
        factory = engine.session_factory

        def recording_session() -> RegistrySession:
            session = factory()
            original = session.post_batch

            def post_batch(path, body, content_type, key, model, **options):  # type: ignore[no-untyped-def]
                sent.append((path, body, content_type, key))
                return original(path, body, content_type, key, model, **options)

            session.post_batch = post_batch  # type: ignore[method-assign]
            return session

        engine.session_factory = recording_session
        up_before = proxy.bytes_up
        started = time.perf_counter()
        report = engine.run_once(pull=False)
        push_s = time.perf_counter() - started
        wire_up = proxy.bytes_up - up_before
        assert report.accepted == count, report.as_dict()
        # The ceiling: the same bodies posted raw, back to back, to a fresh registry with the same
        # students (so it does the same first-time work: blobs, checks, serials), through the same proxy.
        fresh = start_registry(tmp / "push-raw", tls, students=int(count * 1.25) + 50)
        proxy.upstream = ("127.0.0.1", fresh.port)
        raw = RegistrySession(proxy.url, credentials(tls), timeouts=TIMEOUTS)
        raw.ping()
        started = time.perf_counter()
        for path, body, content_type, key in sent:
            answer = raw.post_batch(path, body, content_type, key, BatchResponse)
            assert all(r.status == "accepted" for r in answer.results)
        raw_s = time.perf_counter() - started
        raw.close()
        fresh.server.stop()
        print(
            f"push: {count} captures ({capture_s:.1f} s to capture at the desk), {report.batches} batches, "
            f"batch sizes {report.batch_sizes[:6]}...{report.batch_sizes[-3:]}"
        )
        line(
            "push records/s (engine, incl. reconcile)",
            count / push_s,
            "rec/s",
            "raw POST of the same bodies",
            count / raw_s,
            raw_s / push_s,
        )
        line(
            "push MB/s (engine)",
            report.body_bytes / push_s / 1e6,
            "MB/s",
            "raw POST MB/s",
            report.body_bytes / raw_s / 1e6,
            raw_s / push_s,
        )
        line(
            "wire bytes up / payload bytes",
            wire_up / report.payload_bytes,
            "x",
            "body bytes / payload bytes",
            report.body_bytes / report.payload_bytes,
            (wire_up / report.payload_bytes) / (report.body_bytes / report.payload_bytes),
        )
    finally:
        app.close()
        proxy.stop()
        registry.server.stop()


def bench_flapping(tmp: Path, tls: Path, count: int) -> None:
    registry = start_registry(tmp / "flap", tls, students=int(count * 1.3) + 30)
    proxy = FaultProxy(("127.0.0.1", registry.port)).start()
    home = make_station(tmp / "flap-station", proxy.url, tls, STATION_2)
    app = open_app(home)
    stop = threading.Event()
    rng = random.Random(7)

    def flap() -> None:  # docs/sync-protocol.md §11.2 N11 (up 30-120 s / down 10-60 s), 30x faster
        while not stop.is_set():
            time.sleep(rng.uniform(1.0, 4.0))  # up
            proxy.set_default(Plan(blackhole=True))
            proxy.kill_connections()
            time.sleep(rng.uniform(0.3, 2.0))  # down
            proxy.set_default(Plan(rate_bps=RATE))

    try:
        engine = engine_for(
            app, policy=BENCH_POLICY, timeouts=replace(TIMEOUTS, connect_s=1, read_s=1, deadline_base_s=2)
        )
        engine.run_once(push=False)
        fill_outbox(app, registry.approved()[:count], start=10**6)
        flapper = threading.Thread(target=flap, daemon=True)
        proxy.set_default(Plan(rate_bps=RATE))
        flapper.start()
        started = time.perf_counter()
        wasted = applied = sessions = 0
        while app.database.outbox.counts()["accepted"] < count and time.perf_counter() - started < 600:
            report = engine.run_once(pull=False)
            sessions += 1
            wasted += report.wasted_bytes
            applied += report.body_bytes
        elapsed = time.perf_counter() - started
        stop.set()
        flapper.join()
        ideal = applied / RATE
        print(f"flapping link: {count} captures drained in {elapsed:.1f} s over {sessions} sessions")
        line("wasted bytes / applied bytes", wasted / max(applied, 1), "x", "(0 on a healthy link)", 0.0, 0.0)
        line(
            "drain time through flapping link",
            elapsed,
            "s",
            "ideal at 8 Mbit/s, no drops",
            ideal,
            ideal / elapsed,
        )
    finally:
        stop.set()
        app.close()
        proxy.stop()
        registry.server.stop()


def bench_soak(tmp: Path, tls: Path, count: int) -> None:
    """Captures through a flapping link while `station sync --once` processes are SIGKILLed at random."""
    from tests.sync.harness import Tally, check_oracle, drain

    registry = start_registry(tmp / "soak", tls, students=int(count * 1.3) + 30)
    proxy = FaultProxy(("127.0.0.1", registry.port)).start()
    home = make_station(tmp / "soak-station", proxy.url, tls)
    app = open_app(home)
    stop = threading.Event()
    rng = random.Random(2026)

    def flap() -> None:
        while not stop.is_set():
            time.sleep(rng.uniform(1.0, 4.0))
            proxy.set_default(Plan(blackhole=True))
            proxy.kill_connections()
            time.sleep(rng.uniform(0.3, 2.0))
            proxy.set_default(Plan(rate_bps=RATE))

    env = {
        **os.environ,
        "STATION_HOME": str(home),
        "STATION_SYNC_BACKOFF_S": "0.05",
        "STATION_SYNC_MAX_WAIT_S": "2",
        "STATION_SYNC_CONNECT_TIMEOUT_S": "1",
        "STATION_SYNC_DEADLINE_S": "3",
    }
    try:
        engine_for(app, policy=BENCH_POLICY, timeouts=TIMEOUTS).run_once(push=False)
        students = registry.approved()[:count]
        proxy.set_default(Plan(rate_bps=RATE))
        flapper = threading.Thread(target=flap, daemon=True)
        flapper.start()
        started = time.perf_counter()
        up_before = proxy.bytes_up
        kills = runs = 0
        scheduled = 0.0
        step = max(1, count // 40)
        for start in range(0, count, step):
            fill_outbox(app, students[start : start + step], start=2 * 10**6 + start)
            worker = station_process(
                "sync", "--once", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            runs += 1
            pause = rng.uniform(0.5, 4.0)
            scheduled += pause
            time.sleep(pause)
            if worker.poll() is None:
                worker.kill()
                kills += 1
            worker.wait(timeout=60)
        stop.set()
        flapper.join()
        proxy.set_default(Plan(rate_bps=RATE))
        tally = Tally()
        drain(engine_for(app, policy=BENCH_POLICY, timeouts=TIMEOUTS), tally, rounds=20)
        elapsed = time.perf_counter() - started
        check_oracle(app, registry, tally)  # lost = 0, doubled = 0, one outcome each, unique numbers
        wire = proxy.bytes_up - up_before
        accepted = app.database.outbox.counts()["accepted"]
        payload = _wire_payload_bytes(app)
        print(
            f"soak: {count} captures, {runs} sync processes of which {kills} SIGKILLed, flapping link; "
            f"{accepted} accepted, oracle holds (lost 0, doubled 0)"
        )
        line(
            "soak wire bytes up / payload bytes",
            wire / payload,
            "x",
            "healthy-link wire / payload",
            1.01,
            1.01 / (wire / payload),
        )
        line("soak wall time", elapsed, "s", "the kill schedule alone", scheduled, scheduled / elapsed)
    finally:
        stop.set()
        app.close()
        proxy.stop()
        registry.server.stop()


def _wire_payload_bytes(app) -> int:  # type: ignore[no-untyped-def]
    """Σ (JPEG + canonical wire-record JSON) over the station's records: the payload of docs/sync-protocol.md §11.4."""
    from station.store.models import records
    from station.syncing.local_store import wire_record
    from sync.protocol.canonical import canonical_json

    with app.database.read() as conn:
        ids = list(conn.execute(sa.select(records.c.record_id)).scalars())
    total = 0
    for frozen in app.database.records.frozen_payloads(ids).values():
        wire, photo = wire_record(frozen)
        total += len(canonical_json(wire)) + len(photo)
    return total


def bench_profiles(tmp: Path, tls: Path, scale: float) -> None:
    counts = {name: max(2, int(n * scale)) for name, n in zip(PROFILES, (30, 10, 4), strict=True)}
    for index, (name, plan) in enumerate(PROFILES.items()):
        count = counts[name]
        registry = start_registry(tmp / f"profile{index}", tls, students=count * 2 + 20)
        proxy = FaultProxy(("127.0.0.1", registry.port)).start()
        home = make_station(tmp / f"profile{index}-station", proxy.url, tls)
        app = open_app(home)
        try:
            engine = engine_for(
                app,
                policy=BENCH_POLICY,
                timeouts=replace(TIMEOUTS, connect_s=20, read_s=60, deadline_base_s=120),
            )
            engine.run_once(push=False)
            fill_outbox(app, registry.approved()[:count], start=index * 10_000)
            proxy.set_default(plan)
            up_before = proxy.bytes_up
            started = time.perf_counter()
            report = engine.run_once(pull=False)
            elapsed = time.perf_counter() - started
            ideal = (proxy.bytes_up - up_before) / plan.rate_bps
            line(
                f"{name}: {count} rec drain",
                elapsed,
                "s",
                f"ideal {count} rec at link rate",
                ideal,
                ideal / elapsed,
            )
            print(
                f"    {count / elapsed:.3f} rec/s, batches {report.batch_sizes}, retries {dict(report.retries_by_cause)}"
            )
        finally:
            app.close()
            proxy.stop()
            registry.server.stop()


def bench_pull(tmp: Path, tls: Path, students: int) -> None:
    started = time.perf_counter()
    registry = start_registry(tmp / "pull", tls, students=students)
    seed_s = time.perf_counter() - started
    home = make_station(tmp / "pull-station", registry.server.url, tls)
    env = {**os.environ, "STATION_HOME": str(home), "STATION_LANG": "en"}
    try:
        idle_mb, _ = _station_process(env, "status", "--json")
        started = time.perf_counter()
        peak_mb, done = _station_process(env, "sync", "--once", "--pull-only", "--json")
        pull_s = time.perf_counter() - started
        assert done.returncode == 0, done.stderr[-2000:]
        raw = RegistrySession(registry.server.url, credentials(tls), timeouts=TIMEOUTS)
        started = time.perf_counter()
        cursor, pages = None, 0
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = raw.get_model("/v1/counties/150102/approvals", ApprovalsPage, params)
            pages += 1
            cursor = page.next_cursor
            if not page.has_more:
                break
        raw_s = time.perf_counter() - started
        raw.close()
        print(f"pull: {students} students seeded in {seed_s:.1f} s; {pages} pages of 500")
        line(
            "pull (station sync --pull-only, process)",
            pull_s,
            "s",
            "raw GET of the same pages",
            raw_s,
            raw_s / pull_s,
        )
        line(
            "pull students/s",
            students / pull_s,
            "rec/s",
            "raw GET students/s",
            students / raw_s,
            raw_s / pull_s,
        )
        line(
            "pull peak RSS of the station process",
            peak_mb,
            "MB",
            "same process, `station status`",
            idle_mb,
            peak_mb / idle_mb,
        )
    finally:
        registry.server.stop()


_MEASURED = (
    "import re, sys; from station.__main__ import main; code = main(sys.argv[1:]); "
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
    "print('MAXRSS', hwm, file=sys.stderr); sys.exit(code)"
)


def _station_process(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:  # type: ignore[type-arg]
    arguments, stdin = login_arguments(args, None)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *arguments],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    marks = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS ")]
    return (int(marks[-1].split()[1]) / 1024 if marks else float("nan")), done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full sizes (2,000 pushes, 100,000 pulls)"
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["push", "flapping", "soak", "profiles", "pull"]
    )
    args = parser.parse_args(argv)
    for noisy in ("uvicorn", "uvicorn.error", "sync.registry.app", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        tls = make_pki(tmp / "tls")
        print(f"bench_sync (scale {args.scale})")
        if "push" not in args.skip:
            bench_push(tmp, tls, max(10, int(2000 * args.scale)))
        if "flapping" not in args.skip:
            bench_flapping(tmp, tls, max(10, int(300 * args.scale)))
        if "soak" not in args.skip:
            bench_soak(tmp, tls, max(20, int(2000 * args.scale)))
        if "profiles" not in args.skip:
            bench_profiles(tmp, tls, max(args.scale, 0.1))
        if "pull" not in args.skip:
            bench_pull(tmp, tls, max(1000, int(100_000 * args.scale)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
