"""Building blocks of the sync tests: a registry over mutual TLS, enrolled stations, cards, captures,
and the oracle of docs/sync-protocol.md §11.3.

Everything is real: the reference registry (FastAPI + SQLite) served by uvicorn on 127.0.0.1 with the
private CA, stations with encrypted SQLCipher databases, the desk workflow for captures, and photos
made by the camera pipeline from a real portrait (scikit-image's astronaut on a plain backdrop).
People are synthetic (``sync.protocol.synthetic``).

Dates: the stations capture on the real clock and the registry for the suite's entry year (``SEASON``: the
one open today or next) runs on it too, so its capture window is set around today (``open_window``: opened 60 days ago, deadline in 60 days)
and the cards are valid for years from today; the suite passes on any date.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa

from station import config as station_config
from station.app import StationApp
from station.capture.workflow import State
from station.domain.rules import today_in_china
from station.idcard import commands as cmd
from station.idcard.emulator import synthetic_chip
from station.idcard.frames import build_response
from station.store.database import StationDatabase
from station.syncing.credentials import save_credentials
from station.syncing.engine import build_engine
from station.syncing.local_store import StationSyncStore
from sync.client.engine import Policy, SyncEngine
from sync.client.http import Timeouts
from sync.client.tlsmaterial import Credentials
from sync.protocol import synthetic
from sync.protocol.card import ChipData
from sync.protocol.season import open_entry_year
from sync.registry.app import create_app
from sync.registry.config import Settings
from sync.registry.core import Registry, initialise
from sync.registry.db import Database, RecordRow, Student
from sync.registry.faults import Faults
from sync.registry.pki import TlsPaths, init_pki, issue_station
from sync.registry.seed import seed_county
from sync.registry.tls import RegistryServer
from tests.support.stations import OFFICER, login_arguments, open_station

COUNTY = "150102"
SEASON = open_entry_year(today_in_china())  # the suite runs on any day: the season open now or next
STATION = "ST-150102-01"
STATION_2 = "ST-150102-02"
SEED = 1
FAST = Policy(
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    retry_after_cap_s=0.2,
    offline_after=6,
    probe_interval_s=(0.01, 0.02),
    max_wait_s=3.0,
)
FAST_TIMEOUTS = Timeouts(connect_s=2.0, read_s=2.0, deadline_base_s=4.0, min_goodput_bps=200_000)


def make_pki(root: Path) -> Path:
    init_pki(root)
    issue_station(root, COUNTY, STATION)
    issue_station(root, COUNTY, STATION_2)
    return root


@dataclass
class RunningRegistry:
    registry: Registry
    server: RegistryServer
    tls_dir: Path
    faults: Faults

    @property
    def port(self) -> int:
        return self.server.port

    def restart(self) -> None:
        """Stop the server and serve the same database on a new port (a server restart)."""
        self.server.stop()
        self.server = RegistryServer(create_app(self.registry, faults=self.faults), self.tls_dir).start()

    def ledger(self, station_id: str = STATION) -> dict[str, RecordRow]:
        with self.registry.db.read() as session:
            rows = session.scalars(sa.select(RecordRow).where(RecordRow.station_id == station_id)).all()
            return {r.record_id: r for r in rows}

    def all_records(self) -> list[RecordRow]:
        with self.registry.db.read() as session:
            return list(session.scalars(sa.select(RecordRow)).all())

    def approved(self) -> list[Student]:
        with self.registry.db.read() as session:
            return list(
                session.scalars(
                    sa.select(Student)
                    .where(Student.county == COUNTY, Student.status == "approved")
                    .order_by(Student.seq)
                ).all()
            )


def open_window(days: int = 60) -> dict:
    """Registry settings whose capture window holds today: opened ``days`` ago, deadline ``days`` ahead."""
    today = date.today()
    return {"season_opens": today - timedelta(days=days), "deadline": today + timedelta(days=days)}


def start_registry(tmp: Path, tls_dir: Path, students: int = 40, **settings) -> RunningRegistry:  # type: ignore[no-untyped-def]
    tmp.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp}/registry.db"
    db = Database(url)
    initialise(db, SEASON)
    settings.setdefault("tls_dir", tls_dir)
    for name, value in open_window().items():
        settings.setdefault(name, value)
    registry = Registry.open(Settings(db_url=url, blob_dir=tmp / "blobs", **settings), db)
    seed_county(registry, COUNTY, students, SEASON, seed=SEED)
    faults = Faults()
    server = RegistryServer(create_app(registry, faults=faults), tls_dir).start()
    return RunningRegistry(registry, server, tls_dir, faults)


def credentials(tls_dir: Path, station_id: str = STATION) -> Credentials:
    paths = TlsPaths(tls_dir)
    return Credentials(
        paths.ca_cert.read_text(),
        paths.station_cert(station_id).read_text(),
        paths.station_key(station_id).read_text(),
    )


def make_station(
    home: Path, url: str, tls_dir: Path, station_id: str = STATION, creds: Credentials | None = None
) -> Path:
    database, _code = StationDatabase.create(home, admin=OFFICER)
    try:
        save_credentials(database, creds or credentials(tls_dir, station_id))
    finally:
        database.close()
    station_config.save(
        station_config.StationConfig(
            station_id=station_id,
            county_code6=COUNTY,
            entry_year=SEASON,
            registry_url=url,
            photo_profile="moe-480",
        ),
        home,
    )
    return home


def set_url(home: Path, url: str) -> None:
    station_config.save(replace(station_config.load(home), registry_url=url), home)


def set_entry_year(home: Path, year: int) -> None:
    station_config.save(replace(station_config.load(home), entry_year=year), home)


@cache
def people(count: int = 400) -> dict[str, synthetic.SyntheticPerson]:
    return {p.id_number: p for p in synthetic.people(count, COUNTY, seed=SEED, birth_year=SEASON - 16)}


def _person(national_id: str) -> synthetic.SyntheticPerson:
    for count in (400, 5_000, 120_000):  # the registry seeds a prefix of the same sequence
        found = people(count).get(national_id)
        if found is not None:
            return found
    raise KeyError("not a seeded synthetic person")


def chip_for(national_id: str) -> ChipData:
    return synthetic_chip(_person(national_id), valid_until=date.today() + timedelta(days=8 * 365))


def card_file(path: Path, national_id: str) -> Path:
    """A saved raw response frame of a base-message read (as `station idcard parse` takes it)."""
    chip = chip_for(national_id)
    path.write_bytes(build_response(0x90, cmd.build_base_message(chip.raw_text, chip.raw_wlt)))
    return path


@cache
def photo():  # type: ignore[no-untyped-def]
    from station.camera.photo import make_photo
    from tests.camera.portraits import positive

    return make_photo(positive(), "moe-480")


@cache
def photo_variants(count: int) -> list:  # type: ignore[type-arg]
    """Distinct real-portrait photos (backdrop tint and framing vary), for byte figures."""
    from station.camera.photo import make_photo
    from station.camera.simulated import compose, plain_backdrop
    from tests.camera.portraits import GAIN, SIZE

    made = []
    for index in range(count):
        tint = 255 - (index % 6)
        backdrop = plain_backdrop(SIZE, (tint, 255 - (index // 6) % 6, 255))
        made.append(make_photo(compose(backdrop, scale=2.9 + 0.02 * (index % 8), gain=GAIN), "moe-480"))
    return made


def photo_of(national_id: str, base=None):  # type: ignore[no-untyped-def]
    """The portrait photo made unique to one student by a JPEG comment segment naming a hash of the number.

    A real desk takes a new photo of every student, and the registry refuses one photo for two; making
    a portrait per student costs 0.2 s, a comment segment nothing (the image and its size class stay).
    """
    import hashlib

    original = base or photo()
    tag = hashlib.sha256(national_id.encode()).hexdigest()[:16].encode()
    segment = b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag
    return replace(original, jpeg_bytes=original.jpeg_bytes[:2] + segment + original.jpeg_bytes[2:])


def open_app(home: Path) -> StationApp:
    return open_station(home)


def capture(app: StationApp, national_id: str, photo_result=None, operator: str = "op-01") -> str:  # type: ignore[no-untyped-def]
    desk = app.desk()
    state = desk.card_read(chip_for(national_id))
    assert state is State.PHOTO, (desk.refusal_code, [str(r) for r in desk.reasons])
    desk.photo_taken(photo_result or photo_of(national_id))
    return desk.accept(operator).record_id


def engine_for(app: StationApp, policy: Policy = FAST, timeouts: Timeouts = FAST_TIMEOUTS) -> SyncEngine:
    engine = build_engine(app.database, app.config, policy=policy, timeouts=timeouts)
    app.database.outbox._backoff = lambda attempts: 0.02  # the store's per-record backoff, shortened
    return engine


def store_of(engine: SyncEngine) -> StationSyncStore:
    return engine.store  # type: ignore[return-value]


@dataclass
class Tally:
    """Figures gathered over the sessions of one scenario."""

    duplicates: int = 0
    lost_responses: int = 0
    reports: list = field(default_factory=list)  # type: ignore[type-arg]

    def add(self, report) -> None:  # type: ignore[no-untyped-def]
        self.reports.append(report)
        self.duplicates += report.duplicates


def drain(engine: SyncEngine, tally: Tally | None = None, rounds: int = 8, **kinds: bool):  # type: ignore[no-untyped-def]
    """Sessions until the outbox is empty and the ledger agrees (or ``rounds`` run out)."""
    report = None
    for _ in range(rounds):
        report = engine.run_once(**kinds)
        if tally is not None:
            tally.add(report)
        counts = engine.store.db.outbox.counts()  # type: ignore[attr-defined]
        if report.ok and counts["pending"] == 0 and counts["inflight"] == 0 and report.ledger_digest_ok:
            break
    return report


def check_oracle(
    app: StationApp,
    registry: RunningRegistry,
    tally: Tally | None = None,
    *,
    station_id: str = STATION,
    conflicts: int = 0,
    lost_responses: int = 0,
) -> None:
    """§11.3: captured set = ledger set, one outcome each, unique numbers, duplicates >= lost responses."""
    db = app.database
    entries = {e.record_id: e for e in db.outbox.list(limit=10**9)}
    with db.read() as conn:
        captured = set(conn.execute(sa.text("SELECT record_id FROM records")).scalars())
    ledger = registry.ledger(station_id)
    counts = db.outbox.counts()
    assert counts["pending"] == 0 and counts["inflight"] == 0, counts
    assert counts["conflict"] == conflicts, counts
    final = {r for r, e in entries.items() if e.state in ("accepted", "rejected")}
    assert captured - {r for r, e in entries.items() if e.state == "conflict"} == set(ledger) == final
    for record_id in final:
        entry, row = entries[record_id], ledger[record_id]
        expected = "accepted" if row.outcome == "registered" else "rejected"
        assert entry.state == expected, (record_id, entry.state, row.outcome)
        assert entry.reg_no == row.reg_no
    numbers = [r.reg_no for r in registry.all_records() if r.reg_no]
    assert len(numbers) == len(set(numbers)), "a registration number was issued twice"
    registered_ids = [r.national_id for r in registry.all_records() if r.outcome == "registered"]
    assert len(registered_ids) == len(set(registered_ids)), "a person was registered twice"
    if tally is not None:
        assert tally.duplicates >= lost_responses, (tally.duplicates, lost_responses)


def station_cli(
    home: Path, *args: str, env: dict | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    full_env = {
        **os.environ,
        "STATION_HOME": str(home),
        "STATION_LANG": "en",
        "STATION_SYNC_BACKOFF_S": "0.01",
        "STATION_SYNC_RETRY_AFTER_CAP_S": "0.2",
        "STATION_SYNC_MAX_WAIT_S": "3",
        "STATION_SYNC_CONNECT_TIMEOUT_S": "2",
        "STATION_SYNC_DEADLINE_S": "4",
        **(env or {}),
    }
    full_env.pop("STATION_CRASH_AT", None) if not (env and "STATION_CRASH_AT" in env) else None
    arguments, stdin = login_arguments(args, None)
    return subprocess.run(
        [sys.executable, "-m", "station", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
