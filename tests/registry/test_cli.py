"""``sync-registry``: the documented command forms, end to end to a served registry over mutual TLS."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from sync.registry.cli import main
from sync.registry.enrollment import EnrollmentError, read_enrollment
from tests.registry.helpers import (
    COUNTY,
    SEASON,
    make_batch,
    multipart_files,
    open_deadline_args,
    photo_jpeg,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_commands_set_up_a_working_registry(db_url, tmp_path, capsys, monkeypatch):
    # Run inside the test's own folder: a command that wrote into its working directory would show here.
    monkeypatch.chdir(tmp_path)
    tls = tmp_path / "tls"
    station = "ST-150102-09"
    assert main(["init", "--db", db_url, "--year", str(SEASON)]) == 0
    assert main(["init", "--db", db_url, "--year", str(SEASON)]) == 0  # idempotent
    assert main(["init", "--db", db_url, "--year", "2027"]) == 1  # the season is fixed
    assert main(["pki", "init", "--dir", str(tls)]) == 0
    assert {p.name for p in tls.iterdir()} == {"ca.pem", "ca.key", "server.pem", "server.key", "crl.pem"}
    assert main(["pki", "station", "--dir", str(tls), "--county", "150103", "--station", "ST-150103-02"]) == 0
    assert (tls / "ST-150103-02.pem").exists() and (tls / "ST-150103-02.key").stat().st_mode & 0o077 == 0
    assert main(["pki", "station", "--dir", str(tls), "--county", "999999", "--station", "X"]) == 1
    assert (
        main(
            [
                "seed",
                "--db",
                db_url,
                "--county",
                COUNTY,
                "--students",
                "30",
                "--year",
                str(SEASON),
                "--seed",
                "4",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "seed",
                "--db",
                db_url,
                "--county",
                COUNTY,
                "--students",
                "30",
                "--year",
                str(SEASON),
                "--seed",
                "4",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["report", "--db", db_url, "--county", COUNTY, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report[0]["students"] == 30 and report[0]["registered"] == 0
    first = f"{COUNTY}-{SEASON}-4-000000"
    assert main(["withdraw", "--db", db_url, first, f"{COUNTY}-{SEASON}-4-000001"]) == 0
    assert main(["approve", "--db", db_url, first, "no-such-student"]) == 1

    port = _free_port()
    enrollment_file = tmp_path / "station.json"
    url = f"https://127.0.0.1:{port}"
    assert (
        main(
            [
                "enroll",
                "--tls-dir",
                str(tls),
                "--county",
                COUNTY,
                "--station",
                station,
                "--url",
                url,
                "-o",
                str(enrollment_file),
            ]
        )
        == 0
    )
    enrollment = read_enrollment(enrollment_file)
    assert (enrollment.county, enrollment.station_id, enrollment.photo_profile) == (
        COUNTY,
        station,
        "moe-480",
    )
    assert enrollment_file.stat().st_mode & 0o077 == 0
    with pytest.raises(EnrollmentError):
        read_enrollment(tls / "ca.pem")

    faults = ["--faults", '{"fail_after_commit": 1}', "--workers", "2"]
    assert main(["serve", "--db", db_url, "--port", str(port), "--tls-dir", str(tls), *faults]) == 1

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.registry.cli",
            "serve",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--tls-dir",
            str(tls),
            "--blob-dir",
            str(tmp_path / "blobs"),
            "--log-dir",
            str(tmp_path / "logs"),
            "--log-level",
            "DEBUG",
            *open_deadline_args(),  # the real clock: entry year 2026's records stay within the deadline
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        (tmp_path / "ca.pem").write_text(enrollment.ca_pem)
        (tmp_path / "cert.pem").write_text(enrollment.cert_pem)
        (tmp_path / "key.pem").write_text(enrollment.key_pem)
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
        with httpx.Client(base_url=enrollment.registry_url, verify=context, timeout=10) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    assert client.get("/v1/ping").status_code == 204
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, (
                        server.stdout.read().decode()
                    )
                    time.sleep(0.1)
            page = client.get(f"/v1/counties/{COUNTY}/approvals").json()
            assert len(page["items"]) == 30
            approved = next(
                i for i in page["items"] if i["op"] == "upsert" and i["data"]["status"] == "approved"
            )
            from tests.registry.helpers import make_record

            class Row:  # the pre-registration as the station holds it
                student_id = approved["student_id"]
                county = COUNTY
                national_id, name, sex, nation, birth_date = (
                    approved["data"][k] for k in ("national_id", "name", "sex", "nation", "birth_date")
                )

            photo = photo_jpeg(9)
            batch = make_batch(station, [make_record(Row, photo)])
            result = client.post(
                f"/v1/stations/{station}/batches",
                files=multipart_files(batch, [photo]),
                headers={"Idempotency-Key": batch["batch_id"]},
            ).json()["results"][0]
            assert result["status"] == "accepted" and result["reg_no"].startswith("260102")
    finally:
        server.terminate()
        server.wait(10)
    log = (tmp_path / "logs" / "registry.log").read_text(encoding="utf-8")
    assert "serving entry year" in log and "batch from" in log  # the registry's own log, at DEBUG
    assert Row.national_id not in log and Row.name not in log  # no personal data
    assert (tmp_path / "logs" / "registry.log").stat().st_mode & 0o077 == 0
    capsys.readouterr()
    assert main(["report", "--db", db_url, "--json"]) == 0
    rows = {r["county"]: r for r in json.loads(capsys.readouterr().out)}
    assert (
        rows[COUNTY]["registered"] == 1
        and rows[COUNTY]["last_serial"] == 1
        and rows[COUNTY]["withdrawn"] == 1
    )
    assert rows[COUNTY]["serial_gaps"] == 0
