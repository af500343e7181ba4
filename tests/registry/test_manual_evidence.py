"""Records without chip evidence (the desk's unreadable-card path), on SQLite and PostgreSQL.

Accepted only as such: marked ``evidence: "manual"`` with the county administrator's sign-off, refused
if they carry a chip block that fails the checks, counted and listed apart in ``sync-registry report``,
and numbered at once (flagged, the default) or only after the league office's review.
"""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from sync.protocol.wire import LEDGER_DIGEST_HEADER, BatchResponse, Record, parse_ledger_digest
from sync.registry.app import create_app
from sync.registry.cli import main as registry_cli
from tests.registry.conftest import AsStation
from tests.registry.helpers import (
    COUNTY,
    STATION,
    make_batch,
    make_record,
    photo_jpeg,
    push,
    rehash,
    students,
)

APPROVAL = {
    "approved_by": "admin-150102-03",
    "approved_at": "2026-10-15T10:00:00+08:00",
    "reason": "card_unreadable",
}


def manual(record: dict, *, keep_chip: bool = False) -> dict:
    """The record as the desk's unreadable-card path sends it."""
    changed = dict(record, evidence="manual", manual_approval=dict(APPROVAL))
    if not keep_chip:
        del changed["chip"]
    return rehash(changed)


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    BatchResponse.model_validate(response.json())
    return response.json()["results"]


def test_wire_fields_are_backward_compatible():
    old = make_record(students_stub(), photo_jpeg(300))  # as every station before manual evidence sends it
    assert "evidence" not in old and Record.model_validate(old).evidence == "chip"
    new = Record.model_validate(manual(old))
    assert (
        new.evidence == "manual"
        and new.chip is None
        and new.manual_approval.approved_by == APPROVAL["approved_by"]
    )


def students_stub():
    class Stub:  # a pre-registration row, enough to build a record
        student_id = "150102-2026-1-000000"
        county = COUNTY
        national_id = "150102201003041222"
        name = "王明"
        sex = "2"
        nation = "01"
        birth_date = "2010-03-04"

    return Stub


def test_manual_records_are_numbered_at_once_flagged_and_listed_apart(registry, client, db_url, capsys):
    people = students(registry.db)
    photos = [photo_jpeg(310 + i) for i in range(5)]
    chip_record = make_record(people[0], photos[0])
    without_chip = manual(make_record(people[1], photos[1]))
    with_good_chip = manual(make_record(people[2], photos[2]), keep_chip=True)
    with_bad_chip = manual(make_record(people[3], photos[3], text=bytes(256)), keep_chip=True)
    with_other_chip = manual(
        make_record(people[4], photos[4], chip_overrides={"name": "张三"}), keep_chip=True
    )
    records = [chip_record, without_chip, with_good_chip, with_bad_chip, with_other_chip]
    results = _results(push(client, STATION, make_batch(STATION, records), photos))
    assert [(r["status"], r.get("code"), r.get("evidence")) for r in results] == [
        ("accepted", None, None),
        ("accepted", None, "manual"),
        ("accepted", None, "manual"),
        ("rejected", "CHIP_MALFORMED", "manual"),
        ("rejected", "ID_MISMATCH", "manual"),
    ]
    capsys.readouterr()
    assert registry_cli(["report", "--db", db_url, "--county", COUNTY, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["registered"], row["registered_chip"], row["registered_manual"], row["held_for_review"]) == (
        3,
        1,
        2,
        0,
    )
    assert registry_cli(["report", "--db", db_url, "--manual", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["record_id"] for r in listed} == {r["record_id"] for r in records[1:]}
    assert {r["approved_by"] for r in listed} == {APPROVAL["approved_by"]}
    text = json.dumps(listed, ensure_ascii=False)
    assert not any(p.national_id in text or p.name in text for p in people[:5])  # no personal data
    assert registry_cli(["report", "--db", db_url, "--manual"]) == 0
    assert "without chip evidence" in capsys.readouterr().out


def test_evidence_fields_must_agree(registry, client):
    person = students(registry.db)[0]
    chipless = make_record(person, photo_jpeg(320))
    del chipless["chip"]  # claims chip evidence, carries none
    signed_chip_record = dict(make_record(person, photo_jpeg(320)), manual_approval=dict(APPROVAL))
    unsigned_manual = dict(make_record(person, photo_jpeg(320)), evidence="manual")
    for record in (chipless, signed_chip_record, unsigned_manual):
        response = push(client, STATION, make_batch(STATION, [rehash(record)]), [photo_jpeg(320)])
        assert response.status_code == 400 and response.json()["code"] == "SCHEMA", response.text


def test_review_mode_holds_manual_records_until_the_league_decides(make_registry, cert_pem, db_url, capsys):
    registry = make_registry(manual_evidence="review")
    people = students(registry.db)
    photos = [photo_jpeg(330 + i) for i in range(2)]
    first, second = manual(make_record(people[0], photos[0])), manual(make_record(people[1], photos[1]))
    batch = make_batch(STATION, [first, second])
    with TestClient(AsStation(create_app(registry), cert_pem(STATION))) as client:
        held = _results(push(client, STATION, batch, photos))
        assert {(r["status"], r["code"]) for r in held} == {("retry", "REVIEW_PENDING")}
        assert all(r["retry_after_s"] >= 600 for r in held)
        status = client.post(
            f"/v1/stations/{STATION}/records/status", json={"record_ids": [first["record_id"]]}
        )
        assert status.json()["results"][0]["status"] == "unknown"  # not decided, not in the ledger
        assert client.get(f"/v1/stations/{STATION}/ledger/digest").json()["count"] == 0
        capsys.readouterr()
        assert registry_cli(["report", "--db", db_url, "--county", COUNTY, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["held_for_review"] == 2

        before = {s.student_id: (s.status, s.version, s.seq) for s in students(registry.db)}
        assert registry_cli(["review", "--db", db_url, "--approve", first["record_id"]]) == 0
        after = {
            s.student_id: (s.status, s.version, s.seq) for s in students(registry.db, status="registered")
        }
        assert list(after) == [people[0].student_id]  # the approved student alone moves in the feed
        status_after, version_after, seq_after = after[people[0].student_id]
        assert (status_after, version_after) == ("registered", before[people[0].student_id][1] + 1)
        assert seq_after > max(seq for _, _, seq in before.values())  # the newest change of the feed
        unchanged = {s.student_id: (s.status, s.version, s.seq) for s in students(registry.db)}
        assert unchanged == {k: v for k, v in before.items() if k != people[0].student_id}
        assert registry_cli(["review", "--db", db_url, "--refuse", second["record_id"]]) == 0
        assert registry_cli(["review", "--db", db_url, "--approve", second["record_id"]]) == 1  # decided
        answer = push(client, STATION, make_batch(STATION, [first, second]), [], prefer="ledger-digest")
        decided = _results(answer)
        assert decided[0]["status"] == "duplicate" and decided[0]["reg_no"].startswith("26")
        assert (decided[1]["status"], decided[1]["code"]) == ("rejected", "MANUAL_REFUSED")
        digest = client.get(f"/v1/stations/{STATION}/ledger/digest").json()
        assert digest["count"] == 2
        # The digest a batch answer carries counts the review's decisions too.
        assert parse_ledger_digest(answer.headers[LEDGER_DIGEST_HEADER]).model_dump() == digest
