"""A county station in mid-season for the administration tests: the demo county's synthetic queue,
a county administrator, captures made through the desk's own workflow with a real photograph, and
registry answers applied through the outbox as a sync applies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from station.admin.setup import DEMO_COUNTY, DEMO_SEED, DEMO_STUDENTS, FirstAdministrator, set_up
from station.capture.workflow import State
from station.domain.officers import OfficerLogin
from station.idcard.emulator import synthetic_chip
from station.store.rows import ItemResult
from sync.protocol import regno, synthetic
from tests.support.stations import open_station, settings_for

ADMIN, ADMIN_PASSWORD = "wuyun", "admin-pass-1"


@pytest.fixture(scope="session")
def photo():
    from station.camera.photo import make_photo
    from tests.camera.portraits import positive

    return make_photo(positive(), "moe-480")


def make_station(home):
    """A demo station with its first county administrator, as the first-run wizard leaves it."""
    set_up(settings_for(home), demo=True, admin=FirstAdministrator(ADMIN, ADMIN_PASSWORD, "乌云"))
    return open_station(
        home, OfficerLogin(ADMIN, ADMIN_PASSWORD)
    )  # no keyring here: the key is in their slot


def queue_rows():
    year = date.today().year
    return synthetic.preregistrations(DEMO_STUDENTS, DEMO_COUNTY, seed=DEMO_SEED, entry_year=year)


def capture(app, index: int, photo, operator: str = "officer-1"):
    """Capture queue row ``index`` at the desk: card read, photo, accept; the saved record."""
    year = date.today().year
    person = synthetic.people(DEMO_STUDENTS, DEMO_COUNTY, seed=DEMO_SEED, birth_year=year - 16)[index]
    desk = app.desk()
    assert desk.card_read(synthetic_chip(person)) is State.PHOTO, desk.reasons
    desk.photo_taken(photo, "test photo")
    return desk.accept(operator)


def answer(app, outcomes: dict[str, int | None]) -> None:
    """Apply registry answers to the pending records: a serial registers, None rejects."""
    batch = app.database.outbox.form_batch(max_bytes=10**9, max_records=100)
    year = app.config.entry_year
    results = [
        ItemResult(rid, "accepted", reg_no=regno.build(year, DEMO_COUNTY, serial))
        if serial is not None
        else ItemResult(rid, "rejected", code="ID_MISMATCH")
        for rid, serial in outcomes.items()
        if rid in batch.record_ids
    ]
    app.database.outbox.apply_results(batch.batch_id, results)


@dataclass
class Season:
    app: object
    school: str
    class_no: str
    class_rows: list[dict]
    registered: dict[str, str]  # student_id -> reg_no
    pending: list[str]  # student ids captured, not answered
    rejected: list[str]


@pytest.fixture
def season(station_home, photo):
    """One class with two registered students, one awaiting sync; one rejected capture elsewhere."""
    app = make_station(station_home)
    rows = queue_rows()
    approved = [i for i, r in enumerate(rows) if r["status"] == "approved"]
    by_class: dict[tuple[str, str], list[int]] = {}
    for i in approved:
        by_class.setdefault((rows[i]["school_code"], rows[i]["class_no"]), []).append(i)
    (school, class_no), members = max(by_class.items(), key=lambda item: len(item[1]))
    other = next(i for i in approved if i not in members)
    records = {i: capture(app, i, photo) for i in (*members[:3], other)}
    answer(
        app,
        {
            records[members[0]].record_id: 101,
            records[members[1]].record_id: 102,
            records[other].record_id: None,
            # members[2] gets no answer: it stays in flight, as after a lost reply
        },
    )
    year = app.config.entry_year
    season = Season(
        app,
        school,
        class_no,
        [rows[i] for i in members],
        {
            rows[members[0]]["student_id"]: regno.build(year, DEMO_COUNTY, 101),
            rows[members[1]]["student_id"]: regno.build(year, DEMO_COUNTY, 102),
        },
        [rows[members[2]]["student_id"]],
        [rows[other]["student_id"]],
    )
    yield season
    app.close()


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def station_cli(capsys, monkeypatch):
    """``station ARGS`` run in this process (the real parser, boot and exit codes), stdin given."""
    import io

    from station.__main__ import main

    def run(*argv: str, stdin: str = "") -> Ran:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run
