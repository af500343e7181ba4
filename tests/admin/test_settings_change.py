"""A settings change by the county administrator: validated with each field's problem in Chinese,
saved as the next revision, audited with old and new values (a proxy's password masked), handed to
the running station; an officer cannot make it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from station import config as station_config
from station.admin.backlog import acknowledge, backlog
from station.admin.common import NotAllowed
from station.admin.settings import change_settings
from station.config import ConfigError
from station.domain.unsynced import Backlog
from station.store.errors import InvalidCredentialsError
from tests.admin.conftest import ADMIN, ADMIN_PASSWORD, make_station


@pytest.fixture
def app(station_home):
    opened = make_station(station_home)
    yield opened
    opened.close()


def test_invalid_fields_are_named_in_chinese_and_nothing_is_saved(app):
    before = (app.home / "config.json").read_text()
    with pytest.raises(ConfigError) as refused:
        change_settings(
            app,
            {"registry_url": "http://registry", "idle_lock_minutes": 0, "unsynced_warn_hours": 48,
             "unsynced_block_hours": 24, "camera_resolution": "big"},
            acting=ADMIN,
        )  # fmt: skip
    problems = refused.value.problems
    assert set(problems) == {"registry_url", "idle_lock_minutes", "camera_resolution"}
    assert problems["registry_url"].zh == "必须以 https:// 开头。"
    assert "登记中心地址" in refused.value.message.zh and "无操作锁屏" in refused.value.message.zh
    # Once each field is right on its own, the two thresholds are judged together.
    with pytest.raises(ConfigError) as refused:
        change_settings(app, {"unsynced_warn_hours": 48, "unsynced_block_hours": 24}, acting=ADMIN)
    assert refused.value.problems == {"unsynced_block_hours": station_config._PROBLEMS["block_after_warn"]}
    assert "未同步停止采集（小时）必须大于" in refused.value.message.zh
    assert (app.home / "config.json").read_text() == before
    assert not app.database.audit.list(action="settings_changed")


def test_a_change_is_versioned_audited_and_applied(app):
    change = change_settings(
        app,
        {"idle_lock_minutes": 10, "registry_proxy": "http://user:secret@10.0.0.1:3128", "camera": "sim"},
        acting=ADMIN,
    )
    assert change.changed == ("registry_proxy", "idle_lock_minutes")  # the camera was already "sim"
    assert change.needs_reopen == ("registry_proxy",)
    assert app.config.idle_lock_minutes == 10 and app.config.revision == 1
    saved = json.loads((app.home / "config.json").read_text())
    assert saved["revision"] == 1 and saved["idle_lock_minutes"] == 10
    entry = app.database.audit.list(action="settings_changed")[0]
    assert entry.operator == ADMIN and entry.detail["revision"] == 1
    assert entry.detail["changes"]["idle_lock_minutes"] == [5, 10]
    assert entry.detail["changes"]["registry_proxy"] == ["", "http://***@10.0.0.1:3128"]
    assert "secret" not in json.dumps(entry.detail)
    assert change_settings(app, {"idle_lock_minutes": 10}, acting=ADMIN).changed == ()
    assert station_config.load(app.home).revision == 1


def test_an_officer_cannot_change_settings(app):
    app.database.operators.create("bai", "officer-pass-1")
    with pytest.raises(NotAllowed):
        change_settings(app, {"idle_lock_minutes": 9}, acting="bai")


def test_captures_waiting_too_long_warn_then_stop_until_an_administrator_acknowledges(season):
    app = season.app
    now = datetime.now(UTC)
    assert backlog(app, now).level is Backlog.OK
    assert backlog(app, now + timedelta(hours=25)).level is Backlog.WARN
    stopped = backlog(app, now + timedelta(hours=73))
    assert stopped.level is Backlog.BLOCK and "旗县管理员确认" in stopped.notice().zh
    with pytest.raises(InvalidCredentialsError):
        acknowledge(app, ADMIN, "wrong-password", stopped, at_desk_of="officer-1")
    app.database.operators.create("bai", "officer-pass-1")
    with pytest.raises(NotAllowed):  # the officer at the desk cannot wave it through
        acknowledge(app, "bai", "officer-pass-1", stopped, at_desk_of="bai")
    assert not app.database.audit.list(action="manual_override")
    assert acknowledge(app, ADMIN, ADMIN_PASSWORD, stopped, at_desk_of="officer-1") == ADMIN
    override = app.database.audit.list(action="manual_override")[0]
    assert (override.operator, override.subject, override.detail) == (
        ADMIN, "officer-1", {"kind": "unsynced", "hours": 73},
    )  # fmt: skip
