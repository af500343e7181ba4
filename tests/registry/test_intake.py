"""Per-record intake rules at their edges, through the HTTP API on SQLite and PostgreSQL: each compared
chip field on its own, the deadline instant, the last serial of the year, a record id of another station."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from sync.protocol import regno
from sync.protocol.wire import BatchResponse
from sync.registry.config import BEIJING
from sync.registry.db import RegCounter
from tests.registry.helpers import (
    COUNTY,
    REGISTRY_NOW,
    SEASON,
    STATION,
    STATION_2,
    make_batch,
    make_record,
    photo_jpeg,
    push,
    students,
)

PHOTO = photo_jpeg(11)


def _photo(index: int) -> bytes:
    """A distinct real photo per student (the registry refuses one photo for two students)."""
    return photo_jpeg(40 + index)


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return BatchResponse.model_validate(response.json()).model_dump(mode="json")["results"]


def _ledger(client, station_id: str = STATION) -> dict[str, dict]:
    page = client.get(f"/v1/stations/{station_id}/ledger", params={"limit": 1000}).json()
    return {item["record_id"]: item for item in page["items"]}


def _other_value(field: str, student, registry) -> str:
    """A value for ``field`` that differs from the student's pre-registration."""
    if field == "national_id":
        return next(s.national_id for s in students(registry.db) if s.national_id != student.national_id)
    if field == "name":
        return "张三" if student.name != "张三" else "李四"
    if field == "sex":
        return "1" if student.sex == "2" else "2"
    if field == "nation":
        return "02" if student.nation != "02" else "03"
    return "2009-01-01" if student.birth_date != "2009-01-01" else "2009-01-02"


@pytest.mark.parametrize("field", ["national_id", "name", "sex", "nation", "birth_date"])
def test_each_compared_chip_field_alone_is_an_id_mismatch_naming_it(registry, client, field):
    person = students(registry.db)[0]
    chip_field = "id_number" if field == "national_id" else field
    record = make_record(person, PHOTO, chip_overrides={chip_field: _other_value(field, person, registry)})
    result = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    assert (result["status"], result["code"], result["final"]) == ("rejected", "ID_MISMATCH", True)
    assert result["fields"] == [field] and result["reg_no"] is None
    stored = _ledger(client)[record["record_id"]]
    assert (stored["status"], stored["code"], stored.get("reg_no")) == ("rejected", "ID_MISMATCH", None)
    replay = _results(push(client, STATION, make_batch(STATION, [record]), []))[0]
    assert replay["fields"] == [field]  # the stored outcome names the same field
    # The student is untouched: the corrected capture registers.
    fixed = _results(push(client, STATION, make_batch(STATION, [make_record(person, PHOTO)]), []))[0]
    assert fixed["status"] == "accepted" and regno.parse(fixed["reg_no"]).serial == 1


def test_cosmetic_differences_in_the_chip_name_are_not_a_mismatch(registry, client):
    person = students(registry.db)[0]
    spaced = " ".join(person.name)  # the chip pads and spaces names; NFKC and whitespace do not count
    record = make_record(
        person, PHOTO, chip_overrides={"name": spaced, "id_number": person.national_id.lower()}
    )
    assert _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]["status"] == "accepted"


def _deadline_registry(make_registry):
    """A registry whose last capture day was yesterday (Beijing, on its clock), with the arrival grace
    still open."""
    yesterday = REGISTRY_NOW.date() - timedelta(days=1)
    registry = make_registry(deadline=yesterday, grace_days=3)
    return registry, registry.settings.deadline_end(SEASON)


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (timedelta(microseconds=-1), "accepted"),  # 23:59:59.999999 on the last day
        (timedelta(0), "rejected"),  # 00:00 the next day: the instant itself is too late
        (timedelta(microseconds=1), "rejected"),
    ],
)
def test_the_deadline_instant(make_registry, cert_pem, offset, status):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from tests.registry.conftest import AsStation

    registry, end = _deadline_registry(make_registry)
    assert end == datetime.combine(end.date(), datetime.min.time(), BEIJING)  # midnight, Beijing time
    record = make_record(students(registry.db)[0], PHOTO, captured_at=end + offset)
    with TestClient(AsStation(create_app(registry), cert_pem(STATION))) as client:
        result = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    assert result["status"] == status
    if status == "rejected":
        assert result["code"] == "DEADLINE_PASSED" and result["final"]
    else:
        assert regno.parse(result["reg_no"]).serial == 1


def _set_last_serial(registry, value: int) -> None:
    with registry.db.write() as session:
        session.execute(
            update(RegCounter)
            .where(RegCounter.season == SEASON, RegCounter.county == COUNTY)
            .values(last_serial=value)
        )


def test_the_last_serial_of_the_year_then_serials_exhausted(registry, client):
    first, second = students(registry.db)[:2]
    _set_last_serial(registry, 99_998)  # the county has used all serials but one this year
    records = [make_record(first, _photo(1)), make_record(second, _photo(2))]
    last, exhausted = _results(push(client, STATION, make_batch(STATION, records), [_photo(1), _photo(2)]))
    assert last["status"] == "accepted" and regno.parse(last["reg_no"]).serial == 99_999
    assert (exhausted["status"], exhausted["code"], exhausted["final"]) == (
        "rejected",
        "SERIALS_EXHAUSTED",
        True,
    )
    assert (
        exhausted["reg_no"] is None
        and exhausted["detail"] == "the county has used all 99,999 serials of the year"
    )
    # Nothing of the refused record was kept: no ledger row, the student still waits, no serial taken.
    assert set(_ledger(client)) == {records[0]["record_id"]}
    assert students(registry.db)[0].student_id == second.student_id  # still approved (first left)
    again = _results(push(client, STATION, make_batch(STATION, [records[1]]), []))[0]
    assert again["code"] == "SERIALS_EXHAUSTED"


def test_a_record_id_of_another_station_is_a_conflict(registry, client_for):
    person = students(registry.db)[0]
    record = make_record(person, PHOTO)
    mine = _results(push(client_for(STATION), STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    assert mine["status"] == "accepted"
    other = client_for(STATION_2)
    theirs = _results(push(other, STATION_2, make_batch(STATION_2, [record]), [PHOTO]))[0]
    assert (theirs["status"], theirs["code"], theirs["final"]) == (
        "conflict",
        "RECORD_OF_OTHER_STATION",
        True,
    )
    assert theirs["reg_no"] is None  # the other station learns nothing of the number
    assert _ledger(other, STATION_2) == {}
    assert _ledger(client_for(STATION), STATION)[record["record_id"]]["reg_no"] == mine["reg_no"]


def test_ledger_pages_end_when_the_newest_ledger_rows_are_gone(registry, client):
    """Rows deleted at the end of a station's ledger (by hand, a partial restore) leave its head ahead of
    the last row: the walk must still end, not page forever through nothing."""
    from sqlalchemy import delete

    from sync.registry.db import RecordRow

    records = [make_record(s, _photo(i)) for i, s in enumerate(students(registry.db)[:4])]
    _results(push(client, STATION, make_batch(STATION, records), [_photo(i) for i in range(4)]))
    with registry.db.write() as session:
        gone = [r["record_id"] for r in records[2:]]
        session.execute(delete(RecordRow).where(RecordRow.record_id.in_(gone)))
    seen, cursor = [], None
    for _ in range(10):
        page = client.get(
            f"/v1/stations/{STATION}/ledger", params={"limit": 1, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [item["record_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    else:
        raise AssertionError("the ledger kept answering has_more with nothing left")
    assert seen == [r["record_id"] for r in records[:2]] and page["head_seq"] == 4


def test_what_a_conflict_and_a_retry_carry(registry, client, client_for):
    first, second = students(registry.db)[:2]
    record = make_record(first, PHOTO)
    accepted = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    other = _results(push(client_for(STATION_2), STATION_2, make_batch(STATION_2, [record]), []))[0]
    assert other["detail"] == "another station sent a record with this id" and other["final"] is True
    edited = dict(record, operator_id="op-99")
    from sync.protocol.canonical import payload_sha256

    edited["payload_sha256"] = payload_sha256(edited)
    mismatch = _results(push(client, STATION, make_batch(STATION, [edited]), []))[0]
    assert (mismatch["code"], mismatch["final"], mismatch["payload_sha256"]) == (
        "PAYLOAD_MISMATCH", True, accepted["payload_sha256"],
    )  # fmt: skip
    assert mismatch["detail"] == "this record id was received with other content"
    missing = _results(push(client, STATION, make_batch(STATION, [make_record(second, _photo(9))]), []))[0]
    assert (missing["status"], missing["code"], missing["retry_after_s"]) == ("retry", "BLOB_MISSING", 0)
    assert missing["detail"] == "the photo is not on the registry; send its part"


def test_record_status_and_ledger_digest_are_per_station(registry, client, client_for):
    people = students(registry.db)[:2]
    good = make_record(people[0], _photo(1))
    bad = make_record(people[1], _photo(2), chip_overrides={"sex": "1" if people[1].sex == "2" else "2"})
    _results(push(client, STATION, make_batch(STATION, [good, bad]), [_photo(1), _photo(2)]))
    ids = [good["record_id"], bad["record_id"]]
    mine = client.post(f"/v1/stations/{STATION}/records/status", json={"record_ids": ids}).json()["results"]
    assert [(s["status"], s.get("code")) for s in mine] == [("accepted", None), ("rejected", "ID_MISMATCH")]
    assert mine[0]["accepted_at"] and mine[0]["reg_no"] and "accepted_at" not in mine[1]
    other = client_for(STATION_2)
    theirs = other.post(f"/v1/stations/{STATION_2}/records/status", json={"record_ids": ids}).json()[
        "results"
    ]
    assert [s["status"] for s in theirs] == ["unknown", "unknown"]  # another station's records stay hidden
    fresh = other.get(f"/v1/stations/{STATION_2}/ledger/digest").json()
    assert (fresh["head_seq"], fresh["count"]) == (0, 0)  # a station that has sent nothing yet
    third = students(registry.db)[2]
    third_record = make_record(third, _photo(3))
    _results(push(other, STATION_2, make_batch(STATION_2, [third_record]), [_photo(3)]))
    assert other.get(f"/v1/stations/{STATION_2}/ledger/digest").json()["count"] == 1  # its own record only
    assert list(_ledger(other, STATION_2)) == [third_record["record_id"]]
    page = client.get(f"/v1/stations/{STATION}/ledger", params={"limit": 1}).json()
    assert [i["record_id"] for i in page["items"]] == [good["record_id"]] and page["has_more"] is True
    assert client.get(f"/v1/stations/{STATION}/ledger/digest").json()["count"] == 2


def test_a_stored_outcome_answers_before_the_photo_is_looked_at(registry, client):
    person = students(registry.db)[0]
    record = make_record(person, PHOTO)
    first = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    _lose_photo(registry, record["photo"]["sha256"])  # the registry lost the photo since
    replay = _results(push(client, STATION, make_batch(STATION, [record]), []))[0]
    assert (replay["status"], replay["reg_no"]) == ("duplicate", first["reg_no"])


def _lose_photo(registry, sha256: str) -> None:
    """Remove a stored photo behind the registry's back: its file (SQLite) or its row (PostgreSQL)."""
    from sqlalchemy import delete

    from sync.registry.db import BlobRow

    if registry.blobs.in_database:
        with registry.db.write() as session:
            session.execute(delete(BlobRow).where(BlobRow.sha256 == sha256))
    else:
        registry.blobs.path(sha256).unlink()
    assert registry.blobs.missing([sha256]) == [sha256]


def test_a_photo_must_match_its_declared_size_and_hash(registry, client):
    from sync.protocol.canonical import payload_sha256
    from tests.registry.helpers import multipart_files

    person = students(registry.db)[0]
    record = make_record(person, PHOTO)
    record["photo"] = dict(record["photo"], bytes=len(PHOTO) - 1)  # the right hash, the wrong size
    record["payload_sha256"] = payload_sha256(record)
    wrong_size = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    assert (wrong_size["status"], wrong_size["code"]) == ("retry", "BLOB_MISSING")
    fresh = _photo(12)  # a photo the registry has never stored
    batch = make_batch(STATION, [make_record(person, fresh)])
    files = multipart_files(batch, [fresh])
    files[1] = (
        files[1][0],
        (files[1][1][0], fresh[:-1] + b"\x00", "image/jpeg"),
    )  # bytes that are not its name
    damaged = client.post(
        f"/v1/stations/{STATION}/batches", files=files, headers={"Idempotency-Key": batch["batch_id"]}
    )
    result = _results(damaged)[0]
    assert (result["status"], result["code"], result["retry_after_s"]) == ("retry", "BLOB_HASH_MISMATCH", 0)
    assert result["detail"] == "the photo part did not hash to its name; resend it"


def test_a_transaction_rolled_back_after_taking_a_serial_leaves_no_gap(make_registry, cert_pem):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from sync.registry.faults import Faults
    from tests.registry.conftest import AsStation

    faults = Faults(abort_after_allocation=1.0)  # every allocation rolls back
    registry = make_registry()
    person = students(registry.db)[0]
    record = make_record(person, PHOTO)
    with TestClient(AsStation(create_app(registry, faults=faults), cert_pem(STATION))) as client:
        busy = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
        assert (busy["status"], busy["code"], busy["detail"], busy["retry_after_s"]) == (
            "retry",
            "BUSY",
            "try again",
            0,
        )
        assert faults.fired("abort_after_allocation") == 1 and _ledger(client) == {}
        faults.abort_after_allocation = 0.0
        done = _results(push(client, STATION, make_batch(STATION, [record]), []))[0]
    assert regno.parse(done["reg_no"]).serial == 1  # the rolled-back serial was not lost


def test_the_registry_keeps_each_record_as_it_was_received(registry, client):
    import json

    from sync.registry.db import RecordRow

    record = make_record(students(registry.db)[0], PHOTO)
    _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))
    with registry.db.read() as session:
        row = session.get(RecordRow, record["record_id"])
    assert json.loads(row.record_json) == record and row.payload_sha256 == record["payload_sha256"]
    assert (row.station_id, row.national_id, row.photo_sha256) == (
        STATION,
        record["chip"]["parsed"]["national_id"],
        record["photo"]["sha256"],
    )


def test_a_database_too_busy_to_decide_answers_retry_and_logs_why(registry, client, caplog):
    import logging

    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    fired = []

    def locked(conn, cursor, statement, *_args) -> None:  # the deciding write meets a locked database
        if statement.lstrip().upper().startswith("UPDATE STATIONS") and len(fired) < 4:
            fired.append(statement)
            raise OperationalError(statement, None, Exception("database is locked"))

    event.listen(registry.db.writer, "before_cursor_execute", locked)
    record = make_record(students(registry.db)[0], PHOTO)
    try:
        with caplog.at_level(logging.WARNING, logger="sync.registry.intake"):
            busy = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    finally:
        event.remove(registry.db.writer, "before_cursor_execute", locked)
    assert fired, "the lock was never met"
    assert (busy["status"], busy["code"], busy["detail"], busy["retry_after_s"]) == (
        "retry", "BUSY", "the registry is busy; try again", 0,
    )  # fmt: skip
    mine = [r for r in caplog.records if r.name == "sync.registry.intake"]
    assert [r.getMessage() for r in mine] == ["database busy while deciding a record"]
    assert mine[0].exc_info and mine[0].exc_info[0] is OperationalError  # the database's own error
    assert _ledger(client) == {}
    again = _results(push(client, STATION, make_batch(STATION, [record]), []))[0]
    assert again["status"] == "accepted"


def _losing_races(registry, times: int):
    """Make the next ``times`` inserts of record rows fail as a lost race on a unique key would."""
    from sqlalchemy import event
    from sqlalchemy.exc import IntegrityError

    tried: list[str] = []

    def race(conn, cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO RECORDS"):
            tried.append(statement)
            if len(tried) <= times:
                raise IntegrityError(
                    statement, None, Exception("UNIQUE constraint failed: records.national_id")
                )

    event.listen(registry.db.writer, "before_cursor_execute", race)
    return tried, lambda: event.remove(registry.db.writer, "before_cursor_execute", race)


def test_a_batch_that_loses_a_race_is_decided_one_record_at_a_time(registry, client, caplog):
    import logging

    people = students(registry.db)[:2]
    records = [make_record(p, _photo(20 + i)) for i, p in enumerate(people)]
    photos = [_photo(20), _photo(21)]
    # The batch's insert and then the first record's own first attempt lose a race; a look again wins.
    tried, stop = _losing_races(registry, 2)
    try:
        with caplog.at_level(logging.INFO, logger="sync.registry.intake"):
            results = _results(push(client, STATION, make_batch(STATION, records), photos))
    finally:
        stop()
    assert len(tried) == 4  # the batch, the first record twice, the second once
    assert [(r["record_id"], r["status"]) for r in results] == [
        (rec["record_id"], "accepted") for rec in records
    ]
    assert [regno.parse(r["reg_no"]).serial for r in results] == [1, 2]  # gapless after the rollbacks
    assert "deciding a batch of 2 record(s) one by one after IntegrityError" in caplog.messages
    assert set(_ledger(client)) == {rec["record_id"] for rec in records}


def test_a_record_that_keeps_losing_races_is_answered_busy_after_four_looks(registry, client):
    people = students(registry.db)[2:4]
    records = [make_record(p, _photo(22 + i)) for i, p in enumerate(people)]
    tried, stop = _losing_races(registry, 10**6)
    try:
        results = _results(push(client, STATION, make_batch(STATION, records), [_photo(22), _photo(23)]))
    finally:
        stop()
    assert len(tried) == 1 + 4 * 2  # the batch, then four looks per record
    assert [(r["record_id"], r["status"], r["code"], r["detail"], r["retry_after_s"]) for r in results] == [
        (rec["record_id"], "retry", "BUSY", "the registry is busy; try again", 0) for rec in records
    ]
    assert _ledger(client) == {}


def test_a_fault_after_the_serial_in_a_records_own_transaction_answers_busy(make_registry, cert_pem):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from sync.registry.faults import Faults
    from tests.registry.conftest import AsStation

    registry = make_registry()
    faults = Faults(abort_after_allocation=1.0)
    record = make_record(students(registry.db)[4], _photo(24))
    tried, stop = _losing_races(registry, 1)  # the batch loses a race: its records go one by one
    try:
        with TestClient(AsStation(create_app(registry, faults=faults), cert_pem(STATION))) as client:
            (result,) = _results(push(client, STATION, make_batch(STATION, [record]), [_photo(24)]))
    finally:
        stop()
    assert len(tried) == 2 and faults.fired("abort_after_allocation") == 1
    assert (result["record_id"], result["status"], result["code"], result["detail"]) == (
        record["record_id"], "retry", "BUSY", "try again",
    )  # fmt: skip


def test_the_ledger_shows_no_row_beyond_its_head_and_pages_in_ledger_order(registry, client):
    """A row past the station's head is not part of its ledger yet (the head moves in the deciding
    transaction; a reader that sees a row before the head must not list it). Pages follow ledger order,
    not the order the rows were stored in."""
    from sqlalchemy import update as sa_update

    from sync.registry.db import RecordRow, Station

    records = [make_record(s, _photo(30 + i)) for i, s in enumerate(students(registry.db)[:3])]
    _results(push(client, STATION, make_batch(STATION, records), [_photo(30 + i) for i in range(3)]))
    ids = [r["record_id"] for r in records]
    with registry.db.write() as session:  # reverse the ledger order of the stored rows, then cut the head
        for offset, record_id in enumerate(ids):
            session.execute(
                sa_update(RecordRow).where(RecordRow.record_id == record_id).values(ledger_seq=-offset)
            )
        for offset, record_id in enumerate(ids):
            session.execute(
                sa_update(RecordRow).where(RecordRow.record_id == record_id).values(ledger_seq=3 - offset)
            )
        session.execute(sa_update(Station).where(Station.station_id == STATION).values(ledger_seq=2))
    page = client.get(f"/v1/stations/{STATION}/ledger", params={"limit": 10}).json()
    assert [(item["seq"], item["record_id"]) for item in page["items"]] == [(1, ids[2]), (2, ids[1])]
    assert (page["head_seq"], page["has_more"]) == (2, False)
    digest = client.get(f"/v1/stations/{STATION}/ledger/digest").json()
    assert (digest["head_seq"], digest["count"]) == (2, 2)


def test_record_status_answers_the_ids_asked_for_in_their_order(registry, client):
    records = [make_record(s, _photo(33 + i)) for i, s in enumerate(students(registry.db)[:2])]
    _results(push(client, STATION, make_batch(STATION, records), [_photo(33), _photo(34)]))
    asked = [records[1]["record_id"], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", records[0]["record_id"]]
    answer = client.post(f"/v1/stations/{STATION}/records/status", json={"record_ids": asked}).json()
    assert [(r["record_id"], r["status"]) for r in answer["results"]] == [
        (asked[0], "accepted"), (asked[1], "unknown"), (asked[2], "accepted"),
    ]  # fmt: skip
