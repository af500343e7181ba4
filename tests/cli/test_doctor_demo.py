"""``station demo`` sets up a real encrypted demo station; ``station doctor`` judges it."""

from __future__ import annotations

from station.domain.rules import today_in_china
from sync.protocol import synthetic
from sync.protocol.season import open_entry_year


def test_doctor_on_an_empty_home_names_what_to_do(station):
    result = station("doctor", "--json")
    assert result.code == 1
    report = result.json()
    assert not report["healthy"]
    by_name = {item["name"]: item for item in report["items"]}
    assert by_name["enrollment"]["status"] == "fail" and "station enroll" in by_name["enrollment"]["fix"]
    failing = [item for item in report["items"] if item["status"] == "fail"]
    assert all(item["fix"] for item in failing)


def test_demo_creates_a_station_with_a_synthetic_queue_and_doctor_is_happy(station, station_home):
    first = station("demo", "--no-gui", "--students", "30")
    assert first.code == 0, first.err
    assert "恢复码" in first.out and "名单共 30 人" in first.out
    summary = station("demo", "--no-gui", "--json").json()
    assert summary["students"] == 30 and summary["county"] == "150121"
    assert set(summary["by_status"]) <= {"approved", "pending", "captured_at_zhongkao"}
    assert summary["by_status"]["approved"] > 15
    # The second run reuses the station and never shows the recovery code again.
    assert "恢复码" not in station("demo", "--no-gui").out
    # No keyring here: the demo station's key is wrapped by the demo officer's password.
    assert station("doctor", "--json").json()["healthy"] is False  # the suite's officer is not the demo's
    doctor = station("doctor", "--json", "--operator", "demo", "--password-stdin", stdin="demo-station\n")
    assert doctor.code == 0, doctor.out
    assert {i["name"] for i in doctor.json()["items"]} >= {"enrollment", "clock", "deadline"}
    # No personal data in plaintext anywhere in the station's directory, database and WAL included.
    # (The demo's embedded registry keeps its own files apart, owner-only: the registry's side.)
    registry = station_home / "demo-registry"
    assert (registry / "registry.db").exists() and registry.stat().st_mode & 0o077 == 0
    people = synthetic.preregistrations(30, "150121", seed=2026, entry_year=open_entry_year(today_in_china()))
    files = [p for p in station_home.rglob("*") if p.is_file() and registry not in p.parents]
    assert any(p.name == "station.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for person in people:
            assert person["name"].encode() not in content, path.name
            assert person["national_id"].encode() not in content, path.name
