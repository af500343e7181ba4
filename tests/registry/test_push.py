"""Batch push, per-record rules, idempotency and reconciliation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sync.protocol import regno
from sync.protocol.canonical import ledger_term, payload_sha256, uuid7, xor_hex
from sync.protocol.wire import LEDGER_DIGEST_HEADER, BatchResponse, LedgerPage, parse_ledger_digest
from sync.registry.faults import Faults
from tests.registry.helpers import (
    BEIJING,
    COUNTY,
    OTHER_STATION,
    SEASON,
    STATION,
    STATION_2,
    make_batch,
    make_record,
    multipart_files,
    photo_jpeg,
    push,
    registry_clock,
    students,
)

PHOTO = photo_jpeg(7)
PHOTOS = [photo_jpeg(10 + i) for i in range(6)]  # one photo per student: a photo stands for one person


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    BatchResponse.model_validate(response.json())
    return response.json()["results"]


def test_accept_then_replay_is_duplicate_with_the_same_number(registry, client):
    people = students(registry.db)[:3]
    records = [make_record(s, p) for s, p in zip(people, PHOTOS, strict=False)]
    batch = make_batch(STATION, records)
    first = _results(push(client, STATION, batch, PHOTOS[:3]))
    assert [r["status"] for r in first] == ["accepted"] * 3
    numbers = [r["reg_no"] for r in first]
    parsed = [regno.parse(n) for n in numbers]
    assert [p.serial for p in parsed] == [1, 2, 3]
    assert all(p.county_code6 == COUNTY and p.year == SEASON for p in parsed)
    assert all(r["payload_sha256"] == rec["payload_sha256"] for r, rec in zip(first, records, strict=True))
    assert all(r["photo_sha256"] == rec["photo"]["sha256"] for r, rec in zip(first, records, strict=True))

    again = _results(push(client, STATION, batch, PHOTOS[:3]))  # same key, same body: a lost response
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [r["reg_no"] for r in again] == numbers

    # The same records re-batched under a new key (AIMD split) are duplicates too, photos not resent.
    rebatched = _results(push(client, STATION, make_batch(STATION, records[1:]), []))
    assert [r["reg_no"] for r in rebatched] == numbers[1:]


def test_changed_payload_is_a_conflict_and_never_overwrites(registry, client):
    person = students(registry.db)[0]
    record = make_record(person, PHOTO)
    accepted = _results(push(client, STATION, make_batch(STATION, [record]), [PHOTO]))[0]
    edited = dict(record, operator_id="op-99")
    edited["payload_sha256"] = payload_sha256(edited)
    conflict = _results(push(client, STATION, make_batch(STATION, [edited]), []))[0]
    assert conflict["status"] == "conflict" and conflict["code"] == "PAYLOAD_MISMATCH"
    status = client.post(f"/v1/stations/{STATION}/records/status", json={"record_ids": [record["record_id"]]})
    assert status.json()["results"][0]["reg_no"] == accepted["reg_no"]
    assert status.json()["results"][0]["payload_sha256"] == record["payload_sha256"]


def test_rejections_name_their_reason_and_are_stored(registry, client):
    approved = students(registry.db)
    pending = students(registry.db, status="pending")[0]
    zhongkao = students(registry.db, status="captured_at_zhongkao")[0]
    mismatch = make_record(
        approved[0], PHOTOS[0], chip_overrides={"name": "张三", "birth_date": "2009-01-01"}
    )
    records = [
        mismatch,
        make_record(pending, PHOTOS[1]),
        make_record(zhongkao, PHOTOS[2]),
    ]
    results = _results(push(client, STATION, make_batch(STATION, records), PHOTOS[:3]))
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "ID_MISMATCH"),
        ("rejected", "NOT_APPROVED"),
        ("rejected", "CAPTURED_AT_ZHONGKAO"),
    ]
    assert set(results[0]["fields"]) == {"name", "birth_date"}
    assert all(r["final"] for r in results)
    replay = _results(push(client, STATION, make_batch(STATION, records), []))
    assert [(r["status"], r["code"]) for r in replay] == [(r["status"], r["code"]) for r in results]
    assert replay[0]["fields"] == results[0]["fields"]


def test_one_registration_per_id_number_names_the_holding_school(registry, client_for):
    person = students(registry.db)[0]
    first = _results(
        push(client_for(STATION), STATION, make_batch(STATION, [make_record(person, PHOTO)]), [PHOTO])
    )
    assert first[0]["status"] == "accepted"
    second = _results(
        push(client_for(STATION_2), STATION_2, make_batch(STATION_2, [make_record(person, PHOTO)]), [PHOTO])
    )[0]
    assert second["status"] == "rejected" and second["code"] == "ALREADY_REGISTERED"
    assert second["holder_school_code"] == person.school_code
    assert second["holder_school_name"] == person.school_name


def test_deadline_counts_capture_time_within_the_grace(make_registry, cert_pem):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from tests.registry.conftest import AsStation

    # The default deadline (30 November, Beijing time) and grace (7 days), on registry clocks pinned
    # after it: captured before it still counts while inside the grace period.
    last_day = datetime(SEASON, 11, 30, 9, 30, tzinfo=BEIJING)
    in_grace = registry_clock(datetime(SEASON, 12, 3, 12, 0, tzinfo=BEIJING))
    registry = make_registry(clock=in_grace)
    late = make_registry(clock=registry_clock(datetime(SEASON, 12, 8, 0, 5, tzinfo=BEIJING)))
    people = students(registry.db)
    with TestClient(AsStation(create_app(registry), cert_pem(STATION))) as client:
        ok = _results(
            push(
                client,
                STATION,
                make_batch(
                    STATION, [make_record(people[0], PHOTO, captured_at=last_day)], client_time=in_grace()
                ),
                [PHOTO],
            )
        )
        # The first instant after the last capture day (midnight Beijing time): already in the past.
        after = registry.settings.deadline_end(SEASON)
        assert after == datetime(SEASON, 12, 1, tzinfo=BEIJING)
        too_late = make_record(people[1], PHOTOS[1], captured_at=after)
        late_result = _results(
            push(client, STATION, make_batch(STATION, [too_late], client_time=in_grace()), [PHOTOS[1]])
        )[0]
        assert late_result["code"] == "DEADLINE_PASSED" and "deadline" in late_result["detail"]
    assert ok[0]["status"] == "accepted"
    with TestClient(AsStation(create_app(late), cert_pem(STATION))) as client:
        too_late = _results(
            push(
                client,
                STATION,
                make_batch(
                    STATION,
                    [make_record(people[2], PHOTOS[2], captured_at=last_day)],
                    client_time=late.now(),
                ),
                [PHOTOS[2]],
            )
        )
    assert too_late[0]["code"] == "DEADLINE_PASSED" and "grace" in too_late[0]["detail"]


def test_photos_are_content_addressed_and_verified(registry, client):
    people = students(registry.db)[:2]  # the same student twice below: one photo may back many records
    record = make_record(people[0], PHOTO)
    missing = _results(push(client, STATION, make_batch(STATION, [record]), []))[0]
    assert (missing["status"], missing["code"]) == ("retry", "BLOB_MISSING")

    corrupt = bytearray(PHOTO)
    corrupt[100] ^= 0xFF
    files_batch = make_batch(STATION, [record])
    from tests.registry.helpers import multipart_files

    files = multipart_files(files_batch, [PHOTO])
    files[1] = (files[1][0], (files[1][1][0], bytes(corrupt), "image/jpeg"))
    response = client.post(
        f"/v1/stations/{STATION}/batches", files=files, headers={"Idempotency-Key": files_batch["batch_id"]}
    )
    assert _results(response)[0]["code"] == "BLOB_HASH_MISMATCH"
    # Nothing was stored for the record, so the retry of the same key goes through.
    retried = _results(push(client, STATION, files_batch, [PHOTO]))[0]
    assert retried["status"] == "accepted"
    # One blob backs many records (of one student: a recapture, or a record sent again as a new one).
    again = _results(push(client, STATION, make_batch(STATION, [make_record(people[0], PHOTO)]), []))[0]
    assert again["code"] == "ALREADY_REGISTERED"


def test_batch_level_errors(registry, client, client_for):
    person = students(registry.db)[0]
    batch = make_batch(STATION, [make_record(person, PHOTO)])
    assert push(client, STATION, batch, [PHOTO], key=uuid7()).json()["code"] == "IDEMPOTENCY_KEY_MISMATCH"
    assert push(client, STATION_2, batch, [PHOTO]).status_code == 403
    tampered = make_batch(STATION, [dict(make_record(person, PHOTO), operator_id="x")])
    assert push(client, STATION, tampered, [PHOTO]).json()["code"] == "PAYLOAD_HASH_INVALID"
    wrong_season = make_batch(STATION, [make_record(person, PHOTO)], season=SEASON + 1)
    assert push(client, STATION, wrong_season, [PHOTO]).json()["code"] == "WRONG_SEASON"
    foreign = make_batch(STATION, [make_record(person, PHOTO, county="150103")])
    assert push(client, STATION, foreign, [PHOTO]).json()["code"] == "WRONG_COUNTY"
    assert (
        client.post(
            f"/v1/stations/{STATION}/batches",
            content=b"{}",
            headers={"Idempotency-Key": uuid7(), "Content-Type": "application/json"},
        ).status_code
        == 415
    )
    assert (
        client.post(
            f"/v1/stations/{STATION}/batches",
            files={"batch": (None, b"not json")},
            headers={"Idempotency-Key": uuid7()},
        ).json()["code"]
        == "MALFORMED_BATCH"
    )
    assert client_for(None).get("/v1/ping").status_code == 401

    _results(push(client, STATION, batch, [PHOTO]))
    reused = make_batch(STATION, [make_record(students(registry.db)[1], PHOTO)], batch_id=batch["batch_id"])
    response = push(client, STATION, reused, [PHOTO])
    assert response.status_code == 422 and response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_fault_hooks_fail_before_and_after_commit(make_registry, cert_pem):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from tests.registry.conftest import AsStation

    registry = make_registry()
    faults = Faults(fail_before_commit=1, fail_after_commit=1, retry_after_s=7, retry_after_count=1)
    with TestClient(AsStation(create_app(registry, faults=faults), cert_pem(STATION))) as client:
        batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
        busy = push(client, STATION, batch, [PHOTO])
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "7"
        before = push(client, STATION, batch, [PHOTO])
        assert before.status_code == 500 and before.headers["X-Registry-Protocol"] == "1"
        after = push(client, STATION, batch, [PHOTO])  # commits, then fails
        assert after.status_code == 500
        final = _results(push(client, STATION, batch, [PHOTO]))[0]
        assert final["status"] == "duplicate" and regno.parse(final["reg_no"]).serial == 1
    assert [faults.fired(h) for h in ("retry_after_s", "fail_before_commit", "fail_after_commit")] == [
        1,
        1,
        1,
    ]


def test_ledger_and_digest_reconcile(registry, client):
    people = students(registry.db)[:5]
    records = [make_record(s, p) for s, p in zip(people[:4], PHOTOS, strict=False)]
    records.append(
        make_record(people[4], PHOTOS[4], chip_overrides={"sex": "1" if people[4].sex == "2" else "2"})
    )
    first = push(client, STATION, make_batch(STATION, records[:2]), PHOTOS[:2])
    assert LEDGER_DIGEST_HEADER not in first.headers  # not asked for
    answer = push(client, STATION, make_batch(STATION, records), PHOTOS[:5], prefer="ledger-digest")
    assert answer.headers["Preference-Applied"] == "ledger-digest"
    results = _results(answer)  # 2 replays and 3 new
    items, cursor = [], None
    while True:
        response = client.get(
            f"/v1/stations/{STATION}/ledger", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        page = LedgerPage.model_validate(response.json())
        items += page.items
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert [i.record_id for i in items] == [r["record_id"] for r in records]
    assert [i.seq for i in items] == [1, 2, 3, 4, 5]
    expected = xor_hex(
        ledger_term(r["record_id"], "rejected" if r["status"] == "rejected" else "accepted", r.get("reg_no"))
        for r in results
    )
    digest = client.get(f"/v1/stations/{STATION}/ledger/digest").json()
    assert digest == {"head_seq": 5, "count": 5, "xor_sha256": expected}
    # The batch answer carried the same digest, as it stood once the batch was decided.
    assert parse_ledger_digest(answer.headers[LEDGER_DIGEST_HEADER]).model_dump() == digest
    status = client.post(
        f"/v1/stations/{STATION}/records/status", json={"record_ids": [records[0]["record_id"], uuid7()]}
    ).json()["results"]
    assert [s["status"] for s in status] == ["accepted", "unknown"]
    # Another station sees none of it.
    assert client.get(f"/v1/stations/{OTHER_STATION}/ledger").status_code == 403


def test_missing_blobs_and_content_digest(registry, client):
    import base64
    import hashlib

    from sync.protocol.canonical import sha256_hex

    other = photo_jpeg(99)
    assert client.post("/v1/blobs/missing", json={"hashes": [sha256_hex(PHOTO)]}).json() == {
        "missing": [sha256_hex(PHOTO)]
    }
    batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
    request = client.build_request(
        "POST",
        f"/v1/stations/{STATION}/batches",
        files=multipart_files(batch, [PHOTO]),
        headers={"Idempotency-Key": batch["batch_id"]},
    )
    body = request.read()
    good = base64.b64encode(hashlib.sha256(body).digest()).decode()
    headers = {"Idempotency-Key": batch["batch_id"], "Content-Type": request.headers["Content-Type"]}
    url = f"/v1/stations/{STATION}/batches"
    bad = client.post(url, content=body, headers={**headers, "Content-Digest": "sha-256=:AAAA:"})
    assert bad.status_code == 400 and bad.json()["code"] == "CONTENT_DIGEST_MISMATCH"
    ok = client.post(url, content=body, headers={**headers, "Content-Digest": f"sha-256=:{good}:"})
    assert ok.json()["results"][0]["status"] == "accepted"
    hashes = [sha256_hex(PHOTO), sha256_hex(other)]
    assert client.post("/v1/blobs/missing", json={"hashes": hashes}).json() == {
        "missing": [sha256_hex(other)]
    }
    assert client.post("/v1/blobs/missing", json={"hashes": ["xyz"]}).status_code == 400


def test_oversized_batch_is_413(make_registry, cert_pem):
    from starlette.testclient import TestClient

    from sync.registry.app import create_app
    from tests.registry.conftest import AsStation

    registry = make_registry(max_batch_bytes=20_000)
    with TestClient(AsStation(create_app(registry), cert_pem(STATION))) as client:
        batch = make_batch(STATION, [make_record(students(registry.db)[0], PHOTO)])
        response = push(client, STATION, batch, [PHOTO])
        assert response.status_code == 413 and response.json()["code"] == "BATCH_TOO_LARGE"
        assert client.get("/v1/ping").headers["X-Registry-Max-Batch-Bytes"] == "20000"


def test_orphaned_photos_are_collected_from_either_store(registry, client, db_url):
    from sync.protocol.canonical import sha256_hex
    from sync.registry.cli import main as registry_cli

    person = students(registry.db)[0]
    assert (
        _results(push(client, STATION, make_batch(STATION, [make_record(person, PHOTO)]), [PHOTO]))[0][
            "status"
        ]
        == "accepted"
    )
    orphan = photo_jpeg(99)
    assert registry.blobs.put(sha256_hex(orphan), orphan)  # stored, then its record never came
    assert not registry.blobs.put(sha256_hex(orphan), PHOTO)  # bytes that do not match their name
    assert registry.blobs.missing([sha256_hex(orphan), sha256_hex(PHOTO)]) == []
    where = ["--blob-dir", str(registry.settings.blob_dir)] if registry.settings.blob_dir else []
    assert registry_cli(["gc", "--db", db_url, *where, "--min-age-hours", "1"]) == 0
    assert registry.blobs.exists(sha256_hex(orphan))  # too recent: a retry may still need it
    assert registry_cli(["gc", "--db", db_url, *where, "--min-age-hours", "0"]) == 0
    assert registry.blobs.missing([sha256_hex(orphan), sha256_hex(PHOTO)]) == [sha256_hex(orphan)]
    assert registry.blobs.read_verified(sha256_hex(PHOTO), len(PHOTO)) == PHOTO  # referenced: kept
