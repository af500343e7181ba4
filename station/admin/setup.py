"""The first run: a new station from the county's enrollment file (or the training demo), with its
first county administrator, in one step.

``setup_state`` says what a machine still lacks (``station gui`` opens the first-run wizard unless it
is ``READY``); ``set_up`` checks everything it was given before it writes anything (the enrollment
file and its key, the administrator's name and password), then creates the encrypted store together
with the administrator (``station.app.create_station``), enrolls the station or sets up the demo
queue, and returns the recovery code — to be shown once and printed, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from station import config as station_config
from station.admin.accounts import check_username
from station.app import StationApp, create_station, needs_officer
from station.config import Settings, StationConfig
from station.domain.officers import OfficerSource
from station.domain.rules import today_in_china
from station.syncing.enrollment import check_credentials, enroll, read_enrollment
from sync.protocol.season import open_entry_year

DEMO_COUNTY = "150121"  # 土默特左旗: the same demo county as ``station demo``
DEMO_STATION = "DEMO-01"
DEMO_SEED = 2026
DEMO_STUDENTS = 60


class SetupState(StrEnum):
    NEW = "new"  # no store on this machine
    NOT_ENROLLED = "not_enrolled"  # a store, but no registry enrollment (or demo) yet
    NO_OPERATORS = "no_operators"  # enrolled, but nobody can log in
    READY = "ready"


@dataclass(frozen=True)
class FirstAdministrator:
    username: str
    password: str = field(repr=False)
    display_name: str | None = None


def setup_state(settings: Settings) -> SetupState:
    if not (settings.home / "station.db").exists():
        return SetupState.NEW
    if not settings.station.enrolled:
        return SetupState.NOT_ENROLLED
    if needs_officer(settings):  # the key is wrapped by officers' passwords: there is someone to log in
        return SetupState.READY
    with StationApp.open(settings) as app:
        return SetupState.READY if app.database.operators.list() else SetupState.NO_OPERATORS


def needs_administrator(settings: Settings) -> bool:
    """True when nobody could log in once the station is set up (no store yet, or no accounts)."""
    if not (settings.home / "station.db").exists():
        return True
    if needs_officer(settings):  # a key slot is an officer who can log in
        return False
    with StationApp.open(settings) as app:
        return not app.database.operators.list()


def set_up(
    settings: Settings,
    *,
    enrollment: Path | None = None,
    demo: bool = False,
    admin: FirstAdministrator | None = None,
    officer: OfficerSource = None,
    remove_enrollment: bool = False,
) -> str | None:
    """Make this machine a station; the recovery code when a new store was created (show it once).
    An existing store whose key is wrapped by officers' passwords opens with ``officer``;
    ``remove_enrollment`` deletes the enrollment file (it holds the private key) once it is imported."""
    raw = None
    if enrollment is not None:
        raw = read_enrollment(enrollment)
        check_credentials(raw)
    if admin is not None:
        admin = FirstAdministrator(check_username(admin.username), admin.password, admin.display_name)
    recovery_code = None
    if (settings.home / "station.db").exists():
        app = StationApp.open(settings, officer)
        if admin is not None:
            app.database.operators.create(
                admin.username, admin.password, role="county_admin", display_name=admin.display_name
            )
    else:
        app, recovery_code = create_station(
            settings,
            (admin.username, admin.password) if admin else None,
            admin_display_name=admin.display_name if admin else None,
        )
    with app:
        if raw is not None:
            enroll(app.database, settings.home, settings.station, raw)
            if remove_enrollment and enrollment is not None:
                enrollment.unlink(missing_ok=True)
        elif demo:
            _set_up_demo(app, settings.home)
        app.database.audit.append(
            "station_created",
            operator=admin.username if admin else None,
            detail={"kind": "demo" if demo and raw is None else "enrollment" if raw else "accounts"},
        )
    return recovery_code


def _set_up_demo(app: StationApp, home: Path) -> None:
    """A training station: simulated reader and camera, a synthetic queue (synthetic people only)."""
    from sync.protocol import synthetic

    year = open_entry_year(today_in_china())  # training works all year: the season open now or next
    config = StationConfig(
        station_id=DEMO_STATION,
        county_code6=DEMO_COUNTY,
        entry_year=year,
        reader=f"sim:seed={DEMO_SEED},count={DEMO_STUDENTS},county={DEMO_COUNTY},birth_year={year - 16},cycle=8",
        camera="sim",
    )
    station_config.save(config, home)
    app.reload_config()
    rows = synthetic.preregistrations(DEMO_STUDENTS, DEMO_COUNTY, seed=DEMO_SEED, entry_year=year)
    app.load_queue(rows, feed="demo")
