"""Issue 12's measured attacks, each a regression test against the registry over real mutual TLS.

The attacker holds one valid station certificate. Every attack must be refused with a clear code,
with nothing registered and nothing stored that the attacker chose: forged chips, non-photos,
implausible capture times, one photo for several students, a station id presented under another
county, oversized or hostile bodies, unreferenced photo parts, slow clients. Plus what the registry
leaves on disk (file modes, orphaned photos) and in its log (no personal data).

SQLite only: the checks are the registry's, not the database's (test_push runs both backends).
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select as sql_select

from sync.protocol.canonical import sha256_hex, uuid7
from sync.registry.app import create_app
from sync.registry.cli import main as registry_cli
from sync.registry.db import RecordRow
from sync.registry.pki import TlsPaths, issue_station
from sync.registry.tls import RegistryServer
from tests.registry.helpers import (
    COUNTY,
    OTHER_COUNTY,
    STATION,
    card_of,
    fake_jpeg,
    make_batch,
    make_record,
    mtls_client,
    multipart_files,
    photo_jpeg,
    push,
    rehash,
    students,
)

MB = 1024 * 1024


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path}/registry.db"


@pytest.fixture
def serve(make_registry, tls_dir):
    servers: list[RegistryServer] = []

    def start(**settings) -> tuple[RegistryServer, object]:
        options = {k: settings.pop(k) for k in ("header_timeout_s",) if k in settings}
        registry = make_registry(**settings)
        server = RegistryServer(create_app(registry), tls_dir, **options).start()
        servers.append(server)
        return server, registry

    yield start
    for server in servers:
        server.stop()


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _registered(registry) -> list[RecordRow]:
    with registry.db.read() as session:
        return list(session.scalars(sql_select(RecordRow).where(RecordRow.outcome == "registered")))


def _no_personal_data(text: str, people) -> None:
    for person in people:
        assert person.national_id not in text and person.name not in text


# ---------------------------------------------------------------- the chip is the evidence


def test_forged_chips_are_refused(serve, tls_dir):
    server, registry = serve()
    people = students(registry.db)
    other = people[10]
    forged = {
        # All zeros, parsed fields copied from the approvals feed (the measured attack).
        "CHIP_MALFORMED": make_record(people[0], photo_jpeg(200), text=bytes(256)),
        # Someone else's real block with the student's parsed fields: the copy does not match the block.
        "CHIP_PARSED_MISMATCH": make_record(people[1], photo_jpeg(201), text=card_of(other).raw_text),
        # Someone else's block and parsed copy: the block is compared, and it is another person.
        "ID_MISMATCH": make_record(
            people[2],
            photo_jpeg(202),
            text=card_of(other).raw_text,
            parsed_overrides={
                "national_id": other.national_id,
                "name": other.name,
                "sex": other.sex,
                "nation": other.nation,
                "birth_date": other.birth_date,
            },
        ),
    }
    short_wlt = make_record(people[3], photo_jpeg(203), wlt=bytes(range(256)) * 3 + bytes(232))
    blank_wlt = make_record(people[4], photo_jpeg(204), wlt=bytes(1024))
    bad_digit = people[5].national_id[:-1] + ("0" if people[5].national_id[-1] != "0" else "1")
    wrong_number = make_record(people[5], photo_jpeg(205), chip_overrides={"id_number": bad_digit})
    declared = make_record(people[6], photo_jpeg(206))
    declared["meta"]["card_type"] = "foreign_2023"
    records = [*forged.values(), short_wlt, blank_wlt, wrong_number, rehash(declared)]
    photos = [photo_jpeg(200 + i) for i in range(7)]
    with mtls_client(server.url, tls_dir, STATION) as client:
        results = _results(push(client, STATION, make_batch(STATION, records), photos))
    codes = [r["code"] for r in results]
    assert codes == [*forged, "CHIP_MALFORMED", "CHIP_MALFORMED", "CHIP_MALFORMED", "CARD_TYPE_REFUSED"]
    assert all(r["status"] == "rejected" and r["final"] for r in results)
    assert set(results[1]["fields"]) >= {"national_id", "name"}
    assert set(results[2]["fields"]) >= {"national_id", "name", "birth_date"}
    assert "1024" in results[3]["detail"] and "repeated" in results[4]["detail"]
    assert _registered(registry) == []
    _no_personal_data(json.dumps(results, ensure_ascii=False), people[:11])


# ---------------------------------------------------------------- the photo is a photo


def test_non_photos_are_refused(serve, tls_dir):
    server, registry = serve()
    people = students(registry.db)
    text_file = b"this is not a photo\n" * 1500
    declared_huge = make_record(people[0], text_file)
    declared_huge["photo"].update(w=1, h=10_000)
    lying = make_record(people[1], photo_jpeg(210))
    lying["photo"].update(w=358, h=441)
    tiny = photo_jpeg(211, width=120, height=160, low=2_000, high=30_000)
    squeezed = photo_jpeg(212, low=6_000, high=14_000)  # 480x640, but far below the profile's 24 KB
    shaped = fake_jpeg(30_000, seed=213)  # SOI ... EOI around noise: the shape of a JPEG, not one
    records = [
        rehash(declared_huge),
        rehash(lying),
        make_record(people[2], tiny),
        make_record(people[3], squeezed),
        make_record(people[4], shaped),
    ]
    photos = [text_file, photo_jpeg(210), tiny, squeezed, shaped]
    with mtls_client(server.url, tls_dir, STATION) as client:
        results = _results(push(client, STATION, make_batch(STATION, records), photos))
    assert [r["code"] for r in results] == [
        "PHOTO_NOT_JPEG",
        "PHOTO_MISMATCH",
        "PHOTO_PROFILE",
        "PHOTO_PROFILE",
        "PHOTO_NOT_JPEG",
    ]
    assert _registered(registry) == []


def test_one_photo_for_five_students(serve, tls_dir):
    server, registry = serve()
    people = students(registry.db)[:5]
    photo = photo_jpeg(220)
    records = [make_record(p, photo) for p in people]
    with mtls_client(server.url, tls_dir, STATION) as client:
        results = _results(push(client, STATION, make_batch(STATION, records), [photo]))
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * 4
    assert {r["code"] for r in results[1:]} == {"PHOTO_REUSED"}
    reg_no = results[0]["reg_no"]
    for result in results[1:]:  # names nothing: no person, no school, no number
        assert reg_no not in json.dumps(result) and "holder_school_name" not in result
    _no_personal_data(json.dumps(results, ensure_ascii=False), people)
    assert len(_registered(registry)) == 1


# ---------------------------------------------------------------- time is plausible


def test_implausible_capture_times(serve, tls_dir):
    server, registry = serve()
    people = students(registry.db)
    now = registry.now()
    in_1970 = make_record(people[0], photo_jpeg(230), captured_at=datetime(1970, 1, 1, tzinfo=UTC))
    ahead = make_record(people[1], photo_jpeg(231), captured_at=now + timedelta(days=3))
    with mtls_client(server.url, tls_dir, STATION) as client:
        results = _results(
            push(client, STATION, make_batch(STATION, [in_1970, ahead]), [photo_jpeg(230), photo_jpeg(231)])
        )
        assert [r["code"] for r in results] == ["CAPTURE_TIME_IMPLAUSIBLE"] * 2
        assert "season" in results[0]["detail"] and "clock" in results[1]["detail"]
        # An honest station whose clock runs a day fast: its batch's client_time shows the offset.
        fast = make_record(
            people[2], photo_jpeg(232), captured_at=now + timedelta(days=1) - timedelta(minutes=5)
        )
        batch = make_batch(STATION, [fast])
        batch["client_time"] = (now + timedelta(days=1)).isoformat()
        (accepted,) = _results(push(client, STATION, batch, [photo_jpeg(232)]))
    assert accepted["status"] == "accepted"


# ---------------------------------------------------------------- stations and certificates


def test_station_id_under_another_county_is_refused_on_every_request(serve, tls_dir, tmp_path):
    server, registry = serve()
    paths = TlsPaths(tls_dir)
    station = "ST-REBIND-01"
    issue_station(tls_dir, COUNTY, station)
    with mtls_client(server.url, tls_dir, station) as client:
        assert client.get("/v1/ping").status_code == 204  # first contact binds the id to 150102
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    issue_station(tls_dir, OTHER_COUNTY, station)  # the same CA, the same id, another county
    for suffix in (".pem", ".key"):
        shutil.copy(paths.root / f"{station}{suffix}", elsewhere / f"{station}{suffix}")
    other_people = students(registry.db, county=OTHER_COUNTY)
    record = make_record(other_people[0], photo_jpeg(240))
    with mtls_client(server.url, tls_dir, station, cert_dir=elsewhere) as client:
        for _ in range(3):  # every request, not only the first
            refused = client.get("/v1/ping")
            assert refused.status_code == 403 and refused.json()["code"] == "STATION_REBOUND"
        assert client.get(f"/v1/counties/{OTHER_COUNTY}/approvals").json()["code"] == "STATION_REBOUND"
        pushed = push(client, station, make_batch(station, [record]), [photo_jpeg(240)])
        assert pushed.status_code == 403 and pushed.json()["code"] == "STATION_REBOUND"
    with registry.db.read() as session:
        assert session.scalars(sql_select(RecordRow)).all() == []


def test_reissued_station_old_certificate_is_revoked_by_serial(serve, tls_dir, tmp_path):
    from cryptography import x509

    server, _registry = serve()
    paths = TlsPaths(tls_dir)
    station = "ST-REISSUE-01"
    issue_station(tls_dir, COUNTY, station)
    old = tmp_path / "old"
    old.mkdir()
    for suffix in (".pem", ".key"):
        shutil.copy(paths.root / f"{station}{suffix}", old / f"{station}{suffix}")
    issue_station(tls_dir, COUNTY, station)  # the station is reissued (a replacement machine)
    serial = format(x509.load_pem_x509_certificate((old / f"{station}.pem").read_bytes()).serial_number, "x")
    assert registry_cli(["pki", "revoke", "--dir", str(tls_dir), "--serial", serial]) == 0
    refused_at_handshake = False
    for _ in range(600):  # each attempt a new connection, until the TLS layer has reloaded the CRL
        with mtls_client(server.url, tls_dir, station, cert_dir=old) as client:
            try:
                answer = client.get("/v1/ping")
            except httpx.TransportError:
                refused_at_handshake = True
                break
            assert answer.status_code == 403 and answer.json()["code"] == "CERT_REVOKED"  # the app refuses
        time.sleep(0.05)
    assert refused_at_handshake
    with mtls_client(server.url, tls_dir, station) as client:
        assert client.get("/v1/ping").status_code == 204  # the new certificate works


# ---------------------------------------------------------------- bounded everything


def _tls_socket(server: RegistryServer, tls_dir, station: str = STATION) -> ssl.SSLSocket:
    paths = TlsPaths(tls_dir)
    context = ssl.create_default_context(cafile=str(paths.ca_cert))
    context.load_cert_chain(str(paths.station_cert(station)), str(paths.station_key(station)))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _read_response(sock: ssl.SSLSocket, data: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = _recv(sock)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _recv(sock: ssl.SSLSocket) -> bytes:
    try:
        return sock.recv(65536)
    except (ConnectionResetError, ssl.SSLError):
        return b""


@pytest.mark.parametrize("path", ["/v1/blobs/missing", f"/v1/stations/{STATION}/records/status"])
def test_declared_oversized_body_is_refused_before_it_is_read(serve, tls_dir, path):
    server, _registry = serve()
    with _tls_socket(server, tls_dir) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {60 * MB}\r\n\r\n".encode()
        )
        status, headers, body = _read_response(sock)  # not one byte of the body was sent
        assert status == 413 and json.loads(body)["code"] == "BODY_TOO_LARGE"
        assert headers["connection"] == "close" and headers["x-registry-protocol"] == "1"


@pytest.mark.parametrize("path", ["/v1/blobs/missing", f"/v1/stations/{STATION}/records/status"])
def test_streamed_oversized_body_is_cut_off_early(serve, tls_dir, path):
    server, _registry = serve()
    chunk = b"[" * 65536  # 60 MB of nested JSON, sent chunked: no Content-Length to refuse up front
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, answer = 0, b""
    with _tls_socket(server, tls_dir) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.setblocking(False)
        pending = framed
        while sent < 60 * MB and not answer:
            try:
                answer = sock.recv(65536)  # TLS session tickets are readable too, but are not data
                if not answer:
                    break
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            except (ConnectionResetError, ssl.SSLError):
                break
            try:
                written = sock.send(pending)
                sent += written
                pending = pending[written:] or framed
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                select.select([sock], [sock], [], 0.5)
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                break
        sock.setblocking(True)
        status, _headers, body = _read_response(sock, answer) if answer else (413, {}, b"")
    # The registry answers and closes while bytes it will never read are in flight, so the kernel may
    # reset the connection before the client has read the answer (or all of it): what is sure is that
    # the upload was cut off long before its end, and that an answer, if read, is the 413.
    assert status == 413 and (not body or json.loads(body)["code"] == "BODY_TOO_LARGE")
    assert sent < 16 * MB  # the 64 KB limit plus what socket buffers hold, never the 60 MB


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 20_000 + "]" * 20_000,  # deep nesting
        '{"hashes": [NaN]}',
        '{"hashes": [Infinity]}',
        '{"hashes": [1e999]}',
        '{"hashes": ["\\ud800"]}',  # a lone surrogate
        '{"hashes": [], "hashes": []}',  # a repeated member
    ],
)
def test_hostile_json_is_400_never_500(serve, tls_dir, payload):
    server, _registry = serve()
    with mtls_client(server.url, tls_dir, STATION) as client:
        for path in ("/v1/blobs/missing", f"/v1/stations/{STATION}/records/status"):
            response = client.post(path, content=payload, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "JSON_REJECTED"


@pytest.mark.parametrize(
    "member",
    ['"x": NaN', '"x": -Infinity', '"x": "\\udfff"', '"x": ' + "[" * 100 + "]" * 100, '"x": 1e400'],
)
def test_hostile_json_in_a_batch_is_400_never_500(serve, tls_dir, member):
    server, registry = serve()
    photo = photo_jpeg(250)
    record = make_record(students(registry.db)[0], photo)
    batch = make_batch(STATION, [record])
    text = json.dumps(batch, ensure_ascii=False).replace('"meta": {', '"meta": {' + member + ", ", 1)
    files = multipart_files(batch, [photo])
    files[0] = ("batch", (None, text.encode(), "application/json"))
    with mtls_client(server.url, tls_dir, STATION) as client:
        response = client.post(
            f"/v1/stations/{STATION}/batches", files=files, headers={"Idempotency-Key": batch["batch_id"]}
        )
    assert response.status_code == 400 and response.json()["code"] == "MALFORMED_BATCH", response.text
    assert not registry.blobs.exists(sha256_hex(photo))  # refused before anything was stored


def test_unreferenced_parts_are_refused_and_never_stored(serve, tls_dir):
    server, registry = serve()
    photo = photo_jpeg(260)
    batch = make_batch(STATION, [make_record(students(registry.db)[0], photo)])
    junk = [f"junk {i}".encode() * 100 for i in range(50)]
    with mtls_client(server.url, tls_dir, STATION) as client:
        response = push(client, STATION, batch, [photo, *junk])
    assert response.status_code == 400 and response.json()["code"] == "UNREFERENCED_PART"
    assert not any(registry.blobs.exists(sha256_hex(j)) for j in junk)
    assert not registry.blobs.exists(sha256_hex(photo))
    assert list(registry.blobs.stored()) == []


def test_batch_over_the_limit_is_refused_before_it_is_read(serve, tls_dir):
    server, _registry = serve(max_batch_bytes=100_000)
    with _tls_socket(server, tls_dir) as sock:
        sock.sendall(
            f"POST /v1/stations/{STATION}/batches HTTP/1.1\r\nHost: x\r\nIdempotency-Key: {uuid7()}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100001\r\n\r\n".encode()
        )
        status, headers, body = _read_response(sock)
    assert (
        status == 413 and json.loads(body)["code"] == "BATCH_TOO_LARGE" and headers["connection"] == "close"
    )


def test_slow_clients_are_cut_off(serve, tls_dir):
    server, _registry = serve(header_timeout_s=0.5, body_idle_timeout_s=0.5)
    with _tls_socket(server, tls_dir) as sock:  # headers that never complete
        sock.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n")
        assert sock.recv(1) == b""  # the registry closed the connection
    with _tls_socket(server, tls_dir) as sock:  # a body that stalls
        sock.sendall(
            b"POST /v1/blobs/missing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"hashes": ['
        )
        status, headers, body = _read_response(sock)
        assert status == 408 and json.loads(body)["code"] == "REQUEST_TIMEOUT"
        assert headers["connection"] == "close"


# ---------------------------------------------------------------- what stays behind


def test_files_are_private_and_orphans_are_collected(serve, tls_dir, tmp_path, db_url):
    server, registry = serve()
    people = students(registry.db)
    photo = photo_jpeg(270)
    with mtls_client(server.url, tls_dir, STATION) as client:
        assert (
            _results(push(client, STATION, make_batch(STATION, [make_record(people[0], photo)]), [photo]))[0][
                "status"
            ]
            == "accepted"
        )
    orphan = photo_jpeg(271)
    registry.blobs.put(sha256_hex(orphan), orphan)  # stored, then its record never came
    refused = fake_jpeg(30_000, seed=272)  # a "photo" the registry rejects: its record stays, not its bytes
    with mtls_client(server.url, tls_dir, STATION) as client:
        answer = _results(push(client, STATION, make_batch(STATION, [make_record(people[1], refused)]), [refused]))
    assert [(r["status"], r["code"]) for r in answer] == [("rejected", "PHOTO_NOT_JPEG")]
    database = tmp_path / "registry.db"
    assert database.stat().st_mode & 0o777 == 0o600
    blob_root = registry.blobs.root
    for directory in (blob_root, blob_root / "sha256", registry.blobs.path(sha256_hex(photo)).parent):
        assert directory.stat().st_mode & 0o777 == 0o700
    assert registry.blobs.path(sha256_hex(photo)).stat().st_mode & 0o777 == 0o600
    arguments = ["gc", "--db", db_url, "--blob-dir", str(blob_root)]
    assert registry_cli([*arguments, "--min-age-hours", "1"]) == 0
    assert registry.blobs.exists(sha256_hex(orphan))  # too recent: a retry may still need it
    assert registry_cli([*arguments, "--min-age-hours", "0"]) == 0
    assert not registry.blobs.exists(sha256_hex(orphan))
    assert not registry.blobs.exists(sha256_hex(refused))  # only a rejected record named it
    assert registry.blobs.exists(sha256_hex(photo))  # referenced by a registered record: kept
    with registry.db.read() as session:  # the rejection itself stays, for the station and the league
        outcomes = sorted(session.scalars(sql_select(RecordRow.outcome)))
    assert outcomes == ["registered", "rejected"]


def test_log_holds_no_personal_data(serve, tls_dir, tmp_path):
    import logging

    from sync.registry import logs

    path = logs.configure(tmp_path / "logs", "DEBUG")
    try:
        server, registry = serve()
        people = students(registry.db)[:4]
        records = [
            make_record(people[0], photo_jpeg(280)),
            make_record(people[1], photo_jpeg(281), chip_overrides={"name": "张三"}),
            make_record(people[2], photo_jpeg(282), text=bytes(256)),
            make_record(people[3], photo_jpeg(280)),  # a reused photo
        ]
        with mtls_client(server.url, tls_dir, STATION) as client:
            results = _results(
                push(client, STATION, make_batch(STATION, records), [photo_jpeg(280 + i) for i in range(3)])
            )
        assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected"]
        for handler in logging.getLogger("sync.registry").handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "batch from" in text  # the log is written
        _no_personal_data(text, people)
        assert "张三" not in text
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        for name in logs.LOGGERS:
            logger = logging.getLogger(name)
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()
            logger.propagate = True
