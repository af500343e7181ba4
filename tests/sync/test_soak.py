"""A small soak: captures through a flapping link while ``station sync`` processes are killed at random.

The larger soak (2,000 captures) is in ``tests/bench/bench_sync.py``. Here: 30 captures, a link that
drops, stalls and recovers every few hundred milliseconds, and sync processes SIGKILLed at random
moments; then the link heals, one last sync runs, and the oracle of docs/sync-protocol.md §11.3 must hold.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

from tests.support.stations import station_process
from tests.sync.faultproxy import Plan
from tests.sync.harness import Tally, capture, check_oracle, drain, engine_for


def test_soak_flapping_link_with_random_kills(app, registry, proxy, station_home):
    engine = engine_for(app)
    assert engine.run_once(push=False).ok
    rng = random.Random(2026)
    students = registry.approved()[:30]
    stop = threading.Event()

    flaps = 0

    def flap() -> None:
        nonlocal flaps
        while not stop.is_set():
            time.sleep(rng.uniform(0.2, 0.6))
            flaps += 1
            choice = rng.random()
            proxy.set_default(
                Plan(blackhole=True) if choice < 0.3 else Plan(rate_bps=300_000) if choice < 0.6 else Plan()
            )
            if rng.random() < 0.5:
                proxy.kill_connections()

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    env = {
        **os.environ,
        "STATION_HOME": str(station_home),
        "STATION_SYNC_BACKOFF_S": "0.01",
        "STATION_SYNC_MAX_WAIT_S": "1",
        "STATION_SYNC_CONNECT_TIMEOUT_S": "0.5",
        "STATION_SYNC_DEADLINE_S": "1.5",
    }
    kills = rounds = 0
    try:
        for start in range(0, len(students), 5):
            for student in students[start : start + 5]:
                capture(app, student.national_id)
            connections = proxy.connections
            worker = station_process(
                "sync", "--once", "--json", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            # The kill schedule: a random moment after the process reached the link (never while it
            # is still importing), so every kill lands inside a sync session.
            deadline = time.monotonic() + 30
            while proxy.connections == connections and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.6))
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                kills += 1
            worker.wait(timeout=30)
            rounds += 1
    finally:
        stop.set()
        flapper.join()
    assert kills >= rounds // 2, (kills, rounds)  # the kills happened, most rounds were cut short
    assert flaps >= 3, flaps  # and the link flapped meanwhile
    proxy.set_default(Plan())
    tally = Tally()
    drain(engine_for(app), tally)
    check_oracle(app, registry, tally)
    assert app.database.outbox.counts()["accepted"] == 30
