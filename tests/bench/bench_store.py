"""Benchmark of the encrypted store's hot paths, each against a plain-SQLite baseline in the same run.

Measured (SQLCipher + SQLAlchemy, WAL, synchronous=FULL, BEGIN IMMEDIATE, real 480x640 JPEG):
* save one capture (record + outbox row + audit entry, one transaction, fsync'ed)  vs  the same rows
  inserted with the standard library's unencrypted sqlite3 and the same pragmas;
* apply one 500-item approvals feed page with its cursor                            vs  the same upserts
  through unencrypted sqlite3;
* open the station (key from the key file, schema check)                             vs  sqlite3.connect
  plus one query.
The ratio is the price of encryption plus the repository layer. Run:
``.venv/bin/python -m tests.bench.bench_store``.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from station.store import StationDatabase
from station.store.rows import FeedItem
from sync.protocol import synthetic
from tests.store.conftest import capture_for, student_for
from tests.support.stations import OFFICER

CAPTURES = 60
FEED_ITEMS = 500


def _jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((480, 640)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def _plain(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(
        """
        CREATE TABLE records (record_id TEXT PRIMARY KEY, student_id TEXT, national_id TEXT, chip_text BLOB,
            chip_wlt BLOB, photo_jpeg BLOB, photo_sha256 TEXT, payload BLOB, payload_sha256 TEXT, captured_at TEXT);
        CREATE TABLE outbox (record_id TEXT PRIMARY KEY, state TEXT, created_at TEXT, size_bytes INT);
        CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at TEXT, action TEXT, subject TEXT);
        CREATE TABLE students (student_id TEXT PRIMARY KEY, version INT, data TEXT);
        """
    )
    return conn


def _timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for i in range(repeat):
        fn(i)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    jpeg = _jpeg()
    people = synthetic.people(max(CAPTURES, FEED_ITEMS), "150102", seed=3)
    rows = [capture_for(p, jpeg) for p in people[:CAPTURES]]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        database, _ = StationDatabase.create(home, admin=OFFICER)
        plain = _plain(Path(tmp) / "plain.db")

        def save(i: int) -> None:
            database.records.save(rows[i])

        def plain_save(i: int) -> None:
            r = rows[i]
            plain.execute("BEGIN IMMEDIATE")
            plain.execute(
                "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    r.record_id,
                    r.student_id,
                    r.national_id,
                    r.chip_text,
                    r.chip_wlt,
                    r.photo_jpeg,
                    r.photo_sha256,
                    r.payload,
                    r.payload_sha256,
                    r.captured_at,
                ),
            )
            plain.execute(
                "INSERT INTO outbox VALUES (?, 'pending', ?, ?)", (r.record_id, r.captured_at, len(jpeg))
            )
            plain.execute(
                "INSERT INTO audit_log (at, action, subject) VALUES (?, 'capture', ?)",
                (r.captured_at, r.record_id),
            )
            plain.execute("COMMIT")

        items = [
            FeedItem(s.student_id, n + 1, 1, "upsert", s.feed_data())
            for n, s in enumerate(student_for(p) for p in people[:FEED_ITEMS])
        ]

        def feed(i: int) -> None:
            bumped = [FeedItem(it.student_id, it.seq, i + 1, "upsert", it.data) for it in items]
            database.queue.apply_feed_page(bumped, f"c{i}", feed="approvals:150102")

        def plain_feed(i: int) -> None:
            plain.execute("BEGIN IMMEDIATE")
            plain.executemany(
                "INSERT INTO students VALUES (?, ?, ?) ON CONFLICT(student_id) DO UPDATE SET version = excluded.version, "
                "data = excluded.data WHERE excluded.version > students.version",
                [(it.student_id, i + 1, repr(it.data)) for it in items],
            )
            plain.execute("COMMIT")

        figures = [
            ("save one capture", _timed(save, CAPTURES), _timed(plain_save, CAPTURES)),
            (f"apply a {FEED_ITEMS}-item feed page", _timed(feed, 5), _timed(plain_feed, 5)),
        ]
        database.close()

        def reopen(_i: int) -> None:
            StationDatabase.open(home, officer=OFFICER).close()

        def plain_open(_i: int) -> None:
            conn = sqlite3.connect(Path(tmp) / "plain.db")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.close()

        figures.append(("open the station", _timed(reopen, 10), _timed(plain_open, 10)))
        plain.close()

    print(f"{'figure':34} {'store':>10} {'baseline: plain sqlite3':>24} {'ratio':>7}")
    for name, value, baseline in figures:
        print(f"{name:34} {value * 1000:8.2f}ms {baseline * 1000:22.2f}ms {value / baseline:6.1f}x")


if __name__ == "__main__":
    main()
