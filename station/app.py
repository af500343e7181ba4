"""The composition root: the one place where the station's parts are built and wired together.

Every front end starts here -- the desk (``station gui``, ``station demo``) and every command.
``Startup`` runs the start-up in a fixed, logged order, as qutebrowser's ``app.py`` does:

    logging → crash handling → configuration → store → devices → window

(a command stops after the steps it needs). ``StationApp`` is one opened station: its settings, its
encrypted store, the desk workflow's ports over that store, the card-reader and camera factories,
and the sync engine with its single-flight lock. Nothing below this module builds any of these on
its own, so the command line and the desk send the same bytes, read the same reader and refuse
the same cards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station import config as station_config
from station import i18n
from station.capture.workflow import Desk, Station
from station.config import Settings, StationConfig
from station.crash import CrashHandler, Notifier
from station.domain.officers import OfficerLogin, OfficerSource
from station.domain.records import CaptureRecord
from station.domain.students import Student, StudentStatus
from station.log import close_logging, init_logging
from sync.client.faultpoints import NO_FAULTS, FaultPoints

if TYPE_CHECKING:  # the store loads SQLCipher, SQLAlchemy and Alembic: only commands that open it pay
    from station.store.database import StationDatabase
    from station.store.rows import QueuedStudent

log = logging.getLogger("station.app")

# Outbox states in which a record still stands for the student (a rejected record does not).
_LIVE_RECORD_STATES = ("pending", "inflight", "accepted")


def student_from_queue(row: QueuedStudent) -> Student:
    return Student.from_feed(row.feed_data())


# --------------------------------------------------------------------------- the workflow's ports


class StoreQueue:
    """The workflow's queue port over the store. "Captured here" is derived from the records."""

    def __init__(self, database: StationDatabase) -> None:
        self._database = database

    def student_by_national_id(self, national_id: str) -> Student | None:
        row = self._database.queue.get_by_national_id(national_id)
        if row is None:
            return None
        student = student_from_queue(row)
        if student.status is StudentStatus.APPROVED and self.latest_record_id(student.student_id):
            return replace(student, status=StudentStatus.CAPTURED)
        return student

    def latest_record_id(self, student_id: str) -> str | None:
        for summary in self._database.records.list(student_id=student_id, limit=20):
            if summary.state in _LIVE_RECORD_STATES:
                return summary.record_id
        return None


class StoreSink:
    """The workflow's record port: one transaction for the record, its outbox row and the audit entry."""

    def __init__(self, database: StationDatabase) -> None:
        self._database = database

    def save(self, record: CaptureRecord) -> None:
        from station.store.rows import RecordRow

        self._database.records.save(RecordRow.from_capture(record))
        log.info("record %s saved", record.record_id)


# --------------------------------------------------------------------------- one opened station


class StationApp:
    """One station, opened: settings, store, workflow ports, device factories, sync."""

    def __init__(self, settings: Settings, database: StationDatabase) -> None:
        self.settings = settings
        self.database = database
        self.faults = FaultPoints(settings.runtime.crash_at) if settings.runtime.crash_at else NO_FAULTS

    @classmethod
    def open(cls, settings: Settings, officer: OfficerSource = None, *, upgrade: bool = True) -> StationApp:
        """Open the station at ``settings.home``: typed errors (``StoreError``) if it can't.
        ``upgrade=False`` leaves an older schema as it is (``station doctor`` only looks).

        Where the key is wrapped by officers' passwords (no OS keyring), ``officer`` opens it: a log-in,
        or a function asked for one only then. A log-in given is verified as at the desk."""
        from station.store.database import StationDatabase

        return cls(settings, StationDatabase.open(settings.home, officer=officer, upgrade=upgrade))

    @property
    def home(self) -> Path:
        return self.settings.home

    @property
    def config(self) -> StationConfig:
        return self.settings.station

    @config.setter
    def config(self, config: StationConfig) -> None:
        """Use ``config`` from now on (what is built afterwards sees it; nothing is saved here)."""
        self.settings = replace(self.settings, station=config)

    def reload_config(self) -> StationConfig:
        """Read ``config.json`` again (after ``station enroll`` or a settings change)."""
        self.settings = replace(self.settings, station=station_config.load(self.home))
        return self.config

    # -- the desk workflow

    def desk(self, clock: Callable[[], Any] | None = None) -> Desk:
        config = self.config
        station = Station(config.station_id, config.county_code6, config.entry_year)
        desk = Desk(station, StoreQueue(self.database), StoreSink(self.database))
        if clock is not None:
            desk.clock = clock
        return desk

    def queue_view(self) -> list[Student]:
        """The county queue as the desk shows it: approved students with a live record here are "captured"."""
        captured = {
            summary.student_id
            for summary in self.database.records.list(limit=1_000_000)
            if summary.state in _LIVE_RECORD_STATES
        }
        students = [student_from_queue(row) for row in self.database.queue.list()]
        return [
            replace(s, status=StudentStatus.CAPTURED)
            if s.status is StudentStatus.APPROVED and s.student_id in captured
            else s
            for s in students
        ]

    def unsynced(self) -> tuple[int, str | None]:
        """Records not yet answered by the registry, and when the oldest of them was captured (UTC ISO)."""
        waiting = [
            entry
            for state in ("pending", "inflight")
            for entry in self.database.outbox.list(state, limit=1)
        ]
        counts = self.database.outbox.counts()
        oldest = min((entry.created_at for entry in waiting), default=None)
        return counts["pending"] + counts["inflight"], oldest

    def records_since(self, since: datetime, *, limit: int = 2000) -> list[tuple[Any, dict | None]]:
        """Records captured here since ``since`` (aware), newest first: (summary, the registry's result).

        No personal data: summaries carry ids, states and numbers; the desk joins names from the queue.
        """
        from station.store.clock import iso

        since_utc_iso = iso(since)
        found = []
        for summary in self.database.records.list(limit=limit):
            if summary.captured_at < since_utc_iso:
                break
            result = None
            if summary.state in ("rejected", "conflict"):
                entry = self.database.outbox.get(summary.record_id)
                result = entry.result if entry is not None else None
            found.append((summary, result))
        return found

    def verify_administrator(self, username: str, password: str) -> str:
        """A county administrator's password check for a sign-off; their user name, or an ``OfficerError``
        (wrong password, locked, or not an administrator). Failures count towards the lockout."""
        from station.errors import OfficerError

        operator = self.database.operators.verify(username.strip(), password)
        if operator.role != "county_admin":
            raise OfficerError(
                i18n.Text("签字须由旗县管理员账号完成。", "The sign-off must come from a county administrator."),
                code="not_county_admin",
            )
        return operator.username

    def audit(self, action: str, *, operator: str | None, subject: str | None, detail: dict | None = None) -> None:
        """Append to the station's audit log (ids and codes only: never a name or an ID number)."""
        self.database.audit.append(action, operator=operator, subject=subject, detail=detail or {})

    def load_queue(self, rows: list[dict], *, feed: str) -> int:
        """Put pre-registration rows (the feed's ``data`` shape) into the queue; returns how many."""
        from station.store.rows import FeedItem

        items = [FeedItem(r["student_id"], seq, 1, "upsert", r) for seq, r in enumerate(rows, 1)]
        return self.database.queue.apply_feed_page(items, None, feed=feed).upserted

    # -- devices

    def reader_opener(self, config: StationConfig | None = None) -> Callable[[], Any]:
        """A zero-argument function opening the configured card reader (for the card-event thread);
        ``config`` tries other settings (the settings screen's test read) without saving them."""
        from station.idcard.discovery import open_reader

        spec, options = (config or self.config).reader, discovery_options(self.settings)
        return lambda: open_reader(spec, options)

    def card_events(self) -> Any:
        """The card-event stream of the configured reader (not started)."""
        from station.idcard.events import CardEventStream

        return CardEventStream(self.reader_opener())

    def chip_photo_decoder(self) -> Any:
        """The configured WLT decoder (``STATION_WLT_DECODER``), or None: the desk then shows no chip
        photo. A library that cannot be loaded raises ``PhotoDecodeError`` (an ``OfficerError``)."""
        from station.idcard.wlt import WltDecoder

        library = self.settings.runtime.wlt_decoder
        return WltDecoder(library) if library is not None else None

    def capture_session(
        self, on_autocapture: Callable[[Any], None] | None = None, *, config: StationConfig | None = None
    ) -> Any:
        """The camera session of the configured source, resolution, photo profile and backdrop (not
        started); ``config`` previews other settings (the settings screen) without saving them."""
        from station.camera.opening import open_source
        from station.camera.session import CaptureSession

        config = config or self.config
        return CaptureSession(
            open_source(config.camera, size=_resolution(config.camera_resolution)),
            config.photo_profile,
            background=config.backdrop or None,
            on_autocapture=on_autocapture,
        )

    # -- sync

    def sync_engine(
        self, *, sleep: Callable[[float], None] = time.sleep, offline_after: int | None = None
    ) -> Any:
        """This station's sync engine (``CredentialsMissing`` when not enrolled with a registry).

        ``offline_after`` ends a session as offline after that many transport failures in a row (the
        desk uses 2, so its status says "offline" within seconds and its own timer probes again).
        """
        from station.syncing import engine as sync_setup
        from sync.client.engine import Policy

        runtime = self.settings.runtime
        policy = sync_setup.policy_from(runtime)
        if offline_after is not None:
            policy = replace(policy or Policy(), offline_after=offline_after)
        return sync_setup.build_engine(
            self.database,
            self.config,
            policy=policy,
            timeouts=sync_setup.timeouts_from(runtime),
            faults=self.faults,
            sleep=sleep,
        )

    def sync_lock(self) -> Any:
        from station.syncing import engine as sync_setup

        return sync_setup.sync_lock(self.home)

    # -- backups

    def backup_if_due(self) -> Path | None:
        """The scheduled encrypted backup (every ``backup_every_hours``, ``backup_keep`` kept), if one is
        due; None otherwise. A failed backup (disk full, damaged pages) is logged and the station
        carries on: the backups already kept are never pruned for a copy that did not verify."""
        from station.store.errors import StoreError

        try:
            taken = self.database.backup_if_due(
                every_hours=self.config.backup_every_hours, keep=self.config.backup_keep
            )
        except StoreError as error:
            log.warning("scheduled backup failed: %s", error.code)
            return None
        if taken is not None:
            log.info("scheduled backup written: %s", taken.name)
        return taken

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> StationApp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def discovery_options(settings: Settings) -> Any:
    """Where reader discovery looks, from the settings (vendor libraries, serial ports)."""
    from station.idcard.discovery import options_from

    return options_from(settings.runtime)


def store_health(
    settings: Settings, officer: OfficerSource = None, *, opened: StationApp | None = None
) -> list[Any]:
    """The store's own health items (``station.store.health``) for the station at ``settings.home``:
    opened with ``officer`` where the key is slot-wrapped, or with the key of ``opened`` (a station the
    administrator's window already has open)."""
    from station.store import health

    return health.health(
        settings.home,
        opened.database.key if opened is not None else None,
        officer=officer,
        backup_every_hours=settings.station.backup_every_hours,
    )


def _resolution(text: str) -> tuple[int, int] | None:
    width, _, height = text.partition("x")
    return (int(width), int(height)) if width.isdigit() and height.isdigit() else None


def needs_officer(settings: Settings) -> bool:
    """True when the store opens only with an officer's password (its key is wrapped by their key slots)."""
    from station.store import keys

    return keys.needs_officer(settings.home)


def create_station(
    settings: Settings,
    admin: OfficerLogin | tuple[str, str] | None = None,
    *,
    admin_display_name: str | None = None,
) -> tuple[StationApp, str]:
    """Set a new station up at ``settings.home``; returns it open with its recovery code (show once).

    ``admin`` (an ``OfficerLogin``, or username and password) is the first county administrator,
    created with the store (the first-run wizard and scripted installs). Where there is no OS keyring
    the database key is wrapped by that password, so ``admin`` is then required (``AdminRequiredError``,
    code ``admin_required``); a short password or a missing administrator is refused before anything
    is written, so the set-up can be tried again."""
    from station.store.database import StationDatabase

    login = OfficerLogin(*admin) if isinstance(admin, tuple) else admin
    database, recovery_code = StationDatabase.create(
        settings.home, admin=login, admin_display_name=admin_display_name
    )
    log.info("station store created%s", " with its first county administrator" if login else "")
    return StationApp(settings, database), recovery_code


# --------------------------------------------------------------------------- start-up


def configure_process(settings: Settings) -> None:
    """Hand the settings to the process-wide parts: language, data-file locations, detector model."""
    from sync.protocol import codes, resources

    i18n.set_language(settings.language)
    runtime = settings.runtime
    resources.set_resources_dir(runtime.resources_dir)
    codes.set_registering_kinds(runtime.registering_kinds)
    if runtime.profiles_dir is not None or runtime.yunet_model is not None:
        # Only then: importing the camera package loads OpenCV, which `station id check` never needs.
        from station.camera import faces, profiles

        profiles.set_profiles_dir(runtime.profiles_dir)
        faces.set_default_model(runtime.yunet_model)


@dataclass
class Startup:
    """The start-up sequence; each step is logged with its duration, in this order only."""

    settings: Settings
    crash: CrashHandler | None = None
    app: StationApp | None = None
    steps: list[str] | None = None

    def _step(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        elapsed_ms = (time.perf_counter() - started) * 1000
        (self.steps if self.steps is not None else []).append(name)
        log.info("start-up: %s (%.0f ms)", name, elapsed_ms)
        return result

    def logging(self) -> Startup:
        self.steps = []
        init_logging(self.settings.home, self.settings.log_level)
        self.steps.append("logging")
        log.info("start-up: logging (station home set, level %s)", self.settings.log_level)
        return self

    def crash_handling(self, notify: Notifier | None = None) -> Startup:
        def install() -> CrashHandler:
            handler = CrashHandler(self.settings.home, notify)
            handler.install()
            earlier = handler.previous_native_crash()
            if earlier is not None:
                log.warning("an earlier run crashed natively; report %s", earlier.name)
            return handler

        self.crash = self._step("crash handling", install)
        return self

    def configuration(self) -> Startup:
        self._step("configuration", lambda: configure_process(self.settings))
        return self

    def store(self, officer: OfficerSource = None) -> StationApp:
        self.app = self._step("store", lambda: StationApp.open(self.settings, officer))
        return self.app

    def devices(self, build: Callable[[StationApp], Any]) -> Any:
        assert self.app is not None, "the store opens before the devices"
        return self._step("devices", lambda: build(self.app))

    def window(self, build: Callable[[], Any], name: str = "window") -> Any:
        return self._step(name, build)


# --------------------------------------------------------------------------- the command line


class Context:
    """What a command is handed: the settings and the ways to open (or create) the station.

    ``main`` builds it after the logging, crash-handling and configuration steps; the store opens
    only when a command asks for it.
    """

    def __init__(self, startup: Startup, officer: OfficerSource = None) -> None:
        self.startup = startup
        # Who opens a slot-wrapped store when a command does not say: the command line sets it from
        # --operator/--password-stdin (or a prompt), the demo to its demo officer.
        self.officer: OfficerSource = officer
        # The county administrator a new station is created with (--admin), asked for when needed.
        self.admin: Callable[[], OfficerLogin | None] = lambda: None

    @property
    def settings(self) -> Settings:
        return self.startup.settings

    def open_station(self, officer: OfficerSource = None) -> StationApp:
        return self.startup.store(officer if officer is not None else self.officer)

    def create_station(self, admin: OfficerLogin | tuple[str, str] | None = None) -> tuple[StationApp, str]:
        app, code = create_station(self.settings, admin)
        self.startup.app = app
        return app, code

    def with_home(self, home: Path) -> Context:
        """The same run pointed at another station home (the demo's), its settings loaded from there."""
        settings = replace(self.settings, runtime=replace(self.settings.runtime, home=Path(home)))
        settings = replace(settings, station=station_config.load(Path(home)))
        startup = Startup(settings, crash=self.startup.crash, steps=self.startup.steps)
        init_logging(settings.home, settings.log_level)
        if startup.crash is not None:
            startup.crash.home = settings.home
        configure_process(settings)
        context = Context(startup, self.officer)
        context.admin = self.admin
        return context

    def reload(self) -> Context:
        return self.with_home(self.settings.home)

    def close(self) -> None:
        """End the run: the station closes, the hooks are given back, the log file is closed."""
        if self.startup.app is not None:
            self.startup.app.close()
        if self.startup.crash is not None:
            self.startup.crash.uninstall()
        close_logging()


def boot(environ: Mapping[str, str] | None = None, *, notify: Notifier | None = None) -> Context:
    """Logging, crash handling and configuration for one run; the store and devices follow on demand."""
    settings = station_config.load_settings(environ)
    startup = Startup(settings).logging().crash_handling(notify).configuration()
    return Context(startup)
