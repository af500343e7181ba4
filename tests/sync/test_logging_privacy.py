"""A whole capture and sync at DEBUG leave a log that holds no personal data.

The station runs as the real ``station`` command (pull, capture, push over mutual TLS to the
reference registry) with ``STATION_LOG_LEVEL=DEBUG``; then every file under the station home's
``logs/`` is searched for the student's name, ID number (and its last six digits), birth date,
address and school, and for the bytes of the chip text block.
"""

from __future__ import annotations

import json

from tests.sync.harness import card_file, people, photo, station_cli


def test_capture_and_sync_at_debug_log_nothing_personal(registry, station_home, tmp_path):
    env = {"STATION_LOG_LEVEL": "DEBUG"}
    pulled = station_cli(station_home, "sync", "--once", "--pull-only", "--json", env=env)
    assert pulled.returncode == 0, pulled.stderr[-2000:]
    student = registry.approved()[0]
    person = people()[student.national_id]
    card = card_file(tmp_path / "card.bin", student.national_id)
    picture = tmp_path / "face.jpg"
    picture.write_bytes(photo().jpeg_bytes)
    captured = station_cli(
        station_home,
        "capture",
        "--card",
        str(card),
        "--photo",
        str(picture),
        "--note",
        "test",
        "--json",
        env=env,
    )
    assert captured.returncode == 0, captured.stderr[-2000:] + captured.stdout
    pushed = station_cli(station_home, "sync", "--once", "--json", env=env)
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    assert json.loads(pushed.stdout)["accepted"] == 1

    logs = sorted((station_home / "logs").glob("station.log*"))
    assert logs, "the run left no log"
    text = "\n".join(path.read_text(encoding="utf-8") for path in logs)
    assert "DEBUG" in text or "INFO" in text
    assert "start-up: store" in text and "record " in text  # the run is really in there
    secrets = {
        "name": person.name,
        "id number": person.id_number,
        "last six digits": person.id_number[-6:],
        "birth date": person.birth_date.isoformat(),
        "birth date (compact)": person.birth_date.strftime("%Y%m%d"),
        "address": person.address,
        "school": student.school_name,
    }
    for what, value in secrets.items():
        assert value and value not in text, f"the log holds the student's {what}"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), "Chinese text (a name?) in the log"
