"""Runtime plumbing without Qt: the settings model, the log's privacy mask, crash reports."""

from __future__ import annotations

import ast
import json
import logging
import threading
from pathlib import Path

import pytest

from station import config
from station.crash import CrashHandler, crash_sentence
from station.log import PersonalDataFilter, close_logging, init_logging, scrub
from sync.protocol import synthetic

ROOT = Path(__file__).resolve().parents[2]
PERSON = synthetic.people(1, "150102", seed=7)[0]


# -- settings ------------------------------------------------------------------------------------


def test_every_station_variable_is_read_in_one_place():
    """No station module but ``station/config.py`` touches os.environ or os.getenv."""
    offenders = []
    for path in (ROOT / "station").rglob("*.py"):
        if path.name == "config.py" and path.parent.name == "station":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            reads_environment = (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            )
            if reads_environment:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    allowed = {"station/commands/demo.py"}  # DISPLAY / WAYLAND_DISPLAY: whether a screen exists
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []


def test_environment_table_drives_the_runtime(tmp_path):
    runtime = config.runtime_from(
        {
            "STATION_HOME": str(tmp_path),
            "STATION_LOG_LEVEL": "debug",
            "STATION_IDCARD_SERIAL_PORTS": "",
            "STATION_IDCARD_SDK": "/a.so:/b.so",
            "STATION_SYNC_BACKOFF_S": "0.5",
            "STATION_CRASH_AT": "after_send:2",
        }
    )
    assert runtime.home == tmp_path
    assert runtime.idcard_serial_ports == ()  # "" means: probe no serial port
    assert runtime.idcard_sdk == ("/a.so", "/b.so")
    assert runtime.sync_backoff_s == 0.5 and runtime.crash_at == "after_send:2"
    settings = config.load_settings({"STATION_HOME": str(tmp_path), "STATION_LOG_LEVEL": "debug"})
    assert settings.log_level == "DEBUG" and settings.home == tmp_path


def test_a_home_given_as_a_value_wins_over_the_environment(tmp_path):
    settings = config.load_settings({"STATION_HOME": "/elsewhere"}, home=tmp_path)
    assert settings.home == tmp_path


def test_config_file_is_validated_and_versioned(tmp_path):
    saved = config.save(
        config.StationConfig(station_id="ST-1", county_code6="150102", entry_year=2026), tmp_path
    )
    assert json.loads(saved.read_text())["version"] == config.CONFIG_VERSION
    assert config.load(tmp_path).enrolled
    saved.write_text(json.dumps({"county_code6": "15010", "retention_days": -1}))
    with pytest.raises(config.ConfigError) as refused:
        config.load(tmp_path)
    assert set(refused.value.problems) == {"county_code6", "retention_days"}
    assert "旗县代码" in refused.value.message.zh and "保留天数" in refused.value.message.zh
    saved.write_text("{not json")
    with pytest.raises(config.ConfigError):
        config.load(tmp_path)


def test_environment_overrides_a_single_setting(tmp_path):
    config.save(config.StationConfig(camera="camera:0"), tmp_path)
    assert config.load(tmp_path, {"STATION_CAMERA": "sim"}).camera == "sim"
    with pytest.raises(config.ConfigError):
        config.load(tmp_path, {"STATION_REGISTRY_URL": "http://plain.example"})


def test_invalid_environment_is_a_clear_error():
    with pytest.raises(config.ConfigError) as refused:
        config.runtime_from({"STATION_SYNC_BACKOFF_S": "soon"})
    assert "STATION_SYNC_BACKOFF_S" in refused.value.message.en


# -- the log --------------------------------------------------------------------------------------


def test_scrub_masks_id_numbers_and_chinese_text():
    line = f"student {PERSON.id_number} {PERSON.name} record 0193a2b4-5c6d-7e8f-9012-3456789abcde"
    cleaned = scrub(line)
    assert PERSON.id_number not in cleaned and PERSON.name not in cleaned
    assert "0193a2b4-5c6d-7e8f-9012-3456789abcde" in cleaned  # record ids stay useful


def test_log_file_is_owner_only_and_masked(tmp_path):
    path = init_logging(tmp_path, "DEBUG")
    try:
        logger = logging.getLogger("station.test")
        logger.debug("slipped through: %s %s", PERSON.name, PERSON.id_number)
        try:
            raise ValueError(f"bad {PERSON.id_number}")
        except ValueError:
            logger.exception("while checking")
    finally:
        close_logging()
    assert path is not None and (path.stat().st_mode & 0o777) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "slipped through" in text and "ValueError" in text
    assert PERSON.name not in text and PERSON.id_number not in text


def test_logging_survives_a_home_it_cannot_write(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert init_logging(blocked, "INFO") is None  # runs without a file rather than failing
    close_logging()


def test_filter_keeps_the_record_usable():
    record = logging.LogRecord("station.x", logging.INFO, __file__, 1, "id %s", (PERSON.id_number,), None)
    assert PersonalDataFilter().filter(record) and PERSON.id_number not in record.getMessage()


# -- crashes ------------------------------------------------------------------------------------


def test_thread_crash_writes_a_report_without_personal_data(tmp_path):
    seen: list[Path | None] = []
    handler = CrashHandler(tmp_path, notify=seen.append)
    handler.install()
    try:

        def work() -> None:
            raise RuntimeError(f"failed for {PERSON.id_number} {PERSON.name}")

        worker = threading.Thread(target=work, name="worker-7")
        worker.start()
        worker.join()
    finally:
        handler.uninstall()
    assert len(handler.reports) == 1 and seen == handler.reports
    report = handler.reports[0].read_text(encoding="utf-8")
    assert "thread: worker-7" in report and "builtins.RuntimeError" in report
    assert "test_runtime.py" in report and "in work" in report
    assert PERSON.id_number not in report and PERSON.name not in report
    assert (handler.reports[0].stat().st_mode & 0o777) == 0o600
    sentence = crash_sentence(handler.reports[0])
    assert "已确认保存的采集记录不受影响" in sentence.zh and str(handler.reports[0]) in sentence.zh


def test_a_native_crash_of_an_earlier_run_is_filed_at_the_next_start(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "native-crash.log").write_text("Fatal Python error: Segmentation fault\n")
    handler = CrashHandler(tmp_path)
    handler.install()
    try:
        report = handler.previous_native_crash()
        assert report is not None and "Segmentation fault" in report.read_text()
        assert handler.previous_native_crash() is None  # filed once
    finally:
        handler.uninstall()
