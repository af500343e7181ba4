"""Several writers at once (threads with their own engines, and separate processes) neither deadlock
nor fail: BEGIN IMMEDIATE serialises read-then-write transactions instead of failing the upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from station.store import StationDatabase, audit
from tests.support.stations import OFFICER

WRITERS = 4
TRANSACTIONS = 25


def _read_then_write(database: StationDatabase, writer: int) -> None:
    for n in range(TRANSACTIONS):
        with database.write() as conn:
            # Read first, then write: under a deferred BEGIN two of these would deadlock into SQLITE_BUSY.
            count = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
            audit.append(conn, "export", operator=f"w{writer}", detail={"n": n, "seen": count})


def test_threads_with_separate_connections(station):
    databases = [StationDatabase.open(station.home, officer=OFFICER) for _ in range(WRITERS)]
    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            for future in [pool.submit(_read_then_write, db, i) for i, db in enumerate(databases)]:
                future.result(timeout=60)
    finally:
        for database in databases:
            database.close()
    entries = station.audit.list(action="export", limit=1000)
    assert len(entries) == WRITERS * TRANSACTIONS
    # Each transaction saw every earlier commit: the counts it read are all distinct.
    assert len({e.detail["seen"] for e in entries}) == WRITERS * TRANSACTIONS
    assert station.audit.verify_chain() is None


_CHILD = """
import sys
import sqlalchemy as sa
from station.store import StationDatabase, audit
from tests.support.stations import OFFICER
with StationDatabase.open(sys.argv[1], officer=OFFICER) as db:
    for n in range(int(sys.argv[2])):
        with db.write() as conn:
            conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
            audit.append(conn, "export", operator="proc" + sys.argv[3], detail={"n": n})
"""


def test_separate_processes(station):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(station.home), str(TRANSACTIONS), str(i)], env=env
        )
        for i in range(2)
    ]
    # The parent writes too, while the children run.
    writer = threading.Thread(target=_read_then_write, args=(station, 99))
    writer.start()
    codes = [child.wait(timeout=60) for child in children]
    writer.join(timeout=60)
    assert codes == [0, 0]
    assert len(station.audit.list(action="export", limit=1000)) == 3 * TRANSACTIONS
    assert station.audit.verify_chain() is None


def test_write_transactions_take_the_write_lock_at_begin(station):
    """While a write transaction is open, even before it writes, no other writer can start."""
    from station.store import engine

    other = engine.connect(station.path, station._key)
    other.execute("PRAGMA busy_timeout = 0")
    try:
        with station.write() as conn:
            conn.execute(sa.text("SELECT 1")).scalar()
            try:
                other.execute("BEGIN IMMEDIATE")
            except Exception as exc:  # sqlcipher3's OperationalError
                assert "locked" in str(exc)
            else:
                other.execute("ROLLBACK")
                raise AssertionError("a second writer started while the first held BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again after COMMIT
        other.execute("ROLLBACK")
    finally:
        other.close()
